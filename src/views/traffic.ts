// Traffic in words, for every view: the processes blocked on fanotify permission answers (the most
// urgent thing a node can show), and the event queues whose readers fall behind. Pure.
import { grouped } from '../common/format.js';
import { fullQueueBytes, isQueueTrouble, worseQueueState } from '../model/queues.js';
import type { Limits, PermissionGroup, PermissionWaiter, PermissionWaits, ProcessRow, QueueState, Snapshot } from '../model/types.js';
import { stuckWaiters } from '../model/waits.js';
import { fanotifyMaskNames, podLabel } from '../model/target-text.js';

// ---- permission waits ----

/** The group that holds the most of these waiters, and how many more groups can. */
export function blockingGroup(waits: PermissionWaits, waiters: readonly PermissionWaiter[]): PermissionGroup | null {
  const counts = new Map<number, number>();
  for (const waiter of waiters) {
    const pid = waiter.heldBy[0];
    if (pid !== undefined) counts.set(pid, (counts.get(pid) ?? 0) + 1);
  }
  const holder = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
  return waits.groups.find((group) => group.pid === holder) ?? waits.groups[0] ?? null;
}

/** Each process's part in the waits that lasted: the holders they wait for (BLOCKING), the waiters (WAITING). */
export function permissionRoles(waits: PermissionWaits | undefined): (pid: number) => 'blocking' | 'waiting' | null {
  const stuck = stuckWaiters(waits);
  if (stuck.length === 0) return () => null;
  const blocking = new Set(stuck.flatMap((waiter) => waiter.heldBy));
  const waiting = new Set(stuck.map((waiter) => waiter.pid));
  return (pid) => (blocking.has(pid) ? 'blocking' : waiting.has(pid) ? 'waiting' : null);
}

/** "FAN_OPEN_PERM on /" — its marks' permission bits and places, the first two. */
export function groupMarksText(group: PermissionGroup): string {
  const shown = group.marks.slice(0, 2).map((mark) => `${fanotifyMaskNames(mark.mask).join('|')} on ${mark.path ?? `a ${mark.markType}`}`);
  return shown.join(', ') + (group.marks.length > 2 ? ` +${group.marks.length - 2} more` : '');
}

/**
 * "BLOCKED 312 processes wait for fanotify permission answers from avscan 4242 (FAN_OPEN_PERM on /),
 * the oldest 41 s"; null while no wait has lasted (a holder answering in time leaves none).
 * `level` drops detail to fit: the marks, then the words.
 */
export function blockedVerdict(waits: PermissionWaits | undefined, level = 0): string | null {
  const stuck = stuckWaiters(waits);
  if (!waits || stuck.length === 0) return null;
  const group = blockingGroup(waits, stuck);
  const oldest = stuck[0]!.waitingSeconds;
  const who = stuck.length === 1 ? `1 process waits` : `${grouped(stuck.length)} processes wait`;
  const holders = new Set(stuck.flatMap((waiter) => waiter.heldBy)).size;
  const others = holders > 1 ? ` (or ${holders - 1} other holder${holders === 2 ? '' : 's'})` : '';
  const from = group ? ` from ${group.comm} ${group.pid}${level < 1 ? ` (${groupMarksText(group)})` : ''}${others}` : '';
  if (level >= 2) return `BLOCKED ${grouped(stuck.length)} waiting${group ? ` on ${group.comm} ${group.pid}` : ''}, oldest ${oldest} s`;
  return `BLOCKED ${who} for fanotify permission answers${from}, the oldest ${oldest} s`;
}

/**
 * Waits seen at this refresh only (a one-shot run sees every wait so): "3 processes wait for
 * fanotify permission answers at this refresh (ino-perm-holder 4242): a second refresh tells
 * whether they last (-n 2)"; null when none, or when some wait has lasted (blockedVerdict says it).
 */
export function freshWaitsNote(waits: PermissionWaits | undefined): string | null {
  if (!waits || waits.processes.length === 0 || stuckWaiters(waits).length > 0) return null;
  const group = blockingGroup(waits, waits.processes);
  const who = waits.processes.length === 1 ? '1 process waits' : `${grouped(waits.processes.length)} processes wait`;
  return `${who} for fanotify permission answers at this refresh${group ? ` (${group.comm} ${group.pid})` : ''}: a second refresh tells whether they last (-n 2)`;
}

/** "cat 5511 (openat), cat 5512 (openat) +310 more, in D for up to 41 s": the waiters, for the header's alert. */
export function waitersAlert(waits: PermissionWaits | undefined, width: number): string | null {
  const stuck = stuckWaiters(waits);
  if (stuck.length === 0) return null;
  const tail = `, in D up to ${stuck[0]!.waitingSeconds} s: they go on when the holder answers or exits`;
  let text = 'WAITING';
  for (let shown = 0; shown < stuck.length; shown++) {
    const waiter = stuck[shown]!;
    const next = `${text}${shown > 0 ? ',' : ''} ${waiter.comm} ${waiter.pid}${waiter.syscall ? ` (${waiter.syscall})` : ''}`;
    const more = stuck.length - shown - 1;
    if ([...`${next}${more > 0 ? ` +${more} more` : ''}${tail}`].length > width && shown > 0) {
      return `${text} +${stuck.length - shown} more${tail}`;
    }
    text = next;
  }
  return text + tail;
}

// ---- event queues ----

/** A queue worth naming: an fd of a process, and how it stands. */
export interface QueueIssue {
  row: ProcessRow;
  fd: number;
  kind: 'inotify' | 'fanotify';
  bytes: number;
  state: QueueState;
}

/** Queues that may be full or are not draining, worst first (may be full, then the most bytes). */
export function queueIssues(processes: readonly ProcessRow[]): QueueIssue[] {
  const issues: QueueIssue[] = [];
  const seen = new Set<string>();
  for (const row of processes) {
    const fds = [
      ...row.fds.map((fd) => ({ fd: fd.fd, key: fd.instance, kind: 'inotify' as const, bytes: fd.queuedBytes, state: fd.queueState })),
      ...row.fanotifyFds.map((fd) => ({
        fd: fd.fd,
        key: fd.instance,
        kind: 'fanotify' as const,
        bytes: fd.queuedBytes,
        state: fd.queueState,
      })),
    ];
    for (const fd of fds) {
      if (!isQueueTrouble(fd.state) || fd.bytes === null || fd.bytes === undefined || seen.has(fd.key)) continue;
      seen.add(fd.key);
      issues.push({ row, fd: fd.fd, kind: fd.kind, bytes: fd.bytes, state: fd.state! });
    }
  }
  return issues.sort((a, b) => Number(b.state === 'may be full') - Number(a.state === 'may be full') || b.bytes - a.bytes || a.row.pid - b.row.pid);
}

/** The worst state of a process's queues; undefined when none was judged (a recording made before queues). */
export function processQueueState(row: ProcessRow): QueueState | undefined {
  const states = [...row.fds, ...row.fanotifyFds].flatMap((fd) => (fd.queueState ? [fd.queueState] : []));
  return states.length === 0 ? undefined : states.reduce(worseQueueState);
}

/** Some queue on the node may be full or is not draining: the QUEUE column shows. */
export function someQueueTrouble(snapshot: Snapshot | null): boolean {
  return snapshot?.processes.some((row) => isQueueTrouble(processQueueState(row))) ?? false;
}

/** "3,200 B", "256 KiB", "1.5 MiB". */
export function bytesText(bytes: number): string {
  if (bytes < 10 * 1024) return `${grouped(bytes)} B`;
  if (bytes < 10 * 1024 * 1024) return `${grouped(Math.round(bytes / 1024))} KiB`;
  return `${grouped(Math.round(bytes / 1024 / 102.4) / 10)} MiB`;
}

/** What a full queue holds, in words: "16 × 16,384 B" for inotify. */
function fullText(issue: QueueIssue, limits: Limits): string {
  const full = fullQueueBytes(issue.kind, issue.kind === 'inotify' ? limits.maxQueuedEvents : limits.maxFanotifyQueuedEvents);
  return full === null ? '' : ` of ${bytesText(full)} when full`;
}

/**
 * "QUEUE fluent-bit 4242 (logging/fluent-bit-x): inotify queue fd 7 may be full, 256 KiB: events
 * are being lost (IN_Q_OVERFLOW)"; null when no queue is in trouble. `level` drops the pod and the
 * others' count to fit.
 */
export function queueVerdict(snapshot: Snapshot, level = 0): string | null {
  const issues = queueIssues(snapshot.processes);
  const worst = issues[0];
  if (!worst) return null;
  const { row } = worst;
  const pod = row.pod && level < 1 ? ` (${podLabel(row.pod)})` : '';
  const cost =
    worst.state === 'may be full'
      ? `may be full, ${bytesText(worst.bytes)}: events are being lost (${worst.kind === 'inotify' ? 'IN_Q_OVERFLOW' : 'FAN_Q_OVERFLOW'})`
      : `not draining, ${bytesText(worst.bytes)} unread${level < 1 ? fullText(worst, snapshot.limits) : ''}: its events wait, and a full queue loses them`;
  const others = new Set(issues.map((issue) => issue.row.pid)).size - 1;
  const more = others > 0 ? `; ${others} more process${others === 1 ? '' : 'es'}` : '';
  return `QUEUE ${row.comm} ${row.pid}${pod}: ${worst.kind} queue fd ${worst.fd} ${cost}${more}`;
}

/** A process's queues for the detail pane's heading: "queue fd 7 3,200 B not draining" for those not empty, worst first. */
export function processQueuesText(row: ProcessRow): string {
  const fds = [
    ...row.fds.map((fd) => ({ fd: fd.fd, bytes: fd.queuedBytes, state: fd.queueState })),
    ...row.fanotifyFds.map((fd) => ({ fd: fd.fd, bytes: fd.queuedBytes, state: fd.queueState })),
  ].filter((fd) => fd.bytes !== undefined && fd.bytes !== null && fd.bytes > 0);
  if (fds.length === 0) return '';
  fds.sort((a, b) => Number(isQueueTrouble(b.state)) - Number(isQueueTrouble(a.state)) || b.bytes! - a.bytes!);
  const [first] = fds;
  return `queue fd ${first!.fd} ${bytesText(first!.bytes!)} ${first!.state ?? ''}`.trimEnd() + (fds.length > 1 ? ` (+${fds.length - 1} not empty)` : '');
}
