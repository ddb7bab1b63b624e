// FdLinks over this process's own fds (/proc/self/fd: no root needed): a real inotify instance
// among files, directories, a link longer than the bytes read of it and a link as long as the one
// looked for; readNumberedLinks with an fd closed between the listing and the reading of its link;
// fdsNow, which asks again of links read as gone, and what the kernel lists of a process that
// exited (nothing, then no directory); and a directory whose links are denied (as root, read as another user).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { INOTIFY_LINKS, FANOTIFY_LINK } from '../../src/scan/parse.js';
import { FdLinks, fdsNow, listFds, readlinkOrNull } from '../../src/scan/procfs.js';
import { direntCalls, LinkSet } from '../../src/sys/dirents.js';
import { ERRNO } from '../../src/sys/errno.js';
import { eventually } from '../helpers/eventually.js';

const WATCHED = new LinkSet([...INOTIFY_LINKS, FANOTIFY_LINK]);

test('FdLinks finds each inotify fd, in order, and nothing else', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inotop-fd-links-'));
  // A path of some 300 bytes: its link is cut where it is read, and still matches nothing.
  let deep = root;
  for (let i = 0; i < 12; i++) deep = join(deep, 'd'.repeat(24));
  mkdirSync(deep, { recursive: true });
  // "/tmp/inotop-XXXXXX": as long as "anon_inode:inotify", and not it.
  const sameLength = mkdtempSync('/tmp/inotop-');
  assert.equal(sameLength.length, INOTIFY_LINKS[0]!.length);
  const fds = [openSync(root, 'r'), openSync(deep, 'r'), openSync(join(root, 'f'), 'w'), openSync('/dev/null', 'r'), openSync(sameLength, 'r')];
  const watcher = watch(root);
  t.after(() => {
    watcher.close();
    for (const fd of fds) closeSync(fd);
    rmSync(root, { recursive: true, force: true });
    rmSync(sameLength, { recursive: true, force: true });
  });

  const read = FdLinks.read('/proc/self/fd', WATCHED);
  // The truth, by Node's readlink of each fd's full path (but the listing's own fd, gone by now).
  const listed = listFds('/proc/self/fd');
  const truth = listed.flatMap((fd) => {
    const link = WATCHED.links.indexOf(readlinkOrNull(`/proc/self/fd/${fd}`) ?? '');
    return link >= 0 ? [{ fd, link }] : [];
  });
  assert.deepEqual(read.found, truth);
  assert.ok(read.found.length >= 1, "fs.watch's inotify instance");
  assert.equal(read.found.at(-1)!.link, 0, 'anon_inode:inotify');
  assert.ok(read.found.every(({ fd }) => !fds.includes(fd)));
  // Each listing counts its own fd too.
  assert.equal(read.count, listed.length);
  assert.equal(read.missed, null);
});

test('an fd closed between the listing and its link is passed over, and not counted as unreadable', (t) => {
  const watcher = watch(tmpdir());
  t.after(() => watcher.close());
  const [inotifyFd] = FdLinks.read('/proc/self/fd', WATCHED).found.map(({ fd }) => fd);
  assert.ok(inotifyFd !== undefined);
  // An fd listed after the instance's (procfs lists fds in ascending order).
  const opened: number[] = [];
  while ((opened.at(-1) ?? -1) < inotifyFd) opened.push(openSync('/dev/null', 'r'));
  const closing = opened.pop()!;
  t.after(() => opened.forEach((fd) => closeSync(fd)));
  const calls = direntCalls();
  assert.ok(calls.ok);
  const dirFd = openSync('/proc/self/fd', constants.O_RDONLY | constants.O_DIRECTORY);
  const told: [number, number, number][] = [];
  try {
    const count = calls.value.readNumberedLinks(dirFd, WATCHED, (entry, link, errno) => {
      told.push([entry, link, errno]);
      if (entry === inotifyFd) closeSync(closing);
    });
    assert.ok(count > 0);
  } finally {
    closeSync(dirFd);
  }
  assert.ok(told.some(([entry, link]) => entry === inotifyFd && link === 0));
  assert.deepEqual(
    told.filter(([entry]) => entry === closing),
    [[closing, -1, 2]],
    'its readlinkat said ENOENT',
  );
});

test('fdsNow, asked again of fds whose link or fdinfo read as gone: one still open is found, one closed is closed', (t) => {
  const watcher = watch(tmpdir());
  t.after(() => watcher.close());
  const [inotify] = FdLinks.read('/proc/self/fd', WATCHED).found;
  assert.ok(inotify !== undefined);
  const other = openSync('/dev/null', 'r');
  t.after(() => closeSync(other));
  const closed = openSync('/dev/null', 'r');
  closeSync(closed);
  // Listed and an instance: whatever said "gone" of it, the kernel does not (now).
  assert.deepEqual(fdsNow('/proc/self/fd', [inotify.fd], WATCHED), { found: [inotify], missed: [] });
  // Not listed, or another file's now: closed, and nothing missed.
  assert.deepEqual(fdsNow('/proc/self/fd', [closed, other], WATCHED), { found: [], missed: [] });
});

test('a process that exited: its fd directory lists nothing (a zombie), then is gone (reaped); neither is a miss', async (t) => {
  // The grandchild exits at once and is never reaped by its parent (sleep waits for no child): a zombie.
  const parent = spawn('sh', ['-c', 'sleep 0 & exec sleep 30'], { stdio: 'ignore' });
  t.after(() => parent.kill('SIGKILL'));
  const zombie = await eventually(() => {
    const children = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const pid = children.find((child) => /^State:\s+Z/m.test(readFileSync(`/proc/${child}/status`, 'utf8')));
    return pid ?? assert.fail(`no zombie child yet: ${children.join(',')}`);
  });
  const read = FdLinks.read(`/proc/${zombie}/fd`, WATCHED);
  assert.equal(read.count, 0);
  assert.equal(read.missed, null);
  assert.deepEqual(fdsNow(`/proc/${zombie}/fd`, [0, 1, 2], WATCHED), { found: [], missed: [] });
  parent.kill('SIGKILL');
  await eventually(() => assert.ok(!existsSync(`/proc/${zombie}`), 'reaped by init'));
  assert.deepEqual(fdsNow(`/proc/${zombie}/fd`, [0, 1, 2], WATCHED), { found: [], missed: [] });
});

test(
  "a denied link is the whole directory's: the links after it are counted, not asked for",
  { skip: process.geteuid?.() !== 0 && 'needs root, to read as another user' },
  (t) => {
    // Listable by anyone, searchable by no one but root: as procfs denies every link of a process
    // whose ptrace access is refused, every readlinkat in it says EACCES.
    const root = mkdtempSync(join(tmpdir(), 'inotop-fd-links-denied-'));
    const dir = join(root, 'fd');
    mkdirSync(dir);
    for (let fd = 0; fd < 5; fd++) symlinkSync(INOTIFY_LINKS[0]!, join(dir, String(fd)));
    chmodSync(dir, 0o444);
    chmodSync(root, 0o755);
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const calls = direntCalls();
    assert.ok(calls.ok);
    const dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    const told: [number, number, number][] = [];
    let count: number;
    let read: FdLinks;
    process.seteuid!(65534);
    try {
      count = calls.value.readNumberedLinks(dirFd, WATCHED, (entry, link, errno) => told.push([entry, link, errno]));
      read = FdLinks.read(dir, WATCHED);
    } finally {
      process.seteuid!(0);
      closeSync(dirFd);
    }
    assert.equal(count, 5);
    assert.equal(told.length, 1, `one readlinkat asked, not ${told.length}`);
    assert.deepEqual(told[0]!.slice(1), [-1, ERRNO.EACCES]);
    assert.equal(read.count, 5);
    assert.deepEqual(read.found, []);
    assert.equal(read.missed?.permission, true);
    assert.equal(read.missed?.cause, 'EACCES');
  },
);

test('a LinkSet refuses two links of one length', () => {
  assert.throws(() => new LinkSet(['inotify', 'fanotif']), /by its length/);
});
