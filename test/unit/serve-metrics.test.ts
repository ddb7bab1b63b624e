// inotop serve's series as a fleet stores them: which users, process groups and leaked pods get
// series of their own, the rest summed so that totals stay exact, and the cardinality bound: a
// node with 5,000 gone pods, a process restarted 100 times, many users and many failing commands
// exports at most the budget, over all its scrapes together. And whether a scan could see:
// inotop_scan_complete, with the reason in a label, and what it could not read by cause; after a
// failed scan no figure is exported (unknown, not stale).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TOP, DEFAULT_TOP_LEAKS } from '../../src/serve/args.js';
import {
  exportedCauses,
  exportedGroups,
  exportedLeaks,
  exportedUsers,
  FailureTotals,
  MAX_FAILURE_SERIES,
  MAX_UNREADABLE_SERIES,
  processGroups,
  renderMetrics,
  seriesBudget,
  type MetricsState,
  type PodLeak,
} from '../../src/serve/metrics.js';
import { nodeShard, NODE_SHARDS, OTHER } from '../../src/serve/labels.js';
import type { LeakForm, ProcessRow, Snapshot, SyscallFailure, UserRow } from '../../src/model/types.js';
import { LIMITS, pod, proc, snapshot, target, targets, user } from '../helpers/rows.js';

/** The samples of an exposition: name{labels} → value. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

const sum = (map: Map<string, number>, name: string) => [...map].filter(([key]) => key.startsWith(`${name}{`)).reduce((total, [, value]) => total + value, 0);

const state = (snap: Snapshot, extra: Partial<MetricsState> = {}): MetricsState => ({
  node: 'node-a',
  cluster: null,
  snapshot: snap,
  scanFailures: 0,
  lastFailure: null,
  top: DEFAULT_TOP,
  topLeaks: DEFAULT_TOP_LEAKS,
  ...extra,
});

test('the budget with the default flags is 60 series a node', () => {
  assert.equal(seriesBudget(), 60);
  assert.equal(seriesBudget(10, 20), 60 + 3 * (10 - DEFAULT_TOP) + (20 - DEFAULT_TOP_LEAKS));
});

test('node shards: a stable hash of the name, spread over every shard', () => {
  assert.equal(nodeShard('node-a'), nodeShard('node-a'));
  const counts = new Array<number>(NODE_SHARDS).fill(0);
  for (let i = 0; i < 64_000; i++) counts[nodeShard(`ip-10-0-${i >> 8}-${i & 255}.ec2.internal`)]!++;
  for (const count of counts) assert.ok(count > 700 && count < 1300, `${count} nodes in a shard of 64,000 / 64`);
});

test('users: the nearest each inotify limit in force (the next nearest either where one is nearest both), two at most; fanotify: the nearest its limit', () => {
  const limits = { ...LIMITS, maxUserWatches: 1000, maxUserInstances: 100, maxUserFanotifyGroups: 10, maxUserFanotifyMarks: 1000 };
  const holder = (uid: number, watches: number, instances: number, fanotifyGroups = 0): UserRow => ({
    ...user(uid, instances, watches, null, limits),
    charged: { watches, instances, fanotifyGroups, fanotifyMarks: 0 },
  });
  // Watches 95% is below the instance users' shares, and still exported: the fleet's watch share is its max.
  // User 6 in a user namespace is charged 9 of its own limit of 10 instances: 90%, nearer than user 4.
  const namespaced: UserRow = { ...user(6, 9, 1, '4026532999', limits), limits: { watches: null, instances: 10, fanotifyGroups: null, fanotifyMarks: null } };
  const users = [holder(1, 950, 1), holder(2, 10, 99), holder(3, 10, 98), holder(4, 10, 80), namespaced, holder(5, 0, 0, 10)];
  const chosen = exportedUsers(users);
  assert.deepEqual(
    chosen.inotify.map((u) => u.uid),
    [1, 2],
  );
  assert.deepEqual(
    chosen.fanotify.map((u) => u.uid),
    [5],
  );
  assert.deepEqual(
    exportedUsers([holder(1, 950, 1), holder(4, 10, 80), namespaced]).inotify.map((u) => u.uid),
    [1, 6],
  );
  assert.deepEqual(
    exportedUsers([holder(7, 5, 5), holder(3, 5, 5)]).inotify.map((u) => u.uid),
    [3, 7],
    'ties by uid; one user nearest both limits, so the next nearest either',
  );
  assert.deepEqual(exportedUsers([holder(7, 5, 5)]).fanotify, [], 'no fanotify series where none is charged');
});

test('metrics: each user against the limit in force for it, none where unlimited', async () => {
  const namespaced: UserRow = { ...user(200000, 3, 7, '4026532173'), limits: { instances: 5, watches: null, fanotifyGroups: null, fanotifyMarks: null } };
  const text = await renderMetrics(state({ ...snapshot([proc(1, { targets: targets(7) })]), users: [user(0, 1, 7), namespaced] }));
  const map = samples(text);
  const labels = `node="node-a",node_shard="${nodeShard('node-a')}"`;
  assert.equal(map.get(`inotop_user_instances_limit{uid="0",user="root",userns="",${labels}}`), 128);
  assert.equal(map.get(`inotop_user_instances_limit{uid="200000",user="200000",userns="4026532173",${labels}}`), 5);
  assert.equal(map.get(`inotop_user_watches{uid="200000",user="200000",userns="4026532173",${labels}}`), 7);
  assert.ok(![...map.keys()].some((key) => key.startsWith('inotop_user_watches_limit{uid="200000"')), 'unlimited: no limit series');
});

test('process groups: by command and pod, never pid; leaking, watching and instance-holding groups in turn, the rest summed', () => {
  const rows: ProcessRow[] = [
    proc(10, { comm: 'kubelet', targets: [...targets(3, 1, { pod: pod('web', 'gone') }), ...targets(50, 10)] }),
    // Two nginx workers of one pod: one group.
    proc(20, { comm: 'nginx', pod: pod('web'), instances: 2, targets: targets(30, 100) }),
    proc(21, { comm: 'nginx', pod: pod('web'), instances: 2, targets: targets(30, 200) }),
    proc(30, { comm: 'shim', instances: 90, targets: targets(1, 300) }),
    ...Array.from({ length: 10 }, (_, i) => proc(40 + i, { comm: `app${i}`, targets: targets(5 + i, 400 + 20 * i) })),
  ];
  const groups = processGroups(rows);
  const nginx = groups.find((g) => g.comm === 'nginx')!;
  assert.deepEqual([nginx.podNamespace, nginx.podName, nginx.watches, nginx.instances], ['default', 'web', 60, 4]);
  const exported = exportedGroups(groups, 3);
  assert.deepEqual(
    exported.map((g) => g.comm),
    ['kubelet', 'nginx', 'shim', OTHER],
  );
  const other = exported.at(-1)!;
  const total = (key: 'watches' | 'instances' | 'leaked') => rows.reduce((s, r) => s + r[key], 0);
  for (const key of ['watches', 'instances', 'leaked'] as const) {
    assert.equal(
      exported.reduce((s, g) => s + g[key], 0),
      total(key),
      `${key}: the sums stay exact`,
    );
  }
  assert.equal(
    other.watches,
    Array.from({ length: 10 }, (_, i) => 5 + i).reduce((a, b) => a + b, 0),
  );
  assert.deepEqual(exportedGroups(groups, 100).length, groups.length, 'no rest when every group fits');
});

test('leaks: whole pods by leaked watches while their series fit, the rest summed per form', () => {
  const leak = (name: string, form: LeakForm, watches: number): PodLeak => ({ pod: pod(name, 'gone'), form, watches });
  // runner-a leaks 47 in two forms: both its series, then db (1 series) fits, runner-b (2) would not.
  const leaks = [
    leak('runner-b', 'gone', 2),
    leak('runner-b', 'unmounted', 40),
    leak('db', 'deleted', 45),
    leak('runner-a', 'gone', 2),
    leak('runner-a', 'unmounted', 45),
    leak('x', 'gone', 1),
  ];
  assert.deepEqual(
    exportedLeaks(leaks, 4).map((l) => [l.pod?.name, l.form, l.watches]),
    [
      ['db', 'deleted', 45],
      ['runner-a', 'gone', 2],
      ['runner-a', 'unmounted', 45],
      [OTHER, 'gone', 3],
      [OTHER, 'unmounted', 40],
    ],
  );
});

test('metrics: the labels of a fleet (node, node shard, cluster), leaks bounded with exact sums, gone pods counted', async () => {
  const leaking = proc(812, {
    comm: 'kubelet',
    targets: [
      ...targets(2, 1, { pod: pod('web-1', 'gone'), status: 'unmounted', leak: 'unmounted' }),
      ...targets(1, 5, { pod: pod('web-1', 'gone') }),
      ...Array.from({ length: 10 }, (_, i) => targets(i + 1, 100 * (i + 1), { pod: pod(`old-${i}`, 'gone') })).flat(),
    ],
  });
  const snap = { ...snapshot([leaking]), pods: { source: 'crictl', live: 4, stale: false, error: null } };
  const text = await renderMetrics(state(snap, { cluster: 'eu-1', top: 3, topLeaks: 4 }));
  const map = samples(text);
  const labels = `node="node-a",node_shard="${nodeShard('node-a')}",cluster="eu-1"`;
  assert.equal(map.get(`inotop_max_user_instances{${labels}}`), 128);
  assert.equal(map.get(`inotop_process_leaked_watches{comm="kubelet",pod_namespace="",pod_name="",${labels}}`), leaking.leaked);
  const leakSeries = [...map.keys()].filter((key) => key.startsWith('inotop_leaked_watches{'));
  // The 4 biggest (old-9 10, old-8 9, old-7 8, old-6 7), then the rest summed per form.
  assert.equal(leakSeries.length, 4 + 2);
  assert.equal(map.get(`inotop_leaked_watches{pod_namespace="default",pod_name="old-9",pod_uid="uid-old-9",form="gone",${labels}}`), 10);
  assert.equal(map.get(`inotop_leaked_watches{pod_namespace="",pod_name="${OTHER}",pod_uid="",form="unmounted",${labels}}`), 2);
  assert.equal(map.get(`inotop_leaked_watches{pod_namespace="",pod_name="${OTHER}",pod_uid="",form="gone",${labels}}`), 1 + 1 + 2 + 3 + 4 + 5 + 6);
  assert.equal(sum(map, 'inotop_leaked_watches'), leaking.leaked);
  assert.equal(map.get(`inotop_gone_pods{${labels}}`), 11);
  for (const key of map.keys()) assert.ok(key.endsWith(`${labels}}`), key);
  assert.ok(![...map.keys()].some((key) => key.includes('pid=')), 'no pid label');

  // Before the first good scan: only what is known.
  const empty = await renderMetrics({ ...state(snap), snapshot: null, scanFailures: 1 });
  assert.deepEqual(
    [...samples(empty).keys()].map((key) => key.split('{')[0]),
    ['inotop_build_info', 'inotop_scan_failures_total'],
  );
});

test('the cardinality bound: 5,000 gone pods, a process restarted 100 times, 50 users, 100 failing commands, stalled readers and permission holders restarted: at most the budget over all scrapes', async () => {
  const gone = Array.from({ length: 5000 }, (_, i) =>
    target(10_000 + i, { pod: { ...pod(`job-${i}`, 'gone', 'batch'), uid: `uid-${String(i).padStart(5, '0')}` } }),
  );
  // Users in user namespaces with limits of their own, some holding fanotify.
  const users: UserRow[] = Array.from({ length: 50 }, (_, i) => ({
    ...user(1000 + i, 50 - i, 100 + i, String(4026531840 + i)),
    charged: { watches: 100 + i, instances: 50 - i, fanotifyGroups: i % 3, fanotifyMarks: i % 5 },
    limits: { watches: 1000, instances: 60, fanotifyGroups: 8, fanotifyMarks: 100 + i },
  }));
  const failures = new FailureTotals();
  const seen = new Set<string>();
  let last = new Map<string, number>();
  for (let restart = 0; restart < 100; restart++) {
    // A new pid each time, the same command in the same pod; its leaks and watches move a little.
    const kubelet = proc(5000 + restart, { comm: 'kubelet', instances: 4, targets: [...gone, ...targets(100 + restart, 1)] });
    const busy = Array.from({ length: 40 }, (_, i) =>
      proc(100_000 + restart * 100 + i, { comm: `worker-${i}`, pod: pod(`app-${i}`), targets: targets(i + 1, 50_000 + i * 100) }),
    );
    // A reader whose queue stalls and the holder of a permission group, each a new pid (and fd) every time.
    const readerPid = 200_000 + restart;
    const queue = { queuedBytes: 1000 + restart, queueState: restart % 2 ? ('not draining' as const) : ('may be full' as const) };
    const reader = proc(readerPid, {
      comm: 'fluent-bit',
      pod: pod('logs'),
      queuedBytes: queue.queuedBytes,
      fds: [{ fd: 7, watches: 0, shared: false, instance: `${readerPid}:7`, ...queue }],
    });
    const holder = { pid: 300_000 + restart, comm: 'avscan', fd: 5 + restart, marks: [], mask: 0x10000, waiters: 1 };
    const waiter = {
      pid: 400_000 + restart,
      comm: `cat-${restart}`,
      waitingSeconds: restart,
      pod: null,
      syscall: 'openat',
      path: null,
      threads: 1,
      heldBy: [holder.pid],
    };
    const snap: Snapshot = {
      ...snapshot([kubelet, ...busy, reader]),
      permissionWaits: { processes: [waiter], groups: [holder], incomplete: null },
      users,
      pods: { source: 'cri', live: 3, stale: false, error: null },
      trace: { state: 'on', reason: null },
      scan: { complete: false, reason: 'not read', unreadable: { EACCES: 1, EIO: 40 + restart, ENOMEM: 3, EINTR: 2, deadline: 5 } },
    };
    const batch: SyscallFailure[] = [
      {
        pid: 7000 + restart,
        comm: `cron-${restart}`,
        uid: 0,
        user: 'root',
        pod: null,
        syscall: restart % 2 ? 'inotify_init1' : 'inotify_add_watch',
        errno: restart % 2 ? 'EMFILE' : 'ENOSPC',
        count: 1,
        new: 1,
        limit: restart % 2 ? 'max_user_instances' : 'max_user_watches',
        limitUid: 0,
        limitUserns: null,
        fdLimit: null,
        firstAt: snap.time,
        lastAt: snap.time,
      },
    ];
    failures.add(batch);
    last = samples(await renderMetrics(state(snap, { failures })));
    for (const key of last.keys()) if (key.startsWith('inotop_')) seen.add(key);
  }
  assert.ok(seen.size <= seriesBudget(), `${seen.size} distinct series over 100 scrapes, budget ${seriesBudget()}`);
  // Bounded, and still exact where it is summed.
  assert.equal(last.get(`inotop_gone_pods{node="node-a",node_shard="${nodeShard('node-a')}"}`), 5000);
  assert.equal(sum(last, 'inotop_leaked_watches'), 5000);
  assert.equal(sum(last, 'inotop_syscall_failures_total'), 100);
  assert.equal(sum(last, 'inotop_process_watches'), 5000 + 199 + Array.from({ length: 40 }, (_, i) => i + 1).reduce((a, b) => a + b, 0));
  // No label takes a value per pid, restart or gone pod beyond the shown few.
  const labelValues = (label: string) => new Set([...seen].flatMap((key) => [...key.matchAll(new RegExp(`[{,]${label}="([^"]*)"`, 'g'))].map((m) => m[1])));
  assert.ok(labelValues('pod_uid').size <= DEFAULT_TOP_LEAKS + 1, [...labelValues('pod_uid')].join(' '));
  // The groups shown and _other, the failures' commands, the reader and the holder.
  assert.ok(labelValues('comm').size <= DEFAULT_TOP + 1 + (MAX_FAILURE_SERIES - 1) + 2, [...labelValues('comm')].join(' '));
  assert.equal(
    last.get(`inotop_process_queued_bytes{comm="fluent-bit",pod_namespace="default",pod_name="logs",node="node-a",node_shard="${nodeShard('node-a')}"}`),
    1099,
  );
  assert.equal(last.get(`inotop_permission_group_waiters{comm="avscan",pod_namespace="",pod_name="",node="node-a",node_shard="${nodeShard('node-a')}"}`), 1);
  // Two inotify users, one fanotify user.
  assert.ok(labelValues('uid').size <= 3, [...labelValues('uid')].join(' '));
  assert.equal(sum(last, 'inotop_scan_unreadable_processes'), 1 + 139 + 3 + 2 + 5, 'the unread processes summed, not dropped');
  assert.ok(labelValues('cause').size <= MAX_UNREADABLE_SERIES, [...labelValues('cause')].join(' '));
});

/** The lines of an exposition's samples of `name`. */
const lines = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
const nodeN = `node="n",node_shard="${nodeShard('n')}"`;

test('inotop_scan_complete: 1 for a scan that saw all, 0 with its causes for one that did not', async () => {
  const seen = snapshot([proc(1, { targets: targets(2) })]);
  const complete = await renderMetrics(state(seen, { node: 'n' }));
  assert.deepEqual(lines(complete, 'inotop_scan_complete'), [`inotop_scan_complete{reason="",${nodeN}} 1`]);
  assert.deepEqual(lines(complete, 'inotop_scan_unreadable_processes'), []);

  const blind = { ...seen, scan: { complete: false, reason: '40 of 120 processes not read (EACCES 1, EIO 39)', unreadable: { EACCES: 1, EIO: 39 } } };
  const text = await renderMetrics(state(blind, { node: 'n' }));
  assert.deepEqual(lines(text, 'inotop_scan_complete'), [`inotop_scan_complete{reason="processes not read: EACCES, EIO",${nodeN}} 0`]);
  assert.deepEqual(lines(text, 'inotop_scan_unreadable_processes'), [
    `inotop_scan_unreadable_processes{cause="EIO",${nodeN}} 39`,
    `inotop_scan_unreadable_processes{cause="EACCES",${nodeN}} 1`,
  ]);
  assert.equal(lines(text, 'inotop_user_watches').length, 1, 'the figures of an incomplete scan are given: they are lower bounds');
});

test('unread processes: the causes with most by name, the rest summed, at most MAX_UNREADABLE_SERIES series', () => {
  assert.deepEqual(exportedCauses({}), []);
  assert.deepEqual(exportedCauses({ EIO: 2, deadline: 9 }), [
    ['deadline', 9],
    ['EIO', 2],
  ]);
  // Ties by name: EACCES before EIO, whichever is summed.
  assert.deepEqual(exportedCauses({ EIO: 2, EACCES: 2, deadline: 1 }), [
    ['EACCES', 2],
    [OTHER, 3],
  ]);
  assert.deepEqual(exportedCauses({ EIO: 40, EACCES: 1, ENOMEM: 3, EINTR: 2, deadline: 5 }), [
    ['EIO', 40],
    [OTHER, 11],
  ]);
});

test('a failed scan (/proc not listed): inotop_scan_complete 0 with the reason, and no figures', async () => {
  const text = await renderMetrics({ ...state(snapshot([])), node: 'n', snapshot: null, scanFailures: 3, lastFailure: 'cannot read /proc: EIO (i/o error)' });
  assert.deepEqual(lines(text, 'inotop_scan_complete'), [`inotop_scan_complete{reason="cannot read /proc: EIO (i/o error)",${nodeN}} 0`]);
  assert.deepEqual(lines(text, 'inotop_user_watches'), []);
  assert.deepEqual(lines(text, 'inotop_scan_failures_total'), [`inotop_scan_failures_total{${nodeN}} 3`]);
});
