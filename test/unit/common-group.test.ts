// groupEqual: exact groups under a total order with as few comparisons as a merge sort makes
// (each one a kcmp system call in the scan).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupEqual } from '../../src/common/group.js';

/** `n` items in a scrambled order, `key` telling which are equal; the comparisons made are counted. */
function scrambled(
  n: number,
  key: (i: number) => number,
): { items: { id: number; key: number }[]; compare: (a: { key: number }, b: { key: number }) => number; calls: () => number } {
  const items = Array.from({ length: n }, (_, i) => ({ id: i, key: key((i * 7919) % n) }));
  let calls = 0;
  return {
    items,
    compare: (a, b) => {
      calls++;
      return a.key - b.key;
    },
    calls: () => calls,
  };
}

test('groupEqual gives each set of equal items as one group, ascending, members in input order', () => {
  const items = [5, 1, 5, 3, 1, 5, 2].map((key, id) => ({ id, key }));
  const groups = groupEqual(items, (a, b) => a.key - b.key);
  assert.deepEqual(
    groups.map((group) => group.map((item) => item.id)),
    [[1, 4], [6], [3], [0, 2, 5]],
  );
  assert.deepEqual(
    groupEqual([], () => 0),
    [],
  );
  assert.deepEqual(
    groupEqual([{ id: 0 }], () => assert.fail('one item needs no comparison')),
    [[{ id: 0 }]],
  );
});

test('groupEqual makes fewer comparisons than a sort and a pass over its result', () => {
  for (const [n, key] of [
    [1000, (i: number) => i], // all distinct: the bench's 1,000 instances with the same watches
    [1000, (i: number) => i % 10], // ten instances, each held by 100 fds
    [1000, () => 0], // one instance held by every fd
  ] as const) {
    const grouped = scrambled(n, key);
    const groups = groupEqual(grouped.items, grouped.compare);
    assert.equal(groups.length, new Set(grouped.items.map((item) => item.key)).size);
    for (const group of groups) assert.ok(group.every((item) => item.key === group[0]!.key));
    const sorted = scrambled(n, key);
    const order = [...sorted.items].sort(sorted.compare);
    for (let i = 1; i < order.length; i++) sorted.compare(order[i - 1]!, order[i]!);
    assert.ok(grouped.calls() < sorted.calls(), `${grouped.calls()} comparisons, ${sorted.calls()} by sort and pass`);
    assert.ok(grouped.calls() <= n * Math.ceil(Math.log2(n)), `${grouped.calls()} comparisons for ${n} items`);
  }
});
