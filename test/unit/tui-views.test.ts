// The table's views as values (views.ts): derived rows kept per snapshot, cells built only for the
// rows that show at the bench's sizes, and what the view decides (the mouse, the filter prompt,
// the pods' order) the same way in every view.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_FILTER } from '../../src/model/query.js';
import type { ProcessRow, TargetRow } from '../../src/model/types.js';
import { releaseSnapshot } from '../../src/views/tui/memo.js';
import { detailLines } from '../../src/views/tui/paint/detail.js';
import { footerLine } from '../../src/views/tui/paint/footer.js';
import { tableLines } from '../../src/views/tui/paint/table.js';
import { visiblePods } from '../../src/views/tui/pod-rows.js';
import { processRows, processTable, targetPane } from '../../src/views/tui/process-rows.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import { VIEW_IDS, type ViewState } from '../../src/views/tui/view-state.js';
import { VIEWS } from '../../src/views/tui/views.js';
import { pod, proc, snapshot, target, targets } from '../helpers/rows.js';
import { keys, mono, plain } from '../helpers/screen-state.js';

const start = () => initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 });
const opened = (processes: ProcessRow[]) => reduce(start(), { type: 'snapshot', snapshot: snapshot(processes) });

/** A copy of `row` whose fields count their reads, each in its counter. */
function counted<Row extends object>(row: Row, counters: [keyof Row, { count: number }][]): Row {
  const copy = { ...row };
  for (const [field, reads] of counters) {
    const value = row[field];
    Object.defineProperty(copy, field, {
      enumerable: true,
      get: () => {
        reads.count++;
        return value;
      },
    });
  }
  return copy;
}

test('every view id has its view, and v goes through them in order', () => {
  assert.deepEqual(Object.keys(VIEWS), [...VIEW_IDS]);
  for (const id of VIEW_IDS) assert.equal(VIEWS[id].id, id);
  let state = opened([proc(1, { targets: targets(2) })]);
  const seen = [state.view];
  for (let i = 0; i < VIEW_IDS.length; i++) seen.push((state = keys(state, 'v')).view);
  assert.deepEqual(seen, [...VIEW_IDS, VIEW_IDS[0]]);
});

test('rows are kept per snapshot: two states on two snapshots do not evict each other', () => {
  const web = pod('web');
  const a = opened([proc(1, { targets: targets(2), watchedPods: [{ pod: web, watches: 2, leaked: 0, holders: [] }] }), proc(2, { targets: targets(5) })]);
  const b = opened([proc(3, { targets: targets(4), watchedPods: [{ pod: web, watches: 4, leaked: 0, holders: [] }] })]);
  const rowsA = processRows(a);
  const podsA = visiblePods(a);
  const tableB = processTable(b);
  visiblePods(b);
  assert.equal(processRows(a), rowsA, "b's rows did not push a's out");
  assert.equal(visiblePods(a), podsA);
  assert.equal(processTable(b), tableB);
  // A key that changes nothing they come from derives nothing.
  assert.equal(processRows(keys(a, 'n')), rowsA);
  assert.notEqual(processRows(keys(a, 'S-i')), rowsA, 'a new sort: new rows');
  assert.deepEqual(
    processRows(keys(a, 'S-i')).map((row) => row.pid),
    [1, 2],
  ); // The screen drops what was derived from a snapshot it replaced: derived again if asked.
  releaseSnapshot(a.snapshot!);
  assert.notEqual(processRows(a), rowsA);
  assert.deepEqual(processRows(a), rowsA);
});

test("the table builds cells only for the rows it shows, at the bench's sizes", () => {
  // large: 500 processes; the table shows 20 of them.
  const reads = { count: 0 };
  const processes = Array.from({ length: 500 }, (_, i) => counted(proc(1000 + i, { watches: 200 + i }), [['cmdline', reads]]));
  let state = reduce(opened(processes), { type: 'resize', tableRows: 20, detailRows: 10 });
  reads.count = 0;
  assert.equal(tableLines(state, 160, 21, mono).length, 21);
  assert.equal(reads.count, 20, 'a command line read for each row shown');
  state = keys(state, 'pagedown', 'pagedown');
  reads.count = 0;
  tableLines(state, 160, 21, mono);
  assert.equal(reads.count, 20);

  // The pod view: as many pods as processes, 20 shown.
  const seen = { count: 0 };
  const pods = Array.from({ length: 500 }, (_, i) =>
    proc(5000 + i, { watches: 1, watchedPods: [{ pod: pod(`p${i}`), watches: 1 + i, leaked: 0, holders: [] }] }),
  );
  let podView = keys(reduce(opened(pods), { type: 'resize', tableRows: 20, detailRows: 10 }), 'v');
  const podsSeen = podView.podsSeen;
  podView = { ...podView, podsSeen: { get: (uid: string) => (seen.count++, podsSeen.get(uid)) } as ViewState['podsSeen'] };
  tableLines(podView, 160, 21, mono);
  assert.equal(seen.count, 20, 'AGE looked up for each pod shown');
});

test("the detail pane builds cells for the targets it shows; a process's whole list is measured once", () => {
  // huge: 5,240 watches a process, each on a target of its own; the pane shows 10.
  const paths = { count: 0 };
  const holders = { count: 0 };
  const many: TargetRow[] = Array.from({ length: 5240 }, (_, i) =>
    counted(target(i + 1), [
      ['path', paths],
      ['holders', holders],
    ]),
  );
  const state = reduce(opened([proc(7, { targets: many })]), { type: 'resize', tableRows: 10, detailRows: 10 });
  assert.equal(targetPane(state).total, 5240);
  paths.count = holders.count = 0;
  assert.equal(detailLines(state, 160, 12, mono).length, 12);
  // The path cell reads a target's path twice (is there one, then it).
  assert.ok(paths.count >= 10 && paths.count <= 20, `paths of the 10 targets shown only (${paths.count} reads)`);
  holders.count = 0;
  detailLines(state, 160, 12, mono);
  assert.ok(holders.count <= 10, `HELD BY's width is measured once per target list, not at each draw (${holders.count} reads)`);
});

test('the pod view answers the mouse as the process view does: a click or the wheel moves its selection', () => {
  const gone = pod('api', 'gone');
  const web = pod('web');
  const kubelet = proc(100, {
    watches: 9,
    leaked: 3,
    watchedPods: [
      { pod: gone, watches: 3, leaked: 3, holders: [] },
      { pod: web, watches: 6, leaked: 0, holders: [] },
    ],
  });
  let state = keys(opened([kubelet, proc(200, { watches: 1 })]), 'v');
  assert.equal(state.selectedPod, 'uid-api');
  const pid = state.selectedPid;
  state = reduce(state, { type: 'selectIndex', index: 0, now: 0 });
  assert.equal(state.selectedPod, 'uid-web', 'sorted by watches: web first');
  state = reduce(state, { type: 'scroll', pane: 'table', delta: 3, now: 0 });
  assert.equal(state.selectedPod, 'uid-api');
  assert.equal(state.selectedPid, pid, 'the process selection stays where it was');
});

test('the filter prompt names what the view lists', () => {
  const state = opened([proc(1, { watchedPods: [{ pod: pod('web'), watches: 1, leaked: 0, holders: [] }] })]);
  assert.match(plain([footerLine(keys(state, '/'), 120, mono)])[0]!, /Filter processes: _/);
  assert.match(plain([footerLine(keys(state, 'v', '/'), 120, mono)])[0]!, /Filter pods: _/);
});

test('pods with the same counts go by name in code-unit order, whatever the locale', () => {
  const watcher = proc(1, {
    watchedPods: ['b', 'B', 'a', 'é', 'e'].map((name) => ({ pod: pod(name), watches: 1, leaked: 0, holders: [] })),
  });
  const state = keys(opened([watcher]), 'v', 's', 'home', 'enter');
  assert.equal(state.sort.field, 'pid', 'a sort by name');
  assert.deepEqual(
    visiblePods(state).map((row) => row.pod.name),
    ['B', 'a', 'b', 'e', 'é'],
  );
  assert.deepEqual(
    visiblePods(keys(state, 'S-i')).map((row) => row.pod.name),
    ['é', 'e', 'b', 'a', 'B'],
  );
});
