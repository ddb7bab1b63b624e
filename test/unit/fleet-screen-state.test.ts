// The fleet screen's reducer, key table and painters (pure): sorting once per change of sort,
// filtering as one types, the selection following its node, a window that scrolls over the rows,
// Enter opening a node whose detail scrolls with its gone pods first, every name through the text
// boundary; and the refresher that never lets two reads overlap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleetColumns, fleetShape, fleetTable, shareText } from '../../src/fleet/columns.js';
import { compareNodes, fleetJson, nodeDetail, sortRows, summarize, type Fleet, type NodeRow } from '../../src/fleet/nodes.js';
import { jsonText } from '../../src/common/text.js';
import { detailLines, footerLine, headerLines, tableLines } from '../../src/fleet/paint.js';
import type { Sample } from '../../src/fleet/prometheus.js';
import type { FleetSortField } from '../../src/fleet/args.js';
import { Refresher } from '../../src/fleet/refresh.js';
import { actionForFleetKey, initialFleetState, reduceFleet, selectedNode, shownRows, type FleetState } from '../../src/fleet/screen-state.js';
import { OTHER } from '../../src/serve/labels.js';
import { Painter } from '../../src/views/painter.js';

const AT = Date.parse('2026-11-27T10:00:00.000Z');

const row = (node: string, share: number, leaked = 0, failures = 0, cluster = ''): NodeRow => ({
  cluster,
  node,
  shard: '0',
  maxWatchesShare: share,
  maxInstancesShare: share / 2,
  leaked,
  gonePods: leaked > 0 ? 1 : 0,
  failures,
  lastScrapeAt: AT,
});

const fleetOf = (rows: NodeRow[]): Fleet => ({
  rows: rows.slice().sort(compareNodes),
  clusters: summarize(rows),
  mode: 'rules',
  at: AT,
  shardGroups: 1,
  complete: true,
  nodes: rows.length,
});
const rows = [row('node-a', 0.2), row('node-b', 0.9, 40), row('node-c', 0.5)];
const names = (state: FleetState) => state.visible.map((r) => r.node);

function press(state: FleetState, ...keys: string[]): FleetState {
  for (const key of keys) {
    const action = actionForFleetKey(state, key, key.length === 1 ? key : undefined);
    if (action) state = reduceFleet(state, action);
  }
  return state;
}

test('sorted by the highest watch share; > and < change the column, I inverts; ties in node order by code unit', () => {
  let state = reduceFleet(initialFleetState('watches', null), { type: 'nodes', fleet: fleetOf(rows) });
  assert.deepEqual(names(state), ['node-b', 'node-c', 'node-a']);
  state = press(state, '>', '>');
  assert.equal(state.sort, 'leaked');
  assert.deepEqual(names(state), ['node-b', 'node-a', 'node-c'], 'node-a and node-c tie at 0 leaked: node order');
  state = press(state, '<', '<', '<');
  assert.equal(state.sort, 'node');
  assert.deepEqual(names(state), ['node-a', 'node-b', 'node-c']);
  assert.deepEqual(names(press(state, 'S-i')), ['node-c', 'node-b', 'node-a']);
  // Code units, not the locale: upper case before lower, 'Z' before 'a'.
  const mixed = reduceFleet(initialFleetState('node', null), { type: 'nodes', fleet: fleetOf([row('a', 0), row('Z', 0), row('B', 0)]) });
  assert.deepEqual(names(mixed), ['B', 'Z', 'a']);
});

test('node names in code-unit order (uppercase first, then ASCII, then the rest), not the locale collation', () => {
  const ordered = fleetOf(['node-ä', 'node-b', 'Node-c', 'node-a'].map((name) => row(name, 0.5))).rows;
  assert.deepEqual(
    sortRows(ordered, 'node', false).map((r) => r.node),
    ['Node-c', 'node-a', 'node-b', 'node-ä'],
  );
  // Ties on a count fall back to the same order.
  assert.deepEqual(
    sortRows(ordered, 'watches', false).map((r) => r.node),
    ['Node-c', 'node-a', 'node-b', 'node-ä'],
  );
});

test('keys that move do not sort or filter again: the sorted rows are the same array', () => {
  const many = Array.from({ length: 500 }, (_, i) => row(`node-${String(i).padStart(3, '0')}`, (i % 17) / 17));
  let state = reduceFleet(initialFleetState('watches', null, 10), { type: 'nodes', fleet: fleetOf(many) });
  const sorted = state.sorted;
  const visible = state.visible;
  state = press(state, 'down', 'down', 'pagedown', 'end', 'up', 'home', '?', '?');
  assert.equal(state.sorted, sorted);
  assert.equal(state.visible, visible);
  state = press(state, '>');
  assert.notEqual(state.sorted, sorted, 'a change of sort sorts');
});

test('the table scrolls: the selection stays in a window of pageRows rows, End and Enter reach the last node', () => {
  const many = Array.from({ length: 100 }, (_, i) => row(`node-${String(i).padStart(3, '0')}`, 0));
  let state = reduceFleet(initialFleetState('node', null, 10), { type: 'nodes', fleet: fleetOf(many) });
  state = press(state, ...Array<string>(15).fill('j'));
  assert.deepEqual([state.selected, state.top], [15, 6]);
  assert.deepEqual(
    shownRows(state).map((r) => r.node),
    many.slice(6, 16).map((r) => r.node),
  );
  state = press(state, 'S-g');
  assert.deepEqual([state.selected, state.top, selectedNode(state)?.node], [99, 90, 'node-099']);
  state = press(state, 'pageup');
  assert.deepEqual([state.selected, state.top], [89, 89]);
  state = press(state, 'g');
  assert.deepEqual([state.selected, state.top], [0, 0]);
  state = press(state, 'end', 'enter');
  assert.equal(state.open?.node, 'node-099');
  // The window shrinks with the terminal: the selection stays in it.
  state = press(state, 'escape');
  state = reduceFleet(state, { type: 'resize', pageRows: 4 });
  assert.deepEqual([state.selected, state.top], [99, 96]);
  const painter = new Painter(false);
  const lines = tableLines(state, 100, painter);
  assert.equal(lines.length, 1 + 4, 'the title and the window: no cells for the rest');
  assert.match(lines.at(-1)!, /node-099/);
});

test('the filter applies as one types, narrows what it kept while the text only grows, and Esc clears it', () => {
  const many = ['web-1', 'web-2', 'db-1', 'db-2', 'cache-1'].map((n, i) => row(n, i / 10));
  let state = reduceFleet(initialFleetState('node', null), { type: 'nodes', fleet: fleetOf(many) });
  state = press(state, '/', 'w');
  assert.equal(state.prompt, 'w');
  assert.deepEqual(names(state), ['web-1', 'web-2']);
  state = press(state, 'e', 'b', '-', '2');
  assert.deepEqual(names(state), ['web-2']);
  state = press(state, 'backspace', 'backspace', 'backspace', 'backspace');
  assert.deepEqual(names(state), ['web-1', 'web-2']);
  // A regex that widens as it grows is filtered from every row again.
  state = press(state, '|', 'd');
  assert.deepEqual(names(state), ['db-1', 'db-2', 'web-1', 'web-2']);
  // `[` alone is no regex: taken as text.
  state = press(state, 'escape', '/', '[');
  assert.deepEqual(names(state), []);
  state = press(state, 'backspace', 'c', 'enter');
  assert.equal(state.prompt, null);
  assert.deepEqual(names(state), ['cache-1']);
  assert.match(headerLines(state, 'http://p', 120, new Painter(false))[1]!, /filter \/c\/: 1 of 5/);
  state = press(state, 'escape');
  assert.equal(state.filter, null);
  assert.equal(state.visible.length, 5);
  // A filter that drops the selected node starts at its first row, not at the old index.
  state = press(state, 'end');
  assert.equal(selectedNode(state)!.node, 'web-2');
  state = press(state, '/', 'd', 'b');
  assert.deepEqual([state.selected, state.top, selectedNode(state)!.node], [0, 0, 'db-1']);
  state = press(state, 'escape', 'escape');
  assert.equal(press(state, 'q').quit, true);
  assert.equal(press(state, 'C-c').quit, true);
});

test('the selection stays on its node across reads; Enter opens it, its detail scrolls, gone pods first', () => {
  let state = reduceFleet(initialFleetState('watches', null, 5), { type: 'nodes', fleet: fleetOf(rows) });
  state = press(state, 'down');
  assert.equal(selectedNode(state)!.node, 'node-c');
  state = reduceFleet(state, { type: 'nodes', fleet: fleetOf([row('node-a', 0.95), rows[1]!, rows[2]!]) });
  assert.equal(selectedNode(state)!.node, 'node-c', 'node-a moved to the top; the selection did not follow the index');
  state = press(state, 'up', 'enter');
  assert.deepEqual([state.open?.cluster, state.open?.node, state.open?.detail], ['', 'node-b', null]);
  const sample = (labels: Record<string, string>, value: number): Sample => ({ labels, value });
  const leaks = [
    sample({ pod_namespace: 'ci', pod_name: 'runner-1', pod_uid: 'u1', form: 'unmounted' }, 45),
    sample({ pod_namespace: 'ci', pod_name: 'runner-1', pod_uid: 'u1', form: 'gone' }, 2),
    sample({ pod_namespace: '', pod_name: '', pod_uid: '', form: 'deleted' }, 90),
    sample({ pod_namespace: '', pod_name: OTHER, pod_uid: '', form: 'gone' }, 202),
  ];
  const processes = [sample({ comm: 'kubelet', pod_namespace: '', pod_name: '' }, 7491), sample({ comm: OTHER, pod_namespace: '', pod_name: '' }, 3)];
  const detail = nodeDetail('', 'node-b', { watches: processes, instances: [], leaked: [], leaks, gone: [sample({}, 104)] });
  assert.deepEqual(
    detail.pods.map((p) => [p.pod, p.gone, p.watches]),
    [
      ['ci/runner-1', true, 47],
      ['', false, 90],
    ],
    'the gone pod before the bigger deleted leak',
  );
  state = reduceFleet(state, { type: 'detail', detail });
  const all = state.open!.lines;
  assert.match(all.join('\n'), /Gone pods still watched: 104 \(1 listed/);
  assert.ok(all.findIndex((l) => l.includes('ci/runner-1')) < all.findIndex((l) => l.includes('(no pod)')), 'gone pods come first');
  assert.match(all.join('\n'), /gone 202/);
  const painter = new Painter(false);
  const first = detailLines(state, 100, painter);
  assert.equal(first.length, 1 + 5);
  assert.match(first[0]!, /lines 1–5 of \d+/);
  state = press(state, 'pagedown', 'j');
  assert.equal(state.open!.top, Math.min(6, all.length - 5));
  state = press(state, 'end');
  assert.equal(state.open!.top, all.length - 5);
  assert.match(detailLines(state, 100, painter).at(-1)!, new RegExp(all.at(-1)!.trim().slice(0, 10)));
  state = press(state, 'escape');
  assert.equal(state.open, null);
});

test('names from Prometheus reach the screen visible: escapes shown, braces not tags, columns aligned', () => {
  const hostile = [row('\x1b]0;pwned\x07', 0.5), row('{red-fg}x{/red-fg}', 0.4), row('\x1b[31mred', 0.3, 5), row('ノード', 0.2)];
  const state = reduceFleet(initialFleetState('watches', null), { type: 'nodes', fleet: fleetOf(hostile) });
  const painter = new Painter(false);
  const lines = tableLines(state, 100, painter);
  const text = lines.join('\n');
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(text), JSON.stringify(text));
  assert.ok(text.includes('\\x1b]0;pwned\\x07') && text.includes('{open}red-fg{close}x') && text.includes('\\x1b[31mred'));
  // Every row's WATCHES% ends at the same column (blessed tags and escapes aside).
  const plain = lines.slice(1).map((line) =>
    line
      .replace(/\{\/?(?:inverse|bold|underline)\}/g, '')
      .replace(/\{open\}/g, '{')
      .replace(/\{close\}/g, '}'),
  );
  const ends = plain.map((line) => line.replace(/ノ|ー|ド/g, 'xx').search(/\d+% /) + /\d+% /.exec(line)![0].length);
  assert.equal(new Set(ends).size, 1, plain.join('\n'));
  const batch = fleetTable(state.visible, AT).join('\n');
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(batch), JSON.stringify(batch));
});

test('columns: FAILURES only when a node has failed scans, CLUSTER only with two clusters; a share under the limit is never 100%', () => {
  assert.doesNotMatch(fleetTable(rows, AT + 5000)[0]!, /FAILURES|CLUSTER/);
  const failing = fleetTable([...rows, row('node-d', 0.1, 0, 3)], AT + 5000);
  assert.match(failing[0]!, /FAILURES/);
  assert.match(failing.at(-1)!, /^node-d .* 3 +5s ago$/);
  const twoClusters = fleetTable([row('n1', 0.1, 0, 0, 'eu'), row('n1', 0.2, 7, 0, 'us')], AT);
  assert.match(twoClusters[0]!, /^CLUSTER +NODE/);
  assert.match(twoClusters[2]!, /^us +n1 +20% .* 7 /);
  assert.deepEqual([shareText(0.996), shareText(1), shareText(0.004), shareText(0), shareText(null)], ['99%', '100%', '<1%', '0%', '-']);
});

test('200,000 rows: the columns come from a loop, not a spread into Math.max (RangeError at about 125,000)', () => {
  const huge = Array.from({ length: 200_000 }, (_, i) => row(`node-${i}`, 0));
  const shape = fleetShape(huge);
  assert.equal(shape.nodeWidth, 'node-199999'.length);
  assert.equal(fleetColumns(shape)[0]!.width, 'node-199999'.length);
});

test('the footer: the key table, Quit always; while typing, the filter', () => {
  const painter = new Painter(false);
  const state = initialFleetState('watches', null);
  assert.match(footerLine(state, 200, painter), /F1.*Help.*F10.*Quit/);
  assert.match(footerLine(state, 12, painter), /F10.*Quit/);
  assert.match(footerLine(press(state, '/', 'x'), 100, painter), /Filter nodes: x_/);
});

test('the refresher: a read never overlaps another; r during a read reads once more after it', async () => {
  let running = 0;
  let most = 0;
  let reads = 0;
  let release: () => void = () => undefined;
  const refresher = new Refresher(async () => {
    running++;
    reads++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => (release = resolve));
    running--;
    return false;
  }, 60_000);
  refresher.start();
  refresher.now();
  refresher.now();
  refresher.now();
  assert.equal(reads, 1);
  release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reads, 2, 'the presses during the read made one more read');
  release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reads, 2, 'then the interval');
  refresher.stop();
  assert.equal(most, 1);
});

test('the refresher: while a read says there is more to read, the next comes at once; then the interval', async () => {
  let reads = 0;
  const refresher = new Refresher(async () => ++reads < 4, 60_000);
  refresher.start();
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reads, 4, 'three reads with more to read, then the one that completed the fleet');
  refresher.stop();
});

test('the header while the groups are read: the nodes read of all there are; then all of them', () => {
  const rows = [row('node-a', 0.5), row('node-b', 0.1)];
  const partial = reduceFleet(initialFleetState('watches', null), {
    type: 'nodes',
    fleet: { ...fleetOf(rows), complete: false, nodes: 100_000, shardGroups: 16 },
  });
  assert.match(headerLines(partial, 'http://p', 160, new Painter(false))[0]!, /· 2 read of 100,000 nodes ·/);
  const whole = reduceFleet(partial, { type: 'nodes', fleet: fleetOf(rows) });
  assert.match(headerLines(whole, 'http://p', 160, new Painter(false))[0]!, /· 2 nodes ·/);
});

test('sortRows: the order of a stable comparator sort, biggest first, ties in node order, unknown shares last, for every field and inverted', () => {
  // Few distinct values, so that most rows tie, as most nodes of a fleet do at 0.
  const many = Array.from({ length: 2000 }, (_, i) => ({
    ...row(`node-${String(i).padStart(4, '0')}`, (i * 7) % 5 === 0 ? 0 : ((i * 13) % 11) / 10, (i * 31) % 4 === 0 ? (i % 3) * 100 : 0, i % 9 === 0 ? 1 : 0),
    maxInstancesShare: i % 17 === 0 ? null : ((i * 3) % 7) / 10,
    lastScrapeAt: AT - ((i * 11) % 13) * 1000,
  })).sort(compareNodes);
  const keys: Record<Exclude<FleetSortField, 'node'>, (r: NodeRow) => number> = {
    watches: (r) => r.maxWatchesShare ?? -1,
    instances: (r) => r.maxInstancesShare ?? -1,
    leaked: (r) => r.leaked,
    gone: (r) => r.gonePods,
    failures: (r) => r.failures,
    scrape: (r) => -r.lastScrapeAt,
  };
  for (const [field, key] of Object.entries(keys) as [Exclude<FleetSortField, 'node'>, (r: NodeRow) => number][]) {
    const reference = many.slice().sort((a, b) => key(b) - key(a));
    assert.deepEqual(sortRows(many, field, false), reference, field);
    assert.deepEqual(sortRows(many, field, true), reference.reverse(), `${field} inverted`);
  }
});

test('--json in pieces: together the text of the whole (jsonText, indented 2), with no node and with thousands', () => {
  const whole = (fleet: Fleet, rows: readonly NodeRow[]) =>
    jsonText(
      {
        queries: fleet.mode,
        clusters: fleet.clusters.map((c) => ({ ...c, cluster: c.cluster === '' ? null : c.cluster })),
        nodes: rows.map((r) => ({
          cluster: r.cluster === '' ? null : r.cluster,
          node: r.node,
          maxWatchesShare: r.maxWatchesShare,
          maxInstancesShare: r.maxInstancesShare,
          leaked: r.leaked,
          gonePods: r.gonePods,
          failures: r.failures,
          lastScrapeAt: new Date(r.lastScrapeAt).toISOString(),
        })),
      },
      2,
    ) + '\n';
  const many = Array.from({ length: 2500 }, (_, i) => row(i % 7 === 0 ? `node-${i}\u2028\x1b[31m"{x}"` : `node-${i}`, i / 2500, i % 3, 0, i % 2 ? 'eu' : ''));
  for (const rows of [[], many.slice(0, 1), many]) {
    const fleet = fleetOf(rows);
    const pieces = [...fleetJson(fleet, fleet.rows)];
    assert.equal(pieces.join(''), whole(fleet, fleet.rows), `${rows.length} nodes`);
    assert.equal(JSON.parse(pieces.join('')).nodes.length, rows.length);
  }
});
