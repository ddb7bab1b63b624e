// Failed inotify calls in words, for check's verdict and the screen's alert: the victim, and the
// limit it ran into as the same snapshot counts it.
import { namespacesBelow } from '../model/charges.js';
import type { ProcessRow, SyscallFailure, UserRow } from '../model/types.js';
import { grouped, percent } from '../common/format.js';

export interface FailureContext {
  /** Each user's charge and the limits in force for it. */
  users: readonly UserRow[];
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

/** userLabel of a user row. */
export function userRowLabel(user: Pick<UserRow, 'uid' | 'name' | 'userns'>): string {
  return userLabel(user.uid, user.name, user.userns);
}

/** The failure to name first: the most failed calls, then the most recent. */
export function worstFailure(failures: readonly SyscallFailure[]): SyscallFailure | null {
  return [...failures].sort((a, b) => b.count - a.count || Date.parse(b.lastAt) - Date.parse(a.lastAt))[0] ?? null;
}

/**
 * "user root at 100% of watches" (short) or "user root at 10,000/10,000 watches, kubelet holds 7,491"; for
 * a charge from user namespaces "(30 from 2 user namespaces)", for a namespace's own limit "its
 * namespace's max_inotify_instances"; "" when the limit is unknown.
 */
export function limitText(failure: SyscallFailure, context: FailureContext, form: 'short' | 'long'): string {
  if (failure.limit === 'RLIMIT_NOFILE') {
    return failure.fdLimit === null ? 'its fd limit (RLIMIT_NOFILE)' : `its fd limit of ${grouped(failure.fdLimit)} (RLIMIT_NOFILE)`;
  }
  if (failure.limit === null || failure.uid === null) return '';
  const kind = failure.limit === 'max_user_watches' || failure.limit === 'max_inotify_watches' ? 'watches' : 'instances';
  const key = chargedKey(failure, context.users);
  const uid = key?.uid ?? failure.limitUid ?? failure.uid;
  const label = userLabel(uid, key?.name ?? (uid === failure.uid ? failure.user : null), key?.userns ?? null);
  const own = failure.limit.startsWith('max_inotify_') ? ` (its namespace's ${failure.limit})` : '';
  const limit = key?.limits?.[kind] ?? null;
  if (!key || limit === null || limit <= 0) return `${label}: ${failure.limit}`;
  const used = key.charged[kind];
  if (form === 'short') return `${label} at ${percent(used, limit)} of ${kind}${own}`;
  const below = namespacesBelow(key);
  const from = below > 0 ? ` (${grouped(used - key[kind])} from ${below} user namespace${below === 1 ? '' : 's'})` : '';
  const holder = [...context.processes].filter((p) => p.uid === key.uid && p.userns === key.userns).sort((a, b) => b[kind] - a[kind])[0];
  const holds = holder && holder[kind] > 0 ? `, ${holder.comm} holds ${grouped(holder[kind])}` : '';
  return `${label} at ${grouped(used)}/${grouped(limit)} ${kind}${from}${own}${holds}`;
}

/**
 * The row of the key whose limit the failure ran into; a failure recorded before the key was
 * kept: its uid's host row, else any of its uid's.
 */
function chargedKey(failure: SyscallFailure, users: readonly UserRow[]): UserRow | undefined {
  if (failure.limitUid !== undefined && failure.limitUid !== null) {
    return users.find((u) => u.uid === failure.limitUid && u.userns === (failure.limitUserns ?? null));
  }
  return users.find((u) => u.uid === failure.uid && u.userns === null) ?? users.find((u) => u.uid === failure.uid);
}

/** "fluent-bit 4242: 17 × inotify_add_watch ENOSPC, last 3 s ago: user root at 10,000/10,000 watches, kubelet holds 7,491". */
export function failureAlert(failure: SyscallFailure, context: FailureContext, nowMs: number): string {
  const ago = Math.max(0, Math.round((nowMs - Date.parse(failure.lastAt)) / 1000));
  const limit = limitText(failure, context, 'long');
  return `${failure.comm} ${failure.pid}: ${grouped(failure.count)} × ${failure.syscall} ${failure.errno}, last ${ago} s ago${limit ? `: ${limit}` : ''}`;
}
