// A process's targets as numbers in the detail pane's order (targetOrder), where each target's
// watches are (watchesByTarget), and a few watches as a list of their own (pickWatches): the
// collector answers the screen's windows from these, so they must give the rows, in the order,
// that building every row would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSnapshot, targetIdOf, targetOrder, watchesByTarget } from '../../src/model/snapshot.js';
import { devOf, pickWatches, watchesOf } from '../../src/model/watches.js';
import { parseInotifyFdinfo } from '../../src/scan/parse.js';
import { scannedProcess, scanOf } from '../helpers/rows.js';

/** fdinfo lines: [sdev, ino] per watch, each with a file handle of its own. */
function fdinfo(watches: [number, number][]): ReturnType<typeof parseInotifyFdinfo> {
  const lines = watches.map(
    ([sdev, ino], i) =>
      `inotify wd:${(i + 1).toString(16)} ino:${ino.toString(16)} sdev:${sdev.toString(16)} mask:fff ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:${ino.toString(16).padStart(16, '0')}\n`,
  );
  return parseInotifyFdinfo(Buffer.from(`pos:\t0\nflags:\t00\n${lines.join('')}`, 'latin1'));
}

const A = 0x2a;
const B = 0x100001; // 1:1, after 0:42
const proc = scannedProcess(100, 0, {
  instances: [
    // ino 7 twice here and once in the other instance: one target of three watches.
    {
      fd: 3,
      watches: fdinfo([
        [B, 5],
        [A, 9],
        [A, 7],
        [A, 7],
        [B, 2],
        [A, 2 ** 40],
      ]),
      listKey: 'a',
      instanceId: '100:3',
      shared: false,
    },
    {
      fd: 4,
      watches: fdinfo([
        [A, 7],
        [B, 9],
        [A, 3],
        [B, 5],
      ]),
      listKey: 'b',
      instanceId: '100:4',
      shared: false,
    },
  ],
});

test("a process's targets as numbers: one per watched inode, in the order the pane shows the rows", () => {
  const order = targetOrder(proc, null, null);
  const rows = buildSnapshot(scanOf([proc]), null, null, 'all').processes[0]!.targets;
  assert.equal(order.order.length, rows.length);
  assert.deepEqual(
    Array.from(order.order, (id) => [devOf(order.sdev[id]!), order.ino[id]!, order.watches[id]!]),
    rows.map((row) => [row.dev, row.ino, row.watches]),
    'most watched first, then by device and inode',
  );
  assert.deepEqual(
    Array.from(order.order, (id) => order.ino[id]),
    [7, 5, 3, 9, 2 ** 40, 2, 9],
  );
});

test('a few watches of a list as a list of their own, handles with them', () => {
  const list = proc.instances[0]!.watches;
  const few = pickWatches(list, [2, 3, 5]);
  assert.deepEqual(
    watchesOf(few).map((watch) => [watch.ino, watch.wd, watch.handle?.bytes.length]),
    [
      [7, 3, 8],
      [7, 4, 8],
      [2 ** 40, 6, 8],
    ],
  );
  assert.deepEqual(watchesOf(few)[2]!.handle, watchesOf(list)[5]!.handle);
  assert.equal(pickWatches(list, []).length, 0);
});

test("each target's watches, found by device and inode, in list and watch order", () => {
  const order = targetOrder(proc, null, null);
  const lists = proc.instances.map((instance) => instance.watches);
  const byTarget = watchesByTarget(order, lists);
  const watchesOfTarget = (sdev: number, ino: number): [number, number][] => {
    const id = targetIdOf(order, sdev, ino);
    assert.ok(id >= 0, `${sdev} ${ino} is a target`);
    return Array.from({ length: byTarget.starts[id + 1]! - byTarget.starts[id]! }, (_, k) => [
      byTarget.list[byTarget.starts[id]! + k]!,
      byTarget.index[byTarget.starts[id]! + k]!,
    ]);
  };
  // ino 7 on A: watches 2 and 3 of the first list, 0 of the second.
  assert.deepEqual(watchesOfTarget(A, 7), [
    [0, 2],
    [0, 3],
    [1, 0],
  ]);
  assert.deepEqual(watchesOfTarget(B, 5), [
    [0, 0],
    [1, 3],
  ]);
  assert.deepEqual(watchesOfTarget(A, 2 ** 40), [[0, 5]]);
  // Every watch is some target's once, and each target has as many as the order counts.
  assert.equal(byTarget.starts[order.sdev.length], 10);
  for (let id = 0; id < order.sdev.length; id++) assert.equal(byTarget.starts[id + 1]! - byTarget.starts[id]!, order.watches[id]);
  assert.equal(targetIdOf(order, A, 8), -1, 'an inode not watched');
  assert.equal(targetIdOf(order, B + 1, 5), -1, 'a device not watched');
});

test('a watch on an inode the order does not have (its list changed since) is left out', () => {
  const order = targetOrder(proc, null, null);
  const byTarget = watchesByTarget(order, [
    proc.instances[0]!.watches,
    fdinfo([
      [A, 7],
      [A, 4],
    ]),
  ]);
  assert.equal(byTarget.starts[order.sdev.length], 7);
  const id = targetIdOf(order, A, 7);
  assert.deepEqual(Array.from(byTarget.list.subarray(byTarget.starts[id]!, byTarget.starts[id + 1]!)), [0, 0, 1]);
});
