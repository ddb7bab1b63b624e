// The recording format: JSON lines. The first line is a header, every other line one snapshot
// exactly as `--json --targets` prints it (schema 1). Gzip when the file name ends in .gz.
import { hostChargeLimits } from '../model/charges.js';
import { compareWatchedPods } from '../model/snapshot.js';
import type { LeakHolder, Limits, ProcessRow, UserRow, WatchedPod } from '../model/types.js';

export const RECORDING_MAGIC = 'inotop-recording';

export interface RecordingHeader {
  format: typeof RECORDING_MAGIC;
  version: 1;
  hostname: string;
  kernel: string;
  /** When recording started (ISO 8601). */
  started: string;
  /** The refresh interval in seconds the recording was made with. */
  intervalSeconds: number;
  inotopVersion: string;
}

export function isGzipPath(path: string): boolean {
  return path.endsWith('.gz');
}

export class RecordingError extends Error {}

/** Validates the header line; a file that is not a recording fails here with a clear message. */
export function parseHeader(line: string, path: string): RecordingHeader {
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    throw new RecordingError(`${path} is not an inotop recording (its first line is not JSON)`);
  }
  const h = header as Partial<Record<keyof RecordingHeader, unknown>> | null;
  if (!h || typeof h !== 'object' || h.format !== RECORDING_MAGIC)
    throw new RecordingError(`${path} is not an inotop recording (no ${RECORDING_MAGIC} header)`);
  if (h.version !== 1) throw new RecordingError(`${path}: recording version ${String(h.version)} is not supported (this inotop reads version 1)`);
  const wrong = (['hostname', 'kernel', 'started', 'inotopVersion'] as const).find((key) => typeof h[key] !== 'string');
  if (wrong) throw new RecordingError(`${path}: the recording's header has no ${wrong}`);
  if (!Number.isFinite(Date.parse(h.started as string))) throw new RecordingError(`${path}: the recording's header has no start time`);
  if (typeof h.intervalSeconds !== 'number' || !(h.intervalSeconds > 0) || !Number.isFinite(h.intervalSeconds)) {
    throw new RecordingError(`${path}: the recording's header has no interval`);
  }
  return h as RecordingHeader;
}
/**
 * A row of a recording made before rows carried their pods and leak holders gets them from its
 * targets (recordings keep every target).
 */
export function withSummaries(row: ProcessRow): ProcessRow {
  if (row.watchedPods && row.leakHolders) return row;
  const pods = new Map<string, WatchedPod>();
  const holders = new Map<number, LeakHolder>();
  for (const target of row.targets) {
    if (target.leak !== null) for (const { pid, comm } of target.holders) if (!holders.has(pid)) holders.set(pid, { pid, comm });
    if (!target.pod) continue;
    const entry = pods.get(target.pod.uid) ?? { pod: target.pod, watches: 0, leaked: 0, holders: [] };
    entry.watches += target.watches;
    if (target.leak !== null) entry.leaked += target.watches;
    if (target.leak !== null) for (const pid of target.heldBy) if (!entry.holders!.includes(pid)) entry.holders!.push(pid);
    pods.set(target.pod.uid, entry);
  }
  return {
    ...row,
    watchedPods: row.watchedPods ?? [...pods.values()].sort(compareWatchedPods),
    leakHolders: row.leakHolders ?? [...holders.values()].sort((a, b) => a.pid - b.pid),
  };
}

/**
 * A user of a recording made before users carried their charge: charged what it held itself (the
 * views of then knew no other), a host user against the host's limits, a namespace's user
 * against limits unknown.
 */
export function withCharges(user: UserRow, limits: Limits): UserRow {
  if (user.charged && user.limits !== undefined && user.fromNamespaces) return user;
  const own = { instances: user.instances, watches: user.watches, fanotifyGroups: user.fanotifyGroups ?? 0, fanotifyMarks: user.fanotifyMarks ?? 0 };
  return {
    ...user,
    charged: user.charged ?? own,
    limits: user.limits !== undefined ? user.limits : user.userns === null ? hostChargeLimits(limits) : null,
    fromNamespaces: user.fromNamespaces ?? [],
  };
}
