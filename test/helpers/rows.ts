// Hand-made snapshots for model and screen unit tests: only the fields a test cares about.
import { hostChargeLimits } from '../../src/model/charges.js';
import { NO_TREND } from '../../src/model/projection.js';
import { tallyTargets } from '../../src/model/snapshot.js';
import type { Limits, PodRef, ProcessRow, ScannedProcess, ScanResult, Snapshot, TargetRow, UserRow } from '../../src/model/types.js';

/** The limits of the hand-made snapshots. */
export const LIMITS: Limits = {
  maxUserWatches: 8192,
  maxUserInstances: 128,
  maxQueuedEvents: 16384,
  maxUserFanotifyGroups: 128,
  maxUserFanotifyMarks: 8192,
  maxFanotifyQueuedEvents: 16384,
};

/** A user charged what it holds itself, a host user against `limits`, one in a user namespace against limits unknown. */
export function user(uid: number, instances: number, watches: number, userns: string | null = null, limits: Limits = LIMITS): UserRow {
  return {
    uid,
    name: uid === 0 ? 'root' : String(uid),
    userns,
    instances,
    watches,
    fanotifyGroups: 0,
    fanotifyMarks: 0,
    charged: { instances, watches, fanotifyGroups: 0, fanotifyMarks: 0 },
    limits: userns === null ? hostChargeLimits(limits) : null,
    fromNamespaces: [],
    trend: NO_TREND,
  };
}

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
    limits: LIMITS,
    totals: { processes: processes.length, instances: processes.length, watches, fanotifyGroups: 0, fanotifyMarks: 0 },
    users: [user(0, processes.length, watches)],
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

/** A scanned process holding nothing but `fields`. */
export function scannedProcess(pid: number, uid: number, fields: Partial<ScannedProcess>): ScannedProcess {
  return {
    pid,
    ppid: 1,
    startTime: 0,
    uid,
    user: `u${uid}`,
    comm: `p${pid}`,
    cmdline: '',
    userns: null,
    mntns: null,
    cgroups: [],
    instances: [],
    fanotifyGroups: [],
    ...fields,
  };
}

/** A complete scan of `processes`, against LIMITS. */
export function scanOf(processes: ScannedProcess[]): ScanResult {
  return {
    time: new Date(0).toISOString(),
    hostname: 'h',
    kernel: 'k',
    procRoot: '/proc',
    hostUserns: null,
    limits: LIMITS,
    processes,
    needsPrivilege: 0,
    coverage: { complete: true, reason: null, unreadable: {} },
    userNamespaces: [],
    sharedDetection: 'kcmp',
    notes: [],
    parsedInstances: [],
    scope: 'all',
    keptPids: [],
    queued: null,
    incomplete: null,
    durationMs: 1,
  };
}
