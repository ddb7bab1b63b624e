// Faults injected into inotop's own system calls (strace's `inject`), against a known truth: three
// processes of a user of their own hold 10 inotify instances of 20 watches each. Under every fault
// `--json --targets`, `-b` and `check` may fail, or say they could not see everything; none may
// print a stack trace, hang, or answer with counts that differ from the truth and nothing said
// (for check: "ok" where the truth is a problem). Each run's outcome (exact, said, failed, or
// the runtime's) is also held to the one the matrix expects of that fault and mode
// (expectedOutcomes, test/helpers/fault-outcomes.ts). CI runs a fixed subset; the whole matrix
// (11 syscalls × 7 errnos × from the 1st, 50th and 500th call: 231 faults, 693 runs) by hand:
//   INOTOP_FAULTS=all node --import tsx --test test/system/faults.test.ts
// or one fault: INOTOP_FAULTS=readlinkat:EACCES:50+
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { eventually } from '../helpers/eventually.js';
import {
  ciSubset,
  expectedOutcomes,
  faultName,
  fullMatrix,
  generalProblem,
  runInotop,
  runtimeFailure,
  type Fault,
  type FaultRun,
  type Outcome,
} from '../helpers/faults.js';
import { rootSkip, Watcher } from '../helpers/inowatch.js';

/** A uid nothing else on the machine runs as: its instances are ours alone. */
const UID = 31337;
const AS_UID = ['setpriv', `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--'];
const PROCESSES = 3;
const INSTANCES = 10;
const FILES = 19;

function chosenFaults(): Fault[] {
  const asked = process.env['INOTOP_FAULTS'];
  if (!asked) return ciSubset();
  if (asked === 'all') return fullMatrix();
  return asked.split(',').map((name) => {
    const [syscall, errno, when] = name.split(':');
    return { syscall: syscall!, errno: errno!, when: when ?? '1+' };
  });
}

const straceSkip = (() => {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'needs strace (Debian package strace)';
  }
})();

interface Truth {
  /** pid -> [instances, watches] */
  rows: Map<number, [number, number]>;
}

describe('faults injected into every syscall inotop makes', { skip: rootSkip || straceSkip, concurrency: 1 }, () => {
  let dir: string;
  let kubeletRoot: string;
  const watchers: Watcher[] = [];
  const truth: Truth = { rows: new Map() };
  let pids = '';
  const common = () => ['--pods', 'kubelet', '--kubelet-root', kubeletRoot, '-p', pids];

  before(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-faults-'));
    chmodSync(dir, 0o755);
    kubeletRoot = join(dir, 'kubelet');
    mkdirSync(join(kubeletRoot, 'pods'), { recursive: true });
    for (let p = 0; p < PROCESSES; p++) {
      const watcher = new Watcher({ wrapper: AS_UID });
      watchers.push(watcher);
      for (let i = 0; i < INSTANCES; i++) {
        const files = join(dir, `w${p}-${i}`);
        mkdirSync(files);
        for (let f = 0; f < FILES; f++) writeFileSync(join(files, `f${f}`), '');
        chmodSync(files, 0o755);
        const fd = await watcher.init();
        assert.equal(await watcher.watchDir(fd, files), FILES + 1);
      }
      truth.rows.set(watcher.pid, [INSTANCES, INSTANCES * (FILES + 1)]);
    }
    pids = [...truth.rows.keys()].join(',');
    // The truth as inotop sees it without faults: the same rows.
    const json = runInotop(['--json', ...common()], null);
    assert.equal(json.status, 0, json.stderr);
    assert.equal(wrongRows(JSON.parse(json.stdout) as JsonOut), null);
    const check = runInotop(checkArgs(), null);
    assert.equal(check.status, 1, `without faults check names the user at ${INSTANCES * PROCESSES} instances: ${check.stdout}${check.stderr}`);
  });

  after(async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  interface JsonOut {
    processes: { pid: number; instances: number; watches: number }[];
    scan?: { complete: boolean; unreadable: Record<string, number> };
  }

  /** Which of our rows differ from the truth, null when none. */
  function wrongRows(out: JsonOut): string | null {
    const wrong: string[] = [];
    for (const [pid, [instances, watches]] of truth.rows) {
      const row = out.processes.find((p) => p.pid === pid);
      if (!row || row.instances !== instances || row.watches !== watches) wrong.push(`${pid}: ${row ? `${row.instances}/${row.watches}` : 'missing'}`);
    }
    return wrong.length > 0 ? wrong.join(', ') : null;
  }

  function checkArgs(): string[] {
    // A problem in truth: the user holds 30 instances, at least 1% of any max_user_instances a node has.
    return ['check', '--no-trace', '--instances-threshold=1%', '--watches-threshold=off', '--pods', 'kubelet', '--kubelet-root', kubeletRoot];
  }

  /** What came of a run of `mode`; `problem` when it broke the rules. */
  function judge(mode: 'json' | 'batch' | 'check', run: FaultRun): { problem: string | null; outcome: Outcome } {
    if (run.timedOut) return { problem: 'hung (killed after the timeout)', outcome: 'hung' };
    const general = generalProblem(run);
    if (general) return { problem: general, outcome: 'failed' };
    if (runtimeFailure(run)) return { problem: null, outcome: 'runtime' };
    if (mode === 'check') {
      if (run.status === 0) return { problem: `"${run.stdout.trim()}" (exit 0) where the truth is a problem`, outcome: 'exact' };
      // A problem found by a scan that missed some of the node names its figure as a floor (", or more: ").
      const outcome = run.status === 1 ? (/, or more: /.test(run.stdout) ? 'said' : 'exact') : run.status === 2 ? 'said' : 'failed';
      return { problem: null, outcome };
    }
    if (run.status !== 0) return { problem: null, outcome: 'failed' };
    let wrong: string | null;
    let said: boolean;
    if (mode === 'json') {
      let out: JsonOut;
      try {
        out = JSON.parse(run.stdout) as JsonOut;
      } catch {
        return { problem: `exit 0 with no JSON: ${run.stdout.slice(0, 200)}`, outcome: 'failed' };
      }
      wrong = wrongRows(out);
      said = out.scan !== undefined && (!out.scan.complete || Object.keys(out.scan.unreadable).length > 0);
    } else {
      const rows = new Map(
        run.stdout
          .split('\n')
          .map((line) => line.trim().split(/\s+/).map(Number))
          .filter((cells) => cells.length === 3 && truth.rows.has(cells[0]!))
          .map(([pid, instances, watches]) => [pid!, [instances!, watches!]]),
      );
      const pids = [...truth.rows].filter(([pid, counts]) => rows.get(pid)?.join() !== counts.join()).map(([pid]) => pid);
      wrong = pids.length > 0 ? pids.join(', ') : null;
      said = /^cannot tell: |not read whole/m.test(run.stdout);
    }
    if (wrong === null) return { problem: null, outcome: 'exact' };
    return { problem: said ? null : `exit 0, rows wrong (${wrong}), nothing said`, outcome: 'said' };
  }

  const faults = chosenFaults();
  /** INOTOP_FAULTS_REPORT=FILE: each run's outcome appended to FILE, a line per run ("json readlinkat:ENOENT:50+ said"). */
  const report = process.env['INOTOP_FAULTS_REPORT'];
  const modes = {
    json: () => ['--json', '--targets', ...common()],
    batch: () => ['-b', '-o', 'pid,instances,watches', ...common()],
    check: checkArgs,
  } as const;

  test('serve keeps serving when fdinfo reads fail (pread64 EIO from the 100th call on): each scan says what it could not read', async (t) => {
    const args = ['serve', '--web.listen-address', '127.0.0.1:0', '--interval', '1', ...common().slice(0, 4)];
    const strace = ['-f', '--seccomp-bpf', '-qq', '-o', '/dev/null', '-e', 'trace=pread64', '-e', 'inject=pread64:error=EIO:when=100+'];
    // A process group of its own, killed whole: a SIGKILL to strace alone leaves serve running, detached.
    const child = spawn('strace', [...strace, process.execPath, inotopBin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    t.after(() => process.kill(-child.pid!, 'SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const port = await eventually(() => Number(/serving http:\/\/[^ ]*:(\d+)\//.exec(stderr)?.[1] ?? assert.fail(`not serving yet: ${stderr}`)), {
      timeoutMs: 30_000,
    });
    // Several scans, each past the 100th pread64 of its thread.
    const metrics = await eventually(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(text, /^inotop_scan_unreadable_processes\{cause="EIO"/m);
        return text;
      },
      { timeoutMs: 30_000 },
    );
    assert.match(metrics, /^inotop_scan_complete\{reason="[^"]*"/m);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(child.exitCode, null, `serve still up: ${stderr}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/-/healthy`)).status, 200);
    assert.doesNotMatch(stderr, /collector stopped|^\s+at /m);
  });

  for (const mode of Object.keys(modes) as (keyof typeof modes)[]) {
    test(`${mode}: ${faults.length} faults, no stack trace, no hang, no silent wrong answer`, (t) => {
      const problems: string[] = [];
      const outcomes = { exact: 0, said: 0, failed: 0, runtime: 0, hung: 0 };
      const runtime: string[] = [];
      const failed: string[] = [];
      for (const fault of faults) {
        const run = runInotop(modes[mode](), fault);
        const { problem, outcome } = judge(mode, run);
        if (report) appendFileSync(report, `${mode} ${faultName(fault)} ${outcome}\n`);
        const expected = expectedOutcomes(fault, mode);
        // A hang is a problem but where the matrix expects it (EINTR at every try).
        if (problem && !(outcome === 'hung' && expected?.includes('hung'))) problems.push(`${faultName(fault)}: ${problem}`);
        if (!problem && expected && !expected.includes(outcome)) {
          const last = (run.stdout.trim().split('\n').pop() ?? '').slice(0, 120);
          problems.push(`${faultName(fault)}: ${outcome}, expected ${expected.join(' or ')} (exit ${run.status}: ${last}; ${run.stderr.trim().slice(0, 200)})`);
        }
        outcomes[outcome]++;
        if (outcome === 'runtime') runtime.push(faultName(fault));
        if (outcome === 'failed') failed.push(`${faultName(fault)} (${(run.stderr.trim().split('\n').pop() ?? '').slice(0, 100)})`);
      }
      t.diagnostic(
        `${faults.length} runs: ${outcomes.exact} right, ${outcomes.said} said what they could not read or tell, ` +
          `${outcomes.failed} failed with a message (${failed.join('; ')}), ${outcomes.runtime} Node itself failed before inotop ran (its loader, libuv aborts: ${runtime.join(' ')}), ` +
          `${outcomes.hung} hung where expected (EINTR at every try)`,
      );
      assert.deepEqual(problems, []);
    });
  }
});
