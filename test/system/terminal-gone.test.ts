// The terminal goes away under the screen (tmux kill-pane, an ssh session dropped): inotop ends
// quietly, as a hangup (129), not with SIGABRT or a core. SIGQUIT ends it as 131.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { eventually } from '../helpers/eventually.js';
import { TmuxPane } from '../helpers/tmux.js';

const exitStatus = fileURLToPath(new URL('../helpers/exit-status.mjs', import.meta.url));
const leaky = fileURLToPath(new URL('../../fixtures/leaky-kubelet.jsonl.gz', import.meta.url));

function waitForFile(path: string): Promise<string> {
  return eventually(() => readFileSync(path, 'utf8'), { timeoutMs: 20_000 });
}

describe('the terminal goes away', () => {
  let dir: string;
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-gone-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [what, args] of [
    ['live', ['--pods', 'none']],
    ['replay', ['--replay', leaky]],
  ] as const) {
    test(`kill-pane under the ${what} screen: exit 129, no signal, nothing on stderr but nothing alarming`, async () => {
      const status = join(dir, `${what}.status`);
      const stderr = join(dir, `${what}.stderr`);
      const pane = new TmuxPane(['sh', '-c', `exec "$@" 2>${stderr}`, 'sh', process.execPath, exitStatus, status, process.execPath, inotopBin, ...args], {
        width: 120,
        height: 30,
      });
      try {
        await pane.waitFor(/total \d+ processes/, 'the screen');
        pane.kill();
        assert.deepEqual(JSON.parse(await waitForFile(status)), { code: 129, signal: null });
        assert.doesNotMatch(readFileSync(stderr, 'utf8'), /EIO|EPIPE|Error/);
      } finally {
        pane.kill();
      }
    });
  }

  test('SIGQUIT: the terminal restored, exit 131', async () => {
    const pane = new TmuxPane([process.execPath, inotopBin, '--replay', leaky], { width: 120, height: 30 });
    try {
      await pane.waitFor(/total \d+ processes/, 'the screen');
      process.kill(pane.commandPid(), 'SIGQUIT');
      await pane.waitFor(/EXIT=131/, 'exit 131');
    } finally {
      pane.kill();
    }
  });
});
