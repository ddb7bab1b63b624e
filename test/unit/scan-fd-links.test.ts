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
import { FdDirs, FdLinks, fdsNow, listFds, readlinkOrNull } from '../../src/scan/procfs.js';
import { direntCalls, LinkSet } from '../../src/sys/dirents.js';
import { ERRNO } from '../../src/sys/errno.js';
import { Scanner } from '../../src/scan/index.js';
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

test('a kept fd directory is listed again from its start, as it is now, and let go at the end of a scan that did not list it', (t) => {
  const dirs = new FdDirs();
  t.after(() => dirs.closeAll());
  const kept = { dirs, pid: process.pid };
  const first = FdLinks.read('/proc/self/fd', WATCHED, kept);
  assert.equal(dirs.heldCount(), 1);
  const opened = openSync('/dev/null', 'r');
  t.after(() => closeSync(opened));
  const again = FdLinks.read('/proc/self/fd', WATCHED, kept);
  assert.equal(dirs.heldCount(), 1, 'the same directory, listed again');
  assert.equal(again.count, first.count + 1, 'with the fd opened since');
  const now = FdLinks.read('/proc/self/fd', WATCHED);
  assert.deepEqual([again.count, again.found], [now.count - 1, now.found], 'as a directory opened now lists it (and its own fd)');
  dirs.endScan();
  assert.equal(dirs.heldCount(), 1, 'listed in the scan that ended: kept');
  dirs.endScan();
  assert.equal(dirs.heldCount(), 0, 'not listed in the next: let go');
});

test("a kept fd directory of a process gone is let go, and the pid's directory looked up again by its path", async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const pid = child.pid!;
  const dirs = new FdDirs();
  try {
    FdLinks.read(`/proc/${pid}/fd`, WATCHED, { dirs, pid });
    assert.equal(dirs.heldCount(), 1);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // Reaped: no process has the pid (unless a new one took it: then it is listed as itself).
    assert.throws(
      () => FdLinks.read(`/proc/${pid}/fd`, WATCHED, { dirs, pid }),
      (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
    );
    assert.equal(dirs.heldCount(), 0);
  } finally {
    child.kill('SIGKILL');
    dirs.closeAll();
  }
});

test("the fds a listing is told to skip are counted, their links not read: the scanner's own kept files", (t) => {
  const watcher = watch(tmpdir());
  t.after(() => watcher.close());
  const whole = FdLinks.read('/proc/self/fd', WATCHED);
  const instance = whole.found.at(-1)!.fd;
  const skipped = FdLinks.read('/proc/self/fd', WATCHED, null, new Set([instance]));
  assert.equal(skipped.count, whole.count);
  assert.deepEqual(
    skipped.found,
    whole.found.filter(({ fd }) => fd !== instance),
  );
});

test('a kept scanner finds its own process as it is, scan after scan, its own kept files passed over', (t) => {
  const scanner = new Scanner();
  t.after(() => scanner.close());
  const own = () =>
    scanner
      .scan()
      .processes.find((proc) => proc.pid === process.pid)
      ?.instances.map(({ fd }) => fd) ?? [];
  const before = own();
  const watcher = watch(tmpdir());
  t.after(() => watcher.close());
  const instances = FdLinks.read('/proc/self/fd', WATCHED)
    .found.filter(({ link }) => link === 0)
    .map(({ fd }) => fd);
  assert.ok(instances.length >= 1);
  assert.deepEqual(own(), instances, "fs.watch's instance among them");
  assert.deepEqual(own(), instances, 'and in the scan after, through the kept directory');
  assert.ok(before.every((fd) => instances.includes(fd)));
});
