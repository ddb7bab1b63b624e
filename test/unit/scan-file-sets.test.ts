// runsOfListing (src/sys/filesets.ts): the files a scan's FileSet holds more than once, from its
// listing as the kernel prints it (by file, then by the fd number each add was under). Every
// file's first add is under the slot (5 here); a file added before went in once more under a
// free number above it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runsOfListing, type ListedAdd } from '../../src/sys/filesets.js';

const SLOT = 5;

/** The listing of these adds, [number added under, "pid:fd", group?], already in the kernel's order. */
function listing(adds: [number, string, boolean?][]): ListedAdd[] {
  return adds.map(([fd, id, group = false]) => {
    const [pid, heldFd] = id.split(':').map(Number);
    return { fd, held: { pid: pid!, fd: heldFd!, group } };
  });
}

const ids = (runs: ReturnType<typeof runsOfListing>) => runs.map((run) => run.map(({ pid, fd }) => `${pid}:${fd}`));

test('a file added again (under a number above the slot) is one run with its first add; files added once are none', () => {
  const runs = runsOfListing(
    listing([
      [SLOT, '10:3'],
      [6, '11:3'],
      [7, '12:4'],
      [SLOT, '13:3'],
      [SLOT, '14:3'],
      [6, '15:3'],
      [SLOT, '16:3'],
    ]),
    SLOT,
  );
  assert.deepEqual(ids(runs), [
    ['10:3', '11:3', '12:4'],
    ['14:3', '15:3'],
  ]);
});

test('a fanotify group keeps its kind; an add that does not climb above the one before begins another file', () => {
  const runs = runsOfListing(
    listing([
      [SLOT, '30:7', true],
      [6, '40:7', true],
      [6, '41:7', true],
      [7, '42:7', true],
    ]),
    SLOT,
  );
  assert.deepEqual(
    runs.map((run) => run.map(({ group }) => group)),
    [
      [true, true],
      [true, true],
    ],
  );
  assert.deepEqual(ids(runs), [
    ['30:7', '40:7'],
    ['41:7', '42:7'],
  ]);
});
