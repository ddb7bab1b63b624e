// The tracer against the real kernel: processes of another uid that run into max_user_watches,
// max_user_instances and their own RLIMIT_NOFILE, counted exactly; the trace instance on every
// exit path; two inotops at once; --no-trace, not root, no tracefs; check, serve and the screen.
// Lowers sysctls for moments: run under the lock, `flock /tmp/inotop-systest.lock node ...`.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test, type TestContext } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { buildSnapshot } from '../../src/model/snapshot.js';
import type { Snapshot, SyscallFailure } from '../../src/model/types.js';
import { readRecording } from '../../src/record/reader.js';
import { scan } from '../../src/scan/index.js';
import { removeOpenInstances, tracefsMountpoints } from '../../src/trace/tracefs.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { Watcher } from '../helpers/inowatch.js';
import { TmuxPane } from '../helpers/tmux.js';
import { TRACEFS_AT_ITS_PLACE, traceInstances, traceSkip, tracingCollector } from '../helpers/tracing.js';

const NOBODY = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'];
/** Enough for the helper's stdin, stdout, stderr, its epoll fd (it reads its instances as events come) and 5 instances. */
const FD_LIMIT = 9;

const skip = traceSkip();

// Sysctls lowered by a test are put back however the test ends, the process too.
const SYSCTLS = '/proc/sys/fs/inotify';
const lowered = new Map<string, string>();
process.on('exit', () => {
  for (const [path, value] of lowered) writeFileSync(path, value);
});

async function withSysctl<T>(name: 'max_user_watches' | 'max_user_instances', value: number, body: () => Promise<T>): Promise<T> {
  const path = join(SYSCTLS, name);
  const old = readFileSync(path, 'utf8');
  lowered.set(path, old);
  writeFileSync(path, `${value}\n`);
  try {
    return await body();
  } finally {
    writeFileSync(path, old);
    lowered.delete(path);
  }
}

/** What nobody holds now. */
function nobodyUse(): { instances: number; watches: number } {
  const row = buildSnapshot(scan(), null, null, 'none').users.find((u) => u.uid === NOBODY && u.userns === null);
  return { instances: row?.instances ?? 0, watches: row?.watches ?? 0 };
}

/** Each command that fails adds one to the count. */
async function failures(commands: (() => Promise<number>)[], expected: RegExp): Promise<number> {
  let failed = 0;
  for (const command of commands) {
    try {
      await command();
    } catch (error) {
      assert.match((error as Error).message, expected);
      failed++;
    }
  }
  return failed;
}

function failureOf(snapshot: Snapshot, pid: number): SyscallFailure | undefined {
  return snapshot.failures?.find((f) => f.pid === pid);
}

function churnOf(snapshot: Snapshot, pid: number): { adds: number; removes: number } | undefined {
  const churn = snapshot.churn?.find((c) => c.pid === pid);
  return churn && { adds: churn.adds, removes: churn.removes };
}

/** The fields a test knows in advance. */
function known(f: SyscallFailure | undefined) {
  if (!f) return undefined;
  const { pid, comm, uid, user, syscall, errno, count, limit, fdLimit } = f;
  return { pid, comm, uid, user, syscall, errno, count, limit, fdLimit };
}

/** What `probe` finds (anything but undefined or false), once it finds it. */
function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  return eventually(
    () => {
      const found = probe();
      if (found === undefined || found === false) throw new Error(`timed out waiting for ${what}`);
      return found;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** inotop with `args`; `wrapper` (a command and its arguments) runs it, as strace does. */
function runInotop(args: string[], env: NodeJS.ProcessEnv = process.env, wrapper: string[] = []): Running {
  const [command, ...commandArgs] = [...wrapper, process.execPath, inotopBin, ...args];
  const child = spawn(command!, commandArgs, { env });
  const running: Running = {
    child,
    lines: [],
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  createInterface({ input: child.stdout }).on('line', (line) => running.lines.push(line));
  child.stderr.on('data', (chunk: Buffer) => (running.stderr += chunk.toString()));
  return running;
}

/** Ends it after the test, as a user would (SIGTERM), and for sure 5 s later. */
function stopLater(t: TestContext, running: Running): void {
  t.after(async () => {
    if (running.child.exitCode !== null || running.child.signalCode !== null) return;
    running.child.kill('SIGTERM');
    const timer = setTimeout(() => running.child.kill('SIGKILL'), 5000);
    await running.exited;
    clearTimeout(timer);
  });
}

describe('tracing failed inotify calls in the real kernel', { skip }, () => {
  let files: string;
  const started = new Set<string>();

  before(() => {
    ensureBuilt();
    started.clear();
    for (const name of traceInstances()) started.add(name);
    // The victims are nobody: the files they watch must be theirs to read.
    files = mkdtempSync(join(tmpdir(), 'inotop-trace-'));
    chmodSync(files, 0o755);
    for (let i = 0; i < 50; i++) writeFileSync(join(files, `f${i}`), '');
  });

  after(() => {
    rmSync(files, { recursive: true, force: true });
    const left = traceInstances().filter((name) => name.startsWith('inotop-') && !started.has(name));
    // Removed whatever happened, then reported.
    const remove = left.map((name) => `rmdir /sys/kernel/tracing/instances/${name}`).join('; ');
    if (left.length > 0) spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${TRACEFS_AT_ITS_PLACE} && ${remove}`]);
    assert.deepEqual(left, [], 'no trace instance left behind');
  });

  /** A process of nobody (or as `wrapper` says) named `comm`, ended with the test. */
  async function victim(t: TestContext, comm: string, wrapper: string[] = AS_NOBODY): Promise<Watcher> {
    const watcher = new Watcher({ wrapper });
    t.after(() => watcher.stop());
    await watcher.comm(comm);
    return watcher;
  }

  /** A nobody process adds 50 watches with max_user_watches 30 above what nobody holds: 20 fail. */
  async function exceedWatches(watcher: Watcher): Promise<number> {
    const fd = await watcher.init();
    const adds = Array.from({ length: 50 }, (_, i) => () => watcher.watch(fd, join(files, `f${i}`)));
    return withSysctl('max_user_watches', nobodyUse().watches + 30, () => failures(adds, /No space left on device/));
  }

  test('ENOSPC from max_user_watches: exactly the failed count, the process, its uid and the limit; the recording has it', async (t) => {
    const recording = join(files, 'recording.jsonl');
    const collector = tracingCollector(recording);
    t.after(() => collector.stop());
    await collector.start();
    assert.deepEqual(collector.collect('none').trace, { state: 'on', reason: null });
    const name = `inotop-${process.pid}`;
    assert.ok(
      traceInstances().some((n) => n === name || n.startsWith(`${name}-`)),
      'the instance is named after our pid',
    );

    const watcher = await victim(t, 'ino-victim');
    assert.equal(await exceedWatches(watcher), 20);
    const snapshot = collector.collect('none');
    const expected = {
      pid: watcher.pid,
      comm: 'ino-victim',
      uid: NOBODY,
      user: 'nobody',
      syscall: 'inotify_add_watch',
      errno: 'ENOSPC',
      count: 20,
      limit: 'max_user_watches',
      fdLimit: null,
    };
    assert.deepEqual(known(failureOf(snapshot, watcher.pid)), expected);
    assert.equal(failureOf(snapshot, watcher.pid)!.new, 20);
    const f = failureOf(snapshot, watcher.pid)!;
    assert.ok(Date.parse(f.firstAt) <= Date.parse(f.lastAt) && Date.parse(f.lastAt) <= Date.now() + 1000, `${f.firstAt} ${f.lastAt}`);
    assert.ok(Date.now() - Date.parse(f.firstAt) < 60_000, `firstAt ${f.firstAt} is on the wall clock`);
    // Its churn: the 30 adds that worked.
    assert.deepEqual(churnOf(snapshot, watcher.pid), { adds: 30, removes: 0 });
    // The next refresh: the count stays, nothing new.
    const next = collector.collect('none');
    assert.deepEqual(known(failureOf(next, watcher.pid)), expected);
    assert.equal(failureOf(next, watcher.pid)!.new, 0);
    assert.equal(churnOf(next, watcher.pid), undefined);
    // Written as each snapshot is taken.
    const recorded = readRecording(recording).snapshots;
    assert.deepEqual(
      recorded.map((snap) => failureOf(snap, watcher.pid)?.count),
      [undefined, 20, 20],
    );
    assert.deepEqual(recorded[1]!.trace, { state: 'on', reason: null });
  });

  test('churn: watches added and removed per process per refresh, with the rates', async (t) => {
    const collector = tracingCollector();
    t.after(() => collector.stop());
    await collector.start();
    collector.collect('none');
    const watcher = await victim(t, 'ino-churn');
    const fd = await watcher.init();
    const wds: number[] = [];
    for (let i = 0; i < 10; i++) wds.push(await watcher.watch(fd, join(files, `f${i}`)));
    for (const wd of wds.slice(0, 4)) await watcher.send(`rm ${fd} ${wd}`);
    const snapshot = collector.collect('none');
    assert.deepEqual(churnOf(snapshot, watcher.pid), { adds: 10, removes: 4 });
    const rates = snapshot.churn!.find((c) => c.pid === watcher.pid)!;
    assert.equal(rates.comm, 'ino-churn');
    assert.ok(rates.addsPerSecond > 0 && rates.removesPerSecond > 0 && rates.addsPerSecond > rates.removesPerSecond, JSON.stringify(rates));
    assert.equal(churnOf(collector.collect('none'), watcher.pid), undefined);
  });

  test('EMFILE from max_user_instances and EMFILE from RLIMIT_NOFILE told apart', async (t) => {
    const collector = tracingCollector();
    t.after(() => collector.stop());
    await collector.start();
    const instancesVictim = await victim(t, 'ino-instances');
    const fdVictim = await victim(t, 'ino-fdlimit', ['prlimit', `--nofile=${FD_LIMIT}`, '--', ...AS_NOBODY]);
    collector.collect('none');
    const use = nobodyUse();

    // 2 more instances than nobody holds: of 5, 3 fail. The limit stays low through the refresh
    // that judges them, as it would on a node that runs out.
    const instances = await withSysctl('max_user_instances', use.instances + 2, async () => {
      const failed = await failures(
        Array.from({ length: 5 }, () => () => instancesVictim.init()),
        /Too many open files/,
      );
      return { failed, snapshot: collector.collect('none') };
    });
    assert.equal(instances.failed, 3);
    assert.deepEqual(known(failureOf(instances.snapshot, instancesVictim.pid)), {
      pid: instancesVictim.pid,
      comm: 'ino-instances',
      uid: NOBODY,
      user: 'nobody',
      syscall: 'inotify_init1',
      errno: 'EMFILE',
      count: 3,
      limit: 'max_user_instances',
      fdLimit: null,
    });

    // Its own fd limit: stdin, stdout, stderr, its epoll fd and 5 instances, then EMFILE, with nobody far below max_user_instances.
    const fdFailed = await failures(
      Array.from({ length: 8 }, () => () => fdVictim.init()),
      /Too many open files/,
    );
    assert.equal(fdFailed, 3);
    assert.deepEqual(known(failureOf(collector.collect('none'), fdVictim.pid)), {
      pid: fdVictim.pid,
      comm: 'ino-fdlimit',
      uid: NOBODY,
      user: 'nobody',
      syscall: 'inotify_init1',
      errno: 'EMFILE',
      count: 3,
      limit: 'RLIMIT_NOFILE',
      fdLimit: FD_LIMIT,
    });
  });

  test('--json -n N -d SECS: one document per line; two inotops at once both count every failure', async (t) => {
    const args = ['--json', '-n', '2', '-d', '3', '--pods', 'none'];
    const a = runInotop(args);
    const b = runInotop(args);
    stopLater(t, a);
    stopLater(t, b);
    await waitFor('the first snapshot of both', () => a.lines.length >= 1 && b.lines.length >= 1);
    const instances = traceInstances();
    for (const run of [a, b]) assert.ok(instances.includes(`inotop-${run.child.pid}`), `${instances.join(' ')} has inotop-${run.child.pid}`);
    const watcher = await victim(t, 'ino-both');
    assert.equal(await exceedWatches(watcher), 20);
    for (const run of [a, b]) {
      const { code } = await run.exited;
      assert.equal(code, 0, run.stderr);
      assert.equal(run.lines.length, 2, 'one line per snapshot');
      const last = JSON.parse(run.lines[1]!) as Snapshot;
      assert.equal(failureOf(last, watcher.pid)?.count, 20, JSON.stringify(last.failures));
      assert.equal(failureOf(last, watcher.pid)?.limit, 'max_user_watches');
      assert.ok(!traceInstances().includes(`inotop-${run.child.pid}`), 'instance removed at the end');
    }
  });

  test('the instance is gone after SIGTERM, and after SIGKILL once another inotop starts', async (t) => {
    const terminated = runInotop(['-b', '-n', '1000', '-d', '1', '--pods', 'none']);
    stopLater(t, terminated);
    await waitFor('its trace instance', () => traceInstances().includes(`inotop-${terminated.child.pid}`));
    terminated.child.kill('SIGTERM');
    assert.deepEqual(await terminated.exited, { code: 143, signal: null }, 'SIGTERM ends it with 128 + 15');
    assert.ok(!traceInstances().includes(`inotop-${terminated.child.pid}`), 'removed on SIGTERM');

    const killed = runInotop(['-b', '-n', '1000', '-d', '1', '--pods', 'none']);
    stopLater(t, killed);
    await waitFor('its trace instance', () => traceInstances().includes(`inotop-${killed.child.pid}`));
    killed.child.kill('SIGKILL');
    await killed.exited;
    assert.ok(traceInstances().includes(`inotop-${killed.child.pid}`), 'SIGKILL leaves it (nothing can run)');
    const next = spawnSync(process.execPath, [inotopBin, '--json', '-n', '2', '-d', '0.1', '--pods', 'none'], { encoding: 'utf8' });
    assert.equal(next.status, 0, next.stderr);
    assert.deepEqual((JSON.parse(next.stdout.split('\n')[0]!) as Snapshot).trace, { state: 'on', reason: null });
    assert.ok(!traceInstances().includes(`inotop-${killed.child.pid}`), 'the next inotop removed it');
  });

  test('a collector thread terminated in the middle of a scan: its instances are removed from the main thread', async () => {
    // tsx's loader registered in the thread itself: --import in a worker's execArgv does not take here.
    const script = new URL('../helpers/trace-worker.ts', import.meta.url).href;
    const worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(script)}); })`, { eval: true });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const ours = () => traceInstances().filter((name) => name.startsWith(`inotop-${process.pid}`));
    assert.deepEqual(ours(), [`inotop-${process.pid}`, `inotop-${process.pid}-churn`]);
    // What BackgroundCollector.stop() does when the thread does not answer.
    removeOpenInstances(0);
    await worker.terminate();
    assert.deepEqual(ours(), []);
  });

  test('the screen: an alert line and FAILED while failures are recent; q removes the instance', async (t) => {
    const pane = new TmuxPane([process.execPath, inotopBin, '-d', '0.5', '--pods', 'none'], { width: 200, height: 50 });
    // The first snapshot: the tracer is on (the instance exists a moment before its events are enabled).
    await pane.waitFor(/^total \d+ processes/m, 'the first snapshot');
    const pid = pane.commandPid();
    t.after(async () => {
      pane.kill();
      await waitFor('inotop to end', () => !existsSync(`/proc/${pid}`));
    });
    await waitFor('its trace instance', () => traceInstances().includes(`inotop-${pid}`));
    const watcher = await victim(t, 'ino-screen');
    // The victim keeps its 30 watches: it shows in the table, marked.
    assert.equal(await exceedWatches(watcher), 20);
    // The refresh that reads the failures may have scanned before the watches were added: the
    // next one has the victim's row, with its 30 watches.
    const alert = new RegExp(`ino-screen ${watcher.pid}: 20 × inotify_add_watch ENOSPC, last \\d+ s ago: user nobody at [\\d,]+/[\\d,]+ watches`);
    const row = new RegExp(`^ *${watcher.pid} +nobody +1 +30 .*FAILED /`, 'm');
    await pane.waitFor((screen) => alert.test(screen) && row.test(screen), 'the alert and the FAILED row');
    pane.keys('q');
    await pane.waitFor(/EXIT=0/, 'inotop to quit');
    assert.ok(!traceInstances().includes(`inotop-${pid}`), 'removed on q');
  });

  test('the screen: F2 shows ADD/s and RM/s of a process adding watches, FAN-G and FAN-M of a fanotify group', async (t) => {
    const adder = await victim(t, 'ino-adds', []);
    const fd = await adder.init();
    // Ten adds a second, every other one removed again, until the test ends.
    let adding = true;
    const loop = (async () => {
      for (let i = 0; adding; i++) {
        const wd = await adder.watch(fd, join(files, `f${i % 50}`));
        if (i % 2 === 1) await adder.send(`rm ${fd} ${wd}`);
        // The pace of the load, not a wait.
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    t.after(async () => {
      adding = false;
      await loop.catch(() => undefined);
    });
    const agent = await victim(t, 'ino-fan', []);
    const group = await agent.fanotifyInit();
    await agent.fanotifyMarkInode(group, files);
    await agent.fanotifyMarkInode(group, join(files, 'f0'));
    const pane = new TmuxPane([process.execPath, inotopBin, '--no-config', '-d', '1', '--pods', 'none', '-p', `${adder.pid},${agent.pid}`], {
      width: 160,
      height: 40,
    });
    const pid = pane.commandPid();
    t.after(async () => {
      pane.kill();
      await waitFor('inotop to end', () => !existsSync(`/proc/${pid}`));
    });
    // A group on the node: its columns show by default.
    const agentRow = new RegExp(`^ *${agent.pid} +root +0 +0 +1 +2 `, 'm');
    // QUEUE shows too while any process on the machine has a queue stuck (another test's, a load's).
    await pane.waitFor(
      (screen) => /PID USER +INST WATCHES▼ +FAN-G +FAN-M +Δ +ΔSTART +LEAKED( +QUEUE)? COMMAND/.test(screen) && agentRow.test(screen),
      'FAN-G and FAN-M',
    );
    // The chooser: FAN-G and FAN-M are the 4th and 5th; hidden, then shown again.
    const down = (n: number) => Array<string>(n).fill('Down');
    pane.keys('F2', ...down(3), 'Enter', 'Down', 'Enter', 'Escape');
    await pane.waitFor((screen) => /PID USER +INST WATCHES▼ +Δ /.test(screen) && !/FAN-/.test(screen), 'FAN-G and FAN-M hidden');
    pane.keys('F2', ...down(3), 'Enter', 'Down', 'Enter', 'Escape');
    await pane.waitFor(agentRow, 'FAN-G and FAN-M shown again');
    // ADD/s and RM/s (the 8th and 9th), hidden by default: the tracer's counts of the adder.
    // (The detail pane's heading names the selected process's rates: only the table's titles count.)
    const titles = pane
      .screen()
      .split('\n')
      .find((line) => /PID USER/.test(line));
    assert.ok(titles !== undefined && !/ADD\/s/.test(titles), titles);
    pane.keys('F2', ...down(7), 'Enter', 'Down', 'Enter', 'Escape');
    /** The ADD/s and RM/s cells of a process's row (right-aligned under their titles). */
    const cells = (screen: string, of: number) => {
      const lines = screen.split('\n');
      const header = lines.find((line) => /PID USER/.test(line)) ?? '';
      const row = lines.find((line) => new RegExp(`^ *${of} `).test(line)) ?? '';
      const cell = (title: string) => row.slice(header.indexOf(title) + title.length - 7, header.indexOf(title) + title.length).trim();
      return { adds: cell('ADD/s'), removes: cell('RM/s') };
    };
    const screen = await pane.waitFor(
      (text) => Number(cells(text, adder.pid).adds) > 0 && Number(cells(text, adder.pid).removes) > 0,
      'ADD/s and RM/s of the adder',
    );
    assert.match(screen, /ΔSTART +ADD\/s +RM\/s +LEAKED( +QUEUE)? COMMAND/);
    const { adds, removes } = cells(screen, adder.pid);
    assert.ok(Number(adds) >= Number(removes), `adds ${adds}/s, removes ${removes}/s: every other add is removed`);
    assert.deepEqual(cells(screen, agent.pid), { adds: '', removes: '' }, 'the fanotify agent made no inotify call');
  });

  test('the screen whose terminal goes away (its error on the way out included) leaves no instance', async (t) => {
    const pane = new TmuxPane([process.execPath, inotopBin, '-d', '0.5', '--pods', 'none'], { width: 120, height: 40 });
    t.after(() => pane.kill());
    await pane.waitFor(/PID USER/, 'the table');
    const pid = pane.commandPid();
    await waitFor('its trace instances', () => traceInstances().filter((n) => n.startsWith(`inotop-${pid}`)).length === 2);
    pane.kill();
    await waitFor('inotop to end', () => !existsSync(`/proc/${pid}`));
    assert.deepEqual(
      traceInstances().filter((n) => n.startsWith(`inotop-${pid}`)),
      [],
    );
  });

  /** check, run through `wrapper`, finds a nobody process whose inotify_init1 fails now at its fd limit. */
  async function checkFindsFailing(t: TestContext, wrapper: string[]): Promise<void> {
    const watcher = await victim(t, 'ino-check', ['prlimit', `--nofile=${FD_LIMIT}`, '--', ...AS_NOBODY]);
    const initsBefore = await failures(
      Array.from({ length: 5 }, () => () => watcher.init()),
      /./,
    );
    assert.equal(initsBefore, 0);
    // It keeps retrying while check runs.
    let retrying = true;
    const retries = (async () => {
      while (retrying) {
        await watcher.init().catch(() => undefined);
        // The pace of the retries, not a wait.
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    t.after(async () => {
      retrying = false;
      await retries;
    });
    // Not spawnSync: the retries need this event loop.
    const check = runInotop(
      ['check', '--pods', 'none', '--fail-on-leaked=false', '--instances-threshold=off', '--watches-threshold=off'],
      process.env,
      wrapper,
    );
    const { code } = await check.exited;
    const line = check.lines.join('\n');
    assert.equal(code, 1, line + check.stderr);
    assert.match(line, new RegExp(`^ino-check ${watcher.pid}: \\d+ EMFILE in 1 s, its fd limit of ${FD_LIMIT} \\(RLIMIT_NOFILE\\)$`));
    assert.ok(line.length <= 80);
    const noTrace = spawnSync(
      process.execPath,
      [inotopBin, 'check', '--no-trace', '--pods', 'none', '--fail-on-leaked=false', '--instances-threshold=off', '--watches-threshold=off'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(noTrace.status, 0, noTrace.stdout + noTrace.stderr);
  }

  test('check: a process failing now is the problem, with the limit it hit', async (t) => {
    await checkFindsFailing(t, []);
  });

  test('check where the kernel refuses a detached tracefs mount (fsopen ENOSYS): the helper mounts it privately, and check sees the same', async (t) => {
    if (tracefsMountpoints(readFileSync('/proc/self/mountinfo', 'utf8')).length > 0) {
      t.skip('tracefs is mounted in this mount namespace: inotop uses that mount, neither the detached one nor the helper');
      return;
    }
    if (spawnSync('strace', ['-V']).status !== 0) {
      t.skip('needs strace (Debian package strace) to refuse fsopen');
      return;
    }
    // Not the child processes (no -f): the helper's own mount(8) may use fsopen, and must be let.
    const log = join(files, 'fsopen.strace');
    await checkFindsFailing(t, ['strace', '-qq', '-o', log, '-e', 'trace=fsopen', '-e', 'inject=fsopen:error=ENOSYS']);
    // The detached mount was tried and refused, so what check saw came through the helper's mount.
    assert.match(readFileSync(log, 'utf8'), /fsopen\("tracefs", .*ENOSYS .*\(INJECTED\)/);
  });

  test('serve: inotop_syscall_failures_total counts them; SIGTERM removes the instance', async (t) => {
    const serve = runInotop(['serve', '--listen', '127.0.0.1:0', '--interval', '0.5', '--pods', 'none']);
    stopLater(t, serve);
    const port = await waitFor('the address', () => /127\.0\.0\.1:(\d+)\/metrics/.exec(serve.stderr)?.[1]);
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await waitForAsync('tracing on', async () => /\ninotop_trace_up\{[^}]*\} 1\n/.test(await metrics().catch(() => '')));
    assert.ok(traceInstances().includes(`inotop-${serve.child.pid}`));
    const watcher = await victim(t, 'ino-serve', ['prlimit', `--nofile=${FD_LIMIT}`, '--', ...AS_NOBODY]);
    assert.equal(
      await failures(
        Array.from({ length: 8 }, () => () => watcher.init()),
        /Too many open files/,
      ),
      3,
    );
    const series =
      /^inotop_syscall_failures_total\{syscall="inotify_init1",errno="EMFILE",limit="RLIMIT_NOFILE",comm="ino-serve",node="[^"]+",node_shard="\d+"\} 3$/m;
    await waitForAsync(`the series ${series}`, async () => series.test(await metrics()));
    serve.child.kill('SIGTERM');
    assert.equal((await serve.exited).code, 128 + 15, serve.stderr);
    assert.ok(!traceInstances().includes(`inotop-${serve.child.pid}`), 'removed on SIGTERM');
  });

  test('--no-trace, not root, no tracefs: one note at most, everything else as before', async (t) => {
    // Something every run must still show: a nobody process with one watch.
    const holder = await victim(t, 'ino-holder');
    await holder.watch(await holder.init(), files);
    const holds = (snapshot: Snapshot) => snapshot.processes.find((p) => p.pid === holder.pid)?.watches;
    const off = runInotop(['-b', '-n', '2', '-d', '1', '--no-trace', '--pods', 'none']);
    stopLater(t, off);
    await waitFor('the first table', () => off.lines.some((line) => /PID/.test(line)));
    assert.ok(!traceInstances().includes(`inotop-${off.child.pid}`), '--no-trace makes no instance');
    assert.equal((await off.exited).code, 0, off.stderr);

    const json = (args: string[], how: { asNobody?: boolean; env?: NodeJS.ProcessEnv } = {}) => {
      // Two refreshes: a one-shot run traces nothing (it says so: see below).
      const argv = [process.execPath, inotopBin, '--json', '-n', '2', '-d', '0.1', '--pods', 'none', ...args];
      const [command, ...rest] = how.asNobody ? [...AS_NOBODY, ...argv] : argv;
      const run = spawnSync(command!, rest, { encoding: 'utf8', env: how.env ?? process.env });
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout.split('\n')[0]!) as Snapshot; // the first: notes are said once
    };
    const traceNotes = (snapshot: Snapshot) => snapshot.notes.filter((n) => n.startsWith('failed inotify calls not traced'));

    const oneShot = spawnSync(process.execPath, [inotopBin, '--json', '--pods', 'none'], { encoding: 'utf8' });
    assert.deepEqual((JSON.parse(oneShot.stdout) as Snapshot).trace, { state: 'off', reason: 'a one-shot run: -n N, the screen or serve trace failed calls' });
    const noTrace = json(['--no-trace']);
    assert.deepEqual(noTrace.trace, { state: 'off', reason: '--no-trace' });
    assert.deepEqual(noTrace.failures, []);
    assert.deepEqual(traceNotes(noTrace), []);
    assert.equal(holds(noTrace), 1);

    const notRoot = json([], { asNobody: true });
    assert.equal(notRoot.trace?.state, 'off');
    assert.match(notRoot.trace!.reason!, /needs root/);
    assert.deepEqual(traceNotes(notRoot), [`failed inotify calls not traced: ${notRoot.trace!.reason}`]);
    assert.equal(holds(notRoot), 1);

    const noTracefs = json([], { env: { ...process.env, INOTOP_TRACEFS: '/nonexistent/tracefs' } });
    assert.deepEqual(noTracefs.trace, { state: 'off', reason: 'no tracefs at /nonexistent/tracefs (INOTOP_TRACEFS)' });
    assert.deepEqual(traceNotes(noTracefs), ['failed inotify calls not traced: no tracefs at /nonexistent/tracefs (INOTOP_TRACEFS)']);
    assert.equal(holds(noTracefs), 1);
  });
});

function waitForAsync(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  return eventually(
    async () => {
      if (!(await probe())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeoutMs, intervalMs: 100 },
  );
}
