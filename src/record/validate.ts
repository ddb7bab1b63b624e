// Checks a recorded document against the snapshot schema (model/types.ts) before any later code
// sees it, and upgrades what older recordings lack: a recording is a file anyone may have edited,
// and one renamed key or a value of another type must not crash a view or pass through to
// `--json`. The checks are made from the types: `object<T>` wants one check per field of T,
// optional ones too, so a field added to the model without a check here fails the type-check; a
// check returns its value as the type it checked, and `object` builds a new object of the checked
// fields only (what the schema does not know is dropped, never passed on). Fields added to the
// model after recordings existed are `legacy`: missing, they get the value an older inotop meant.
// Hand-written on purpose: the schema is small and fixed, and a validator library would be the
// largest dependency of a tool that must start fast.
import { hostChargeLimits } from '../model/charges.js';
import { NO_TREND } from '../model/projection.js';
import { tallyTargets } from '../model/snapshot.js';
import type {
  ChargeCounts,
  ChargeLimits,
  FanotifyFdRow,
  FanotifyMarkType,
  FdRow,
  Holder,
  LeakHolder,
  Limits,
  NamespaceCharge,
  PermissionGroup,
  PermissionMark,
  PermissionWaiter,
  PermissionWaits,
  PodRef,
  PodsStatus,
  ProcessRow,
  QueueFields,
  QueueState,
  ScanCoverage,
  ScanNote,
  Snapshot,
  SyscallFailure,
  TargetRow,
  Totals,
  TraceStatus,
  UserRow,
  UserTrend,
  WatchChurn,
  WatchedPod,
} from '../model/types.js';

/** Why a value is not a snapshot: the first field that is wrong, by its path ("processes[3].pid"). */
export class SchemaError extends Error {}

/** Checks a value and returns it as a T (a new object for objects), or throws a SchemaError. */
export type Check<T> = (value: unknown, path: string) => T;

/** One check per field of T, optional fields included. */
export type Fields<T> = { [K in keyof Required<T>]: Check<T[K]> };

function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
  throw new SchemaError(`${path || 'the document'}: expected ${expected}, got ${got}`);
}

const string: Check<string> = (value, path) => (typeof value === 'string' ? value : fail(path, 'a string', value));
const boolean: Check<boolean> = (value, path) => (typeof value === 'boolean' ? value : fail(path, 'true or false', value));
const number: Check<number> = (value, path) => (typeof value === 'number' && Number.isFinite(value) ? value : fail(path, 'a number', value));
const count: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fail(path, 'a whole number', value);
const integer: Check<number> = (value, path) => (typeof value === 'number' && Number.isSafeInteger(value) ? value : fail(path, 'an integer', value));
const time: Check<string> = (value, path) => (Number.isFinite(Date.parse(string(value, path))) ? (value as string) : fail(path, 'a time (ISO 8601)', value));

function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

/** A field that some rows do not have (a fanotify mark's type): absent stays absent. */
function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path) => (value === undefined ? undefined : check(value, path));
}

/** A field recordings made before it was added lack: they get `missing()`. */
function legacy<T>(check: Check<T>, missing: () => T): Check<T> {
  return (value, path) => (value === undefined ? missing() : check(value, path));
}

function oneOf<T extends string>(...values: T[]): Check<T> {
  return (value, path) => (values.includes(value as T) ? (value as T) : fail(path, values.map((v) => `"${v}"`).join(' or '), value));
}

/** A cause as Misses names one: an errno name, or a word. */
const CAUSE = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/** An object of counts by cause (ScanCoverage.unreadable): its keys are checked too. */
const countsByCause: Check<Record<string, number>> = (value, path) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
  const counts: Record<string, number> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!CAUSE.test(key)) throw new SchemaError(`${path}: ${JSON.stringify(key.slice(0, 40))} is not a cause`);
    counts[key] = count(item, `${path}.${key}`);
  }
  return counts;
};

function list<T>(check: Check<T>): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, 'a list', value);
    return value.map((item, i) => check(item, `${path}[${i}]`));
  };
}

function object<T>(fields: Fields<T>): Check<T> {
  const entries = Object.entries(fields) as [string, Check<unknown>][];
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
    const record = value as Record<string, unknown>;
    const checked: Record<string, unknown> = {};
    for (const [key, check] of entries) {
      // Only own fields: `constructor` or `__proto__` in a file are data, never inherited behaviour.
      const field = check(Object.hasOwn(record, key) ? record[key] : undefined, path ? `${path}.${key}` : key);
      if (field !== undefined) checked[key] = field;
    }
    return checked as T;
  };
}

const podRef = object<PodRef>({
  uid: string,
  namespace: nullable(string),
  name: nullable(string),
  container: nullable(string),
  state: oneOf('live', 'gone', 'unknown'),
  nameSource: legacy(nullable(oneOf('list', 'memory', 'path', 'etc-hosts', 'pod-logs')), () => null),
});

const holder = object<Holder>({ pid: count, comm: string, mountpoint: string, boundFrom: legacy(list(string), () => []) });

const target = object<TargetRow>({
  kind: legacy(oneOf('inotify', 'fanotify'), () => 'inotify'),
  markType: optional(oneOf('inode', 'mount', 'filesystem')),
  mntId: optional(count),
  dev: string,
  ino: count,
  watches: count,
  fds: list(count),
  mask: count,
  path: nullable(string),
  mountpoint: nullable(string),
  mountpointRemembered: boolean,
  fstype: nullable(string),
  status: oneOf('ok', 'deleted', 'unmounted', 'unresolved'),
  reason: nullable(string),
  heldBy: list(count),
  holders: list(holder),
  pod: nullable(podRef),
  leak: nullable(oneOf('gone', 'unmounted', 'deleted')),
});

// Event queues and permission waits (issue 26): missing in recordings made before them, and in
// snapshots made without reading them (a recorded /proc tree): absent stays absent, "not read".
const queueState = oneOf<QueueState>('empty', 'pending', 'draining', 'not draining', 'may be full', 'unknown');

/** An fd's queue fields: both or neither (a view that finds a state looks for its bytes). */
function withQueue<T extends QueueFields>(check: Check<T>): Check<T> {
  return (value, path) => {
    const row = check(value, path);
    if ((row.queuedBytes === undefined) !== (row.queueState === undefined)) throw new SchemaError(`${path}: queuedBytes and queueState go together`);
    return row;
  };
}

const markType = oneOf<FanotifyMarkType>('inode', 'mount', 'filesystem');

const permissionWaits = object<PermissionWaits>({
  processes: list(
    object<PermissionWaiter>({
      pid: count,
      comm: string,
      waitingSeconds: count,
      pod: nullable(podRef),
      syscall: nullable(string),
      path: nullable(string),
      threads: count,
      heldBy: list(count),
    }),
  ),
  groups: list(
    object<PermissionGroup>({
      pid: count,
      comm: string,
      fd: count,
      marks: list(object<PermissionMark>({ markType, path: nullable(string), mask: count })),
      mask: count,
      waiters: count,
    }),
  ),
  incomplete: nullable(string),
});

/** A row as recordings made before its summaries were added hold it: those come from its targets (a recording keeps every target). */
type RecordedRow = Omit<ProcessRow, 'stranded' | 'watchedPods' | 'leakHolders' | 'fds' | 'fanotifyFds'> & {
  fds: (Omit<FdRow, 'instance'> & { instance?: string })[];
  fanotifyFds: (Omit<FanotifyFdRow, 'instance'> & { instance?: string })[];
  stranded?: number;
  watchedPods?: (Omit<WatchedPod, 'holders'> & { holders?: number[] })[];
  leakHolders?: LeakHolder[];
};

const recordedRow = object<RecordedRow>({
  pid: count,
  ppid: count,
  startTime: legacy(count, () => 0),
  uid: count,
  user: string,
  userns: nullable(string),
  comm: string,
  cmdline: string,
  instances: count,
  watches: count,
  fds: list(
    withQueue(
      object<RecordedRow['fds'][number]>({
        fd: count,
        watches: count,
        shared: boolean,
        instance: optional(string),
        queuedBytes: optional(nullable(count)),
        queueState: optional(queueState),
      }),
    ),
  ),
  fanotifyGroups: legacy(count, () => 0),
  fanotifyMarks: legacy(count, () => 0),
  fanotifyFds: legacy(
    list(
      withQueue(
        object<RecordedRow['fanotifyFds'][number]>({
          fd: count,
          marks: count,
          shared: boolean,
          instance: optional(string),
          queuedBytes: optional(nullable(count)),
          queueState: optional(queueState),
        }),
      ),
    ),
    () => [],
  ),
  queuedBytes: optional(nullable(count)),
  leaked: count,
  stranded: optional(count),
  pod: nullable(podRef),
  watchedPods: optional(
    list(object<NonNullable<RecordedRow['watchedPods']>[number]>({ pod: podRef, watches: count, leaked: count, holders: optional(list(count)) })),
  ),
  leakHolders: optional(list(object<LeakHolder>({ pid: count, comm: string }))),
  targets: list(target),
});

const processRow: Check<ProcessRow> = (value, path) => {
  const row = recordedRow(value, path);
  const { stranded, watchedPods, leakHolders } = row;
  const fds = row.fds.map((fd) => ({ ...fd, instance: fd.instance ?? `${row.pid}:${fd.fd}` }));
  const fanotifyFds = row.fanotifyFds.map((fd) => ({ ...fd, instance: fd.instance ?? `${row.pid}:${fd.fd}` }));
  const complete = watchedPods?.every((entry) => entry.holders !== undefined) ? (watchedPods as WatchedPod[]) : undefined;
  if (stranded !== undefined && leakHolders !== undefined && complete) return { ...row, fds, fanotifyFds, stranded, leakHolders, watchedPods: complete };
  const tallied = tallyTargets(row.targets);
  return {
    ...row,
    fds,
    fanotifyFds,
    stranded: stranded ?? tallied.stranded,
    leakHolders: leakHolders ?? tallied.leakHolders,
    watchedPods: complete ?? tallied.watchedPods,
  };
};

const trend = object<UserTrend>({
  watchesPerMinute: nullable(number),
  instancesPerMinute: nullable(number),
  watchesFullInSeconds: nullable(number),
  instancesFullInSeconds: nullable(number),
});
type NoteOf<K extends ScanNote['kind']> = Extract<ScanNote, { kind: K }>;
const missedPid = object<NoteOf<'missed'>['pids'][number]>({ pid: count, what: list(string) });
/** A note of one kind: its fields as that kind has them (the kind itself checked by scanNote). */
function noteOf<K extends ScanNote['kind']>(kind: K, fields: Fields<Omit<NoteOf<K>, 'kind'>>): Check<NoteOf<K>> {
  const check = object(fields);
  return (value, path) => ({ kind, ...check(value, path) }) as NoteOf<K>;
}
const SCAN_NOTES: { [K in ScanNote['kind']]: Check<NoteOf<K>> } = {
  unreadable: noteOf('unreadable', { processes: count }),
  missed: noteOf('missed', { cause: string, pids: list(missedPid), count, hostProtected: boolean }),
  'userns-uncharged': noteOf('userns-uncharged', { reason: string }),
  'userns-owners-unread': noteOf('userns-owners-unread', { reasons: list(string), count }),
  'userns-limits-unread': noteOf('userns-limits-unread', { namespaces: count, reason: string }),
};
const scanNoteKind = oneOf(...(Object.keys(SCAN_NOTES) as ScanNote['kind'][]));
const scanNote: Check<ScanNote> = (value, path) => {
  const { kind } = object<{ kind: ScanNote['kind'] }>({ kind: scanNoteKind })(value, path);
  return SCAN_NOTES[kind](value, path);
};

const chargeCounts = object<ChargeCounts>({ instances: count, watches: count, fanotifyGroups: count, fanotifyMarks: count });
const chargeLimits = object<ChargeLimits>({
  instances: nullable(count),
  watches: nullable(count),
  fanotifyGroups: nullable(count),
  fanotifyMarks: nullable(count),
});

/** A user as recordings made before users carried their charge hold it: the snapshot's limits fill it in (withCharges). */
type RecordedUser = Omit<UserRow, 'charged' | 'limits' | 'fromNamespaces'> & {
  charged?: ChargeCounts;
  limits?: ChargeLimits | null;
  fromNamespaces?: NamespaceCharge[];
};

const recordedUser = object<RecordedUser>({
  uid: count,
  name: string,
  userns: nullable(string),
  instances: count,
  watches: count,
  fanotifyGroups: legacy(count, () => 0),
  fanotifyMarks: legacy(count, () => 0),
  charged: optional(chargeCounts),
  limits: optional(nullable(chargeLimits)),
  fromNamespaces: optional(
    list(
      object<NamespaceCharge>({
        userns: string,
        uid: count,
        instances: count,
        watches: count,
        fanotifyGroups: count,
        fanotifyMarks: count,
        pods: list(string),
      }),
    ),
  ),
  trend: legacy(trend, () => NO_TREND),
});

/**
 * A user of a recording made before users carried their charge: charged what it held itself (the
 * views of then knew no other), a host user against the host's limits, a namespace's user
 * against limits unknown.
 */
function withCharges(user: RecordedUser, limits: Limits): UserRow {
  const own = { instances: user.instances, watches: user.watches, fanotifyGroups: user.fanotifyGroups, fanotifyMarks: user.fanotifyMarks };
  return {
    ...user,
    charged: user.charged ?? own,
    limits: user.limits !== undefined ? user.limits : user.userns === null ? hostChargeLimits(limits) : null,
    fromNamespaces: user.fromNamespaces ?? [],
  };
}

const failure = object<SyscallFailure>({
  pid: count,
  comm: string,
  uid: nullable(count),
  user: nullable(string),
  pod: nullable(podRef),
  syscall: string,
  errno: string,
  count,
  new: count,
  limit: nullable(oneOf('max_user_watches', 'max_user_instances', 'max_inotify_watches', 'max_inotify_instances', 'RLIMIT_NOFILE')),
  limitUid: legacy(nullable(count), () => null),
  limitUserns: legacy(nullable(string), () => null),
  fdLimit: nullable(count),
  firstAt: time,
  lastAt: time,
});

const churn = object<WatchChurn>({ pid: count, comm: string, adds: count, removes: count, addsPerSecond: number, removesPerSecond: number });

/** What a recording made before failed calls were traced says about the trace. */
const NOT_RECORDED: TraceStatus = { state: 'off', reason: 'the recording was made before failed calls were traced' };

/** A snapshot as recorded: its users upgraded once its limits are known. */
type RecordedSnapshot = Omit<Snapshot, 'users'> & { users: RecordedUser[] };

const recordedSnapshot = object<RecordedSnapshot>({
  schema: (value, path) => (value === 1 ? 1 : fail(path, 'schema 1', value)),
  time,
  hostname: string,
  kernel: string,
  limits: object<Limits>({
    maxUserWatches: nullable(integer),
    maxUserInstances: nullable(integer),
    maxQueuedEvents: nullable(integer),
    maxUserFanotifyGroups: legacy(nullable(integer), () => null),
    maxUserFanotifyMarks: legacy(nullable(integer), () => null),
    maxFanotifyQueuedEvents: legacy(nullable(integer), () => null),
  }),
  totals: object<Totals>({
    processes: count,
    instances: count,
    watches: count,
    fanotifyGroups: legacy(count, () => 0),
    fanotifyMarks: legacy(count, () => 0),
  }),
  users: list(recordedUser),
  processes: list(processRow),
  pods: object<PodsStatus>({ source: string, live: nullable(count), stale: boolean, error: nullable(string) }),
  notes: list(string),
  scanNotes: optional(list(scanNote)),
  scanMs: number,
  scanScope: legacy(oneOf('all', 'changed'), () => 'all'),
  failures: legacy(list(failure), () => []),
  churn: legacy(list(churn), () => []),
  trace: legacy(object<TraceStatus>({ state: oneOf('on', 'off'), reason: nullable(string) }), () => NOT_RECORDED),
  scan: legacy(object<ScanCoverage>({ complete: boolean, reason: nullable(string), unreadable: countsByCause }), () => ({
    complete: true,
    reason: null,
    unreadable: {},
  })),
  permissionWaits: optional(permissionWaits),
});

/** The value as a Snapshot of checked fields only, upgraded where it is older; or a SchemaError naming the first field that is wrong. */
export function validateSnapshot(value: unknown): Snapshot {
  const recorded = recordedSnapshot(value, '');
  return { ...recorded, users: recorded.users.map((user) => withCharges(user, recorded.limits)) };
}
