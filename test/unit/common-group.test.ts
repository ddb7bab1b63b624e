// EqualGroups and mergeGrouped: exact groups under a total order with as few comparisons as a
// merge sort makes (each one a kcmp system call in the scan), in one list or in two merged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EqualGroups, mergeGrouped } from '../../src/common/group.js';

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

function grouped<T>(items: readonly T[], compare: (a: T, b: T) => number): T[][] {
  const groups = new EqualGroups(compare);
  for (const item of items) groups.add(item);
  return groups.groups;
}

test('EqualGroups gives each set of equal items as one group, ascending, members in the order added', () => {
  const items = [5, 1, 5, 3, 1, 5, 2].map((key, id) => ({ id, key }));
  assert.deepEqual(
    grouped(items, (a, b) => a.key - b.key).map((group) => group.map((item) => item.id)),
    [[1, 4], [6], [3], [0, 2, 5]],
  );
  assert.deepEqual(
    grouped([], () => 0),
    [],
  );
  assert.deepEqual(
    grouped([{ id: 0 }], () => assert.fail('one item needs no comparison')),
    [[{ id: 0 }]],
  );
});

test('EqualGroups makes no more comparisons than a merge sort: n·log2(n) for n items, one each where all are equal', () => {
  for (const [n, key, most] of [
    [1000, (i: number) => i, 1000 * Math.ceil(Math.log2(1000))], // all distinct: the bench's 1,000 instances with the same watches
    [1000, (i: number) => i % 10, 1000 * (Math.ceil(Math.log2(10)) + 1)], // ten instances, each held by 100 fds
    [1000, () => 0, 999], // one instance held by every fd
  ] as const) {
    const counted = scrambled(n, key);
    const groups = grouped(counted.items, counted.compare);
    assert.equal(groups.length, new Set(counted.items.map((item) => item.key)).size);
    for (const group of groups) assert.ok(group.every((item) => item.key === group[0]!.key));
    const keys = groups.map((group) => group[0]!.key);
    assert.deepEqual(
      keys,
      [...keys].sort((a, b) => a - b),
    );
    assert.ok(counted.calls() <= most, `${counted.calls()} comparisons for ${n} items`);
  }
});

test('mergeGrouped joins lists grouped apart (two threads of a scan) as one list grouped whole, with fewer comparisons than groups', () => {
  const counted = scrambled(1000, (i) => i % 300);
  const compare = (a: { key: number }, b: { key: number }) => a.key - b.key;
  const lists = [grouped(counted.items.slice(0, 700), compare), grouped(counted.items.slice(700), compare)];
  const before = counted.calls();
  const merged = mergeGrouped(lists, counted.compare);
  assert.ok(counted.calls() - before < lists[0]!.length + lists[1]!.length, `${counted.calls() - before} comparisons to merge`);
  assert.deepEqual(
    merged.map((group) => group.map((item) => item.id)),
    grouped(counted.items, compare).map((group) => group.map((item) => item.id)),
    "the groups and their members as one list makes them, the first list's members first",
  );
  assert.deepEqual(mergeGrouped([], compare), []);
});
