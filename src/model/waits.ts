// fanotify permission waits as the views show them: the processes waiting for an answer, how long
// each has been seen in its one wait, and the permission groups that can hold them.
import type { FanotifyMarkType, PermissionGroup, PermissionMark, PermissionWaiter, PermissionWaits, PodRef, ScannedProcess } from './types.js';
import type { WaitingThread, WaitKind } from '../scan/waits.js';

export const FAN_OPEN_PERM = 0x10000;
export const FAN_ACCESS_PERM = 0x20000;
export const FAN_OPEN_EXEC_PERM = 0x40000;
/** Linux 6.14's pre-content event: before a file's content is read, written or faulted in. */
export const FAN_PRE_ACCESS = 0x100000;
/** Every bit that makes the event's process wait for the holder's answer. */
export const PERMISSION_BITS = FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM | FAN_PRE_ACCESS;

/** The permission bits a call of each kind can raise: a mark with none of them cannot hold it. */
const BITS_OF_KIND: Record<WaitKind, number> = {
  open: FAN_OPEN_PERM | FAN_PRE_ACCESS,
  exec: FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM,
  read: FAN_ACCESS_PERM | FAN_PRE_ACCESS,
  write: FAN_PRE_ACCESS,
};

/** A wait lasting this long is stuck, not a holder taking its time: the verdict, the alert and check name it. */
export const STUCK_WAIT_SECONDS = 1;

/** A mark of a permission group, where it is, for PermissionMark.path. */
export interface MarkPlace {
  markType: FanotifyMarkType;
  /** The mount's id (mount marks). */
  mntId: number | null;
  path: string | null;
}

/** A permission group as found in the scan, with what matching a waiter to it needs. */
export interface ScannedPermissionGroup extends PermissionGroup {
  /** Its mount marks' ids, whose mounts' waiters it surely holds. */
  mountIds: number[];
  /** It has filesystem or inode marks, whose waiters cannot be told by their mount. */
  widerMarks: boolean;
}

/**
 * The groups with permission bits in a mark, a shared one once (at the holder that names it);
 * `place` says where a mark is (resolved by the caller: only these few marks are looked up).
 */
export function permissionGroupsOf(
  processes: readonly ScannedProcess[],
  place: (proc: ScannedProcess, mark: MarkRef) => string | null,
): ScannedPermissionGroup[] {
  const seen = new Set<string>();
  const groups: ScannedPermissionGroup[] = [];
  for (const proc of processes) {
    for (const group of proc.fanotifyGroups) {
      if (seen.has(group.instanceId)) continue;
      const marks: PermissionMark[] = [];
      const mountIds: number[] = [];
      let widerMarks = false;
      for (const mark of group.mountMarks) {
        if ((mark.mask & PERMISSION_BITS) === 0) continue;
        marks.push({ markType: 'mount', path: place(proc, { markType: 'mount', mntId: mark.mntId }), mask: mark.mask & PERMISSION_BITS });
        mountIds.push(mark.mntId);
      }
      for (const mark of group.filesystemMarks) {
        if ((mark.mask & PERMISSION_BITS) === 0) continue;
        marks.push({ markType: 'filesystem', path: place(proc, { markType: 'filesystem', sdev: mark.sdev }), mask: mark.mask & PERMISSION_BITS });
        widerMarks = true;
      }
      const inodes = group.inodeMarks;
      for (let i = 0; i < inodes.length; i++) {
        if ((inodes.mask[i]! & PERMISSION_BITS) === 0) continue;
        marks.push({
          markType: 'inode',
          path: place(proc, { markType: 'inode', sdev: inodes.sdev[i]!, ino: inodes.ino[i]! }),
          mask: inodes.mask[i]! & PERMISSION_BITS,
        });
        widerMarks = true;
      }
      if (marks.length === 0) continue;
      seen.add(group.instanceId);
      const mask = marks.reduce((bits, mark) => bits | mark.mask, 0);
      groups.push({ pid: proc.pid, comm: proc.comm, fd: group.fd, marks, mask, waiters: 0, mountIds, widerMarks });
    }
  }
  return groups;
}

/** A mark to place: its kind and what names it. */
export type MarkRef = { markType: 'mount'; mntId: number } | { markType: 'filesystem'; sdev: number } | { markType: 'inode'; sdev: number; ino: number };

/** Whether the node has any permission group: without one no process can wait for an answer. */
export function hasPermissionGroup(processes: readonly ScannedProcess[]): boolean {
  return processes.some((proc) =>
    proc.fanotifyGroups.some(
      (group) =>
        group.mountMarks.some((mark) => (mark.mask & PERMISSION_BITS) !== 0) ||
        group.filesystemMarks.some((mark) => (mark.mask & PERMISSION_BITS) !== 0) ||
        group.inodeMarks.mask.some((mask) => (mask & PERMISSION_BITS) !== 0),
    ),
  );
}

/**
 * The groups that can hold a thread's wait, most likely first: those whose permission bits its
 * call can raise; of those, the ones with a mount mark on the mount of its file first. When the
 * call is not told, every group.
 */
export function holdingGroups(thread: Pick<WaitingThread, 'kind' | 'mntId'>, groups: readonly ScannedPermissionGroup[]): ScannedPermissionGroup[] {
  const bits = thread.kind === null ? PERMISSION_BITS : BITS_OF_KIND[thread.kind];
  const able = groups.filter((group) => (group.mask & bits) !== 0);
  const candidates = able.length > 0 ? able : [...groups];
  if (thread.mntId === null) return candidates;
  const onItsMount = candidates.filter((group) => group.mountIds.includes(thread.mntId!));
  // A mount mark elsewhere cannot hold it; filesystem and inode marks may.
  const maybe = candidates.filter((group) => !onItsMount.includes(group) && group.widerMarks);
  const likely = [...onItsMount, ...maybe];
  return likely.length > 0 ? likely : candidates;
}

interface SeenWait {
  /** Epoch ms when inotop first saw this wait. */
  since: number;
  switches: number;
}

/**
 * Permission waits across refreshes: a thread seen in the same wait (the same start time, no
 * context switch since) keeps the time it was first seen, so its waitingSeconds grows; a thread
 * that ran in between waits anew.
 */
export class PermissionWaitTracker {
  private seen = new Map<string, SeenWait>();

  update(
    threads: readonly WaitingThread[],
    groups: readonly ScannedPermissionGroup[],
    podOf: (thread: WaitingThread) => PodRef | null,
    nowMs: number,
    incomplete: string | null,
  ): PermissionWaits {
    const seen = new Map<string, SeenWait>();
    const byPid = new Map<number, { waiter: PermissionWaiter; oldest: number }>();
    const waitersOf = new Map<ScannedPermissionGroup, Set<number>>();
    for (const thread of threads) {
      const key = `${thread.tid}@${thread.startTime}`;
      const before = this.seen.get(key);
      const wait = before && before.switches === thread.switches ? before : { since: nowMs, switches: thread.switches };
      seen.set(key, wait);
      const seconds = Math.max(0, Math.floor((nowMs - wait.since) / 1000));
      const holders = holdingGroups(thread, groups);
      for (const group of holders) {
        let pids = waitersOf.get(group);
        if (!pids) waitersOf.set(group, (pids = new Set()));
        pids.add(thread.pid);
      }
      const entry = byPid.get(thread.pid);
      if (entry) {
        entry.waiter.threads++;
        if (seconds <= entry.oldest) continue;
      }
      const waiter: PermissionWaiter = {
        pid: thread.pid,
        comm: thread.comm,
        waitingSeconds: seconds,
        pod: entry?.waiter.pod ?? podOf(thread),
        syscall: thread.syscall,
        path: thread.path,
        threads: entry ? entry.waiter.threads : 1,
        heldBy: [...new Set(holders.map((group) => group.pid))],
      };
      byPid.set(thread.pid, { waiter, oldest: seconds });
    }
    this.seen = seen;
    const processes = [...byPid.values()].map((entry) => entry.waiter).sort((a, b) => b.waitingSeconds - a.waitingSeconds || a.pid - b.pid);
    const shown = groups
      .map((group): PermissionGroup => {
        const { mountIds: _ids, widerMarks: _wider, ...row } = group;
        return { ...row, waiters: waitersOf.get(group)?.size ?? 0 };
      })
      .sort((a, b) => b.waiters - a.waiters || a.pid - b.pid || a.fd - b.fd);
    return { processes, groups: shown, incomplete };
  }
}

/** The waits that have lasted: a holder answering in milliseconds leaves none of these. */
export function stuckWaiters(waits: PermissionWaits | undefined): PermissionWaiter[] {
  return (waits?.processes ?? []).filter((waiter) => waiter.waitingSeconds >= STUCK_WAIT_SECONDS);
}
