// Failed inotify calls in words, for check's verdict and the screen's alert: the victim, and the
// limit it ran into as the same snapshot counts it.
import type { Limits, ProcessRow, SyscallFailure, UserRow } from '../model/types.js';
import { grouped, percent } from '../common/format.js';

export interface FailureContext {
  users: readonly UserRow[];
  limits: Limits;
  processes: readonly ProcessRow[];
}

/**
 * A user as a message names them: "user nobody", or "uid 65534" where passwd has no name for the
 * uid (the scan then calls them by the number); " in userns N" for another user namespace's.
 */
export function userLabel(uid: number, name: string | null, userns: string | null = null): string {
  const who = name !== null && name !== String(uid) ? `user ${name}` : `uid ${uid}`;
  return `${who}${userns ? ` in userns ${userns}` : ''}`;
}

/** The failure to name first: the most failed calls, then the most recent. */
export function worstFailure(failures: readonly SyscallFailure[]): SyscallFailure | null {
  return [...failures].sort((a, b) => b.count - a.count || Date.parse(b.lastAt) - Date.parse(a.lastAt))[0] ?? null;
}

/** "user root at 100% of watches" (short) or "user root at 10,000/10,000 watches, kubelet holds 7,491"; "" when the limit is unknown. */
export function limitText(failure: SyscallFailure, context: FailureContext, form: 'short' | 'long'): string {
  if (failure.limit === 'RLIMIT_NOFILE') {
    return failure.fdLimit === null ? 'its fd limit (RLIMIT_NOFILE)' : `its fd limit of ${grouped(failure.fdLimit)} (RLIMIT_NOFILE)`;
  }
  if (failure.limit === null || failure.uid === null) return '';
  const kind = failure.limit === 'max_user_watches' ? 'watches' : 'instances';
  const limit = failure.limit === 'max_user_watches' ? context.limits.maxUserWatches : context.limits.maxUserInstances;
  // A uid of the host's user namespace, as most are, else of some container's.
  const user = context.users.find((u) => u.uid === failure.uid && u.userns === null) ?? context.users.find((u) => u.uid === failure.uid);
  const used = user?.[kind] ?? 0;
  const who = userLabel(failure.uid, failure.user);
  if (limit === null || limit <= 0) return `${who}: ${failure.limit}`;
  if (form === 'short') return `${who} at ${percent(used, limit)} of ${kind}`;
  const holder = [...context.processes].filter((p) => p.uid === failure.uid).sort((a, b) => b[kind] - a[kind])[0];
  const holds = holder && holder[kind] > 0 ? `, ${holder.comm} holds ${grouped(holder[kind])}` : '';
  return `${who} at ${grouped(used)}/${grouped(limit)} ${kind}${holds}`;
}

/** "fluent-bit 4242: 17 × inotify_add_watch ENOSPC, last 3 s ago: user root at 10,000/10,000 watches, kubelet holds 7,491". */
export function failureAlert(failure: SyscallFailure, context: FailureContext, nowMs: number): string {
  const ago = Math.max(0, Math.round((nowMs - Date.parse(failure.lastAt)) / 1000));
  const limit = limitText(failure, context, 'long');
  return `${failure.comm} ${failure.pid}: ${grouped(failure.count)} × ${failure.syscall} ${failure.errno}, last ${ago} s ago${limit ? `: ${limit}` : ''}`;
}
