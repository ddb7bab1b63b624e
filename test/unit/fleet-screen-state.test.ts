// The fleet screen's reducer and key table (pure): sorting, filtering, the selection following its
// node, Enter opening a node and Esc going back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleetTable, sortNodes, type NodeRow } from '../../src/fleet/nodes.js';
import { actionForFleetKey, initialFleetState, reduceFleet, selectedNode, visibleNodes, type FleetState } from '../../src/fleet/screen-state.js';

const row = (node: string, share: number, leaked = 0, failures = 0): NodeRow => ({
  node,
  maxWatchesShare: share,
  maxInstancesShare: share / 2,
  leaked,
  gonePods: leaked > 0 ? 1 : 0,
  failures,
  lastScrapeAt: '2026-11-27T10:00:00.000Z',
});
const rows = [row('node-a', 0.2), row('node-b', 0.9, 40), row('node-c', 0.5)];

function press(state: FleetState, ...keys: string[]): FleetState {
  for (const key of keys) {
    const action = actionForFleetKey(state, key, key.length === 1 ? key : undefined);
    if (action) state = reduceFleet(state, action);
  }
  return state;
}

test('sorted by the highest watch share; > and < change the column, I inverts', () => {
  let state = reduceFleet(initialFleetState('watches', null), { type: 'nodes', rows, at: 0 });
  assert.deepEqual(
    visibleNodes(state).map((r) => r.node),
    ['node-b', 'node-c', 'node-a'],
  );
  state = press(state, '>', '>');
  assert.equal(state.sort, 'leaked');
  assert.equal(visibleNodes(state)[0]!.node, 'node-b');
  state = press(state, '<', '<', '<');
  assert.equal(state.sort, 'node');
  assert.deepEqual(
    visibleNodes(state).map((r) => r.node),
    ['node-a', 'node-b', 'node-c'],
  );
  assert.deepEqual(
    visibleNodes(press(state, 'S-i')).map((r) => r.node),
    ['node-c', 'node-b', 'node-a'],
  );
});

test('the selection stays on its node across refreshes; / filters; Enter opens, Esc goes back', () => {
  let state = reduceFleet(initialFleetState('watches', null), { type: 'nodes', rows, at: 0 });
  state = press(state, 'down');
  assert.equal(selectedNode(state)!.node, 'node-c');
  state = reduceFleet(state, { type: 'nodes', rows: [row('node-a', 0.95), rows[1]!, rows[2]!], at: 1 });
  assert.equal(selectedNode(state)!.node, 'node-c', 'node-a moved to the top; the selection did not follow the index');
  state = press(state, '/', 'b', 'enter');
  assert.deepEqual(
    visibleNodes(state).map((r) => r.node),
    ['node-b'],
  );
  state = press(state, 'enter');
  assert.deepEqual(state.open, { node: 'node-b', detail: null, error: null });
  state = reduceFleet(state, { type: 'detail', detail: { node: 'node-b', processes: [], leaks: [] } });
  assert.deepEqual(state.open?.detail, { node: 'node-b', processes: [], leaks: [] });
  state = press(state, 'escape');
  assert.equal(state.open, null);
  state = press(state, 'escape');
  assert.equal(state.filter, null);
  assert.equal(press(state, 'q').quit, true);
  assert.equal(press(state, 'C-c').quit, true);
});

test('the table shows FAILURES only when a node has failures', () => {
  assert.doesNotMatch(fleetTable(rows, Date.parse('2026-11-27T10:00:05Z'))[0]!, /FAILURES/);
  const failing = fleetTable([...rows, row('node-d', 0.1, 0, 3)], Date.parse('2026-11-27T10:00:05Z'));
  assert.match(failing[0]!, /FAILURES/);
  assert.match(failing.at(-1)!, /^node-d .* 3 +5s ago$/);
});

test('node names in code-unit order (uppercase first, then ASCII, then the rest), not the locale collation', () => {
  const names = ['node-ä', 'node-b', 'Node-c', 'node-a'].map((name) => row(name, 0.5));
  assert.deepEqual(
    sortNodes(names, 'node').map((r) => r.node),
    ['Node-c', 'node-a', 'node-b', 'node-ä'],
  );
  // Ties on a count fall back to the same order.
  assert.deepEqual(
    sortNodes(names, 'watches').map((r) => r.node),
    ['Node-c', 'node-a', 'node-b', 'node-ä'],
  );
});
