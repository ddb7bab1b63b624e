// Failed inotify calls, counted per process, syscall and errno, and the limit each one ran into.
// Pure: the tracer hands in what it read and what the scan knows.
import type { FailureLimit, Limits, PodRef, SyscallFailure, UserRow } from '../model/types.js';
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
}

/** What the scan of the same refresh says, to tell which limit an EMFILE ran into. */
export interface LimitContext {
  users: readonly UserRow[];
  limits: Limits;
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
  limit: FailureLimit | null;
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
    this.entries.set(key, { process, syscall, errno: name, count: 1, taken: 0, firstAt: atMs, lastAt: atMs, limit: null });
  }

  /** Every process's failures, most recent first, with `new` since the previous take. */
  take(context: LimitContext): SyscallFailure[] {
    for (const entry of this.entries.values()) {
      // Judged when it failed again: the limits now are those it ran into.
      if (entry.count > entry.taken) entry.limit = whichLimit(entry.syscall, entry.errno, entry.process, context) ?? entry.limit;
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
        limit: entry.limit,
        fdLimit: entry.limit === 'RLIMIT_NOFILE' ? fdLimit : null,
        firstAt: new Date(entry.firstAt).toISOString(),
        lastAt: new Date(entry.lastAt).toISOString(),
      };
    });
  }
}

/**
 * ENOSPC from inotify_add_watch is the user's max_user_watches. EMFILE from inotify_init* is
 * the user's max_user_instances or the process's own fd limit (the kernel says the same for
 * both): the first when the user holds max_user_instances now, else the second. null when the
 * process or the limits could not be read.
 */
export function whichLimit(syscall: TracedSyscall, errno: string, process: FailingProcess, context: LimitContext): FailureLimit | null {
  if (syscall === 'inotify_add_watch') return errno === 'ENOSPC' ? 'max_user_watches' : null;
  if (errno !== 'EMFILE' || process.uid === null) return null;
  const maxInstances = context.limits.maxUserInstances;
  if (maxInstances === null) return null;
  const user = context.users.find((u) => u.uid === process.uid && u.userns === process.userns);
  if ((user?.instances ?? 0) >= maxInstances) return 'max_user_instances';
  return process.fdLimit !== null ? 'RLIMIT_NOFILE' : null;
}

/** Failures whose last one is at most RECENT_FAILURE_MS old. */
export function recentFailures(failures: readonly SyscallFailure[], nowMs: number): SyscallFailure[] {
  return failures.filter((f) => nowMs - Date.parse(f.lastAt) <= RECENT_FAILURE_MS);
}
