// The scan says what it could not read as data; the views say it in words, the same words in -b,
// --json and on the screen; a recording keeps it as data and is checked like the rest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScanNote } from '../../src/model/types.js';
import { SchemaError, validateSnapshot } from '../../src/record/validate.js';
import { OUTPUT_FORMATS } from '../../src/views/output.js';
import { scanNoteText, shortfallText, snapshotNotes } from '../../src/views/notes.js';
import { proc, snapshot } from '../helpers/rows.js';

const notes: ScanNote[] = [
  { kind: 'unreadable', processes: 1 },
  { kind: 'missed', cause: 'EACCES', pids: [1, 2, 3, 4, 5].map((pid) => ({ pid, what: [] })), count: 9, hostProtected: true },
  { kind: 'missed', cause: 'EMFILE', pids: [{ pid: 7, what: [] }], count: 1, hostProtected: false },
  { kind: 'missed', cause: 'EIO', pids: [{ pid: 8, what: ['fdinfo 4', 'link 9'] }], count: 1, hostProtected: false },
];

test('scan notes in words', () => {
  assert.deepEqual(notes.map(scanNoteText), [
    '1 process not readable: run as root to see all',
    '9 processes not read whole (EACCES: not readable even with CAP_SYS_PTRACE), their counts missing or short: pid 1, 2, 3, 4, 5, +4 more',
    '1 process not read whole (EMFILE: out of file descriptors), their counts missing or short: pid 7',
    '1 process not read whole (EIO), their counts missing or short: pid 8 (fdinfo 4, link 9)',
  ]);
  assert.equal(scanNoteText({ kind: 'unreadable', processes: 3 }), '3 processes not readable: run as root to see all');
  assert.equal(shortfallText({ notRead: 40, processes: 120 }), '40 of 120 processes not read by the deadline');
});

test("-b and --json say the scan's notes first, then the other stages'; a recording keeps them as data", () => {
  const made = { ...snapshot([proc(1)]), notes: ['pods: no pod source answered'], scanNotes: notes };
  assert.deepEqual(snapshotNotes(made), [...notes.map(scanNoteText), 'pods: no pod source answered']);
  const place = { index: 0, series: false, title: null };
  const options = { withTargets: false, color: false, width: null };
  const text = OUTPUT_FORMATS.batch.render(made, made.processes, options, place);
  assert.deepEqual(
    text.split('\n').filter((line) => line.startsWith('note: ')),
    snapshotNotes(made).map((note) => `note: ${note}`),
  );
  const json = JSON.parse(OUTPUT_FORMATS.json.render(made, made.processes, options, place)) as { notes: string[]; scanNotes: ScanNote[] };
  assert.deepEqual(json.notes, snapshotNotes(made));
  assert.deepEqual(json.scanNotes, notes);
  // A recording round trip, and an edited one.
  assert.deepEqual(validateSnapshot(JSON.parse(JSON.stringify(made))).scanNotes, notes);
  assert.throws(() => validateSnapshot({ ...made, scanNotes: [{ kind: 'unreadable' }] }), SchemaError);
  assert.throws(() => validateSnapshot({ ...made, scanNotes: [{ kind: 'gremlins', pids: [], count: 0 }] }), SchemaError);
  // A recording made before scanNotes: its notes said it in words already.
  const { scanNotes: _none, ...older } = made;
  assert.deepEqual(snapshotNotes(validateSnapshot(JSON.parse(JSON.stringify(older)))), ['pods: no pod source answered']);
});
