// Failed inotify calls, counted per process, syscall and errno, and the limit each one ran into.
// Pure: the tracer hands in what it read and what the scan knows.
import { hostChargeLimits, type ChargeKey } from '../model/charges.js';
import type { FailureLimit, Limits, PodRef, SyscallFailure, UserNamespace, UserRow } from '../model/types.js';
import { errnoName } from '../sys/errno.js';
import type { TracedSyscall } from './parse.js';

/** Failures this recent are a problem (check), an alert (the screen). */
export const RECENT_FAILURE_MS = 5 * 60_000;

/**
 * The errnos traced: those that mean a limit or a resource ran out. Others (ENOENT, EACCES) are
 * the caller's own business, and the kernel drops them before they reach the buffer.
 */
export const RESOURCE_ERRNOS = ['ENOSPC', 'EMFILE', 'ENFILE', 'ENOMEM'] as const;

/** Processes kept at most: one that fails, restarts and fails again makes a new pid each time. */
const MAX_ENTRIES = 256;

/** What the tracer could read of a failing process when it saw its failure. */
export interface FailingProcess {
  pid: number;
  comm: string;
  uid: number | null;
  user: string | null;
  /** Its user namespace when not the host's (as UserRow.userns), else null. */
  userns: string | null;
  pod: PodRef | null;
  /** Soft RLIMIT_NOFILE; null when unreadable or unlimited. */
  fdLimit: number | null;
  /** Its open fds when it was read; null when unreadable. */
  openFds: number | null;
}

/** What the scan of the same refresh says, to tell which limit a failure ran into. */
export interface LimitContext {
  /** Each key's charge and the limits in force for it. */
  users: readonly UserRow[];
  limits: Limits;
  /**
   * A user namespace by its id, looked up through `pid` (a process in it) when the scan did not
   * meet it; null when it cannot be told. Without it, only the failing process's own key is judged.
   */
  namespaceOf?: (userns: string, pid: number) => UserNamespace | null;
}

/** A limit a failure ran into, and whose: the key (null for RLIMIT_NOFILE). */
interface Judgement {
  limit: FailureLimit;
  key: ChargeKey | null;
}

interface Entry {
  process: FailingProcess;
  syscall: TracedSyscall;
  errno: string;
  count: number;
  /** count at the previous take(). */
  taken: number;
  firstAt: number;
  lastAt: number;
  judged: Judgement | null;
}

export class FailureLog {
  private readonly entries = new Map<string, Entry>();

  /** One failed call; `atMs` on the wall clock. */
  record(process: FailingProcess, syscall: TracedSyscall, errno: number, atMs: number): void {
    const name = errnoName(errno);
    const key = `${process.pid}/${syscall}/${name}`;
    const entry = this.entries.get(key);
    if (entry) {
      entry.count++;
      entry.lastAt = Math.max(entry.lastAt, atMs);
      // A process read now is newer news than one read before (its comm may have changed).
      if (process.uid !== null) entry.process = process;
      return;
    }
    this.entries.set(key, { process, syscall, errno: name, count: 1, taken: 0, firstAt: atMs, lastAt: atMs, judged: null });
  }

  /** Every process's failures, most recent first, with `new` since the previous take. */
  take(context: LimitContext): SyscallFailure[] {
    for (const entry of this.entries.values()) {
      // Judged when the tracer read new ones, from the process as it read it then; never again
      // for those: a limit raised afterwards does not change what they ran into.
      if (entry.count > entry.taken) entry.judged = whichLimit(entry.syscall, entry.errno, entry.process, context) ?? entry.judged;
    }
    const entries = [...this.entries.values()].sort((a, b) => b.lastAt - a.lastAt || a.process.pid - b.process.pid);
    for (const dropped of entries.splice(MAX_ENTRIES)) {
      this.entries.delete(`${dropped.process.pid}/${dropped.syscall}/${dropped.errno}`);
    }
    return entries.map((entry) => {
      const { pid, comm, uid, user, pod, fdLimit } = entry.process;
      const fresh = entry.count - entry.taken;
      entry.taken = entry.count;
      return {
        pid,
        comm,
        uid,
        user,
        pod,
        syscall: entry.syscall,
        errno: entry.errno,
        count: entry.count,
        new: fresh,
        limit: entry.judged?.limit ?? null,
        limitUid: entry.judged?.key?.uid ?? null,
        limitUserns: entry.judged?.key?.userns ?? null,
        fdLimit: entry.judged?.limit === 'RLIMIT_NOFILE' ? fdLimit : null,
        firstAt: new Date(entry.firstAt).toISOString(),
        lastAt: new Date(entry.lastAt).toISOString(),
      };
    });
  }
}

/** One level of a failing process's charge: a key, what it is charged, and the limit in force for it. */
interface ChargeLevel {
  key: ChargeKey;
  used: number;
  /** Null where unlimited or not read. */
  limit: number | null;
}

/**
 * The limit a failure ran into, judged as the kernel checks (fs/notify/inotify/inotify_user.c):
 * an instance or a watch is charged to the maker's key and each key above it (inc_ucount), each
 * against its own namespace's limit, before inotify_init's fd is allocated. So: the lowest key
 * at its limit; else, for EMFILE, the process's fd table when it is full (open fds at its soft
 * RLIMIT_NOFILE); else the key nearest its limit (it ran into one, and was freed or raised
 * since: the process's fds, read as the failure was, say it was not them). Named
 * max_user_instances (or _watches) at the host's level, max_inotify_instances (or _watches) at a
 * namespace's own. Null when the process was gone before it could be read, no limit of its keys
 * is known, or it is another errno.
 */
export function whichLimit(syscall: TracedSyscall, errno: string, process: FailingProcess, context: LimitContext): Judgement | null {
  const what = syscall === 'inotify_add_watch' ? 'watches' : 'instances';
  if (errno !== (what === 'watches' ? 'ENOSPC' : 'EMFILE') || process.uid === null) return null;
  const levels = chargeLevels({ userns: process.userns, uid: process.uid }, what, process.pid, context);
  const named = (level: ChargeLevel): Judgement => ({ limit: limitName(level.key, what), key: level.key });
  const full = levels.find((level) => level.limit !== null && level.used >= level.limit);
  if (full) return named(full);
  if (what === 'instances') {
    if (process.openFds === null || process.fdLimit === null) return null;
    if (process.openFds >= process.fdLimit) return { limit: 'RLIMIT_NOFILE', key: null };
  }
  const share = (level: ChargeLevel) => (level.limit === null ? -1 : level.used / Math.max(1, level.limit));
  const nearest = levels.reduce((best, level) => (share(level) > share(best) ? level : best));
  return share(nearest) >= 0 ? named(nearest) : null;
}

function limitName(key: ChargeKey, what: 'instances' | 'watches'): FailureLimit {
  if (key.userns === null) return what === 'watches' ? 'max_user_watches' : 'max_user_instances';
  return what === 'watches' ? 'max_inotify_watches' : 'max_inotify_instances';
}

/** The process's key and each key above it, as far as the namespaces can be told. */
function chargeLevels(start: ChargeKey, what: 'instances' | 'watches', pid: number, context: LimitContext): ChargeLevel[] {
  const host = hostChargeLimits(context.limits);
  const levels: ChargeLevel[] = [];
  for (let key: ChargeKey | null = start; key !== null;) {
    const row = context.users.find((user) => user.uid === key!.uid && user.userns === key!.userns);
    const namespace: UserNamespace | null = key.userns === null ? null : (context.namespaceOf?.(key.userns, pid) ?? null);
    const limits = key.userns === null ? host : (namespace?.limits ?? null);
    levels.push({ key, used: row?.charged[what] ?? 0, limit: limits?.[what] ?? null });
    key = namespace ? { userns: namespace.parent, uid: namespace.ownerUid } : null;
  }
  return levels;
}

/** Failures whose last one is at most RECENT_FAILURE_MS old. */
export function recentFailures(failures: readonly SyscallFailure[], nowMs: number): SyscallFailure[] {
  return failures.filter((f) => nowMs - Date.parse(f.lastAt) <= RECENT_FAILURE_MS);
}
