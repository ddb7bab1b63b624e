// The scanner and the snapshot on a recorded procfs tree (fixtures/node-a): fd links are
// committed as symlinks, fdinfo as text, with the odd cases a live node has.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildSnapshot } from '../../src/model/snapshot.js';
import { watchesOf } from '../../src/model/watches.js';
import { scan, Scanner, ScanError } from '../../src/scan/index.js';

const procRoot = fileURLToPath(new URL('../../fixtures/node-a/proc', import.meta.url));

test('finds every inotify holder and only those', () => {
  const result = scan({ procRoot });
  assert.deepEqual(
    result.processes.map((p) => p.pid),
    [1, 100, 200, 201, 300, 500],
  );
  assert.equal(result.sharedDetection, 'heuristic', 'kcmp cannot apply to a recorded tree');
  assert.equal(result.hostname, 'node-a');
  assert.equal(result.kernel, '6.1.0-fixture');
  assert.deepEqual(
    result.limits,
    {
      maxUserWatches: 8192,
      maxUserInstances: 128,
      maxQueuedEvents: 16384,
      maxUserFanotifyGroups: null,
      maxUserFanotifyMarks: null,
      maxFanotifyQueuedEvents: null,
    },
    'a tree without fs/fanotify: unknown',
  );
  assert.equal(result.hostUserns, '4026531837');
});

test('process details: comm with ")" , user names from the tree, namespaces', () => {
  const byPid = new Map(scan({ procRoot }).processes.map((p) => [p.pid, p]));
  const odd = byPid.get(300)!;
  assert.equal(odd.comm, 'my (weird)) app');
  assert.equal(odd.uid, 1000);
  assert.equal(odd.user, 'alice');
  assert.equal(odd.userns, '4026532999');
  assert.equal(odd.cmdline, '/opt/app/bin/app --watch /srv/data');
  assert.equal(byPid.get(100)!.comm, 'kubelet');
  assert.equal(byPid.get(201)!.ppid, 200);
  assert.deepEqual(byPid.get(1)!.cgroups, ['0::/system.slice']);
});

test('zero-watch instances count, old kernels parse, a whole tree is a whole scan', () => {
  const result = scan({ procRoot });
  const byPid = new Map(result.processes.map((p) => [p.pid, p]));
  const kubelet = byPid.get(100)!;
  assert.deepEqual(
    kubelet.instances.map((i) => [i.fd, i.watches.length]),
    [
      [3, 12],
      [4, 0],
    ],
  );
  assert.equal(kubelet.instances[0]!.watches.wd[9], 10, 'wd:a is hex');
  // Every fd the tree lists has its fdinfo: the scan is whole (an fdinfo missing while its fd is
  // listed is the next test's).
  assert.deepEqual(
    result.notes.filter((note) => note.kind === 'missed'),
    [],
  );
  assert.equal(result.coverage.complete, true);
  const old = byPid.get(500)!;
  assert.deepEqual(
    watchesOf(old.instances[0]!.watches).map((w) => [w.wd, w.mask, w.handle]),
    [
      [0x1f, 0x800afff, null],
      [0x20, 0x800afff, null],
    ],
  );
});

test('an instance inherited across fork is counted once in totals, shown in both rows', () => {
  const snapshot = buildSnapshot(scan({ procRoot }), null, null, 'none');
  const parent = snapshot.processes.find((p) => p.pid === 200)!;
  const child = snapshot.processes.find((p) => p.pid === 201)!;
  // One kernel object: the same instance in both rows (the tree view counts it at the parent).
  assert.deepEqual(parent.fds, [{ fd: 3, watches: 2, shared: true, instance: '200:3' }]);
  assert.deepEqual(child.fds, [{ fd: 3, watches: 2, shared: true, instance: '200:3' }]);
  // 1: 2+1, 100: 12+0, 200/201: 2 (once), 300: 3, 500: 2
  assert.deepEqual(snapshot.totals, { processes: 6, instances: 7, watches: 22, fanotifyGroups: 0, fanotifyMarks: 0 });
  assert.deepEqual(
    snapshot.users.map((u) => [u.name, u.userns, u.instances, u.watches]),
    [
      ['root', null, 6, 19],
      ['alice', '4026532999', 1, 3],
    ],
  );
});

test("a process whose fd directory, status or an instance's fdinfo is not found while its /proc/PID is there is unread and said, not gone", () => {
  // As a live /proc never shows it, but an injected or misread ENOENT does: 100 (kubelet) without
  // its status, 300 without its fd directory, 400 with an instance listed and no fdinfo (in a live
  // /proc, an fd closed meanwhile is no longer listed when asked again). A /proc/PID that is gone is gone: 999.
  const copy = mkdtempSync(join(tmpdir(), 'inotop-fixture-'));
  try {
    cpSync(procRoot, copy, { recursive: true, verbatimSymlinks: true });
    rmSync(join(copy, '100', 'status'));
    rmSync(join(copy, '300', 'fd'), { recursive: true });
    symlinkSync('anon_inode:inotify', join(copy, '400', 'fd', '3'));
    const result = scan({ procRoot: copy });
    assert.deepEqual(
      result.processes.map((p) => p.pid),
      [1, 200, 201, 500],
    );
    const missed = result.notes.flatMap((note) => (note.kind === 'missed' ? note.pids.map(({ pid, what }) => [note.cause, pid, what]) : []));
    assert.deepEqual(missed, [
      ['ENOENT', 100, ['status']],
      ['ENOENT', 300, []],
      ['ENOENT', 400, ['fdinfo 3']],
    ]);
    assert.equal(result.coverage.complete, false);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('targets are grouped per inode, most watched first', () => {
  const snapshot = buildSnapshot(scan({ procRoot }), null, null, 'all');
  const odd = snapshot.processes.find((p) => p.pid === 300)!;
  assert.deepEqual(
    odd.targets.map((t) => [t.dev, t.ino, t.watches, t.status]),
    [
      ['8:1', 0x21, 2, 'unresolved'],
      ['8:1', 0x20, 1, 'unresolved'],
    ],
  );
  const kubelet = snapshot.processes.find((p) => p.pid === 100)!;
  assert.equal(kubelet.targets.length, 12, 'inode 1 on 12 devices is 12 targets');
  assert.ok(kubelet.targets.every((t) => t.ino === 1));
});

test('an unreadable procfs root is a clear error', () => {
  assert.throws(() => scan({ procRoot: '/nonexistent/proc' }), ScanError);
});

test('a once-only scan, its lists parsed for their devices first, finds the watches of a scan kept for a next one', () => {
  const watchesOfScan = (once: boolean) => {
    const scanner = new Scanner({ procRoot, once });
    try {
      return scanner.scan().processes.map((proc) => [proc.pid, proc.instances.map((instance) => [instance.fd, watchesOf(instance.watches)])]);
    } finally {
      scanner.close();
    }
  };
  assert.deepEqual(watchesOfScan(true), watchesOfScan(false));
});
