// A process whose main thread has exited (pthread_exit) while another thread runs on, on the real
// kernel: its /proc/PID/fd lists nothing (the main thread's fd table went with it), yet its other
// thread holds the fds (/proc/PID/task/TID/fd). The scan reads them through that thread, under the
// process's pid: its instances and watches counted, its shared ones told by kcmp and by the
// FileSet (through the thread: the pid's fd table is gone), its queues read (a pidfd of the
// thread), its row filled from the thread where the main thread's files read empty (cmdline, the
// mount namespace). Before, such a process was not listed at all, in a scan that said it was
// complete: `check` said ok over a queue that did not drain.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ScannedProcess, ScanResult, Snapshot } from '../../src/model/types.js';
import { Scanner, type ScanOptions } from '../../src/scan/index.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';

/** Every pid a chunk of its own, the second thread started at once and waited for: both threads read (as scan-threads.test.ts). */
const FORCED = { afterMs: 0, leftMs: 0, maxCpuPressure: 100, chunkPids: 1, awaitStart: true };

/** The inotify fds of a task directory (/proc/PID or /proc/PID/task/TID) and their watches, read the plain way. */
function kernelCount(at: string): Map<number, number> {
  const fds = new Map<number, number>();
  for (const name of readdirSync(`${at}/fd`)) {
    if (readlinkSync(`${at}/fd/${name}`) !== 'anon_inode:inotify') continue;
    const lines = readFileSync(`${at}/fdinfo/${name}`, 'utf8').split('\n');
    fds.set(Number(name), lines.filter((line) => line.startsWith('inotify ')).length);
  }
  return new Map([...fds].sort(([a], [b]) => a - b));
}

function runInotop(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('a process whose main thread has exited while another runs', { skip: rootSkip }, () => {
  let dir: string;
  let leaderless: Watcher;
  let tid: number;
  let child: number;
  /** Its instances: a, b made by the main thread; d by the thread after it, shared with the child; c (held: its events stay) and e made after the fork, its own. */
  const fd = { a: 0, b: 0, c: 0, d: 0, e: 0 };

  before(async () => {
    if (!isRoot) return;
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-leaderless-'));
    const [one, two] = [join(dir, 'one'), join(dir, 'two')];
    writeFileSync(one, '1');
    writeFileSync(two, '2');
    leaderless = new Watcher();
    await leaderless.comm('ino-leaderless');
    fd.a = await leaderless.init();
    await leaderless.watch(fd.a, dir);
    await leaderless.watch(fd.a, one);
    fd.b = await leaderless.init();
    tid = await leaderless.send('leaderexit');
    fd.d = await leaderless.init();
    await leaderless.watch(fd.d, one);
    child = await leaderless.fork();
    fd.c = await leaderless.init();
    await leaderless.hold(fd.c);
    await leaderless.watch(fd.c, two);
    fd.e = await leaderless.init();
    await leaderless.watch(fd.e, dir);
    writeFileSync(two, 'events for c, which holds them');
  });

  after(async () => {
    if (!isRoot) return;
    await leaderless.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The scan's row of the process, and of its child. */
  function rowsOf(result: ScanResult): { proc: ScannedProcess; kid: ScannedProcess } {
    const proc = result.processes.find((p) => p.pid === leaderless.pid);
    const kid = result.processes.find((p) => p.pid === child);
    assert.ok(proc && kid, `both listed: ${result.processes.map((p) => p.pid).join(' ')}`);
    return { proc, kid };
  }

  /** Its instances as [fd, watches, shared] and the child's instance ids, beside the ids of the process's shared ones. */
  function assertCounted(result: ScanResult): void {
    const { proc, kid } = rowsOf(result);
    assert.equal(proc.fdThread, tid);
    assert.deepEqual(
      proc.instances.map((i) => [i.fd, i.watches.length, i.shared]),
      [
        [fd.a, 2, true],
        [fd.b, 0, true],
        [fd.d, 1, true],
        [fd.c, 1, false],
        [fd.e, 1, false],
      ],
    );
    // The child's are the process's own: one id each, the first holder's (the process, read through its thread).
    assert.deepEqual(
      kid.instances.map((i) => [i.fd, i.instanceId, i.shared]),
      [fd.a, fd.b, fd.d].map((n) => [n, `${leaderless.pid}:${n}`, true]),
    );
    assert.equal(kid.fdThread, undefined);
  }

  test('as the kernel has it: /proc/PID/fd lists nothing, the thread holds the fds', () => {
    assert.deepEqual(readdirSync(`/proc/${leaderless.pid}/fd`), []);
    assert.match(readFileSync(`/proc/${leaderless.pid}/stat`, 'utf8'), /\) Z /, 'its main thread is a zombie');
    assert.equal(statSync(`/proc/${leaderless.pid}/task`).nlink, 4, 'two tasks: the main thread and the one serving');
    assert.equal(readFileSync(`/proc/${leaderless.pid}/cmdline`, 'utf8'), '', 'its mm went with the main thread');
    assert.deepEqual(
      [...kernelCount(`/proc/${leaderless.pid}/task/${tid}`)],
      [
        [fd.a, 2],
        [fd.b, 0],
        [fd.d, 1],
        [fd.c, 1],
        [fd.e, 1],
      ],
    );
  });

  test('a scan counts its instances and watches under its pid, scan after scan; its row is filled from the thread', () => {
    const scanner = new Scanner();
    try {
      for (let round = 0; round < 2; round++) {
        const result = scanner.scan();
        assertCounted(result);
        const { proc } = rowsOf(result);
        assert.equal(proc.comm, 'ino-leaderless');
        assert.match(proc.cmdline, /inowatch$/, 'the cmdline of the thread (the mm they shared)');
        assert.equal(proc.mntns, /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/mnt'))![1], 'the mount namespace, read through the thread');
        assert.notEqual(proc.userns, null);
        assert.ok(proc.cgroups.length > 0);
        assert.equal(proc.ppid, process.pid);
      }
    } finally {
      scanner.close();
    }
  });

  for (const [name, options, sharedBy] of [
    ['a one-shot orders by kcmp through the thread', { once: true }, 'kcmp'],
    ['a one-shot that reads queues tells shared ones by its FileSet, the fds taken through the thread', { once: true, readQueues: true }, 'file-set'],
    ['a one-shot on two threads merges their orders by kcmp through the thread', { once: true, secondThread: FORCED }, 'kcmp'],
    ['a one-shot on two threads that reads queues, by the FileSet', { once: true, secondThread: FORCED, readQueues: true }, 'file-set'],
  ] as [string, ScanOptions, string][]) {
    test(name, () => {
      const scanner = new Scanner(options);
      try {
        const result = scanner.scan();
        assert.equal(scanner.lastSharedBy, sharedBy);
        if (options.secondThread) assert.equal(scanner.lastThreads?.second, 'helped', JSON.stringify(scanner.lastThreads));
        assertCounted(result);
        if (options.readQueues) {
          assert.ok((result.queued?.get(`${leaderless.pid}:${fd.c}`) ?? 0) > 0, 'the held queue, read through a pidfd of the thread');
          assert.equal(result.queued?.get(`${leaderless.pid}:${fd.e}`), 0);
        }
      } finally {
        scanner.close();
      }
    });
  }

  test('inotop --json over three refreshes: its row, its fds, the held queue not draining; -b; check names it', () => {
    const lines = runInotop(['--json', '-n', '3', '-d', '0.3', '--pods', 'none', '--no-trace', '-p', String(leaderless.pid)])
      .stdout.trim()
      .split('\n');
    assert.equal(lines.length, 3);
    const json = JSON.parse(lines[2]!) as Snapshot;
    assert.equal(json.scan.complete, true);
    const row = json.processes.find((p) => p.pid === leaderless.pid);
    assert.ok(row, lines[2]);
    assert.deepEqual([row.comm, row.instances, row.watches], ['ino-leaderless', 5, 5]);
    assert.deepEqual(
      row.fds.map((f) => [f.fd, f.watches, f.shared, f.queueState]),
      [
        [fd.a, 2, true, 'empty'],
        [fd.b, 0, true, 'empty'],
        [fd.d, 1, true, 'empty'],
        [fd.c, 1, false, 'not draining'],
        [fd.e, 1, false, 'empty'],
      ],
    );
    assert.ok((row.fds.find((f) => f.fd === fd.c)!.queuedBytes ?? 0) > 0);

    const batch = runInotop(['-b', '--pods', 'none', '--no-trace', '-p', String(leaderless.pid)]);
    assert.equal(batch.status, 0, batch.stderr);
    assert.match(batch.stdout, new RegExp(`^ *${leaderless.pid} +root +5 +5 `, 'm'));

    const check = runInotop(['check', '--pods', 'none', '--no-trace', '--instances-threshold=off', '--watches-threshold=off', '--fail-on-leaked=false']);
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`^ino-leaderless ${leaderless.pid}: inotify queue not draining`, 'm'));
  });
});
