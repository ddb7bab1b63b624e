// What a scan could not read: counted by cause, said per cause, and past a twentieth of the
// processes listed the scan is incomplete ("cannot tell").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Misses, UNREADABLE_SHARE } from '../../src/scan/coverage.js';
import { scanNoteText } from '../../src/views/notes.js';

test('misses by cause; complete up to a twentieth of the processes, incomplete past it or past the deadline', () => {
  const misses = new Misses();
  assert.deepEqual(misses.coverage(100, 0), { complete: true, reason: null, unreadable: {} });
  misses.add('EACCES', 1);
  misses.add('ENOMEM', 42, 'fdinfo 7');
  misses.add('ENOMEM', 42, 'fdinfo 8');
  assert.equal(misses.size, 2, 'a process counts once however many of its fds were missed');
  assert.deepEqual(misses.coverage(100, 0), { complete: true, reason: null, unreadable: { EACCES: 1, ENOMEM: 1 } });
  assert.equal(UNREADABLE_SHARE, 1 / 20);
  for (let pid = 100; pid < 103; pid++) misses.add('EIO', pid);
  assert.equal(misses.coverage(100, 0).complete, true, '5 of 100: at the share, not past it');
  misses.add('EIO', 103);
  assert.deepEqual(misses.coverage(100, 0), {
    complete: false,
    reason: '6 of 100 processes not read (EACCES 1, EIO 4, ENOMEM 1)',
    unreadable: { EACCES: 1, EIO: 4, ENOMEM: 1 },
  });
  assert.equal(new Misses().coverage(100, 1).complete, false, 'a process left for the deadline');
});

test('notes: one per cause, with the pids and what of them was missed; pids said already are left out', () => {
  const misses = new Misses();
  misses.add('EACCES', 1);
  misses.add('ENOMEM', 42, 'fdinfo 7');
  for (let pid = 200; pid < 207; pid++) misses.add('EIO', pid);
  const notes = misses.notes(new Set([1]), false);
  assert.deepEqual(notes, [
    { kind: 'missed', cause: 'EIO', pids: [200, 201, 202, 203, 204].map((pid) => ({ pid, what: [] })), count: 7, hostProtected: false },
    { kind: 'missed', cause: 'ENOMEM', pids: [{ pid: 42, what: ['fdinfo 7'] }], count: 1, hostProtected: false },
  ]);
  assert.deepEqual(notes.map(scanNoteText), [
    '7 processes not read whole (EIO), their counts missing or short: pid 200, 201, 202, 203, 204, +2 more',
    '1 process not read whole (ENOMEM), their counts missing or short: pid 42 (fdinfo 7)',
  ]);
});

test("the misses of a scan's parts, read by two threads in chunks, together as one thread reading in pid order meets them", () => {
  const oneThread = new Misses();
  const main = new Misses();
  const second = new Misses();
  // pid: which thread read it; what was missed of it.
  const reads: [number, Misses, string, string | undefined][] = [
    [3, main, 'EACCES', undefined],
    [5, second, 'ENOMEM', 'fdinfo 7'],
    [5, second, 'ENOMEM', 'fdinfo 9'],
    [5, second, 'EIO', 'link 4'],
    [8, main, 'ENOMEM', 'fdinfo 3'],
    [11, second, 'EACCES', undefined],
    [12, main, 'EIO', undefined],
  ];
  for (const [pid, thread, cause, detail] of reads) {
    oneThread.add(cause, pid, detail);
    thread.add(cause, pid, detail);
  }
  // The main thread's part first, as it joins the second's; and its own chunks read again after (a part lost).
  const joined = Misses.ofParts([main.list(), second.list()]);
  assert.deepEqual(joined.notes(new Set(), false), oneThread.notes(new Set(), false));
  assert.deepEqual(joined.coverage(20, 0), oneThread.coverage(20, 0));
  assert.deepEqual(joined.list(), oneThread.list());
  assert.deepEqual(
    joined.notes(new Set(), false).find((note) => note.kind === 'missed' && note.cause === 'ENOMEM'),
    {
      kind: 'missed',
      cause: 'ENOMEM',
      pids: [
        { pid: 5, what: ['fdinfo 7', 'fdinfo 9', 'link 4'] },
        { pid: 8, what: ['fdinfo 3'] },
      ],
      count: 2,
      hostProtected: false,
    },
  );
});
