// mergeOrders (src/scan/scanner.ts): the two threads' kcmp orders of a one-shot scan, merged key by
// key into the runs of ids that are one file, with a comparator standing in for kcmp: each fd
// ("pid:fd") names a file by a number, the kernel's order of the files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeOrders } from '../../src/scan/scanner.js';
import type { SharedOrder } from '../../src/scan/second-thread.js';
import { KcmpError } from '../../src/sys/kcmp.js';

/** A comparator over the files `fileOf` names; an fd it does not know is a holder gone meanwhile (KcmpError), as kcmp says. */
function comparator(fileOf: Record<string, number>, calls: { count: number }) {
  return (pid1: number, fd1: number, pid2: number, fd2: number): number => {
    calls.count++;
    const a = fileOf[`${pid1}:${fd1}`];
    const b = fileOf[`${pid2}:${fd2}`];
    if (a === undefined || b === undefined) throw new KcmpError(3);
    return a - b;
  };
}

/** An order as a thread makes it (EqualGroups by the same files): each key's groups ascending. */
function orderOf(fileOf: Record<string, number>, byKey: Record<string, string[]>, groups: Record<string, string[]> = {}): SharedOrder {
  const grouped = (ids: string[]) => {
    const files = [...new Set(ids.map((id) => fileOf[id]!))].sort((a, b) => a - b);
    return files.map((file) => ids.filter((id) => fileOf[id] === file));
  };
  return {
    instances: new Map(Object.entries(byKey).map(([key, ids]) => [key, grouped(ids)])),
    groups: new Map(Object.entries(groups).map(([key, ids]) => [key, grouped(ids)])),
  };
}

test('files held on both threads, or twice on one, come out as runs; files held once do not', () => {
  // File 1 is held by 10:3 (main thread) and 20:4 (worker); file 2 twice on the worker; file 7 by a fanotify group on each.
  const fileOf = { '10:3': 1, '11:3': 5, '12:3': 9, '20:4': 1, '21:3': 2, '22:3': 2, '23:3': 6, '30:5': 7, '40:5': 7 };
  const calls = { count: 0 };
  const main = orderOf(fileOf, { a: ['10:3', '11:3', '12:3'] }, { g: ['30:5'] });
  const worker = orderOf(fileOf, { a: ['20:4', '21:3', '22:3', '23:3'] }, { g: ['40:5'] });
  const runs = mergeOrders(comparator(fileOf, calls), [main, worker]);
  assert.deepEqual(
    runs.instances.map((run) => [...run].sort()),
    [
      ['10:3', '20:4'],
      ['21:3', '22:3'],
    ],
  );
  assert.deepEqual(runs.groups, [['30:5', '40:5']]);
  // A merge: fewer calls than the groups on both sides.
  assert.ok(calls.count > 0 && calls.count < 7 + 2, `${calls.count} calls`);
});

test('lists of different keys are never compared; a key on one thread only needs no call', () => {
  const fileOf = { '10:3': 1, '20:3': 1, '30:3': 2 };
  const calls = { count: 0 };
  const runs = mergeOrders(comparator(fileOf, calls), [orderOf(fileOf, { a: ['10:3'] }), orderOf(fileOf, { b: ['20:3'], c: ['30:3'] })]);
  assert.deepEqual(runs, { instances: [], groups: [] });
  assert.equal(calls.count, 0);
});

test("a missing thread's order (null) merges the other alone; a holder gone meanwhile is a file of its own", () => {
  const fileOf = { '10:3': 1, '11:3': 1 };
  const calls = { count: 0 };
  const alone = mergeOrders(comparator(fileOf, calls), [null, orderOf(fileOf, { a: ['10:3', '11:3'] })]);
  assert.deepEqual(alone.instances, [['10:3', '11:3']]);
  assert.equal(calls.count, 0);
  // 12:3 vanished before the merge: kcmp cannot compare it, and it joins no run.
  const gone = mergeOrders(comparator(fileOf, calls), [
    { instances: new Map([['a', [['12:3']]]]), groups: new Map() },
    orderOf(fileOf, { a: ['10:3', '11:3'] }),
  ]);
  assert.deepEqual(gone.instances, [['10:3', '11:3']]);
});

test("a process whose fds another of its threads holds (its main thread exited): kcmp is asked by that thread, whichever thread's order names it", () => {
  // Process 10's fds are its thread 11's (kcmp by pid 10 fails: its fd table is gone); 10:3 and 20:4 are one file.
  const fileOf = { '11:3': 1, '11:4': 2, '20:4': 1, '21:3': 2 };
  for (const [withThread, other] of [
    [0, 1],
    [1, 0],
  ] as const) {
    const calls = { count: 0 };
    const orders = [orderOf(fileOf, { a: ['20:4'], b: ['21:3'] }), orderOf(fileOf, { a: ['10:3'], b: ['10:4'] })];
    // The ids stay the process's ("10:3"); the order says which thread names its fds.
    const own = { instances: orders[1]!.instances, groups: orders[1]!.groups, threads: new Map([[10, 11]]) };
    const runs = mergeOrders(comparator(fileOf, calls), withThread === 0 ? [own, orders[0]!] : [orders[0]!, own]);
    assert.deepEqual(
      runs.instances.map((run) => [...run].sort()).sort(),
      [
        ['10:3', '20:4'],
        ['10:4', '21:3'],
      ],
      `its order ${withThread}, the other's ${other}`,
    );
  }
  // Without it, kcmp by the pid fails: the files are taken as distinct.
  const alone = mergeOrders(comparator(fileOf, { count: 0 }), [orderOf(fileOf, { a: ['20:4'] }), orderOf(fileOf, { a: ['10:3'] })]);
  assert.deepEqual(alone.instances, []);
});
