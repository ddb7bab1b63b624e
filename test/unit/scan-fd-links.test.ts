// FdDir.findLink over this process's own fds (/proc/self/fd: no root needed): a real inotify
// instance among files, directories, a link longer than the bytes read of it, and an fd closed
// between the listing and the reading of its link.
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readlinkSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { INOTIFY_LINKS, FANOTIFY_LINK } from '../../src/scan/parse.js';
import { FdDir } from '../../src/scan/procfs.js';

const WATCHED = [...INOTIFY_LINKS, FANOTIFY_LINK];

/** Every fd findLink stops at from `from` on, with the link it found. */
function found(dir: FdDir, from = 0): [number, number][] {
  const stops: [number, number][] = [];
  for (let at = dir.findLink(from, WATCHED); at >= 0; at = dir.findLink(at + 1, WATCHED)) stops.push([dir.fds[at]!, dir.found.link]);
  return stops;
}

test('findLink stops at each inotify fd, in order, from any position, and at nothing else', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inotop-fd-links-'));
  // A path of some 300 bytes: its link is cut where it is read, and still matches nothing.
  let deep = root;
  for (let i = 0; i < 12; i++) deep = join(deep, 'd'.repeat(24));
  mkdirSync(deep, { recursive: true });
  const fds = [openSync(root, 'r'), openSync(deep, 'r'), openSync(join(root, 'f'), 'w'), openSync('/dev/null', 'r')];
  const watcher = watch(root);
  t.after(() => {
    watcher.close();
    for (const fd of fds) closeSync(fd);
    rmSync(root, { recursive: true, force: true });
  });

  const dir = FdDir.open('/proc/self/fd');
  try {
    // The truth, by Node's readlink of each fd's full path.
    const truth: [number, number][] = [];
    for (const fd of dir.fds) {
      const index = WATCHED.indexOf(readlinkSync(`/proc/self/fd/${fd}`));
      if (index >= 0) truth.push([fd, index]);
    }
    const all = found(dir);
    assert.deepEqual(all, truth);
    assert.ok(all.length >= 1, "fs.watch's inotify instance");
    const [inotifyFd, link] = all.at(-1)!;
    assert.equal(link, 0, 'anon_inode:inotify');
    assert.ok(!fds.includes(inotifyFd));
    const at = dir.fds.indexOf(inotifyFd);
    assert.deepEqual(found(dir, at), [all.at(-1)], 'from its own position');
    assert.deepEqual(found(dir, at + 1), [], 'past it');
    assert.deepEqual(found(dir, dir.fds.length), [], 'past the last fd');
    assert.equal(dir.missed, null);
  } finally {
    dir.close();
  }
});

test('an fd closed after the listing is passed over, and not counted as missed', () => {
  const closing = openSync('/dev/null', 'r');
  const dir = FdDir.open('/proc/self/fd');
  try {
    assert.ok(dir.fds.includes(closing));
    closeSync(closing);
    const before = found(dir);
    assert.ok(before.every(([fd]) => fd !== closing));
    assert.equal(dir.missed, null, 'gone is not unreadable');
  } finally {
    dir.close();
  }
});
