// Hand-made snapshots for model and screen unit tests: only the fields a test cares about.
import { NO_TREND, tallyTargets } from '../../src/model/snapshot.js';
import type { PodRef, ProcessRow, Snapshot, TargetRow, UserRow } from '../../src/model/types.js';

export function pod(name: string, state: PodRef['state'] = 'live', namespace = 'default'): PodRef {
  return { uid: `uid-${name}`, namespace, name, container: null, state, nameSource: null };
}

export function target(ino: number, fields: Partial<TargetRow> = {}): TargetRow {
  return {
    kind: 'inotify',
    dev: '8:1',
    ino,
    watches: 1,
    fds: [3],
    mask: 0xfff,
    path: `/srv/file-${ino}`,
    mountpoint: '/',
    mountpointRemembered: false,
    fstype: 'ext4',
    status: 'ok',
    reason: null,
    heldBy: [],
    holders: [],
    pod: null,
    leak: fields.pod?.state === 'gone' ? 'gone' : null,
    ...fields,
  };
}

/** A process; its watches, leaked counts and pods follow its targets unless given. */
export function proc(pid: number, fields: Partial<ProcessRow> = {}): ProcessRow {
  const targets = fields.targets ?? [];
  return {
    pid,
    ppid: 1,
    startTime: 1000 + pid,
    uid: 0,
    user: 'root',
    userns: null,
    comm: `proc${pid}`,
    cmdline: `/usr/bin/proc${pid} --serve`,
    instances: 1,
    watches: targets.reduce((sum, t) => sum + t.watches, 0),
    fds: [{ fd: 3, watches: targets.length, shared: false, instance: `${pid}:3` }],
    fanotifyGroups: 0,
    fanotifyMarks: 0,
    fanotifyFds: [],
    ...tallyTargets(targets),
    pod: null,
    ...fields,
    targets,
  };
}

/** `n` distinct one-watch targets starting at inode `from`, optionally on a pod. */
export function targets(n: number, from = 1, fields: Partial<TargetRow> = {}): TargetRow[] {
  return Array.from({ length: n }, (_, i) => target(from + i, fields));
}

export function snapshot(processes: ProcessRow[], time = '2026-11-27T10:00:00.000Z'): Snapshot {
  const watches = processes.reduce((sum, p) => sum + p.watches, 0);
  return {
    schema: 1,
    time,
    hostname: 'node-t',
    kernel: '6.18.0-test',
    limits: { maxUserWatches: 8192, maxUserInstances: 128, maxQueuedEvents: 16384, maxUserFanotifyGroups: 128, maxUserFanotifyMarks: 8192 },
    totals: { processes: processes.length, instances: processes.length, watches, fanotifyGroups: 0, fanotifyMarks: 0 },
    users: [user({ instances: processes.length, watches })],
    processes,
    pods: { source: 'none', live: null, stale: false, error: null },
    notes: [],
    scanMs: 1,
    scanScope: 'all',
    failures: [],
    churn: [],
    trace: { state: 'off', reason: 'not traced' },
    scan: { complete: true, reason: null, unreadable: {} },
  };
}

/** A user's row: root with nothing unless given. */
export function user(fields: Partial<UserRow> = {}): UserRow {
  return { uid: 0, name: 'root', userns: null, instances: 0, watches: 0, fanotifyGroups: 0, fanotifyMarks: 0, trend: NO_TREND, ...fields };
}
