// The pod view (v): a row per pod, from the processes' own pods and the pods they watch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_FILTER } from '../../src/model/query.js';
import { advanceHistory, EMPTY_HISTORY } from '../../src/model/history.js';
import { detailLines as podDetailLines } from '../../src/views/tui/paint/detail.js';
import { tableLines as podTableLines } from '../../src/views/tui/paint/table.js';
import { ageText, podRows, podStateText } from '../../src/views/tui/pod-rows.js';
import { initialState, inspectedParagraphs, reduce } from '../../src/views/tui/state.js';
import { inspectText } from '../../src/views/tui/inspect.js';
import { displayWidth } from '../../src/common/width.js';
import { pod, proc, snapshot } from '../helpers/rows.js';
import { keys, mono, plain } from '../helpers/screen-state.js';

function node() {
  const gone = pod('api-hxagp', 'gone', 'shop');
  const web = pod('web', 'live', 'shop');
  const kubelet = proc(100, {
    comm: 'kubelet',
    watches: 9,
    leaked: 3,
    watchedPods: [
      { pod: gone, watches: 3, leaked: 3, holders: [201] },
      { pod: web, watches: 6, leaked: 0, holders: [] },
    ],
  });
  const agent = proc(150, { comm: 'agent', watches: 2, watchedPods: [{ pod: web, watches: 2, leaked: 0, holders: [] }] });
  const app = proc(300, { comm: 'nginx', pod: web, watches: 1 });
  const holder = proc(201, { comm: 'sleep', watches: 0 });
  return snapshot([kubelet, agent, app, holder]);
}

test('a row per pod: watches across processes, leaked, watchers, holders, members', () => {
  const rows = podRows(node());
  assert.deepEqual(
    rows.map((r) => [r.pod.name, r.watches, r.leaked, r.watchers.map((w) => w.pid), r.holders, r.members]),
    [
      ['api-hxagp', 3, 3, [100], [201], []],
      ['web', 8, 0, [100, 150], [], [300]],
    ],
  );
});

test('v switches to the pod view and back; arrows move its selection; / filters pods; the detail lists watchers and holders', () => {
  let state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: node(),
  });
  state = keys(state, 'v');
  assert.equal(state.view, 'pods');
  assert.equal(state.selectedPod, 'uid-api-hxagp', 'the leaking pod first');
  const table = plain(podTableLines(state, 120, 10, mono));
  // Sorted as the process view is (by watches here), opened on the leaking pod.
  assert.match(table[0]!, /^NAMESPACE\/NAME +UID +STATE +WATCHES▼ +LEAKED WATCHERS +HOLDERS +AGE$/);
  assert.match(table[1]!, /^shop\/web +uid-web +live +8 +100,150 +- +0s$/);
  assert.match(table[2]!, /^shop\/api-hxagp +uid-api- +gone +3 +3 100 +201 +0s$/);
  assert.ok(table.every((line) => displayWidth(line) === 120));
  const detail = plain(podDetailLines(state, 120, 10, mono));
  assert.match(detail[0]!, /pod shop\/api-hxagp \(gone\) +uid uid-api-hxagp: 3 watches, 3 leaked/);
  assert.match(detail.join('\n'), /100 kubelet: watches inside it/);
  assert.match(detail.join('\n'), /201 sleep: its mount namespace keeps the pod's mounts/);
  state = keys(state, 'up');
  assert.equal(state.selectedPod, 'uid-web');
  assert.match(plain(podDetailLines(state, 120, 10, mono)).join('\n'), /300 nginx: runs in it/);
  state = keys(state, '/', 'h', 'x', 'a', 'enter');
  assert.deepEqual(
    plain(podTableLines(state, 120, 10, mono))
      .slice(1)
      .map((l) => l.split(' ')[0]),
    ['shop/api-hxagp'],
  );
  assert.equal(state.selectedPod, 'uid-api-hxagp', 'the selection stays among the shown');
  state = keys(state, '/', 'escape', 'S-i');
  assert.deepEqual(
    plain(podTableLines(state, 120, 10, mono))
      .slice(1)
      .map((l) => l.split(' ')[0]),
    ['shop/api-hxagp', 'shop/web'],
    'I inverts the pods too',
  );
  state = keys(state, 'v');
  assert.equal(state.view, 'processes');
});

test('state: gone since when this session saw it go; age since first seen', () => {
  const gone = pod('api', 'gone');
  const live = snapshot([proc(1, { watchedPods: [{ pod: pod('api'), watches: 1, leaked: 0, holders: [] }] })], '2026-11-27T10:00:00.000Z');
  const after = snapshot([proc(1, { watchedPods: [{ pod: gone, watches: 1, leaked: 1, holders: [] }] })], '2026-11-27T10:21:06.000Z');
  const history = advanceHistory(advanceHistory(EMPTY_HISTORY, live), after);
  assert.match(podStateText(gone, history), /^gone since \d\d:\d\d:\d\d$/);
  assert.equal(podStateText(gone, EMPTY_HISTORY), 'gone');
  assert.equal(ageText('2026-11-27T10:00:00.000Z', '2026-11-27T10:21:06.000Z'), '21m');
  assert.equal(ageText(undefined, '2026-11-27T10:21:06.000Z'), '-');
});

test('Enter on a pod inspects it: watchers, holders, the next step; y copies it', () => {
  let state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: node(),
  });
  state = keys(state, 'v', 'enter');
  assert.equal(state.overlay?.kind, 'inspect');
  const text = inspectText(inspectedParagraphs(state)!);
  assert.match(text, /^Pod shop\/api-hxagp \(gone\) +uid uid-api-hxagp/);
  assert.match(text, /pid 100 kubelet: 3 watches, 3 leaked/);
  assert.match(text, /KEPT BY .*\npid 201 sleep +\(\/usr\/bin\/proc201 --serve\)/);
  assert.match(text, /NEXT STEP: its mounts live on while pid 201 exits: check what it is, then stop it\./);
  state = keys(state, 'y');
  assert.equal(state.copy, text);
  state = keys(state, 'escape', 'up', 'enter');
  assert.match(inspectText(inspectedParagraphs(state)!), /NEXT STEP: nothing to do/);
});

test('< and > in the pod view step through its own sortable columns (name, watches, leaked), each a new order', () => {
  let state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: node(),
  });
  state = keys(state, 'v');
  const marked = () => /(\S+)[▼▲]/.exec(plain(podTableLines(state, 120, 10, mono))[0]!)?.[1];
  assert.equal(marked(), 'WATCHES');
  state = keys(state, '>');
  assert.equal(marked(), 'LEAKED');
  state = keys(state, '>');
  assert.equal(marked(), 'NAMESPACE/NAME', 'round to the first');
  state = keys(state, '<');
  assert.equal(marked(), 'LEAKED');
  state = keys(state, '<', '<');
  assert.equal(marked(), 'NAMESPACE/NAME');
});
