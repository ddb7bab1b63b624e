// Record and replay: round trip, damaged and foreign files, plain and gzip.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RecordingError } from '../../src/record/format.js';
import { readRecording } from '../../src/record/reader.js';
import { snapshotNotes } from '../../src/views/notes.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { TmuxPane } from '../helpers/tmux.js';

const HEADER = JSON.stringify({
  format: 'inotop-recording',
  version: 1,
  hostname: 'h',
  kernel: 'k',
  started: '2026-01-01T00:00:00Z',
  intervalSeconds: 2,
  inotopVersion: '0',
});
const fixture = fileURLToPath(new URL('../../fixtures/node-a/proc', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('recordings', () => {
  let dir: string;
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-record-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of ['plain.jsonl', 'packed.jsonl.gz']) {
    test(`record -> replay gives back the snapshots printed live (${name})`, () => {
      const file = join(dir, name);
      const live = run(['--json', '--targets', '--proc', fixture, '--pods', 'none', '--record', file]);
      assert.equal(live.status, 0, live.stderr);
      const recording = readRecording(file);
      assert.deepEqual(recording.warnings, []);
      assert.equal(recording.header.hostname, 'node-a');
      assert.equal(recording.snapshots.length, 1);
      // The recording keeps the scan's notes as data (scanNotes); --json says them in words too.
      const recorded = recording.snapshots[0]!;
      assert.deepEqual({ ...recorded, notes: snapshotNotes(recorded) }, JSON.parse(live.stdout));
      const replayed = run(['--replay', file, '--json', '--targets']);
      assert.equal(replayed.status, 0, replayed.stderr);
      assert.deepEqual(JSON.parse(replayed.stdout), JSON.parse(live.stdout));
    });
  }

  test('several refreshes, then a crash mid-write: replays up to the last good snapshot', () => {
    for (const name of ['crash.jsonl', 'crash.jsonl.gz']) {
      const file = join(dir, name);
      const live = run(['-b', '-n', '4', '-d', '0.1', '--proc', fixture, '--pods', 'none', '--record', file]);
      assert.equal(live.status, 0, live.stderr);
      assert.equal(readRecording(file).snapshots.length, 4);
      truncateSync(file, Math.floor(statSync(file).size * 0.8));
      const replay = run(['--replay', file, '-b']);
      assert.equal(replay.status, 0);
      assert.match(replay.stderr, /warning: .*: line 5: (gzip member at byte \d+ is cut short \(truncated recording\?\)|not JSON \(cut short\?\)): skipped/);
      assert.equal(replay.stdout.match(/^replay of node-a, snapshot \d \(/gm)?.length, 3);
    }
  });

  test('--append adds to a recording (one header), replaces nothing, and refuses what is not one', () => {
    for (const name of ['appended.jsonl', 'appended.jsonl.gz']) {
      const file = join(dir, name);
      for (const extra of [[], ['--append'], ['--append']]) {
        const live = run(['-b', '-n', '2', '-d', '0.1', '--proc', fixture, '--pods', 'none', '--record', file, ...extra]);
        assert.equal(live.status, 0, live.stderr);
      }
      const recording = readRecording(file);
      assert.equal(recording.snapshots.length, 6, 'two runs appended to the first');
      assert.deepEqual(recording.warnings, []);
      const lines = (name.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString().split('\n');
      assert.equal(lines.filter((line) => line.includes('"inotop-recording"')).length, 1, 'one header');
      const replaced = run(['-b', '-n', '1', '--proc', fixture, '--pods', 'none', '--record', file]);
      assert.equal(replaced.status, 0, replaced.stderr);
      assert.equal(readRecording(file).snapshots.length, 1, 'without --append the file is replaced');
    }
    const notOne = join(dir, 'not-a-recording.jsonl');
    writeFileSync(notOne, 'hello\n');
    const refused = run(['-b', '--proc', fixture, '--pods', 'none', '--record', notOne, '--append']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /is not an inotop recording/);
    assert.equal(readFileSync(notOne, 'utf8'), 'hello\n', 'left as it was');
    assert.equal(run(['-b', '--append']).status, 2, '--append without --record is a usage error');
  });

  test('a file that is not a recording is a clear error', () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['passwd', readFileSync(join(fixture, '..', 'etc', 'passwd')), /is not an inotop recording \(its first line is not JSON\)/],
      ['other.json', '{"hello":1}\n', /no inotop-recording header/],
      ['fake.jsonl.gz', 'not gzip', /is not gzip data/],
      ['empty.jsonl', gzipSync(''), /is not an inotop recording/],
      ['header-only.jsonl', HEADER + '\n', /holds no (good )?snapshot/],
      ['no-hostname.jsonl', '{"format":"inotop-recording","version":1}\n', /header has no hostname/],
      ['future.jsonl', '{"format":"inotop-recording","version":9}\n{}\n', /version 9 is not supported/],
    ];
    for (const [name, content, message] of cases) {
      const file = join(dir, name);
      writeFileSync(file, content);
      assert.throws(
        () => readRecording(file),
        (e: unknown) => e instanceof RecordingError && message.test(e.message),
        name,
      );
      const cli = run(['--replay', file, '-b']);
      assert.equal(cli.status, 1, name);
      assert.match(cli.stderr, message);
    }
    assert.throws(() => readRecording(join(dir, 'missing.jsonl')), /cannot read/);
  });
});

test('the screen recording to a disk that takes no more: the recording stops with a note, the screen goes on', async (t) => {
  ensureBuilt();
  const pane = new TmuxPane([process.execPath, inotopBin, '--proc', fixture, '--pods', 'none', '-d', '0.5', '--record', '/dev/full'], {
    width: 160,
    height: 40,
  });
  t.after(() => pane.kill());
  // The recorded tree has notes of its own first (its users in namespaces not charged, its queues not read): n lists them all.
  await pane.waitFor(/^note: .*\(\+\d+ more: n lists them\)/m, 'a second note');
  pane.keys('n');
  // The overlay wraps it after "the" (the refreshes go on, as the clock below shows).
  await pane.waitFor(/recording to \/dev\/full stopped: ENOSPC \(no space left on device\); the/, 'the note');
  pane.keys('Escape');
  const clock = () => /\d\d:\d\d:\d\d/.exec(pane.screen())?.[0];
  const before = clock();
  await pane.waitFor((screen) => /\d\d:\d\d:\d\d/.exec(screen)?.[0] !== before && /PID USER/.test(screen), 'later refreshes');
  assert.doesNotMatch(pane.screen(), /EXIT=/);
});
