// Refreshes between full scans read only the processes the trace saw make inotify or fanotify
// calls, and new ones (src/scan Scanner.scan's `changed`, src/collect/pace.ts), on the real kernel:
// what those processes hold is exact, what changed without a call waits for the next full scan,
// which is exact again. Uses tracefs: run under the lock, `flock /tmp/inotop-systest.lock node ...`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TargetList } from '../../src/collect/target-list.js';
import type { ScanResult, Snapshot } from '../../src/model/types.js';
import { Watcher } from '../helpers/inowatch.js';
import { countFds } from '../helpers/load.js';
import { traceSkip, tracingCollector } from '../helpers/tracing.js';

const skip = traceSkip();

/** Watches and fanotify marks of one process in a scan, null when the scan does not have it. */
function held(scan: ScanResult, pid: number): { watches: number; marks: number } | null {
  const proc = scan.processes.find((candidate) => candidate.pid === pid);
  if (!proc) return null;
  const watches = proc.instances.reduce((sum, instance) => sum + instance.watches.length, 0);
  const marks = proc.fanotifyGroups.reduce((sum, group) => sum + group.inodeMarks.length + group.mountMarks.length + group.filesystemMarks.length, 0);
  return { watches, marks };
}

test('between full scans: the changed and the new read again, the rest kept; the next full scan exact', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-changed-'));
  const dirs = Array.from({ length: 12 }, (_, i) => join(dir, `dir ${i}`));
  for (const path of dirs) mkdirSync(path);
  const adder = new Watcher();
  const quiet = new Watcher();
  const marker = new Watcher();
  const leaving = new Watcher();
  let late: Watcher | null = null;
  const collector = tracingCollector();
  t.after(async () => {
    collector.stop();
    for (const watcher of [adder, quiet, marker, leaving, late]) await watcher?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const adderFd = await adder.init();
  const firstWd = await adder.watch(adderFd, dirs[0]!);
  for (const path of dirs.slice(1, 3)) await adder.watch(adderFd, path);
  const quietFd = await quiet.init();
  for (const path of dirs.slice(3, 6)) await quiet.watch(quietFd, path);
  const group = await marker.fanotifyInit();
  await marker.fanotifyMarkInode(group, dirs[0]!);
  const leavingFd = await leaving.init();
  await leaving.watch(leavingFd, dirs[6]!);
  await collector.start();
  assert.equal(collector.tellsChanges(), true, 'the trace tells which processes changed');

  const first = collector.scanForRefresh(true);
  assert.equal(first.scope, 'all', 'nothing to build on yet');
  assert.deepEqual(held(first, adder.pid), { watches: 3, marks: 0 });
  assert.deepEqual(held(first, quiet.pid), { watches: 3, marks: 0 });
  // The targets of a process as a screen's detail pane reads them (Collector.targetList): every one's path.
  const listOf = (snapshot: Snapshot, pid: number) => collector.targetList(snapshot.processes.find((row) => row.pid === pid)!)!;
  const pathsOf = (list: TargetList) =>
    list
      .rows(list.order)
      .map((target) => target.path)
      .sort();
  const quietList = listOf(collector.collect('none', first), quiet.pid);
  assert.deepEqual(pathsOf(quietList), dirs.slice(3, 6).sort());

  // Calls the trace sees: watches added and removed, a mark added, an instance made by a process
  // new since the scan. Changes without a call: a watched directory deleted, a process gone.
  await adder.watch(adderFd, dirs[7]!);
  await adder.watch(adderFd, dirs[8]!);
  await adder.send(`rm ${adderFd} ${firstWd}`);
  await marker.fanotifyMarkInode(group, dirs[1]!);
  late = new Watcher();
  const lateFd = await late.init();
  await late.watch(lateFd, dirs[9]!);
  rmSync(dirs[3]!, { recursive: true });
  await leaving.stop();

  const between = collector.scanForRefresh(true);
  assert.equal(between.scope, 'changed');
  assert.deepEqual(held(between, adder.pid), { watches: countFds([adder.pid]).watches, marks: 0 });
  assert.deepEqual(held(between, adder.pid), { watches: 4, marks: 0 });
  assert.deepEqual(held(between, marker.pid), { watches: 0, marks: 2 });
  assert.deepEqual(held(between, late.pid), { watches: 1, marks: 0 }, 'a new process is read');
  assert.equal(held(between, leaving.pid), null, 'a process gone is gone');
  // Not read again: its watch of the deleted directory stays until the next full scan.
  assert.equal(countFds([quiet.pid]).watches, 2, 'the kernel dropped the watch of the deleted directory');
  assert.deepEqual(held(between, quiet.pid), { watches: 3, marks: 0 });
  assert.ok(between.keptPids.includes(quiet.pid), 'the quiet process is kept as read');
  assert.ok(!between.keptPids.includes(adder.pid), 'the adder is read again');
  // What a refresh of only the changed makes of it: a whole snapshot. The target list of a
  // process kept as it was is the one made before (nothing counted or looked up again); of one
  // read again, new.
  const snapshot = collector.collect('none', between);
  assert.equal(snapshot.scanScope, 'changed');
  assert.equal(listOf(snapshot, quiet.pid), quietList);
  assert.deepEqual(pathsOf(listOf(snapshot, adder.pid)), [dirs[1], dirs[2], dirs[7], dirs[8]].sort());

  const full = collector.scanForRefresh(false);
  assert.equal(full.scope, 'all');
  assert.deepEqual(pathsOf(listOf(collector.collect('none', full), quiet.pid)), dirs.slice(4, 6).sort(), 'the full scan looks its targets up again');
  for (const watcher of [adder, quiet, late]) {
    assert.deepEqual(held(full, watcher.pid)?.watches, countFds([watcher.pid]).watches, `pid ${watcher.pid} exact at the full scan`);
  }
  assert.deepEqual(held(full, quiet.pid), { watches: 2, marks: 0 });
});

test('no trace, no refresh of only the changed: every scan reads every process', async (t) => {
  const watcher = new Watcher();
  const collector = tracingCollector();
  t.after(async () => {
    collector.stop();
    await watcher.stop();
  });
  // Not started: the tracer is off, as it is without root or tracefs.
  assert.equal(collector.tellsChanges(), false);
  collector.scanForRefresh(true);
  const fd = await watcher.init();
  await watcher.watch(fd, tmpdir());
  const next = collector.scanForRefresh(true);
  assert.equal(next.scope, 'all');
  assert.equal(held(next, watcher.pid)?.watches, 1);
});
