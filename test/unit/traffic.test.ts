// Event queues and permission waits without a kernel: the states a queue's readings give, what a
// wchan, stack and syscall line say, which groups can hold a wait, how long a wait lasts across
// refreshes, and how every view says it (verdicts, -b's column, check, metrics, recordings).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeBlocked, judgeQueues } from '../../src/check/check.js';
import type { TrafficReading } from '../../src/collect/traffic.js';
import { fullQueueBytes, QueueHistories, queueState } from '../../src/model/queues.js';
import type { PermissionWaits, ProcessRow, ScanResult, ScannedProcess } from '../../src/model/types.js';
import { holdingGroups, PermissionWaitTracker, type ScannedPermissionGroup } from '../../src/model/waits.js';
import { validateSnapshot } from '../../src/record/validate.js';
import type { WaitingThread } from '../../src/scan/waits.js';
import { isPermissionWaitFunction, parseSwitches, parseSyscallLine, stackWaitsForPermission } from '../../src/scan/waits.js';
import { renderMetrics } from '../../src/serve/metrics.js';
import { batchText } from '../../src/views/batch.js';
import { blockedVerdict, queueVerdict, waitersAlert } from '../../src/views/traffic.js';
import { NO_FILTER } from '../../src/model/query.js';
import { headerLines } from '../../src/views/tui/paint/header.js';
import { layout, layoutNeeds } from '../../src/views/tui/paint/layout.js';
import { tableLines } from '../../src/views/tui/paint/table.js';
import { screenColumns } from '../../src/views/tui/process-view.js';
import { initialState, inspectedParagraphs, reduce } from '../../src/views/tui/state.js';
import { trafficParagraphs } from '../../src/views/tui/traffic-inspect.js';
import { verdictLine } from '../../src/views/tui/verdict.js';
import { pod, proc, snapshot } from '../helpers/rows.js';
import { keys, mono, plain } from '../helpers/screen-state.js';

test('a queue: empty, pending until three readings, then draining or not draining; may be full at 16 × max_queued_events', () => {
  const full = fullQueueBytes('inotify', 16_384);
  assert.equal(full, 262_144);
  assert.equal(queueState([0], full), 'empty');
  assert.equal(queueState([null], full), 'unknown');
  assert.equal(queueState([96], full), 'pending');
  assert.equal(queueState([96, 96], full), 'pending');
  assert.equal(queueState([96, 96, 96], full), 'not draining', 'unread, and not shrunk over three readings');
  assert.equal(queueState([96, 192, 320], full), 'not draining', 'growing is not draining either');
  assert.equal(queueState([96, 64, 96], full), 'draining', 'it shrank once: its reader reads');
  assert.equal(queueState([0, 96, 96], full), 'pending', 'unread for two readings only');
  assert.equal(queueState([96, null, 96], full), 'pending', 'a reading missing: not judged');
  assert.equal(queueState([262_144], full), 'may be full', 'judged at once');
  assert.equal(queueState([3_216], fullQueueBytes('inotify', 100)), 'may be full', '100 events and IN_Q_OVERFLOW');
  assert.equal(fullQueueBytes('inotify', null), null, 'the limit unknown: never called full');
});

test("fanotify's full queue: 24 bytes × fs.fanotify.max_queued_events (16,384 before it existed), none with FAN_UNLIMITED_QUEUE", () => {
  assert.equal(fullQueueBytes('fanotify', 100), 2_400);
  assert.equal(fullQueueBytes('fanotify', null), 24 * 16_384);
  assert.equal(fullQueueBytes('fanotify', 16_384, 0x10 | 0x4), null);
});

test('queue histories: the last three readings per instance, forgotten three refreshes after its last', () => {
  const histories = new QueueHistories();
  histories.add(new Map([['a', 10]]));
  histories.add(new Map([['a', 20]]));
  histories.add(new Map([['a', 30]]));
  assert.deepEqual(histories.add(new Map([['a', 40]])).get('a'), [20, 30, 40]);
  for (let i = 0; i < 3; i++) histories.add(new Map([['b', 0]]));
  assert.deepEqual(histories.add(new Map([['a', 50]])).get('a'), [50], 'gone three refreshes: a new instance');
});

test('where a thread waits: the fanotify functions, with clone suffixes, in wchan or a stack', () => {
  for (const name of ['fanotify_handle_event', 'fanotify_get_response', 'fanotify_get_response.isra.0', 'fanotify_get_response_from_access\n'])
    assert.ok(isPermissionWaitFunction(name), name);
  for (const name of ['0', 'do_select', 'fanotify_read', 'inotify_read']) assert.ok(!isPermissionWaitFunction(name), name);
  const stack = '[<0>] fanotify_handle_event+0xbf5/0x1bd0\n[<0>] fsnotify+0x3af/0xf70\n[<0>] do_dentry_open+0x144/0x430\n';
  assert.ok(stackWaitsForPermission(stack));
  assert.ok(!stackWaitsForPermission('[<0>] do_select+0x6c0/0x7f0\n[<0>] core_sys_select+0x1a1/0x3a0\n'));
});

test('/proc/TID/syscall: the number and the arguments as ints (AT_FDCWD is -100); "running" and page faults tell none', () => {
  assert.deepEqual(parseSyscallLine('257 0xffffff9c 0x7ffe5dbe5a10 0x0 0x0 0x0 0x0 0x7ffe5dbe5020 0x7f87c3cfd011\n'), {
    nr: 257,
    args: [-100, 0x7ffe5dbe5a10 | 0, 0, 0, 0, 0],
  });
  assert.deepEqual(parseSyscallLine('0 0x3 0x55d0 0x1000 0x0 0x0 0x0 0x7ffe 0x7f0')!.args[0], 3);
  assert.equal(parseSyscallLine('running\n'), null);
  assert.equal(parseSyscallLine('-1 0x7ffe5dbe5020 0x7f87c3cfd011\n'), null);
  assert.equal(parseSwitches('Name:\tcat\nvoluntary_ctxt_switches:\t4\nnonvoluntary_ctxt_switches:\t1\n'), 5);
});

function group(pid: number, fields: Partial<ScannedPermissionGroup> = {}): ScannedPermissionGroup {
  return {
    pid,
    comm: `holder${pid}`,
    fd: 5,
    marks: [{ markType: 'mount', path: '/', mask: 0x10000 }],
    mask: 0x10000,
    waiters: 0,
    mountIds: [40],
    widerMarks: false,
    ...fields,
  };
}

test('the groups that can hold a wait: those whose bits the call raises; on its mount first; all when the call is unknown', () => {
  const opens = group(1);
  const reads = group(2, { mask: 0x20000, marks: [{ markType: 'filesystem', path: '/data', mask: 0x20000 }], mountIds: [], widerMarks: true });
  const elsewhere = group(3, { mountIds: [77] });
  const groups = [opens, reads, elsewhere];
  assert.deepEqual(
    holdingGroups({ kind: 'open', mntId: null }, groups).map((g) => g.pid),
    [1, 3],
  );
  assert.deepEqual(
    holdingGroups({ kind: 'open', mntId: 77 }, groups).map((g) => g.pid),
    [3],
    'a mount mark on its mount',
  );
  assert.deepEqual(
    holdingGroups({ kind: 'read', mntId: 40 }, groups).map((g) => g.pid),
    [2],
    'a read: FAN_ACCESS_PERM; a filesystem mark may cover any mount',
  );
  assert.deepEqual(
    holdingGroups({ kind: null, mntId: null }, groups).map((g) => g.pid),
    [1, 2, 3],
  );
});

function thread(tid: number, fields: Partial<WaitingThread> = {}): WaitingThread {
  return { pid: tid, tid, comm: 'cat', startTime: 100, switches: 4, syscall: 'openat', kind: 'open', path: null, mntId: null, cgroups: [], ...fields };
}

test('a wait across refreshes: seen first at 0 s, counted while the thread has not run since; a thread that ran waits anew', () => {
  const tracker = new PermissionWaitTracker();
  const groups = [group(4242, { comm: 'avscan' })];
  const at = (seconds: number) => Date.parse('2026-12-01T10:00:00Z') + seconds * 1000;
  const first = tracker.update([thread(10), thread(11)], groups, () => null, at(0), null);
  assert.deepEqual(
    first.processes.map((w) => [w.pid, w.waitingSeconds, w.heldBy]),
    [
      [10, 0, [4242]],
      [11, 0, [4242]],
    ],
  );
  assert.equal(first.groups[0]!.waiters, 2);
  const second = tracker.update([thread(10), thread(11, { switches: 6 }), thread(12, { pid: 10 })], groups, () => null, at(41.5), null);
  assert.deepEqual(
    second.processes.map((w) => [w.pid, w.waitingSeconds, w.threads]),
    [
      [10, 41, 2],
      [11, 0, 1],
    ],
    'the oldest first; two threads of pid 10; 11 ran in between',
  );
  assert.deepEqual(Object.keys(second.groups[0]!).sort(), ['comm', 'fd', 'marks', 'mask', 'pid', 'waiters'], 'the JSON fields only');
});

function blockedWaits(): PermissionWaits {
  return {
    processes: [
      { pid: 5511, comm: 'bash', waitingSeconds: 41, pod: null, syscall: 'openat', path: null, threads: 1, heldBy: [4242] },
      { pid: 5512, comm: 'cat', waitingSeconds: 12, pod: null, syscall: 'openat', path: null, threads: 1, heldBy: [4242] },
      { pid: 5513, comm: 'ls', waitingSeconds: 0, pod: null, syscall: 'openat', path: null, threads: 1, heldBy: [4242] },
    ],
    groups: [{ pid: 4242, comm: 'avscan', fd: 5, marks: [{ markType: 'mount', path: '/', mask: 0x10000 }], mask: 0x10000, waiters: 3 }],
    incomplete: null,
  };
}

test('the BLOCKED verdict: the waits that lasted, the holder and its mark, the oldest; shorter at higher levels', () => {
  const waits = blockedWaits();
  assert.equal(blockedVerdict(waits), 'BLOCKED 2 processes wait for fanotify permission answers from avscan 4242 (FAN_OPEN_PERM on /), the oldest 41 s');
  assert.equal(blockedVerdict(waits, 1), 'BLOCKED 2 processes wait for fanotify permission answers from avscan 4242, the oldest 41 s');
  assert.equal(blockedVerdict(waits, 2), 'BLOCKED 2 waiting on avscan 4242, oldest 41 s');
  assert.equal(blockedVerdict({ ...waits, processes: waits.processes.slice(2) }), null, 'a wait just seen is not yet stuck');
  assert.equal(waitersAlert(waits, 200), 'WAITING bash 5511 (openat), cat 5512 (openat), in D up to 41 s: they go on when the holder answers or exits');
  assert.equal(waitersAlert(waits, 90), 'WAITING bash 5511 (openat) +1 more, in D up to 41 s: they go on when the holder answers or exits');
  const reading: TrafficReading = { queues: () => undefined, permissionWaits: waits, notes: [] };
  assert.equal(judgeBlocked(reading), 'BLOCKED on fanotify answers of avscan 4242: 2 waiting, oldest 41 s');
});

function queued(pid: number, bytes: number | null, state: NonNullable<ProcessRow['fds'][number]['queueState']>): ProcessRow {
  return proc(pid, {
    comm: 'fluent-bit',
    queuedBytes: bytes,
    fds: [{ fd: 7, watches: 3, shared: false, instance: `${pid}:7`, queuedBytes: bytes, queueState: state }],
  });
}

test('the QUEUE verdict names the reader, its pod and what it costs; -b shows the QUEUE column while a queue is in trouble', () => {
  const node = snapshot([queued(4242, 262_160, 'may be full'), queued(77, 3_200, 'not draining'), proc(1)]);
  assert.equal(queueVerdict(node), 'QUEUE fluent-bit 4242: inotify queue fd 7 may be full, 256 KiB: events are being lost (IN_Q_OVERFLOW); 1 more process');
  assert.equal(
    queueVerdict(snapshot([queued(77, 3_200, 'not draining')])),
    'QUEUE fluent-bit 77: inotify queue fd 7 not draining, 3,200 B unread of 256 KiB when full: its events wait, and a full queue loses them',
  );
  assert.equal(queueVerdict(snapshot([queued(77, 3_200, 'pending')])), null);
  const text = batchText(node, node.processes, { withTargets: false, color: false, width: null });
  assert.match(text, /^ +PID USER +INST +WATCHES +LEAKED +QUEUE POD/m);
  assert.match(text, /^ +4242 root .* 262160 full\? /m);
  assert.match(text, /^ +77 root .* 3200 stuck /m);
  const calm = snapshot([queued(77, 96, 'pending')]);
  assert.doesNotMatch(batchText(calm, calm.processes, { withTargets: false, color: false, width: null }), /QUEUE/);
  const old = snapshot([proc(5)]);
  assert.match(
    batchText(old, old.processes, { withTargets: false, color: false, width: null, columns: ['pid', 'queuedBytes', 'command'] }),
    /^ +5 +- /m,
    'a recording made before queues: not 0',
  );
});

test('check: the queue that may be full first; cannot tell when no queue could be read', () => {
  const fd = (id: string) => ({ fd: 7, instanceId: id });
  const scanned = {
    processes: [
      { pid: 10, comm: 'slow', instances: [fd('10:7')], fanotifyGroups: [] },
      { pid: 11, comm: 'full', instances: [fd('11:7')], fanotifyGroups: [] },
    ] as unknown as ScannedProcess[],
  } as ScanResult;
  const states = new Map([
    ['10:7', { bytes: 3_200, state: 'not draining' as const }],
    ['11:7', { bytes: 262_160, state: 'may be full' as const }],
  ]);
  const reading = (queues: TrafficReading['queues'], notes: string[] = []): TrafficReading => ({ queues, permissionWaits: blockedWaits(), notes });
  assert.deepEqual(
    judgeQueues(
      scanned,
      reading((id) => states.get(id)),
    ),
    {
      problem: 'full 11: inotify queue may be full (256 KiB): events lost (+1 more process)',
      unknown: null,
    },
  );
  const unread = judgeQueues(
    scanned,
    reading(() => ({ bytes: null, state: 'unknown' }), ['event queues not read (queuedBytes null): pidfd_getfd refused']),
  );
  assert.deepEqual(unread, { problem: null, unknown: 'event queues not read (queuedBytes null): pidfd_getfd refused (--fail-on-queues=false skips them)' });
});

test('metrics: instances by the queue states a fleet acts on, the worst reader by command and pod, the waiters, the oldest wait and the busiest holder', async () => {
  // Two fluent-bit processes of one pod (full, and not draining), an app not draining with more bytes, a pending one.
  const logging = pod('fluent-bit-7x2', 'live', 'logging');
  const rows = [
    { ...queued(4300, 262_160, 'may be full'), pod: logging },
    { ...queued(4301, 3_200, 'not draining'), pod: logging },
    proc(4242, { comm: 'avscan', pod: pod('avscan-x1', 'live', 'security') }),
    { ...queued(88, 500_000, 'not draining'), comm: 'app' },
    queued(77, 96, 'pending'),
  ];
  const waits = blockedWaits();
  const holder = { ...waits.groups[0]!, pid: 9, comm: 'auditd', waiters: 1 };
  const node = { ...snapshot(rows), permissionWaits: { ...waits, groups: [...waits.groups, holder] } };
  const state = { node: 'n', cluster: null, scanFailures: 0, lastFailure: null, top: 5, topLeaks: 5 };
  const text = await renderMetrics({ ...state, snapshot: node });
  assert.match(text, /^inotop_queues\{state="may_be_full",node="n",[^}]*\} 1$/m);
  assert.match(text, /^inotop_queues\{state="not_draining",node="n",[^}]*\} 2$/m);
  assert.match(text, /^inotop_queues\{state="unknown",node="n",[^}]*\} 0$/m);
  assert.doesNotMatch(text, /^inotop_queues\{state="(pending|empty|draining)"/m, 'the states of queues doing well are the node’s own');
  // May be full before more bytes; the group's bytes summed; no pid label.
  assert.match(text, /^inotop_process_queued_bytes\{comm="fluent-bit",pod_namespace="logging",pod_name="fluent-bit-7x2",node="n",[^}]*\} 265360$/m);
  assert.equal(text.match(/^inotop_process_queued_bytes\{/gm)?.length, 1, 'the worst reader only');
  assert.match(text, /^inotop_permission_waiters\{node="n",[^}]*\} 3$/m);
  assert.match(text, /^inotop_permission_wait_oldest_seconds\{node="n",[^}]*\} 41$/m);
  // The holder of the group that can hold the most, by command and its pod.
  assert.match(text, /^inotop_permission_group_waiters\{comm="avscan",pod_namespace="security",pod_name="avscan-x1",node="n",[^}]*\} 3$/m);
  assert.equal(text.match(/^inotop_permission_group_waiters\{/gm)?.length, 1, 'the busiest holder only');
  assert.doesNotMatch(text, /pid=|fd=/, 'no label per pid or fd');
  const old = await renderMetrics({ ...state, snapshot: snapshot([proc(5)]) });
  assert.doesNotMatch(old, /inotop_queues|inotop_permission/, 'a recording made before them: no series, not zeros');
});

test('recordings: the new fields are checked, and a snapshot without them still reads', () => {
  const node = { ...snapshot([queued(4242, 3_200, 'not draining')]), permissionWaits: blockedWaits() };
  assert.doesNotThrow(() => validateSnapshot(JSON.parse(JSON.stringify(node))));
  assert.doesNotThrow(() => validateSnapshot(JSON.parse(JSON.stringify(snapshot([proc(5)])))));
  const bad = JSON.parse(JSON.stringify(node));
  bad.processes[0].fds[0].queueState = 'overflowing';
  assert.throws(() => validateSnapshot(bad), /processes\[0\]\.fds\[0\]\.queueState: expected "empty" or/);
  bad.processes[0].fds[0].queueState = 'empty';
  bad.permissionWaits.processes[0].waitingSeconds = -1;
  assert.throws(() => validateSnapshot(bad), /permissionWaits\.processes\[0\]\.waitingSeconds: expected a whole number/);
});

test('the screen: BLOCKED leads the verdict, a queue losing events comes before a leak, one not draining after it', () => {
  const leaking = proc(9, { comm: 'kubelet', leaked: 3, watchedPods: [], leakHolders: [] });
  const full = queued(4242, 262_160, 'may be full');
  const stuck = queued(77, 3_200, 'not draining');
  assert.match(verdictLine({ ...snapshot([leaking, full]), permissionWaits: blockedWaits() }, 200)!, /^BLOCKED 2 processes wait/);
  assert.match(verdictLine(snapshot([leaking, full]), 200)!, /^QUEUE fluent-bit 4242: .* may be full/);
  assert.match(verdictLine(snapshot([leaking, stuck]), 200)!, /^LEAK kubelet 9/);
  assert.match(verdictLine(snapshot([stuck]), 200)!, /^QUEUE fluent-bit 77: .* not draining/);
  assert.equal(verdictLine({ ...snapshot([proc(1)]), permissionWaits: blockedWaits() }, 50), 'BLOCKED 2 waiting on avscan 4242, oldest 41 s');
});

test('the screen: the QUEUE column while a queue is in trouble, the alert names the waiters, the holder row says BLOCKING', () => {
  const holder = proc(4242, {
    comm: 'avscan',
    fds: [],
    fanotifyFds: [{ fd: 5, marks: 1, shared: false, instance: '4242:5', queuedBytes: 0, queueState: 'empty' }],
  });
  const node = { ...snapshot([holder, queued(77, 3_200, 'not draining')]), permissionWaits: blockedWaits() };
  const state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: node,
  });
  assert.ok(screenColumns(state).some((spec) => spec.id === 'queuedBytes'));
  const calm = reduce(state, { type: 'snapshot', snapshot: snapshot([queued(77, 96, 'pending')]) });
  assert.ok(!screenColumns(calm).some((spec) => spec.id === 'queuedBytes'), 'a queue still to be judged: not by default');
  const l = layout(160, 40, 1, layoutNeeds(state));
  const header = plain(headerLines(state, l, mono));
  assert.ok(header.some((line) => line.startsWith('BLOCKED 2 processes wait for fanotify permission answers from avscan 4242 (FAN_OPEN_PERM on /)')));
  assert.ok(header.some((line) => line.startsWith('WAITING bash 5511 (openat), cat 5512 (openat), in D up to 41 s')));
  const table = plain(tableLines(state, 160, 10, mono));
  assert.ok(
    table.some((line) => /^ +4242 root .* BLOCKING \/usr\/bin\/proc4242/.test(line)),
    table.join('\n'),
  );
  assert.ok(
    table.some((line) => /^ +77 root .* 3\.1K stuck /.test(line)),
    table.join('\n'),
  );
});

test('inspect: the holder others wait on, the waiter, the queue that does not drain; Enter opens it without targets', () => {
  const holder = proc(4242, {
    comm: 'avscan',
    fds: [],
    fanotifyFds: [{ fd: 5, marks: 1, shared: false, instance: '4242:5', queuedBytes: 72, queueState: 'not draining' }],
  });
  const waiter = proc(5511, { comm: 'bash', fds: [] });
  const node = { ...snapshot([holder, waiter, queued(77, 3_200, 'not draining')]), permissionWaits: blockedWaits() };
  const text = (pid: number) =>
    trafficParagraphs(
      node.processes.find((row) => row.pid === pid)!,
      node,
    ).map((p) => p.text);
  const blocking = text(4242);
  assert.match(blocking[0]!, /^BLOCKING: 2 processes wait for this process's fanotify permission answers \(fd 5: FAN_OPEN_PERM on \/\), the oldest 41 s:$/);
  assert.match(blocking[1]!, /^ {2}bash 5511 in openat: waiting 41 s at least$/);
  assert.ok(blocking.some((line) => line.includes('holds 72 B it has not read')));
  assert.ok(blocking.some((line) => line.startsWith('NEXT STEP: look at avscan 4242, not at the waiters')));
  assert.ok(blocking.some((line) => line.startsWith('QUEUE fd 5 (fanotify): 72 B unread, not draining.')));
  assert.match(text(5511)[0]!, /^WAITING: bash 5511 in openat: waiting 41 s at least, for a permission answer from avscan 4242 \(FAN_OPEN_PERM on \/\)\.$/);
  const queue = text(77);
  assert.match(queue[0]!, /^QUEUE fd 7 \(inotify\): 3,200 B unread, not draining\.$/);
  assert.ok(queue.some((line) => line.includes('Full is 256 KiB: 16 bytes per event at the least × fs.inotify.max_queued_events (16,384)')));
  assert.ok(queue.some((line) => line.startsWith('NEXT STEP: look at fluent-bit 77')));
  assert.deepEqual(trafficParagraphs(proc(1), node), [], 'nothing to say of a process whose traffic is fine');

  let state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'pid', descending: false }, intervalMs: 2000 }), { type: 'snapshot', snapshot: node });
  state = keys(state, 'enter', 'enter');
  assert.equal(state.selectedPid, 77);
  assert.deepEqual(state.overlay, { kind: 'inspect', pid: 77, traffic: true, top: 0 });
  assert.equal(inspectedParagraphs(state)![0]!.text, queue[0]);
});
