// Event queues against the real kernel (root): a watcher that never reads, one that keeps up, an
// instance made under a low fs.inotify.max_queued_events and overflowed, a fanotify group with
// unread events, and inotop under a seccomp filter that refuses pidfd_getfd. Each queue's bytes
// are compared with the FIONREAD its own process takes on the same fd; then --json, -b, check
// and serve are looked at.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { scan, Scanner } from '../../src/scan/index.js';
import { QueueReader, queueKey } from '../../src/scan/queues.js';
import { readlinkOrNull } from '../../src/scan/procfs.js';
import { COPIES_HELD, queueCalls } from '../../src/sys/queues.js';
import { ERRNO } from '../../src/sys/errno.js';
import type { FdRow, ProcessRow, Snapshot } from '../../src/model/types.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { liveCollector } from '../helpers/tracing.js';
import { eventually } from '../helpers/eventually.js';
import { inowatchBinary, isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';
import { SCRAPES, servedPort, start, text } from '../helpers/prometheus.js';

const MAX_QUEUED_EVENTS = '/proc/sys/fs/inotify/max_queued_events';
const SYSCALL_PIDFD_GETFD = 438;

/** Files made in `dir`: each is IN_CREATE, IN_OPEN, IN_MODIFY and IN_CLOSE_WRITE for a watcher of dir. */
function makeFiles(dir: string, prefix: string, count: number): void {
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `${prefix}${i}`), 'x');
}

function rowOf(snapshot: Snapshot, pid: number): ProcessRow {
  const row = snapshot.processes.find((candidate) => candidate.pid === pid);
  assert.ok(row, `pid ${pid} is listed`);
  return row;
}

function fdOf(snapshot: Snapshot, pid: number, fd: number): FdRow {
  const row = rowOf(snapshot, pid).fds.find((candidate) => candidate.fd === fd);
  assert.ok(row, `pid ${pid} fd ${fd} is listed`);
  return row;
}

function runInotop(args: string[], wrapper: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const [command, ...rest] = [...wrapper, process.execPath, inotopBin, ...args];
  return spawnSync(command!, rest, { encoding: 'utf8', timeout: 60_000 });
}

describe('event queues on the real kernel', { skip: rootSkip }, () => {
  let dir: string;
  let stalled: Watcher; // an instance that is never read
  let stalledFd: number;
  let stalledChild: number;
  const watchers: Watcher[] = [];

  before(async () => {
    if (!isRoot) return;
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-queues-'));
    execFileSync('mount', ['-t', 'tmpfs', 'inotop-queues', dir]);
    stalled = new Watcher();
    watchers.push(stalled);
    await stalled.comm('ino-stalled');
    stalledFd = await stalled.init();
    await stalled.hold(stalledFd); // a reader that stopped reading
    execFileSync('mkdir', [join(dir, 'stalled')]);
    await stalled.watch(stalledFd, join(dir, 'stalled'));
    makeFiles(join(dir, 'stalled'), 'f', 100);
    stalledChild = await stalled.fork(); // shares the instance: one queue in two processes
  });

  after(async () => {
    if (!isRoot) return;
    await Promise.all(watchers.map((watcher) => watcher.stop()));
    spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  test('a watcher that never reads: its bytes are its own FIONREAD on the fd; pending, then not draining at the third refresh', async () => {
    const collector = liveCollector();
    await collector.start();
    try {
      const states: string[] = [];
      for (let refresh = 0; refresh < 3; refresh++) {
        const snapshot = collector.collect('none');
        const fd = fdOf(snapshot, stalled.pid, stalledFd);
        const own = await stalled.send(`fionread ${stalledFd}`);
        assert.ok(own > 0, 'events are queued');
        assert.equal(fd.queuedBytes, own, "inotop's reading is the watcher's own FIONREAD");
        assert.equal(rowOf(snapshot, stalled.pid).queuedBytes, own, 'the process sums its queues');
        assert.deepEqual(
          [fdOf(snapshot, stalledChild, stalledFd).queuedBytes, fdOf(snapshot, stalledChild, stalledFd).instance],
          [own, fd.instance],
          'shared: the same queue',
        );
        states.push(fd.queueState!);
      }
      assert.deepEqual(states, ['pending', 'pending', 'not draining']);
      const shared = scan().processes.filter((proc) => proc.pid === stalled.pid || proc.pid === stalledChild);
      assert.equal(shared.length, 2);
      assert.equal(new QueueReader(true).read(shared).bytes.size, 1, 'a shared instance (kcmp) is read once');
    } finally {
      collector.stop();
    }
  });

  test("a one-shot scan that reads each holder's queues as it reads it: the watcher's own FIONREAD; the reader takes them as its own calls' answers", async () => {
    const scanner = new Scanner({ once: true, readQueues: true });
    try {
      const result = scanner.scan();
      const own = await stalled.send(`fionread ${stalledFd}`);
      assert.ok(own > 0);
      assert.deepEqual(
        [stalled.pid, stalledChild].map((pid) => result.queued?.get(`${pid}:${stalledFd}`)),
        [own, own],
        'each holder of the shared instance answers its bytes',
      );
      const items = result.processes.reduce((sum, proc) => sum + proc.instances.length + proc.fanotifyGroups.length, 0);
      assert.equal(result.queued?.size, items, 'an answer for every instance and group read');
      const holders = result.processes.filter((proc) => proc.pid === stalled.pid || proc.pid === stalledChild);
      assert.deepEqual(new QueueReader(true).read(holders, undefined, result.queued), new QueueReader(true).read(holders));
    } finally {
      scanner.close();
    }
  });

  test('a reader that keeps up: empty at every refresh, though events keep coming', async () => {
    const reader = new Watcher();
    watchers.push(reader);
    const fd = await reader.init(); // read as its events come
    execFileSync('mkdir', [join(dir, 'read')]);
    await reader.watch(fd, join(dir, 'read'));
    const collector = liveCollector();
    await collector.start();
    try {
      for (let refresh = 0; refresh < 3; refresh++) {
        makeFiles(join(dir, 'read'), `r${refresh}-`, 50);
        await eventually(async () => assert.equal(await reader.send(`fionread ${fd}`), 0, 'the reader has read them'));
        const queue = fdOf(collector.collect('none'), reader.pid, fd);
        assert.deepEqual([queue.queuedBytes, queue.queueState], [0, 'empty']);
      }
    } finally {
      collector.stop();
    }
  });

  test('an instance made under a low max_queued_events and overflowed: may be full; judged against the sysctl as it is now', async () => {
    const original = readFileSync(MAX_QUEUED_EVENTS, 'utf8').trim();
    const collector = liveCollector();
    try {
      writeFileSync(MAX_QUEUED_EVENTS, '100\n');
      const overflowed = new Watcher();
      watchers.push(overflowed);
      const fd = await overflowed.init(); // its group keeps 100 as its limit
      await overflowed.hold(fd);
      execFileSync('mkdir', [join(dir, 'overflow')]);
      await overflowed.watch(fd, join(dir, 'overflow'));
      makeFiles(join(dir, 'overflow'), 'o', 60); // 240 events of 32 bytes: 100 kept, then IN_Q_OVERFLOW
      const own = await overflowed.send(`fionread ${fd}`);
      assert.equal(own, 100 * 32 + 16, '100 events and the overflow event');
      await collector.start();
      const queue = fdOf(collector.collect('none'), overflowed.pid, fd);
      assert.deepEqual([queue.queuedBytes, queue.queueState], [own, 'may be full'], '3,216 bytes ≥ 16 × 100');
      // What inotop cannot tell: the group keeps its limit of 100, but the sysctl is all it sees.
      writeFileSync(MAX_QUEUED_EVENTS, `${original}\n`);
      const later = collector.collect('none');
      assert.notEqual(fdOf(later, overflowed.pid, fd).queueState, 'may be full');
      assert.ok(
        later.notes.some((note) => note.startsWith(`fs.inotify.max_queued_events changed from 100 to ${original}`)),
        later.notes.join('\n'),
      );
    } finally {
      writeFileSync(MAX_QUEUED_EVENTS, `${original}\n`);
      collector.stop();
    }
    assert.equal(readFileSync(MAX_QUEUED_EVENTS, 'utf8').trim(), original);
  });

  test('a fanotify notification group with unread events: its bytes, 24 per event', async () => {
    const holder = new Watcher();
    watchers.push(holder);
    const group = await holder.fanotifyInit();
    await holder.hold(group);
    await holder.fanotifyMarkMount(group, dir);
    makeFiles(dir, 'fan', 10); // FAN_OPEN and FAN_CLOSE_WRITE of one file by one process merge: one event each
    const own = await holder.send(`fionread ${group}`);
    assert.equal(own, 10 * 24);
    const collector = liveCollector();
    await collector.start();
    try {
      const row = rowOf(collector.collect('none'), holder.pid);
      assert.deepEqual(
        row.fanotifyFds?.map((fd) => [fd.fd, fd.queuedBytes, fd.queueState]),
        [[group, own, 'pending']],
      );
      assert.equal(row.queuedBytes, own);
    } finally {
      collector.stop();
    }
  });

  test('past its budget, a refresh leaves the rest unread (null, with a note) and the next goes on from there', async () => {
    const many = Array.from({ length: 10 }, () => new Watcher());
    watchers.push(...many);
    for (const watcher of many) await watcher.init();
    const pids = new Set(many.map((watcher) => watcher.pid));
    const ours = scan().processes.filter((proc) => pids.has(proc.pid));
    assert.equal(ours.length, 10);
    const reader = new QueueReader(true);
    const readPids = (bytes: Map<string, number | null>) =>
      ours.filter((proc) => bytes.get(queueKey(proc.instances[0]!.instanceId, new Map(ours.map((p) => [p.pid, p])))) !== null).map((proc) => proc.pid);
    const first = reader.read(ours, 0); // the budget is looked at after 8 processes
    assert.deepEqual(
      readPids(first.bytes),
      ours.slice(0, 8).map((proc) => proc.pid),
    );
    assert.deepEqual(first.notes, [
      'event queues of 2 instances not read at this refresh (queuedBytes null): past its 0 ms budget for them; the next refresh goes on from there',
    ]);
    const second = reader.read(ours, 0);
    assert.deepEqual(
      readPids(second.bytes),
      [...ours.slice(0, 6), ...ours.slice(8)].map((proc) => proc.pid),
      'the two left, then from the start',
    );
    assert.equal(reader.read(ours).notes.length, 0, 'within the default budget: every one');
  });

  test('a pidfd per holder is kept for the next refreshes, and let go once the holder is gone', async () => {
    const pair = [new Watcher(), new Watcher()];
    watchers.push(...pair);
    for (const watcher of pair) await watcher.init();
    const pids = new Set(pair.map((watcher) => watcher.pid));
    const ours = scan().processes.filter((proc) => pids.has(proc.pid));
    assert.equal(ours.length, 2);
    const keyOf = (proc: (typeof ours)[number]) => queueKey(proc.instances[0]!.instanceId, new Map(ours.map((p) => [p.pid, p])));
    const pidfds = () => readdirSync('/proc/self/fd').filter((fd) => readlinkOrNull(`/proc/self/fd/${fd}`) === 'anon_inode:[pidfd]').length;
    const reader = new QueueReader(true);
    const before = pidfds();
    try {
      assert.equal(reader.read(ours).bytes.get(keyOf(ours[0]!)), 0);
      assert.equal(pidfds(), before + 2, 'one kept per holder');
      assert.equal(reader.read(ours).bytes.get(keyOf(ours[1]!)), 0, 'read through the kept one');
      assert.equal(pidfds(), before + 2, 'the next refresh opens none');
      await pair[0]!.stop();
      // A scan that has not seen it go yet: its kept pidfd answers ESRCH, and no new one opens.
      const gone = reader.read(ours);
      assert.equal(gone.bytes.get(keyOf(ours[0]!)), null, 'gone: not read, never 0');
      assert.equal(gone.bytes.get(keyOf(ours[1]!)), 0);
      assert.equal(pidfds(), before + 1, "the gone one's pidfd is let go");
      reader.read(ours.slice(1));
      assert.equal(pidfds(), before + 1);
    } finally {
      reader.close();
    }
    assert.equal(pidfds(), before, 'close() lets every one go');
  });

  test('duplicates held for one close_range: never more than COPIES_HELD open, all closed after, fds opened between them left open', async () => {
    const calls = queueCalls();
    assert.ok(calls.ok);
    const { queuedBytesHeld, closeCopies, openPid, closeFd } = calls.value;
    const inotifyFds = () => readdirSync('/proc/self/fd').filter((fd) => readlinkOrNull(`/proc/self/fd/${fd}`) === 'anon_inode:inotify').length;
    const own = await stalled.send(`fionread ${stalledFd}`);
    const before = inotifyFds();
    const pidfd = openPid(stalled.pid);
    assert.ok(pidfd >= 0);
    const opened: number[] = [];
    try {
      for (let i = 0; i < COPIES_HELD + 5; i++) {
        assert.equal(queuedBytesHeld(pidfd, stalledFd), own, "each reading is the watcher's own FIONREAD");
        // A file of ours among the copies: a run of numbers closed together must stop before it.
        if (i % 10 === 3) opened.push(openSync(dir, 'r'));
        assert.ok(inotifyFds() - before <= COPIES_HELD, 'no more than COPIES_HELD held');
      }
      assert.ok(inotifyFds() > before, 'held until closeCopies');
      closeCopies();
      assert.equal(inotifyFds(), before, 'every duplicate closed');
      for (const fd of opened) assert.ok(fstatSync(fd).isDirectory(), `fd ${fd}, opened between copies, is still open`);
      closeCopies();
      assert.equal(queuedBytesHeld(pidfd, 1_000_000), -ERRNO.EBADF, 'a closed fd: -EBADF, nothing held');
      closeCopies();
    } finally {
      for (const fd of opened) closeSync(fd);
      closeFd(pidfd);
    }
  });

  test('pidfd_getfd refused by seccomp: null and unknown, with a note, never 0', () => {
    const run = runInotop(['--json', '--pods', 'none', '--no-trace', '-p', String(stalled.pid)], [inowatchBinary(), 'deny', String(SYSCALL_PIDFD_GETFD)]);
    assert.equal(run.status, 0, run.stderr);
    const snapshot = JSON.parse(run.stdout) as Snapshot;
    const row = rowOf(snapshot, stalled.pid);
    assert.deepEqual(
      row.fds.map((fd) => [fd.queuedBytes, fd.queueState]),
      [[null, 'unknown']],
    );
    assert.equal(row.queuedBytes, null);
    assert.ok(
      snapshot.notes.some((note) => /^event queues not read \(queuedBytes null\): pidfd_getfd and FIONREAD: pidfd_getfd refused: EPERM/.test(note)),
      snapshot.notes.join('\n'),
    );
    // Without the filter the same run reads it.
    const free = JSON.parse(runInotop(['--json', '--pods', 'none', '--no-trace', '-p', String(stalled.pid)]).stdout) as Snapshot;
    assert.ok((rowOf(free, stalled.pid).queuedBytes ?? 0) > 0);
  });

  test('--json over three refreshes, -b and check: the queue that does not drain', () => {
    const lines = runInotop(['--json', '-n', '3', '-d', '0.3', '--pods', 'none', '--no-trace']).stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    const last = JSON.parse(lines[2]!) as Snapshot;
    assert.equal(fdOf(last, stalled.pid, stalledFd).queueState, 'not draining');

    const batch = runInotop(['-b', '-n', '3', '-d', '0.3', '--pods', 'none', '--no-trace']);
    assert.equal(batch.status, 0, batch.stderr);
    const third = batch.stdout.split(/^inotop - /m).at(-1)!;
    assert.match(
      third,
      new RegExp(`^QUEUE ino-stalled ${stalled.pid}: inotify queue fd ${stalledFd} not draining, [\\d,.]+ (B|KiB) unread of 256 KiB when full`, 'm'),
    );
    assert.match(third, /PID +USER +INST +WATCHES .*QUEUE/);
    assert.match(third, new RegExp(`^ *${stalled.pid} +root .* \\d+ stuck `, 'm'));

    const check = runInotop(['check', '--pods', 'none', '--no-trace', '--instances-threshold=off', '--watches-threshold=off', '--fail-on-leaked=false']);
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`^ino-stalled ${stalled.pid}: inotify queue not draining \\([\\d,.]+ (B|KiB) unread over 1 s\\)`));
    const off = runInotop([
      'check',
      '--pods',
      'none',
      '--no-trace',
      '--instances-threshold=off',
      '--watches-threshold=off',
      '--fail-on-leaked=false',
      '--fail-on-queues=false',
    ]);
    assert.equal(off.status, 0, off.stdout + off.stderr);
  });

  test('serve: instances by queue state, and the bytes of the process whose queue does not drain', async (t: TestContext) => {
    const serve = start(t, process.execPath, [inotopBin, 'serve', '--listen', '127.0.0.1:0', '--interval', '0.5', '--pods', 'none', '--no-trace']);
    const port = await servedPort(serve);
    const metrics = await eventually(async () => {
      const body = await text(`http://127.0.0.1:${port}/metrics`);
      assert.match(body, /^inotop_queues\{state="not_draining"[^}]*\} [1-9]/m);
      return body;
    }, SCRAPES);
    assert.match(metrics, /^# TYPE inotop_queues gauge$/m);
    // The worst reader, by command and pod (never pid).
    assert.match(metrics, /^inotop_process_queued_bytes\{comm="ino-stalled",pod_namespace="",pod_name=""[^}]*\} [1-9]\d*$/m);
  });
});
