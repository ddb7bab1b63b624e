// runsOfListing (src/scan/scanner.ts): the runs of ids that are one file, from a FileSet's listing
// as the kernel prints it (by file, then by the fd number each was added under), with a comparator
// standing in for kcmp: each fd ("pid:fd") names a file by a number. Two threads' slots are 5 and
// 9; a number above a thread's slot is a file that thread added before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runsOfListing } from '../../src/scan/scanner.js';
import type { ListedAdd } from '../../src/sys/filesets.js';
import { KcmpError } from '../../src/sys/kcmp.js';

/** A comparator over the files `fileOf` names, counting its calls; an fd it does not know is a holder gone meanwhile (KcmpError), as kcmp says. */
function comparator(fileOf: Record<string, number>, calls: { count: number }) {
  return (pid1: number, fd1: number, pid2: number, fd2: number): number => {
    calls.count++;
    const a = fileOf[`${pid1}:${fd1}`];
    const b = fileOf[`${pid2}:${fd2}`];
    if (a === undefined || b === undefined) throw new KcmpError(3);
    return a - b;
  };
}

/** The listing of these adds, [number added under, "pid:fd", group?], already in the kernel's order. */
function listing(adds: [number, string, boolean?][]): ListedAdd[] {
  return adds.map(([fd, id, group = false]) => {
    const [pid, heldFd] = id.split(':').map(Number);
    return { fd, held: { pid: pid!, fd: heldFd!, group } };
  });
}

const SLOTS = new Set([5, 9]);

test("one thread's adds: a file added again (under a number above its slot) joins its run; no kcmp", () => {
  const calls = { count: 0 };
  const runs = runsOfListing(
    listing([
      [5, '10:3'],
      [6, '11:3'],
      [7, '12:4'],
      [5, '13:3'],
      [5, '14:3'],
      [6, '15:3'],
    ]),
    new Set([5]),
    comparator({}, calls),
  );
  assert.deepEqual(runs, {
    instances: [
      ['10:3', '11:3', '12:4'],
      ['14:3', '15:3'],
    ],
    groups: [],
  });
  assert.equal(calls.count, 0);
});

test("two threads: the higher slot's first add after the lower slot's is asked of kcmp, a lower or taken slot begins the next file", () => {
  // File 1 held by 10:3 (slot 5) and 20:3 (slot 9); file 2 by 21:3 alone; file 3 by 11:3 and 12:3
  // (slot 5, then 6) and 22:3 (slot 9); file 4 by 23:3 (slot 9) then 13:3 (slot 5: lower, a new file).
  const fileOf = { '10:3': 1, '20:3': 1, '21:3': 2, '11:3': 3, '12:3': 3, '22:3': 3, '23:3': 4, '13:3': 5 };
  const calls = { count: 0 };
  const runs = runsOfListing(
    listing([
      [5, '10:3'],
      [9, '20:3'],
      [9, '21:3'],
      [5, '11:3'],
      [6, '12:3'],
      [9, '22:3'],
      [9, '23:3'],
      [5, '13:3'],
    ]),
    SLOTS,
    comparator(fileOf, calls),
  );
  assert.deepEqual(runs.instances, [
    ['10:3', '20:3'],
    ['11:3', '12:3', '22:3'],
  ]);
  // 20:3 after 10:3, 22:3 after 12:3: the only adds that could be either.
  assert.equal(calls.count, 2);
});

test('a file that kcmp cannot compare (its holder gone) is a file of its own; groups come apart from instances', () => {
  const fileOf = { '10:3': 1, '30:7': 2, '40:7': 2 };
  const runs = runsOfListing(
    listing([
      [5, '10:3'],
      [9, '99:3'],
      [5, '30:7', true],
      [9, '40:7', true],
    ]),
    SLOTS,
    comparator(fileOf, { count: 0 }),
  );
  assert.deepEqual(runs, { instances: [], groups: [['30:7', '40:7']] });
});
