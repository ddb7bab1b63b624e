// A process's targets as numbers in the detail pane's order (targetOrder), and a few of its
// watches as a list of their own (pickWatches): the collector answers the screen's windows from
// these, so they must give the rows, in the order, that building every row would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSnapshot, targetOrder } from '../../src/model/snapshot.js';
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
  const few = pickWatches(list, (i) => list.ino[i] === 7 || list.ino[i] === 2 ** 40);
  assert.deepEqual(
    watchesOf(few).map((watch) => [watch.ino, watch.wd, watch.handle?.bytes.length]),
    [
      [7, 3, 8],
      [7, 4, 8],
      [2 ** 40, 6, 8],
    ],
  );
  assert.deepEqual(watchesOf(few)[2]!.handle, watchesOf(list)[5]!.handle);
  assert.equal(pickWatches(list, () => false).length, 0);
});
