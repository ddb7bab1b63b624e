// Diffs between snapshots: deltas per pid, the totals series, the change log per process and pod.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  advanceHistory,
  advanceHistoryWith,
  deltasOf,
  EMPTY_HISTORY,
  summarizeAll,
  type ChangeEvent,
  type History,
  type ProcessIdentity,
} from '../../src/model/history.js';
import { NO_FILTER, queryRows } from '../../src/model/query.js';
import type { ProcessRow, Snapshot } from '../../src/model/types.js';
import { pod, proc, snapshot, targets } from '../helpers/rows.js';

const nginx = pod('nginx-7c9f');
const time = (s: number) => `2026-11-27T10:00:${String(s).padStart(2, '0')}.000Z`;

function feed(...snapshots: Snapshot[]): History {
  return snapshots.reduce(advanceHistory, EMPTY_HISTORY);
}

function identity(row: ProcessRow): ProcessIdentity {
  return { pid: row.pid, startTime: row.startTime, uid: row.uid, user: row.user, comm: row.comm, cmdline: row.cmdline, pod: row.pod };
}

function kinds(events: readonly ChangeEvent[]): string[] {
  return events.map((e) => e.kind);
}

test('the first snapshot is the baseline: no deltas, no process events', () => {
  const history = feed(snapshot([proc(10, { targets: targets(5) }), proc(11, { targets: targets(2) })], time(0)));
  assert.equal(history.startedAt, time(0));
  assert.deepEqual([...history.sinceLast.values()], [0, 0]);
  assert.deepEqual([...history.sinceStart.values()], [0, 0]);
  assert.deepEqual(history.totals, [7]);
  assert.deepEqual(history.events, []);
});

test('deltas since the last refresh and since start, per pid; new pids start from 0', () => {
  const history = feed(
    snapshot([proc(10, { targets: targets(5) })], time(0)),
    snapshot([proc(10, { targets: targets(8) })], time(2)),
    snapshot([proc(10, { targets: targets(6) }), proc(12, { targets: targets(4) })], time(4)),
  );
  const deltas = deltasOf(history);
  assert.equal(deltas.sinceLast(10), -2);
  assert.equal(deltas.sinceStart(10), 1);
  assert.equal(deltas.sinceLast(12), 4);
  assert.equal(deltas.sinceStart(12), 4);
  assert.equal(deltas.sinceLast(999), 0);
  assert.deepEqual(history.totals, [5, 8, 10]);
});

test('deltas drive the Δ sort shared with batch mode', () => {
  const later = snapshot([proc(10, { targets: targets(6) }), proc(11, { targets: targets(9) })], time(2));
  const history = feed(snapshot([proc(10, { targets: targets(5) }), proc(11, { targets: targets(5) })], time(0)), later);
  const rows = queryRows(later.processes, NO_FILTER, { field: 'delta', descending: true }, deltasOf(history));
  assert.deepEqual(
    rows.map((r) => r.pid),
    [11, 10],
  );
});

test('a process that gains watches on a pod: one event naming the pod', () => {
  const before = proc(812, { comm: 'kubelet', targets: targets(2) });
  const after = proc(812, { comm: 'kubelet', targets: [...targets(2), ...targets(3, 100, { pod: nginx })] });
  const history = feed(snapshot([before], time(0)), snapshot([after], time(2)));
  assert.deepEqual(history.events, [
    { kind: 'process-changed', time: time(2), process: identity(after), delta: 3, watches: 5, pods: [{ pod: nginx, delta: 3 }] },
  ]);
});

test('processes starting and exiting are told once', () => {
  const history = feed(
    snapshot([proc(10, { targets: targets(1) })], time(0)),
    snapshot([proc(10, { targets: targets(1) }), proc(20, { comm: 'tail', targets: targets(4) })], time(2)),
    snapshot([proc(10, { targets: targets(1) })], time(4)),
    snapshot([proc(10, { targets: targets(1) })], time(6)),
  );
  assert.deepEqual(kinds(history.events), ['process-started', 'process-exited']);
  assert.deepEqual(history.events[1], { kind: 'process-exited', time: time(4), process: identity(proc(20, { comm: 'tail' })), watches: 4 });
});

test('a pod that goes while a process still watches it: one pod-gone event with the holders, then released', () => {
  const kubelet = (state: 'live' | 'gone', n: number) =>
    proc(812, { comm: 'kubelet', targets: [...targets(1), ...targets(n, 100, { pod: { ...nginx, state } })] });
  const shim = proc(4567, { comm: 'containerd-shim', targets: targets(1, 200, { pod: { ...nginx, state: 'gone' } }) });
  const history = feed(
    snapshot([kubelet('live', 3)], time(0)),
    snapshot([kubelet('gone', 3), shim], time(2)),
    snapshot([kubelet('gone', 3), shim], time(4)),
    snapshot([kubelet('gone', 0)], time(6)),
  );
  const gone = history.events.filter((e) => e.kind === 'pod-gone');
  assert.equal(gone.length, 1);
  assert.deepEqual(gone[0], {
    kind: 'pod-gone',
    time: time(2),
    pod: { ...nginx, state: 'gone' },
    holders: [
      { pid: 812, comm: 'kubelet', watches: 3 },
      { pid: 4567, comm: 'containerd-shim', watches: 1 },
    ],
  });
  assert.deepEqual(history.events.at(-1), { kind: 'pod-released', time: time(6), pod: { ...nginx, state: 'gone' } });
});

test('a gone pod already held when inotop starts is told at once', () => {
  const history = feed(snapshot([proc(812, { comm: 'kubelet', targets: targets(2, 1, { pod: { ...nginx, state: 'gone' } }) })], time(0)));
  assert.deepEqual(kinds(history.events), ['pod-gone']);
});

test('watches stranded on unmounted targets are told', () => {
  const history = feed(
    snapshot([proc(10, { targets: targets(3) })], time(0)),
    snapshot([proc(10, { targets: targets(3, 1, { status: 'unmounted', leak: 'unmounted' }) })], time(2)),
  );
  assert.deepEqual(history.events, [{ kind: 'process-stranded', time: time(2), process: identity(proc(10)), delta: 3, stranded: 3 }]);
});

test('the totals series and the change log are bounded', () => {
  let history = EMPTY_HISTORY;
  for (let i = 0; i < 1200; i++) history = advanceHistory(history, snapshot([proc(10, { targets: targets(i % 2 === 0 ? 1 : 2) })], time(i % 60)));
  assert.equal(history.totals.length, 1000);
  assert.equal(history.events.length, 500);
});

test('summaries made where the targets are stand in for them: the same history from rows without targets', () => {
  const snapshots = [
    snapshot([proc(10, { targets: targets(2, 1, { pod: nginx }) }), proc(11, { targets: targets(1) })], time(0)),
    snapshot([proc(10, { targets: [...targets(4, 1, { pod: nginx }), ...targets(2, 9, { status: 'unmounted', leak: 'unmounted' })] })], time(2)),
    snapshot([proc(10, { targets: targets(1, 1, { pod: pod('nginx-7c9f', 'gone') }) })], time(4)),
  ];
  const full = feed(...snapshots);
  const slim = snapshots.reduce(
    (history, s) => advanceHistoryWith(history, { ...s, processes: s.processes.map((row) => ({ ...row, targets: [] })) }, summarizeAll(s.processes)),
    EMPTY_HISTORY,
  );
  assert.deepEqual(slim, full);
  assert.deepEqual(kinds(slim.events), ['process-changed', 'process-stranded', 'process-exited', 'process-changed', 'pod-gone']);
});
