// Pod sources that never answer: a CRI socket that accepts and stays silent, crictl and kubectl
// that hang. check, -b and the screen still answer, with pods "pending", and leave nothing
// running behind them. How long check takes is measured by the benchmark (bench/check-deadline.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Scanner } from '../../src/scan/index.js';
import { uptimeMs } from '../../src/deadline.js';
import { shortfallText } from '../../src/views/notes.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { hungPodSources, type HungPodSources } from '../helpers/fake-node.js';
import { eventually } from '../helpers/eventually.js';
import { processesIn } from '../helpers/processes.js';
import { TmuxPane } from '../helpers/tmux.js';

describe('hung pod sources', () => {
  let sources: HungPodSources;
  let dir: string;
  let flags: string[];
  before(async () => {
    ensureBuilt();
    sources = await hungPodSources();
    ({ dir, flags } = sources);
  });
  after(() => sources?.close());

  /**
   * Commands the sources started, by tool; asserts none of them is still running. inotop SIGKILLs
   * their process groups as it ends and does not wait for them: a killed process is runnable ('R')
   * until a CPU takes it through its exit, which on a busy machine can come after inotop's own exit
   * has been seen here. One not killed would still be there when the wait is over (they hang for
   * ten minutes).
   */
  async function assertNothingLeft(): Promise<void> {
    await eventually(() => {
      for (const tool of ['crictl', 'kubectl']) {
        const file = join(dir, `${tool}-hang-pids`);
        const groups = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map(Number) : [];
        assert.deepEqual(processesIn(groups), [], `${tool} left running`);
      }
    });
  }

  const reset = () => {
    for (const name of ['crictl-hang-pids', 'kubectl-hang-pids', 'crictl-calls', 'kubectl-calls']) rmSync(join(dir, name), { force: true });
  };

  test('check: the verdict "cannot tell", exit 2, crictl and kubectl (tried beside the silent runtime) killed', async () => {
    reset();
    const result = spawnSync(
      process.execPath,
      [inotopBin, 'check', ...flags, '--deadline', '8', '--pods-timeout', '4', '--instances-threshold=off', '--watches-threshold=off'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(result.status, 2, result.stdout + result.stderr);
    assert.equal(result.stdout, 'cannot tell leaks of gone pods: no pod list within 4 s\n');
    // The runtime's socket had its head start, then the commands ran side by side with it.
    assert.ok(existsSync(join(dir, 'crictl-calls')), 'crictl tried');
    assert.ok(existsSync(join(dir, 'kubectl-calls')), 'kubectl tried beside it, not after it');
    await assertNothingLeft();
  });

  test('a scan past its deadline reads no further process and says so (what check answers then)', () => {
    const scanner = new Scanner();
    try {
      const late = scanner.scan(uptimeMs() - 1);
      assert.equal(late.processes.length, 0);
      assert.ok(late.incomplete !== null && late.incomplete.processes > 0);
      assert.equal(late.incomplete.notRead, late.incomplete.processes, 'none read');
      assert.match(shortfallText(late.incomplete), /^(\d+) of \1 processes not read by the deadline$/);
      const inTime = scanner.scan(uptimeMs() + 60_000);
      assert.equal(inTime.incomplete, null);
    } finally {
      scanner.close();
    }
  });

  test('check --deadline shorter than the pods timeout: "cannot tell in time", exit 2', async () => {
    reset();
    const result = spawnSync(
      process.execPath,
      // Long enough for the scan on a busy machine (a deadline past before the scan is the
      // processes' shortfall, tested above), short of the pods' timeout.
      [inotopBin, 'check', ...flags, '--deadline', '3', '--pods-timeout', '10', '--instances-threshold=off', '--watches-threshold=off'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(result.status, 2, result.stdout + result.stderr);
    // The pod list waited for within the deadline, or no time left for it once the scan was done.
    assert.match(result.stdout, /^cannot tell (leaks of gone pods: no pod list within 3 s|in time: leaks not judged within 3 s)\n$/);
    await assertNothingLeft();
  });

  test('-b: the counts with pods "pending", nothing left running', async () => {
    reset();
    const result = spawnSync(process.execPath, [inotopBin, '-b', ...flags], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^total: \d+ processes, \d+ instances, \d+ watches - pods: pending$/m);
    await assertNothingLeft();
  });

  test('the screen: counts with pods "pending" first, the chain stopped on quit', async () => {
    reset();
    const pane = new TmuxPane([process.execPath, inotopBin, ...flags], { width: 120, height: 30 });
    try {
      await pane.waitFor(/pods: pending/, 'the first scan with pods pending');
      assert.match(pane.screen(), /^total \d+ processes/m);
      pane.keys('q');
      await pane.waitFor(/EXIT=0/, 'the exit');
      await assertNothingLeft();
    } finally {
      pane.kill();
    }
  });
});
