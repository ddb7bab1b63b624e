// A local process chooses its comm, its argv and the names of what it watches; a runtime CLI
// prints what it likes on stderr. None of it may reach a terminal as a control sequence or split
// a row: real processes with hostile names, checked in -b, --json, check, notes and the screen.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderMetrics } from '../../src/serve/metrics.js';
import type { Snapshot } from '../../src/model/types.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { installStandIn, setStandInMode, withCommandLine } from '../helpers/fake-node.js';
import { Watcher } from '../helpers/inowatch.js';
import { TmuxPane } from '../helpers/tmux.js';

/** ESC ] 0 ; title BEL retitles a terminal; then a newline and U+009B (CSI as one C1 character). */
const COMM = '\x1b]0;pwn\x07\n\u009b';
const ARGV = ['hostile', '\x1b[8mhidden\x1b[0m', 'one\n    1 root 1 1 0 - fake-row', '\u009b2J', '\x1b]0;pwned\x07'];
const DIR_NAME = 'd\x1b[31mred\nrow\u009b';
const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

/** Bytes a terminal would act on: C0 but newline, DEL, and C1 (as UTF-8, c2 80..c2 9f). */
function controls(output: string): string[] {
  return [...output.matchAll(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g)].map((m) => JSON.stringify(m[0]));
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env, timeout: 60_000 });
}

describe('hostile names from the node', () => {
  let dir: string;
  let watcher: Watcher;
  let watchedDir: string;
  before(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-hostile-'));
    watchedDir = join(dir, DIR_NAME);
    mkdirSync(watchedDir);
    watcher = new Watcher({ wrapper: withCommandLine(ARGV) });
    await watcher.send(`commx ${hex(COMM)}`);
    const fd = await watcher.init();
    await watcher.send(`watchx ${fd} ${hex(watchedDir)}`);
    // A deleted file whose watch keeps its inode: a leak, so that check names the process.
    for (let i = 0; i < 50; i++) {
      const file = join(dir, `gone-${i}`);
      writeFileSync(file, '');
      await watcher.watch(fd, file);
      await watcher.send(`open ${file}`);
      unlinkSync(file);
    }
  });
  after(async () => {
    await watcher?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('-b: one row per process, controls shown as escapes', () => {
    const result = run(['-b', '--targets', '-p', String(watcher.pid), '--pods', 'none']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(controls(result.stdout), [], result.stdout);
    const rows = result.stdout.split('\n').filter((line) => line.startsWith(`${String(watcher.pid).padStart(8)} `));
    assert.equal(rows.length, 1, result.stdout);
    assert.ok(rows[0]!.includes('hostile \\x1b[8mhidden\\x1b[0m one\\n    1 root 1 1 0 - fake-row \\x9b2J \\x1b]0;pwned\\x07'), rows[0]);
    assert.ok(!/^ +1 root +1 +1 +0 - fake-row/m.test(result.stdout), 'no fake row');
    assert.ok(result.stdout.includes(`targets of pid ${watcher.pid} (\\x1b]0;pwn\\x07\\n\\x9b):`), result.stdout);
    assert.ok(result.stdout.includes('/d\\x1b[31mred\\nrow\\x9b'), result.stdout);
  });

  test('--json: controls escaped (C1 and DEL too), the values exact', () => {
    const result = run(['--json', '--targets', '-p', String(watcher.pid), '--pods', 'none']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(controls(result.stdout), []);
    assert.ok(result.stdout.includes('\\u009b'), 'C1 written as \\u009b');
    const snapshot = JSON.parse(result.stdout) as Snapshot;
    const row = snapshot.processes.find((p) => p.pid === watcher.pid)!;
    assert.equal(row.comm, COMM);
    assert.equal(row.cmdline, ARGV.join(' '));
    assert.ok(
      row.targets.some((t) => t.path === watchedDir),
      JSON.stringify(row.targets.map((t) => t.path)),
    );
  });

  test('check: one line of at most 80 bytes, controls shown as escapes', () => {
    const result = run(['check', '--pods', 'none', '--instances-threshold=off', '--watches-threshold=off']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.deepEqual(controls(result.stdout), []);
    assert.equal(result.stdout.split('\n').length, 2, 'one line');
    assert.ok(Buffer.byteLength(result.stdout.trimEnd()) <= 80, result.stdout);
    assert.match(result.stdout, /^\\x1b\]0;pwn\\x07\\n\\x9b holds 50 leaked watches \(deleted\)/);
  });

  test('notes: runtime stderr with escapes, in -b, --json and check', () => {
    const tools = mkdtempSync(join(tmpdir(), 'inotop-hostile-tools-'));
    try {
      for (const tool of ['crictl', 'kubectl'] as const) {
        installStandIn(tools, tool);
        setStandInMode(tools, tool, 'hostile');
      }
      for (const pods of ['crictl', 'kubectl']) {
        const flags = ['--pods', pods, '--crictl', join(tools, 'crictl'), '--kubectl', join(tools, 'kubectl'), '-p', String(watcher.pid)];
        const batch = run(['-b', ...flags]);
        assert.equal(batch.status, 0, batch.stderr);
        assert.deepEqual(controls(batch.stdout), [], batch.stdout);
        assert.match(batch.stdout, /^note: pods: .*\\x1b\]0;pwned\\x07\\x1b\[2J\\x1b\[8mhidden\\x9b/m);
        const json = run(['--json', ...flags]);
        assert.deepEqual(controls(json.stdout), []);
        assert.match((JSON.parse(json.stdout) as Snapshot).notes.join('\n'), /\x1b\]0;pwned\x07/);
        const check = run(['check', ...flags, '--instances-threshold=off', '--watches-threshold=off']);
        assert.deepEqual(controls(check.stdout), [], check.stdout);
        assert.ok(Buffer.byteLength(check.stdout.trimEnd()) <= 80, check.stdout);
      }
    } finally {
      rmSync(tools, { recursive: true, force: true });
    }
  });

  test('metrics: the hostile comm escaped per the text format, promtool reads it back', async () => {
    const result = run(['--json', '--targets', '--pods', 'none', '-p', String(watcher.pid)]);
    const snapshot = JSON.parse(result.stdout) as Snapshot;
    const text = await renderMetrics({ node: 'node-a', cluster: null, snapshot, scanFailures: 0, lastFailure: null, top: 1000, topLeaks: 1000 });
    const line = text.split('\n').find((l) => l.startsWith(`inotop_process_watches{comm="\x1b]0;pwn`));
    assert.ok(line, 'the hostile process has a series');
    // The text format escapes backslash, double quote and newline in label values; the rest is UTF-8 as it is.
    assert.ok(line.includes(`comm="\x1b]0;pwn\x07\\n\u009b"`), JSON.stringify(line));
    assert.equal(text.split('\n').filter((l) => l.includes('fake-row')).length, 0);
    if (existsSync('/usr/bin/promtool')) {
      const lint = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.doesNotMatch(lint.stdout + lint.stderr, /error while linting|parse error|invalid/i, lint.stdout + lint.stderr);
    }
  });

  test('the screen: pane title unchanged, no attribute from data, one row per process', async () => {
    const pane = new TmuxPane([process.execPath, inotopBin, '-p', String(watcher.pid), '--pods', 'none'], { width: 160, height: 40 });
    try {
      const title = () => spawnSync('tmux', ['-L', pane.socket, 'display-message', '-p', '-t', '0', '#{pane_title}'], { encoding: 'utf8' }).stdout.trim();
      const before = title();
      const screen = await pane.waitFor(/hidden/, 'the hostile process');
      const rows = screen.split('\n').filter((line) => line.trimStart().startsWith(`${watcher.pid} `));
      assert.equal(rows.length, 1, screen);
      assert.ok(rows[0]!.includes('\\x1b[8mhidden\\x1b[0m one\\n'), rows[0]);
      assert.ok(!screen.includes('fake-row\n') && !/^\s+1 root/m.test(screen), 'no fake row');
      assert.ok(screen.includes('\\x1b]0;pwn\\x07\\n\\x9b'), 'comm in the detail heading, visible');
      // Hidden text (SGR 8) would not show in capture-pane; and no data-made SGR is on the row.
      const withEscapes = pane.screen(true);
      const row = withEscapes.split('\n').find((line) => line.includes('hidden'))!;
      assert.ok(!/\x1b\[[\d;]*8m/.test(row), JSON.stringify(row));
      assert.notEqual(title(), 'pwned');
      assert.notEqual(title(), 'pwn');
      assert.ok(before !== 'pwned');
      pane.keys('q');
      await pane.waitFor(/EXIT=0/, 'exit');
    } finally {
      pane.kill();
    }
  });
});
