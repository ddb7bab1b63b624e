// fanotify permission waits against the real kernel (root): a holder with a FAN_OPEN_PERM mount
// mark on a tmpfs that never answers, and three processes opening a file there, which sleep in
// state D until it does. inotop finds each, times their waits across refreshes, names the holder
// in JSON, -b, check, serve and the screen, and never waits itself: a serve whose own files are
// on a marked mount keeps serving while a new start from there waits like any other process.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Snapshot } from '../../src/model/types.js';
import { isPermissionWaitFunction } from '../../src/scan/waits.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { liveCollector } from '../helpers/tracing.js';
import { eventually } from '../helpers/eventually.js';
import { isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';
import { SCRAPES, freePort, start, text } from '../helpers/prometheus.js';
import { TmuxPane } from '../helpers/tmux.js';

const FAN_OPEN_PERM = 0x10000;

/** Whether a process sleeps in a permission wait, as the test reads /proc itself. */
function waitsForPermission(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'D' && isPermissionWaitFunction(readFileSync(`/proc/${pid}/wchan`, 'utf8'));
}

async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('fanotify permission waits on the real kernel', { skip: rootSkip }, () => {
  let dir: string;
  let file: string;
  let holder: Watcher;
  let group: number;
  const waiters: ChildProcess[] = [];

  before(async () => {
    if (!isRoot) return;
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-perm-'));
    execFileSync('mount', ['-t', 'tmpfs', 'inotop-perm', dir]);
    file = join(dir, 'scanned me');
    writeFileSync(file, 'content\n');
    holder = new Watcher();
    await holder.comm('ino-perm-holder');
    group = await holder.send('faninitperm'); // never read, never answered
    await holder.send(`fanpermmount ${group} ${dir}`);
    for (let i = 0; i < 3; i++) waiters.push(spawn('cat', [file], { stdio: ['ignore', 'pipe', 'ignore'] }));
    await eventually(() =>
      assert.ok(
        waiters.every((waiter) => waitsForPermission(waiter.pid!)),
        'the three openers wait',
      ),
    );
  });

  after(async () => {
    if (!isRoot) return;
    await holder?.stop();
    for (const waiter of waiters) if (waiter.exitCode === null && waiter.signalCode === null) waiter.kill('SIGKILL');
    spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  test('each waiter is listed, waiting at least 1 s by the second refresh; the holder is in groups', async () => {
    const collector = liveCollector();
    await collector.start();
    try {
      const first = collector.collect('none').permissionWaits!;
      const pids = waiters.map((waiter) => waiter.pid!).sort((a, b) => a - b);
      assert.deepEqual(
        first.processes
          .map((waiter) => waiter.pid)
          .filter((pid) => pids.includes(pid))
          .sort((a, b) => a - b),
        pids,
      );
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const second = collector.collect('none');
      const waits = second.permissionWaits!;
      for (const pid of pids) {
        const waiter = waits.processes.find((candidate) => candidate.pid === pid);
        assert.ok(waiter, `pid ${pid} waits`);
        assert.ok(waiter.waitingSeconds >= 1, `pid ${pid} has waited ${waiter.waitingSeconds} s`);
        assert.deepEqual([waiter.comm, waiter.syscall, waiter.path, waiter.threads, waiter.heldBy], ['cat', 'openat', null, 1, [holder.pid]]);
      }
      const held = waits.groups.find((candidate) => candidate.pid === holder.pid);
      assert.deepEqual(held, {
        pid: holder.pid,
        comm: 'ino-perm-holder',
        fd: group,
        marks: [{ markType: 'mount', path: dir, mask: FAN_OPEN_PERM }],
        mask: FAN_OPEN_PERM,
        waiters: 3,
      });
      assert.equal(waits.incomplete, null);
      // Its three permission events wait unread in its queue: 24 bytes each.
      const queue = second.processes.find((row) => row.pid === holder.pid)!.fanotifyFds!.find((fd) => fd.fd === group)!;
      assert.deepEqual([queue.queuedBytes, await holder.send(`fionread ${group}`)], [72, 72]);
    } finally {
      collector.stop();
    }
  });

  test('check exits 1 naming the holder', () => {
    const run = spawnSync(process.execPath, [inotopBin, 'check', '--pods', 'none', '--no-trace', '--fail-on-leaked=false', '--fail-on-queues=false'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`^BLOCKED on fanotify answers of ino-perm-holder ${holder.pid}: 3 waiting, oldest 1 s$`, 'm'));
  });

  test('-b says it: the verdict with the mark, the waiters, BLOCKING on the holder', () => {
    const run = spawnSync(process.execPath, [inotopBin, '-b', '-n', '2', '-d', '1.1', '--pods', 'none', '--no-trace'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const second = run.stdout.split(/^inotop - /m).at(-1)!;
    assert.match(
      second,
      new RegExp(
        `^BLOCKED 3 processes wait for fanotify permission answers from ino-perm-holder ${holder.pid} \\(FAN_OPEN_PERM on ${dir}\\), the oldest 1 s$`,
        'm',
      ),
    );
    const pids = waiters.map((waiter) => `cat ${waiter.pid} \\(openat\\)`);
    assert.match(second, new RegExp(`^WAITING ${pids.join(', ')}, in D up to 1 s`, 'm'));
    assert.match(second, new RegExp(`^ *${holder.pid} +root .* BLOCKING /`, 'm'));
    const first = run.stdout.split(/^inotop - /m)[1]!;
    assert.doesNotMatch(first, /^BLOCKED/m, 'a wait seen once is not yet called stuck');
    assert.match(
      first,
      new RegExp(
        `^note: 3 processes wait for fanotify permission answers at this refresh \\(ino-perm-holder ${holder.pid}\\): a second refresh tells whether they last \\(-n 2\\)$`,
        'm',
      ),
    );
  });

  test('serve: the waiters, the oldest wait and the holder', async (t: TestContext) => {
    const port = await freePort();
    start(t, process.execPath, [inotopBin, 'serve', '--listen', `127.0.0.1:${port}`, '--interval', '0.5', '--pods', 'none', '--no-trace']);
    const metrics = await eventually(async () => {
      const body = await text(`http://127.0.0.1:${port}/metrics`);
      assert.match(body, /^inotop_permission_wait_oldest_seconds\{[^}]*\} [1-9]/m);
      return body;
    }, SCRAPES);
    assert.match(metrics, /^inotop_permission_waiters\{[^}]*\} 3$/m);
    // The holder by command and pod, never its pid or fd.
    assert.match(metrics, /^inotop_permission_group_waiters\{comm="ino-perm-holder",pod_namespace="",pod_name=""[^}]*\} 3$/m);
  });

  test('the screen: the verdict leads, the alert names the waiters, the holder says BLOCKING', async (t: TestContext) => {
    // The holder's row by -p: sorted by watches (it has none), it would be below the table's last
    // row on a machine where enough other processes hold watches (a load, a desktop). The verdict
    // and the alert are the node's whatever the filter.
    const pane = new TmuxPane([process.execPath, inotopBin, '-d', '0.5', '--pods', 'none', '--no-trace', '-p', String(holder.pid)], {
      width: 160,
      height: 40,
    });
    t.after(() => pane.kill());
    const screen = await pane.waitFor(/^BLOCKED 3 processes wait/m, 'the verdict');
    assert.match(
      screen,
      new RegExp(`^BLOCKED 3 processes wait for fanotify permission answers from ino-perm-holder ${holder.pid} \\(FAN_OPEN_PERM on ${dir}\\)`, 'm'),
    );
    assert.match(screen, /^WAITING cat \d+ \(openat\), cat \d+ \(openat\), cat \d+ \(openat\), in D up to \d+ s/m);
    assert.match(screen, new RegExp(`^ *${holder.pid} +root .*BLOCKING `, 'm'));
  });

  test('clean-up: once the holder is gone, every waiter goes on and reads the file', async () => {
    await holder.stop();
    const codes = await Promise.all(waiters.map(exited));
    assert.deepEqual(codes, [0, 0, 0]);
  });
});

describe("inotop's own files on a marked mount", { skip: rootSkip }, () => {
  test('a running serve keeps serving; a new start from there waits for the answer, like any process, and goes on once the holder is gone', async (t: TestContext) => {
    ensureBuilt();
    const repo = dirname(dirname(inotopBin));
    const mountpoint = mkdtempSync(join(tmpdir(), 'inotop-own-'));
    // A private mount namespace of the holder's: the bind mount of the checkout, and its mark, are seen by nobody else.
    const holder = new Watcher({ wrapper: ['unshare', '--mount', '--propagation', 'private'] });
    t.after(async () => {
      await holder.stop();
      rmSync(mountpoint, { recursive: true, force: true });
    });
    await holder.comm('ino-own-holder'); // answered by inowatch: unshare has exec'd it
    const inHolderNs = (args: string[]): [string, string[]] => ['nsenter', ['-t', String(holder.pid), '-m', '--', ...args]];
    execFileSync(...inHolderNs(['mount', '--bind', repo, mountpoint]));
    const group = await holder.send('faninitperm');
    await holder.send(`fanpermmount ${group} ${mountpoint}`);
    await holder.send(`fananswer ${group}`); // answers, for now: serve starts
    const bin = join(mountpoint, relative(repo, inotopBin));
    const port = await freePort();
    start(t, ...inHolderNs([process.execPath, bin, 'serve', '--listen', `127.0.0.1:${port}`, '--interval', '0.5', '--pods', 'none', '--no-trace']));
    const lastScan = async () => {
      const body = await text(`http://127.0.0.1:${port}/metrics`);
      return Number(/^inotop_last_scan_timestamp_seconds\{[^}]*\} (\S+)$/m.exec(body)?.[1]);
    };
    await eventually(async () => assert.ok((await lastScan()) > 0), SCRAPES);

    await holder.hold(group); // from now on nothing is read, nothing answered
    const newStart = spawn(...inHolderNs([process.execPath, bin, '--json', '--pods', 'none', '--no-trace']), { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => newStart.kill('SIGKILL'));
    let output = '';
    newStart.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // nsenter execs node: it waits opening its own script on the marked mount.
    await eventually(() => assert.ok(waitsForPermission(newStart.pid!), 'the new start waits'), { timeoutMs: 10_000 });
    // The running serve reads only /proc (and what it loaded at start): it scans on, and counts the new start among the waiters.
    const before = await lastScan();
    await eventually(async () => assert.ok((await lastScan()) > before + 0.9, 'scans go on'), SCRAPES);
    const body = await text(`http://127.0.0.1:${port}/metrics`);
    assert.match(body, /^inotop_permission_waiters\{[^}]*\} [1-9]/m);
    assert.equal(newStart.exitCode, null, 'the new start still waits');

    await holder.stop(); // the group closes: the kernel lets every waiting open through
    assert.equal(await exited(newStart), 0);
    assert.equal((JSON.parse(output) as Snapshot).schema, 1);
  });
});
