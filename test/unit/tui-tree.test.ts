// The tree view: processes under their parents, a shared instance counted at its ancestor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_FILTER } from '../../src/model/query.js';
import { Painter } from '../../src/views/painter.js';
import { tableLines } from '../../src/views/tui/paint/table.js';
import { processRows } from '../../src/views/tui/process-rows.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import { treeOf } from '../../src/views/tui/tree.js';
import { proc, snapshot } from '../helpers/rows.js';
import { keys } from '../helpers/screen-state.js';

function family() {
  // containerd (10) forked a shim (11) that kept its instance and opened one of its own; the shim's child (12).
  const containerd = proc(10, { ppid: 1, comm: 'containerd', watches: 50, instances: 1, fds: [{ fd: 3, watches: 50, shared: true, instance: 'i-a' }] });
  const shim = proc(11, {
    ppid: 10,
    comm: 'shim',
    watches: 57,
    instances: 2,
    fds: [
      { fd: 3, watches: 50, shared: true, instance: 'i-a' },
      { fd: 7, watches: 7, shared: false, instance: 'i-b' },
    ],
  });
  const child = proc(12, { ppid: 11, comm: 'app', watches: 2, instances: 1, fds: [{ fd: 4, watches: 2, shared: false, instance: 'i-c' }] });
  const other = proc(20, { ppid: 1, comm: 'kubelet', watches: 30, instances: 1, fds: [{ fd: 5, watches: 30, shared: false, instance: 'i-d' }] });
  return [shim, other, containerd, child];
}

test('tree order, siblings as sorted, branches drawn; a shared instance counts at the ancestor', () => {
  const tree = treeOf(family());
  assert.deepEqual(
    tree.rows.map((r) => [r.pid, r.watches, r.instances, tree.prefixes.get(r.pid)]),
    [
      [20, 30, 1, ''],
      [10, 50, 1, ''],
      [11, 7, 1, '└─ '],
      [12, 2, 1, '   └─ '],
    ],
  );
  const siblings = treeOf([proc(1, { ppid: 0 }), proc(3, { ppid: 1 }), proc(2, { ppid: 1 }), proc(4, { ppid: 3 })]);
  assert.deepEqual(
    siblings.rows.map((r) => `${siblings.prefixes.get(r.pid)}${r.pid}`),
    ['1', '├─ 3', '│  └─ 4', '└─ 2'],
  );
});

test('t shows the tree on the screen', () => {
  let state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: snapshot(family()),
  });
  assert.deepEqual(
    processRows(state).map((r) => r.pid),
    [11, 10, 20, 12],
    'flat: by watches',
  );
  state = keys(state, 't');
  assert.deepEqual(
    processRows(state).map((r) => [r.pid, r.watches, r.instances]),
    [
      [10, 50, 1],
      [11, 7, 1],
      [12, 2, 1],
      [20, 30, 1],
    ],
  );
  const lines = tableLines(state, 120, 10, new Painter(false)).map((l) => l.replace(/\{\/?[a-z-]+\}/g, ''));
  assert.match(lines[1]!, / \/usr\/bin\/proc10 --serve/);
  assert.match(lines[2]!, / └─ \/usr\/bin\/proc11 --serve/);
  assert.match(lines[3]!, /    └─ \/usr\/bin\/proc12 --serve/);
  assert.match(lines[4]!, / \/usr\/bin\/proc20 --serve/);
  state = keys(state, 'f5');
  assert.equal(state.tree, false);
});
