// A one-shot scan read by two threads (src/scan/second-thread.ts) against the same scan on one,
// on the real kernel: real holders (a load of 100 processes, forks sharing an instance, an equal
// list in a distinct instance, a fanotify group), the thresholds forced low through the scanner's
// options so that a small scan is split in chunks of one pid, read by both threads. A second
// thread that dies mid-scan, or that the kernel will not start (a pids cgroup at its limit),
// leaves the result whole; a small scan with the default thresholds starts none. A thread started
// before the scan (on a node of many open files: forced here) waits for the pids, and one never
// given a scan ends with the scanner; one ended at any moment (inside koffi too) never aborts the
// process. The FileSet that tells shared instances is made where its user is at
// max_user_instances (its probe takes no instance).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { ScanResult } from '../../src/model/types.js';
import { Scanner, type ScanOptions } from '../../src/scan/index.js';
import { isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';
import { LOAD_SIZES, startLoad, type Load } from '../helpers/load.js';
import { undoAtEnd } from '../helpers/cleanup.js';
import { scanSummary } from '../helpers/scan-summary.js';
import { stopsEndNormally } from '../helpers/thread-stops.js';

const CAPPED = fileURLToPath(new URL('../helpers/scan-threads-capped.ts', import.meta.url));
const STOPS = fileURLToPath(new URL('../helpers/scan-thread-stops.ts', import.meta.url));
const AT_LIMIT = fileURLToPath(new URL('../helpers/file-set-at-limit.ts', import.meta.url));

/** Every pid a chunk of its own, the second thread started at once (however busy the CPUs) and waited for: both threads read. */
const FORCED = { afterMs: 0, leftMs: 0, maxCpuPressure: 100, chunkPids: 1, awaitStart: true };

function scanWith(options: ScanOptions): { result: ScanResult; threads: Scanner['lastThreads']; sharedBy: Scanner['lastSharedBy'] } {
  const scanner = new Scanner({ once: true, ...options });
  try {
    return { result: scanner.scan(), threads: scanner.lastThreads, sharedBy: scanner.lastSharedBy };
  } finally {
    scanner.close();
  }
}

const watchesOf = (result: ScanResult, pids: readonly number[]) =>
  result.processes
    .filter((proc) => pids.includes(proc.pid))
    .reduce((sum, proc) => sum + proc.instances.reduce((n, instance) => n + instance.watches.length, 0), 0);

describe('a one-shot scan on two threads', { skip: rootSkip }, () => {
  let load: Load;
  const watchers: Watcher[] = [];
  const ours = new Set<number>();
  let parent: Watcher;
  let equal: Watcher;
  let fanotify: Watcher;
  let heirs: number[] = [];

  before(async () => {
    if (!isRoot) return;
    load = await startLoad(LOAD_SIZES.small);
    parent = new Watcher();
    equal = new Watcher();
    fanotify = new Watcher();
    watchers.push(parent, equal, fanotify);
    const shared = await parent.init();
    for (const path of ['/etc/passwd', '/etc/hostname']) await parent.watch(shared, path);
    await parent.init(); // no watches
    // Forked one after another: pids in a row, each in a chunk of its own.
    heirs = [await parent.fork(), await parent.fork(), await parent.fork()];
    const alike = await equal.init();
    for (const path of ['/etc/passwd', '/etc/hostname']) await equal.watch(alike, path);
    await fanotify.fanotifyMarkInode(await fanotify.fanotifyInit(), '/etc/passwd');
    for (const pid of [...load.pids, parent.pid, equal.pid, fanotify.pid, ...heirs]) ours.add(pid);
  });

  after(async () => {
    for (const watcher of watchers) await watcher.stop();
    await load?.stop();
  });

  test('reads what one thread reads: the same processes in pid order, instances, watches, kcmp across a fork in other chunks, notes', () => {
    const one = scanWith({});
    const two = scanWith({ secondThread: FORCED });
    assert.equal(two.threads?.second, 'helped', JSON.stringify(two.threads));
    assert.ok(two.threads.secondPids > 0);
    assert.deepEqual(scanSummary(two.result, ours), scanSummary(one.result, ours));
    const pids = two.result.processes.map((proc) => proc.pid);
    assert.deepEqual(
      pids,
      [...pids].sort((a, b) => a - b),
    );
    // The forks' instance is one, told by kcmp, whichever thread read each holder.
    assertForksShare(two.result);
    assert.equal(two.result.processes.find((proc) => proc.pid === fanotify.pid)!.fanotifyGroups[0]!.inodeMarks.length, 1);
    assert.equal(two.result.processes.filter((proc) => load.pids.includes(proc.pid)).length, LOAD_SIZES.small.processes);
    assert.equal(watchesOf(two.result, load.pids), LOAD_SIZES.small.watches);
  });

  /** The forks' instance is one (kcmp, or the FileSet where the queues were read), whichever thread read each holder; an equal list is an instance of its own. */
  function assertForksShare(result: ScanResult): void {
    assert.equal(result.sharedDetection, 'kcmp');
    const holders = [parent.pid, ...heirs].map((pid) => result.processes.find((proc) => proc.pid === pid)!.instances[0]!);
    const sharedId = `${parent.pid}:${holders[0]!.fd}`;
    assert.deepEqual(
      holders.map((instance) => [instance.shared, instance.instanceId]),
      holders.map(() => [true, sharedId]),
    );
    const alike = result.processes.find((proc) => proc.pid === equal.pid)!.instances[0]!;
    assert.equal(alike.listKey, holders[0]!.listKey, 'an equal list');
    assert.deepEqual([alike.shared, alike.instanceId], [false, `${equal.pid}:${alike.fd}`], 'in an instance of its own');
    const group = result.processes.find((proc) => proc.pid === fanotify.pid)!.fanotifyGroups[0]!;
    assert.deepEqual([group.shared, group.instanceId], [false, `${fanotify.pid}:${group.fd}`]);
  }

  test('with the queues read, the FileSet both threads add the holders to tells the same instances apart as kcmp, on one thread and on two', () => {
    const one = scanWith({ readQueues: true });
    const two = scanWith({ secondThread: FORCED, readQueues: true });
    assert.equal(two.threads?.second, 'helped', JSON.stringify(two.threads));
    // Told by the set itself, not by kcmp's order as its fallback.
    assert.deepEqual([one.sharedBy, two.sharedBy], ['file-set', 'file-set']);
    for (const { result } of [one, two]) assertForksShare(result);
    const byKcmp = scanWith({});
    assert.equal(byKcmp.sharedBy, 'kcmp');
    assert.deepEqual(scanSummary(two.result, ours), scanSummary(byKcmp.result, ours));
  });

  test('the FileSet is made where its user may make no inotify instance more (a node at max_user_instances): its probe takes none', () => {
    // nobody: a user of its own, so that taking its every instance refuses no other process one.
    // Its temporary files (tsx's cache) in a directory of the test's, removed after.
    const temp = mkdtempSync(join(tmpdir(), 'inotop-file-set-'));
    chownSync(temp, 65534, 65534);
    let child;
    try {
      child = spawnSync(process.execPath, ['--import', 'tsx', AT_LIMIT], {
        uid: 65534,
        gid: 65534,
        env: { ...process.env, TMPDIR: temp },
        encoding: 'utf8',
        timeout: 60_000,
      });
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
    assert.equal(child.status, 0, child.stderr);
    const { taken, made } = JSON.parse(child.stdout) as { taken: number; made: true | string };
    assert.ok(taken > 0, `it took the user's instances: ${taken}`);
    assert.equal(made, true);
  });

  test("each holder's queues read by the thread that reads it: an answer for every instance and group, as one thread's", () => {
    const one = scanWith({ readQueues: true });
    const two = scanWith({ secondThread: FORCED, readQueues: true });
    assert.equal(two.threads?.second, 'helped', JSON.stringify(two.threads));
    const itemsOf = (result: ScanResult) =>
      result.processes.flatMap((proc) => [...proc.instances, ...proc.fanotifyGroups].map((item) => `${proc.pid}:${item.fd}`)).sort();
    assert.deepEqual([...two.result.queued!.keys()].sort(), itemsOf(two.result));
    // Our holders' readers keep up (their bytes come and go): read, not refused, on either thread.
    const ourKeys = (result: ScanResult) => [...result.queued!].filter(([key, bytes]) => ours.has(Number(key.split(':')[0])) && bytes >= 0).map(([key]) => key);
    assert.deepEqual(ourKeys(two.result).sort(), ourKeys(one.result).sort());
    assert.equal(ourKeys(two.result).length, itemsOf(two.result).filter((key) => ours.has(Number(key.split(':')[0]))).length);
  });

  test('a second thread started as the scanner is made (a node of many open files) waits for the pids, then reads what one thread reads', () => {
    const one = scanWith({});
    // However few files this machine holds open: the early start forced, not the size of the scan.
    const two = scanWith({ secondThread: { ...FORCED, earlyOpenFiles: 0 } });
    assert.equal(two.threads?.early, true, JSON.stringify(two.threads));
    assert.equal(two.threads.second, 'helped', JSON.stringify(two.threads));
    assert.deepEqual(scanSummary(two.result, ours), scanSummary(one.result, ours));
    assert.equal(watchesOf(two.result, load.pids), LOAD_SIZES.small.watches);
  });

  test('a second thread started early and never given a scan ends with the scanner', async () => {
    const scanner = new Scanner({ once: true, secondThread: { ...FORCED, earlyOpenFiles: 0 } });
    const threads = () => readdirSync('/proc/self/task').length;
    const started = threads();
    scanner.close();
    // Node joins an ended worker's thread as it goes.
    for (let waited = 0; threads() >= started && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(threads() < started, `${threads()} threads, ${started} with the worker`);
  });

  test('a second thread that dies mid-scan leaves its chunks to the main thread: the result is whole', () => {
    const one = scanWith({});
    const two = scanWith({ secondThread: { ...FORCED, dieAfterPids: 5 } });
    assert.equal(two.threads?.second, 'failed');
    assert.match(two.threads.failure ?? '', /^died: .*dies after 5 pids/);
    assert.deepEqual(scanSummary(two.result, ours), scanSummary(one.result, ours));
    assert.equal(watchesOf(two.result, load.pids), LOAD_SIZES.small.watches);
  });

  test('a second thread the kernel will not start (a pids cgroup at its limit) leaves the result whole', (t) => {
    const cgroup = pidsCgroup(t);
    if (!cgroup) return;
    // A process of its own: the cap holds for all its threads.
    const child = spawnSync(process.execPath, ['--import', 'tsx', CAPPED, cgroup, [...ours].join(',')], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      timeout: 60_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const { one, two, threads } = JSON.parse(child.stdout) as { one: unknown; two: unknown; threads: Scanner['lastThreads'] };
    assert.equal(threads?.second, 'failed');
    assert.match(threads.failure ?? '', /^cannot start: EAGAIN/);
    assert.deepEqual(two, one);
    assert.equal((two as ReturnType<typeof scanSummary>).processes.length, ours.size);
  });
});

describe('a small one-shot', { skip: rootSkip }, () => {
  test('with the default thresholds of size starts no second thread, however free the CPUs', async () => {
    // An idle node's few holders, as the bench's start-up is measured under.
    const load = await startLoad(LOAD_SIZES.idle);
    try {
      // The early start is judged by the machine's open files, not by this load: off here.
      const { result, threads } = scanWith({ secondThread: { maxCpuPressure: 100, earlyOpenFiles: Number.POSITIVE_INFINITY } });
      assert.equal(threads?.second, 'none', `${result.durationMs} ms: ${JSON.stringify(threads)}`);
    } finally {
      await load.stop();
    }
  });
});

describe('a second thread ended by the main thread', () => {
  test('at any moment of its start or its reading (as it loads koffi, inside a call of it) leaves the process to end normally', () => {
    // Each run stops 30 threads, 0–180 ms after each is asked for (0–18 ms after one begins to
    // read): ended by terminate() inside koffi, most runs aborted (exit 134).
    for (let run = 0; run < 3; run++) assert.deepEqual(stopsEndNormally(STOPS, ['10', '20'], `run ${run}`).lines, ['30']);
  });
});

/** A pids cgroup (v1, or v2 with the controller on) of this test's, removed at its end; null, the test skipped, where there is none. */
function pidsCgroup(t: TestContext): string | null {
  const v1 = '/sys/fs/cgroup/pids';
  const v2 = '/sys/fs/cgroup';
  const root = existsSync(`${v1}/cgroup.procs`)
    ? v1
    : existsSync(`${v2}/cgroup.controllers`) && readFileSync(`${v2}/cgroup.controllers`, 'utf8').includes('pids')
      ? v2
      : null;
  if (!root) {
    t.skip('no pids cgroup controller here');
    return null;
  }
  if (root === v2) writeFileSync(`${v2}/cgroup.subtree_control`, '+pids');
  const dir = `${root}/inotop-test-${process.pid}`;
  mkdirSync(dir);
  // The child has exited: the cgroup is empty.
  undoAtEnd(t, () => rmdirSync(dir));
  return dir;
}
