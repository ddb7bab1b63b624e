// The tracer's pure parts: trace_pipe lines, failures counted per process, which limit an
// errno means, check's verdict line and the serve counter's bounded labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failuresProblem } from '../../src/check/check.js';
import { FailureTotals, MAX_FAILURE_SERIES, renderMetrics } from '../../src/serve/metrics.js';
import { OTHER } from '../../src/serve/labels.js';
import type { Limits, Snapshot, SyscallFailure, UserNamespace, UserRow } from '../../src/model/types.js';
import { ChurnCounter } from '../../src/trace/churn.js';
import { FailureLog, recentFailures, whichLimit, type FailingProcess } from '../../src/trace/failures.js';
import { errnoName } from '../../src/sys/errno.js';
import { instanceOwner, parseMaxOpenFiles, parseStartTicks, parseTgid, parseTraceLine } from '../../src/trace/parse.js';
import { tracefsMountpoints } from '../../src/trace/tracefs.js';
import { failureAlert, limitText } from '../../src/views/failures.js';
import { detailLines } from '../../src/views/tui/paint/detail.js';
import { headerLines } from '../../src/views/tui/paint/header.js';
import { layout } from '../../src/views/tui/paint/layout.js';
import { Painter } from '../../src/views/painter.js';
import { tableLines } from '../../src/views/tui/paint/table.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import { NO_FILTER } from '../../src/model/query.js';
import { proc, snapshot as handMade, targets, user as rowsUser } from '../helpers/rows.js';

test('trace_pipe lines: the failed exit with thread, process, time and errno; lost events; anything else is skipped', () => {
  assert.deepEqual(parseTraceLine('         python3-18343   (  18343) [001] .....   490.587393: sys_inotify_add_watch -> 0xffffffffffffffe4'), {
    kind: 'exit',
    exit: { comm: 'python3', tid: 18343, tgid: 18343, seconds: 490.587393, syscall: 'inotify_add_watch', ret: -28 },
  });
  // A thread of another process, its comm with dashes and spaces, its tgid not recorded.
  assert.deepEqual(parseTraceLine(' flb-pipe line-2-4250 (-------) [000] d..1. 12.000001: sys_inotify_init1 -> 0xffffffffffffffe8'), {
    kind: 'exit',
    exit: { comm: 'flb-pipe line-2', tid: 4250, tgid: null, seconds: 12.000001, syscall: 'inotify_init1', ret: -24 },
  });
  assert.deepEqual(parseTraceLine('CPU:1 [LOST 1234 EVENTS]'), { kind: 'lost', events: 1234 });
  assert.deepEqual(parseTraceLine('   kubelet-2703   (   2703) [000] ..... 9.500000: sys_inotify_rm_watch -> 0x0'), {
    kind: 'exit',
    exit: { comm: 'kubelet', tid: 2703, tgid: 2703, seconds: 9.5, syscall: 'inotify_rm_watch', ret: 0 },
  });
  assert.equal(parseTraceLine('   cat-1 (1) [000] ..... 1.0: sys_inotify_rm_watch(fd: 3, wd: 1)'), null);
  assert.equal(parseTraceLine('   cat-1 (    1) [000] ..... 1.0: sys_openat -> 0xfffffffffffffffe'), null);
  assert.equal(parseTraceLine(''), null);
  assert.equal(errnoName(28), 'ENOSPC');
  assert.equal(errnoName(24), 'EMFILE');
  assert.equal(errnoName(9999), 'E9999');
});

test('procfs fields and instance names', () => {
  const stat = '4242 (fluent bit) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 987654 1000000 200 18446744073709551615';
  assert.equal(parseStartTicks(stat), 987654);
  assert.equal(parseTgid('Name:\tflb-pipeline\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4250\n'), 4242);
  const limits =
    'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n';
  assert.equal(parseMaxOpenFiles(limits), 1024);
  assert.equal(parseMaxOpenFiles('Max open files            unlimited            unlimited            files\n'), null);
  assert.equal(instanceOwner('inotop-4242'), 4242);
  assert.equal(instanceOwner('inotop-4242-2'), 4242);
  assert.equal(instanceOwner('inotop-4242-churn'), 4242);
  assert.equal(instanceOwner('inotop-4242-churn-2'), 4242);
  assert.equal(instanceOwner('inotop-x'), null);
  assert.equal(instanceOwner('perf-4242'), null);
  const mountinfo = [
    '22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw',
    '40 22 0:12 / /sys/kernel/tracing rw,nosuid shared:18 - tracefs tracefs rw',
    '41 22 0:12 / /mnt/my\\040trace rw - tracefs none rw',
  ].join('\n');
  assert.deepEqual(tracefsMountpoints(mountinfo), ['/sys/kernel/tracing', '/mnt/my trace']);
});

const limits: Limits = {
  maxUserWatches: 10_000,
  maxUserInstances: 128,
  maxQueuedEvents: 16384,
  maxUserFanotifyGroups: null,
  maxUserFanotifyMarks: null,
  maxFanotifyQueuedEvents: null,
};
const user = (uid: number, instances: number, watches: number, userns: string | null = null): UserRow => rowsUser(uid, instances, watches, userns, limits);
const failing = (pid: number, extra: Partial<FailingProcess> = {}): FailingProcess => ({
  pid,
  comm: 'fluent-bit',
  uid: 0,
  user: 'root',
  userns: null,
  pod: null,
  fdLimit: 1024,
  openFds: 10,
  ...extra,
});
const hostKey = (uid: number) => ({ userns: null, uid });

test('which limit: the lowest key at its limit, else the fd table when full, else the key nearest its limit', () => {
  const users = [user(0, 128, 9_000), user(1000, 3, 10)];
  const context = { users, limits };
  assert.deepEqual(whichLimit('inotify_add_watch', 'ENOSPC', failing(1), context), { limit: 'max_user_watches', key: hostKey(0) });
  assert.equal(whichLimit('inotify_add_watch', 'ENOMEM', failing(1), context), null);
  assert.deepEqual(whichLimit('inotify_init1', 'EMFILE', failing(1), context), { limit: 'max_user_instances', key: hostKey(0) });
  // The kernel charges the instance before it allocates the fd: a user at its limit is the cause even with a full fd table.
  assert.deepEqual(whichLimit('inotify_init1', 'EMFILE', failing(1, { openFds: 1024 }), context), { limit: 'max_user_instances', key: hostKey(0) });
  assert.deepEqual(whichLimit('inotify_init1', 'EMFILE', failing(2, { uid: 1000, openFds: 1024 }), context), { limit: 'RLIMIT_NOFILE', key: null });
  // Neither full now: its fds were not (they are read as the failure is), so it ran into its
  // user's limit, raised or freed since. A user that holds nothing has no row: the same.
  assert.deepEqual(whichLimit('inotify_init1', 'EMFILE', failing(3, { uid: 1000 }), context), { limit: 'max_user_instances', key: hostKey(1000) });
  assert.deepEqual(whichLimit('inotify_init1', 'EMFILE', failing(4, { uid: 2000 }), context), { limit: 'max_user_instances', key: hostKey(2000) });
  // Cannot tell: the process was gone, its fds or fd limit unreadable, or another errno.
  assert.equal(whichLimit('inotify_init1', 'EMFILE', failing(5, { uid: null }), context), null);
  assert.equal(whichLimit('inotify_init1', 'EMFILE', failing(6, { uid: 1000, fdLimit: null }), context), null);
  assert.equal(whichLimit('inotify_init1', 'EMFILE', failing(7, { uid: 1000, openFds: null }), context), null);
  assert.equal(whichLimit('inotify_init1', 'ENFILE', failing(8), context), null);
});

test("which limit in a user namespace: its own limit where set, else its owner's above it", () => {
  const owned = (limits: UserNamespace['limits']): UserNamespace => ({ id: '4026532173', parent: null, ownerUid: 0, ownerName: 'root', limits });
  const unlimited = { instances: null, watches: null, fanotifyGroups: null, fanotifyMarks: null };
  const inside = failing(9, { uid: 200000, userns: '4026532173' });
  const root = { ...user(0, 98, 10), charged: { instances: 128, watches: 30, fanotifyGroups: 0, fanotifyMarks: 0 } };
  const pod = user(200000, 30, 20, '4026532173');
  // Unlimited in the namespace: root, who made it, is at max_user_instances.
  const context = { users: [root, pod], limits, namespaceOf: () => owned(unlimited) };
  assert.deepEqual(whichLimit('inotify_init1', 'EMFILE', inside, context), { limit: 'max_user_instances', key: hostKey(0) });
  // Its own lower limit, reached: named as such, with its key.
  const own = { ...context, namespaceOf: () => owned({ ...unlimited, instances: 30 }) };
  assert.deepEqual(whichLimit('inotify_init1', 'EMFILE', inside, own), { limit: 'max_inotify_instances', key: { userns: '4026532173', uid: 200000 } });
  assert.deepEqual(whichLimit('inotify_add_watch', 'ENOSPC', inside, { ...context, namespaceOf: () => owned({ ...unlimited, watches: 20 }) }), {
    limit: 'max_inotify_watches',
    key: { userns: '4026532173', uid: 200000 },
  });
  // Without the namespace's links nor its limits: cannot tell which key.
  assert.equal(whichLimit('inotify_init1', 'EMFILE', inside, { users: [root, pod], limits }), null);
  assert.equal(whichLimit('inotify_init1', 'EMFILE', failing(10), { users: [root], limits: { ...limits, maxUserInstances: null } }), null);
});

const failure = (extra: Partial<SyscallFailure>): SyscallFailure => ({
  pid: 4242,
  comm: 'fluent-bit',
  uid: 0,
  user: 'root',
  pod: null,
  syscall: 'inotify_add_watch',
  errno: 'ENOSPC',
  count: 17,
  new: 17,
  limit: 'max_user_watches',
  limitUid: 0,
  limitUserns: null,
  fdLimit: null,
  firstAt: '2026-01-01T00:00:00.000Z',
  lastAt: '2026-01-01T00:00:07.000Z',
  ...extra,
});

test('the failure log: per process, syscall and errno; count since start, new since the last take; first and last time', () => {
  const log = new FailureLog();
  const context = { users: [user(0, 10, 10_000)], limits };
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < 17; i++) log.record(failing(4242), 'inotify_add_watch', 28, t0 + i * 1000);
  log.record(failing(99, { comm: 'app', uid: 1000, user: 'app', openFds: 1024 }), 'inotify_init1', 24, t0 + 500);
  const first = log.take(context);
  assert.deepEqual(first, [
    failure({ lastAt: '2026-01-01T00:00:16.000Z' }),
    failure({
      pid: 99,
      comm: 'app',
      uid: 1000,
      user: 'app',
      syscall: 'inotify_init1',
      errno: 'EMFILE',
      count: 1,
      new: 1,
      limit: 'RLIMIT_NOFILE',
      limitUid: null,
      fdLimit: 1024,
      firstAt: '2026-01-01T00:00:00.500Z',
      lastAt: '2026-01-01T00:00:00.500Z',
    }),
  ]);
  log.record(failing(4242), 'inotify_add_watch', 28, t0 + 20_000);
  const second = log.take(context);
  assert.deepEqual(
    second.map((f) => [f.pid, f.count, f.new, f.lastAt]),
    [
      [4242, 18, 1, '2026-01-01T00:00:20.000Z'],
      [99, 1, 0, '2026-01-01T00:00:00.500Z'],
    ],
  );
  // Recent: the last failure within 5 minutes.
  assert.deepEqual(
    recentFailures(second, t0 + 20_000 + 5 * 60_000).map((f) => f.pid),
    [4242],
  );
});

test('the log keeps a bounded number of processes, the most recent', () => {
  const log = new FailureLog();
  for (let pid = 1; pid <= 300; pid++) log.record(failing(pid), 'inotify_add_watch', 28, pid);
  const kept = log.take({ users: [], limits });
  assert.equal(kept.length, 256);
  assert.equal(kept[0]!.pid, 300);
  assert.equal(kept.at(-1)!.pid, 45);
});

test('failures in words: check within 80 characters, the alert with the user and who holds the watches', () => {
  const kubelet = { pid: 2703, uid: 0, userns: null, comm: 'kubelet', watches: 7_491, instances: 48 } as Snapshot['processes'][number];
  const context = { users: [user(0, 100, 10_000)], limits, processes: [kubelet] };
  assert.equal(failuresProblem([failure({})], context, '5 min'), 'fluent-bit 4242: 17 ENOSPC in 5 min, user root at 100% of watches');
  const two = [failure({}), failure({ pid: 77, comm: 'app', count: 2 })];
  assert.equal(failuresProblem(two, context, '1 s'), 'fluent-bit 4242: 17 ENOSPC in 1 s, user root at 100% of watches (+1 more process)');
  assert.equal(failuresProblem([], context, '1 s'), null);
  const rlimit = failure({ syscall: 'inotify_init1', errno: 'EMFILE', limit: 'RLIMIT_NOFILE', fdLimit: 64, count: 3 });
  assert.equal(failuresProblem([rlimit], context, '1 s'), 'fluent-bit 4242: 3 EMFILE in 1 s, its fd limit of 64 (RLIMIT_NOFILE)');
  assert.equal(limitText(failure({ limit: null }), context, 'short'), '');
  assert.equal(
    failureAlert(failure({}), context, Date.parse('2026-01-01T00:00:10.000Z')),
    'fluent-bit 4242: 17 × inotify_add_watch ENOSPC, last 3 s ago: user root at 10,000/10,000 watches, kubelet holds 7,491',
  );
});

test('serve: the failure counter sums new failures per label set, never per pid, with a bounded number of label sets', async () => {
  const totals = new FailureTotals();
  totals.add([failure({ new: 17 })]);
  totals.add([failure({ new: 3, count: 20 }), failure({ pid: 5000, new: 2, count: 2 })]);
  for (let i = 0; i < 60; i++) totals.add([failure({ pid: 10_000 + i, comm: `job-${i}`, new: 1, count: 1 })]);
  const snapshot: Snapshot = { ...handMade([], '2026-01-01T00:00:00.000Z'), users: [], trace: { state: 'on', reason: null } };
  const text = await renderMetrics({ node: 'node-a', cluster: null, snapshot, scanFailures: 0, lastFailure: null, top: 1, topLeaks: 1, failures: totals });
  const series = text.split('\n').filter((line) => line.startsWith('inotop_syscall_failures_total'));
  assert.ok(
    series.includes(
      'inotop_syscall_failures_total{syscall="inotify_add_watch",errno="ENOSPC",limit="max_user_watches",comm="fluent-bit",node="node-a",node_shard="19"} 22',
    ),
    series.join('\n'),
  );
  // fluent-bit and the first jobs have their own series, one short of the bound; the jobs after them count together.
  assert.equal(series.length, MAX_FAILURE_SERIES);
  const together = 60 - (MAX_FAILURE_SERIES - 2);
  assert.ok(
    series.includes(
      `inotop_syscall_failures_total{syscall="${OTHER}",errno="${OTHER}",limit="${OTHER}",comm="${OTHER}",node="node-a",node_shard="19"} ${together}`,
    ),
  );
  assert.ok(text.includes('\ninotop_trace_up{node="node-a",node_shard="19"} 1\n'));
  assert.ok(text.includes('\ninotop_trace_requested{node="node-a",node_shard="19"} 1\n'));
  // Off for want of tracefs is off where it was asked for; --no-trace is not asked for.
  for (const [reason, requested] of [
    ['no tracefs mounted, and a private mount needs root', 1],
    ['--no-trace', 0],
  ] as const) {
    const off = await renderMetrics({
      node: 'node-a',
      cluster: null,
      snapshot: { ...snapshot, trace: { state: 'off', reason } },
      scanFailures: 0,
      lastFailure: null,
      top: 1,
      topLeaks: 1,
      failures: totals,
    });
    assert.ok(off.includes('\ninotop_trace_up{node="node-a",node_shard="19"} 0\n'), reason);
    assert.ok(off.includes(`\ninotop_trace_requested{node="node-a",node_shard="19"} ${requested}\n`), reason);
  }
});

test('churn: adds and removes per process since the last take, with rates, most adds first', () => {
  const churn = new ChurnCounter();
  for (let i = 0; i < 30; i++) churn.add(2703, 'kubelet', 'add');
  for (let i = 0; i < 3; i++) churn.add(2703, 'kubelet', 'remove');
  churn.add(99, 'tail', 'remove');
  assert.deepEqual(churn.take(2), [
    { pid: 2703, comm: 'kubelet', adds: 30, removes: 3, addsPerSecond: 15, removesPerSecond: 1.5 },
    { pid: 99, comm: 'tail', adds: 0, removes: 1, addsPerSecond: 0, removesPerSecond: 0.5 },
  ]);
  assert.deepEqual(churn.take(2), []);
});

test('the screen: the alert line under the header and FAILED in the row while a failure is recent, then neither', () => {
  const time = '2026-01-01T00:00:10.000Z';
  const kubelet = proc(2703, { comm: 'kubelet', targets: targets(5) });
  const victim = proc(4242, { comm: 'fluent-bit', cmdline: '/fluent-bit/bin/fluent-bit', targets: targets(1, 100) });
  const sixWatches = { ...limits, maxUserWatches: 6 };
  const withFailure = {
    ...handMade([kubelet, victim], time),
    limits: sixWatches,
    users: [rowsUser(0, 2, 6, null, sixWatches)],
    failures: [failure({})],
    churn: [{ pid: 4242, comm: 'fluent-bit', adds: 20, removes: 0, addsPerSecond: 10, removesPerSecond: 0 }],
  };
  const start = initialState({ filter: NO_FILTER, sort: { field: 'pid', descending: true }, intervalMs: 2000 });
  const state = reduce(start, { type: 'snapshot', snapshot: withFailure });
  const plain = (lines: string[]) => lines.map((line) => line.replace(/\{\/?[a-z-]+\}/g, ''));
  const mono = new Painter(false);
  const l = layout(160, 48, 1, { alert: true });
  assert.equal(l.header.height, layout(160, 48, 1).header.height + 1);
  const header = plain(headerLines(state, l, mono));
  assert.equal(header.length, l.header.height);
  assert.equal(header.at(-1)!.trimEnd(), 'FAILED fluent-bit 4242: 17 × inotify_add_watch ENOSPC, last 3 s ago: user root at 6/6 watches, kubelet holds 5');
  const table = plain(tableLines(state, 160, 10, mono));
  assert.match(
    table.find((line) => line.includes(' 4242 '))!,
    /FAILED \/fluent-bit\/bin\/fluent-bit/,
  );
  assert.doesNotMatch(
    table.find((line) => line.includes(' 2703 '))!,
    /FAILED/,
  );
  // The selection is the first row, pid 4242 (sorted by pid, descending).
  assert.match(plain(detailLines(state, 160, 10, mono))[0]!, /pid 4242 fluent-bit: .*ADD\/s 10 RM\/s 0  ·  FAILED 17 × inotify_add_watch ENOSPC/);
  // Five minutes after the last failure it is no longer recent.
  const later = reduce(state, { type: 'snapshot', snapshot: { ...withFailure, time: '2026-01-01T00:05:08.000Z' } });
  assert.doesNotMatch(plain(tableLines(later, 160, 10, mono)).join('\n'), /FAILED/);
});
