// Checks a recorded document against the snapshot schema (model/types.ts) before any later code
// sees it: a recording is a file anyone may have edited, and one renamed key must not crash a
// view. Hand-written on purpose: the schema is small and fixed, and a validator library would be
// the largest dependency of a tool that must start fast. Fields that are not in the schema are
// left alone; every field the views read is checked for its type.
import type { Snapshot } from '../model/types.js';

/** Why a value is not a snapshot: the first field that is wrong, by its path ("processes[3].pid"). */
export class SchemaError extends Error {}

type Check = (value: unknown, path: string) => void;

function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
  throw new SchemaError(`${path || 'the document'}: expected ${expected}, got ${got}`);
}

const string: Check = (value, path) => {
  if (typeof value !== 'string') fail(path, 'a string', value);
};
const boolean: Check = (value, path) => {
  if (typeof value !== 'boolean') fail(path, 'true or false', value);
};
const number: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'a number', value);
};
const count: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(path, 'a whole number', value);
};
const integer: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(path, 'an integer', value);
};
const time: Check = (value, path) => {
  string(value, path);
  if (!Number.isFinite(Date.parse(value as string))) fail(path, 'a time (ISO 8601)', value);
};

function nullable(check: Check): Check {
  return (value, path) => {
    if (value !== null) check(value, path);
  };
}

function optional(check: Check): Check {
  return (value, path) => {
    if (value !== undefined) check(value, path);
  };
}

function oneOf(...values: string[]): Check {
  return (value, path) => {
    if (typeof value !== 'string' || !values.includes(value)) fail(path, values.map((v) => `"${v}"`).join(' or '), value);
  };
}

function list(check: Check): Check {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, 'a list', value);
    for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`);
  };
}

function object(fields: Record<string, Check>): Check {
  const entries = Object.entries(fields);
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
    const record = value as Record<string, unknown>;
    for (const [key, check] of entries) check(record[key], path ? `${path}.${key}` : key);
  };
}

const podRef = object({
  uid: string,
  namespace: nullable(string),
  name: nullable(string),
  container: nullable(string),
  state: oneOf('live', 'gone', 'unknown'),
});

const holder = object({ pid: count, comm: string, mountpoint: string, boundFrom: optional(list(string)) });

const target = object({
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
  kind: optional(oneOf('inotify', 'fanotify')),
  markType: optional(oneOf('inode', 'mount', 'filesystem')),
  mntId: optional(count),
});

const processRow = object({
  pid: count,
  ppid: count,
  uid: count,
  user: string,
  userns: nullable(string),
  comm: string,
  cmdline: string,
  instances: count,
  watches: count,
  fds: list(object({ fd: count, watches: count, shared: boolean })),
  leaked: count,
  startTime: optional(count),
  stranded: optional(count),
  pod: nullable(podRef),
  watchedPods: optional(list(object({ pod: podRef, watches: count, leaked: count }))),
  fanotifyGroups: optional(count),
  fanotifyMarks: optional(count),
  fanotifyFds: optional(list(object({ fd: count, marks: count, shared: boolean }))),
  targets: list(target),
});

const chargeCounts = object({ instances: count, watches: count, fanotifyGroups: count, fanotifyMarks: count });
const chargeLimits = object({ instances: nullable(count), watches: nullable(count), fanotifyGroups: nullable(count), fanotifyMarks: nullable(count) });
const namespaceCharge = object({
  userns: string,
  uid: count,
  instances: count,
  watches: count,
  fanotifyGroups: count,
  fanotifyMarks: count,
  pods: list(string),
});
const somePids = object({ pids: list(count), count });
const scanNote: Check = (value, path) => {
  object({ kind: oneOf('unreadable', 'protected', 'out-of-fds', 'userns-uncharged', 'userns-owners-unread', 'userns-limits-unread') })(value, path);
  switch ((value as { kind: string }).kind) {
    case 'unreadable':
      return object({ processes: count })(value, path);
    case 'userns-uncharged':
      return object({ reason: string })(value, path);
    case 'userns-owners-unread':
      return object({ reasons: list(string), count })(value, path);
    case 'userns-limits-unread':
      return object({ namespaces: count, reason: string })(value, path);
    default:
      return somePids(value, path);
  }
};

const snapshot = object({
  schema: (value, path) => {
    if (value !== 1) fail(path, 'schema 1', value);
  },
  time,
  hostname: string,
  kernel: string,
  limits: object({
    maxUserWatches: nullable(integer),
    maxUserInstances: nullable(integer),
    maxQueuedEvents: nullable(integer),
    maxUserFanotifyGroups: optional(nullable(integer)),
    maxUserFanotifyMarks: optional(nullable(integer)),
  }),
  totals: object({ processes: count, instances: count, watches: count, fanotifyGroups: optional(count), fanotifyMarks: optional(count) }),
  users: list(
    object({
      uid: count,
      name: string,
      userns: nullable(string),
      instances: count,
      watches: count,
      fanotifyGroups: optional(count),
      fanotifyMarks: optional(count),
      // Missing in recordings made before they were added: the reader sets them (record/format.ts withCharges).
      charged: optional(chargeCounts),
      limits: optional(nullable(chargeLimits)),
      fromNamespaces: optional(list(namespaceCharge)),
    }),
  ),
  processes: list(processRow),
  pods: object({ source: string, live: nullable(count), stale: boolean, error: nullable(string) }),
  notes: list(string),
  scanNotes: optional(list(scanNote)),
  scanMs: number,
  scanScope: optional(oneOf('all', 'changed')),
});

/** The value as a Snapshot, or a SchemaError naming the first field that is wrong. */
export function validateSnapshot(value: unknown): Snapshot {
  snapshot(value, '');
  return value as Snapshot;
}
