// Recordings that were edited, corrupted or cut: every line is checked against the schema, a bad
// one is reported with its line number and skipped, and no later code sees it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readRecording } from '../../src/record/reader.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { TmuxPane } from '../helpers/tmux.js';

const leaky = fileURLToPath(new URL('../../fixtures/leaky-kubelet.jsonl.gz', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

/** The fixture's lines: a header and 7 snapshots. */
const lines = () => gunzipSync(readFileSync(leaky)).toString('utf8').trimEnd().split('\n');

describe('damaged recordings', () => {
  let dir: string;
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-damage-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a renamed key: that line reported and skipped in -b and --json, the rest replayed', () => {
    const all = lines();
    all[3] = all[3]!.replace('"cmdline":', '"commandline":');
    const file = join(dir, 'renamed.jsonl');
    writeFileSync(file, all.join('\n') + '\n');
    for (const mode of ['-b', '--json']) {
      const result = run(['--replay', file, mode]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(
        result.stderr,
        /^inotop: warning: .*renamed\.jsonl: line 4: not a snapshot: processes\[0\]\.cmdline: expected a string, got undefined: skipped$/m,
      );
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      const shown = mode === '-b' ? result.stdout.match(/^replay of /gm)?.length : result.stdout.trimEnd().split('\n').length;
      assert.equal(shown, 6);
    }
  });

  test('one flipped byte in the middle of a .gz: one snapshot lost, the others replayed', () => {
    const members = lines().map((line) => gzipSync(line + '\n'));
    const file = join(dir, 'flipped.jsonl.gz');
    const damagedIndex = 4;
    const bytes = Buffer.concat(members);
    const start = members.slice(0, damagedIndex).reduce((n, m) => n + m.length, 0);
    bytes[start + Math.floor(members[damagedIndex]!.length / 2)]! ^= 0x40;
    writeFileSync(file, bytes);
    const recording = readRecording(file);
    assert.equal(recording.snapshots.length, 6);
    assert.equal(recording.warnings.length, 1);
    assert.match(recording.warnings[0]!, new RegExp(`line 5: gzip member at byte ${start} is damaged \\(.*\\): skipped$`));
    const result = run(['--replay', file, '--json']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trimEnd().split('\n').length, 6);
    assert.match(result.stderr, /line 5: gzip member at byte \d+ is damaged/);
  });

  test('garbage between members, a truncated last member: resynchronised, reported', () => {
    const members = lines().map((line) => gzipSync(line + '\n'));
    const last = members.at(-1)!;
    const file = join(dir, 'garbage.jsonl.gz');
    writeFileSync(
      file,
      Buffer.concat([...members.slice(0, 3), Buffer.from('\x1f\x8b\x08garbage'), ...members.slice(3, -1), last.subarray(0, last.length - 9)]),
    );
    const recording = readRecording(file);
    assert.equal(recording.snapshots.length, 5, recording.warnings.join('\n'));
    assert.equal(recording.warnings.length, 2, recording.warnings.join('\n'));
    assert.match(recording.warnings[1]!, /is cut short \(truncated recording\?\): skipped$/);
  });

  test('mutations of a snapshot line never reach the views: -b and --json exit 0 with a warning, or 1', () => {
    const all = lines();
    const header = all[0]!;
    const good = JSON.parse(all[1]!) as Record<string, unknown>;
    const mutations: [string, unknown][] = [
      ['processes is an object', { ...good, processes: {} }],
      ['a row without targets', { ...good, processes: [{ ...(good.processes as object[])[0], targets: undefined }] }],
      ['a target path is a number', { ...good, processes: [{ ...(good.processes as Record<string, unknown>[])[0], targets: [{ path: 7 }] }] }],
      ['totals missing', { ...good, totals: undefined }],
      ['time is not a time', { ...good, time: 'yesterday' }],
      ['null', null],
      ['a list', [1, 2]],
    ];
    for (const [what, value] of mutations) {
      const file = join(dir, 'mutated.jsonl');
      writeFileSync(file, `${header}\n${JSON.stringify(value)}\n${all[2]}\n`);
      for (const mode of ['-b', '--json']) {
        const result = run(['--replay', file, mode]);
        assert.equal(result.status, 0, `${what} ${mode}: ${result.stderr}`);
        assert.match(result.stderr, /line 2: not a snapshot: .*: skipped/, what);
        assert.doesNotMatch(result.stderr, /TypeError|at /, what);
      }
    }
  });

  test('a bad first snapshot in the screen: a clear error and a non-zero exit', async () => {
    const all = lines();
    const file = join(dir, 'bad-first.jsonl');
    writeFileSync(file, `${all[0]}\n${all[1]!.replace('"users":', '"people":')}\n`);
    const pane = new TmuxPane([process.execPath, inotopBin, '--replay', file], { width: 100, height: 30 });
    try {
      // Long lines wrap in the pane.
      const screen = (await pane.waitFor(/EXIT=\d+/, 'the exit')).replace(/\n/g, '');
      assert.match(screen, /EXIT=1/);
      assert.match(screen, /holds no snapshot \(.*line 2: not a snapshot: users: expected a list, got undefined: skipped\)/);
    } finally {
      pane.kill();
    }
  });

  test('--record to an unwritable path: one clear line, no stack trace, exit 1', async () => {
    // Not writable even for root: a missing directory, and procfs.
    const targets = [join(dir, 'missing', 'x.jsonl'), '/proc/inotop-test.jsonl.gz'];
    for (const path of targets) {
      const result = run(['-b', '--pods', 'none', '--record', path]);
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^inotop: cannot record to ${path.replace(/[.]/g, '\\.')}: E[A-Z]+ \\(.*\\)\\n$`));
    }
    const screen = new TmuxPane([process.execPath, inotopBin, '--pods', 'none', '--record', targets[0]!], { width: 100, height: 30 });
    try {
      const text = (await screen.waitFor(/EXIT=\d+/, 'the exit')).replace(/\n/g, '');
      assert.match(text, /inotop: cannot record to .*: ENOENT \(no such file or directory\)EXIT=1/);
      assert.doesNotMatch(text, /at /);
    } finally {
      screen.kill();
    }
  });
});
