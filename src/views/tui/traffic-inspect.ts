// Inspect's words on traffic: a process's event queue that falls behind, a process whose fanotify
// permission answers others wait for, and a process that waits for one. What it means and the safe
// next step; inotop never reads a queue, answers a permission event or signals anything. Pure.
import { grouped } from '../../common/format.js';
import { fullQueueBytes, isQueueTrouble } from '../../model/queues.js';
import type { PermissionWaiter, ProcessRow, QueueState, Snapshot } from '../../model/types.js';
import { stuckWaiters } from '../../model/waits.js';
import { podLabel } from '../../model/target-text.js';
import { bytesText, groupMarksText } from '../traffic.js';
import type { Paragraph } from './inspect.js';

/** The paragraphs inspect shows first for this process; none when its traffic is fine. */
export function trafficParagraphs(row: ProcessRow, snapshot: Snapshot): Paragraph[] {
  const out: Paragraph[] = [];
  const line = (text: string, indent = '    ') => out.push({ text, indent });
  blockingParagraphs(row, snapshot, line);
  waitingParagraphs(row, snapshot, line);
  queueParagraphs(row, snapshot, line);
  return out;
}

type Line = (text: string, indent?: string) => void;

/** Whether inspect has something to say of this process's traffic (Enter opens it even without targets). */
export function hasTrafficToInspect(row: ProcessRow, snapshot: Snapshot): boolean {
  return trafficParagraphs(row, snapshot).length > 0;
}

function blockingParagraphs(row: ProcessRow, snapshot: Snapshot, line: Line): void {
  const waits = snapshot.permissionWaits;
  const waiting = stuckWaiters(waits).filter((waiter) => waiter.heldBy.includes(row.pid));
  const groups = (waits?.groups ?? []).filter((group) => group.pid === row.pid);
  if (waiting.length === 0 || groups.length === 0) return;
  const marks = groups.map((group) => `fd ${group.fd}: ${groupMarksText(group)}`).join('; ');
  line(
    `BLOCKING: ${plural(waiting.length, 'process waits', 'processes wait')} for this process's fanotify permission answers (${marks}), the oldest ${waiting[0]?.waitingSeconds ?? 0} s:`,
    '  ',
  );
  for (const waiter of waiting.slice(0, 20)) line(`  ${waiterText(waiter)}`, '      ');
  if (waiting.length > 20) line(`  +${waiting.length - 20} more (JSON permissionWaits lists them all)`);
  const unread = row.fanotifyFds.filter((fd) => groups.some((group) => group.fd === fd.fd) && (fd.queuedBytes ?? 0) > 0);
  const queue =
    unread.length > 0
      ? `Its group's queue holds ${bytesText(unread.reduce((sum, fd) => sum + (fd.queuedBytes ?? 0), 0))} it has not read: it is not reading its events at all.`
      : 'Its queue is empty: it reads its events but does not answer them (stuck on the file it scans, or on something else).';
  line(
    `WHAT IT MEANS: every open, read or exec under its marks sleeps in state D until ${row.comm} ${row.pid} answers (FAN_ALLOW or FAN_DENY) ` +
      `or its group closes. The waiters cannot be interrupted but by SIGKILL, and more pile up: shells, kubelet, container starts. ${queue}`,
    '  ',
  );
  line(
    `NEXT STEP: look at ${row.comm} ${row.pid}, not at the waiters: is it alive, what its threads wait on (/proc/${row.pid}/task/*/wchan), its logs. ` +
      `The waits end when it answers, or when its group closes: restarting or stopping the agent as its vendor documents lets every pending open through ` +
      `(the kernel allows what was not answered when a group is released). Killing waiters frees nothing: the next open waits again.`,
    '  ',
  );
  line('');
}

function waitingParagraphs(row: ProcessRow, snapshot: Snapshot, line: Line): void {
  const waiter = snapshot.permissionWaits?.processes.find((candidate) => candidate.pid === row.pid);
  if (!waiter) return;
  const holders = (snapshot.permissionWaits?.groups ?? []).filter((group) => waiter.heldBy.includes(group.pid));
  const from = holders.length > 0 ? holders.map((group) => `${group.comm} ${group.pid} (${groupMarksText(group)})`).join(' or ') : 'a fanotify group';
  line(`WAITING: ${waiterText(waiter)}, for a permission answer from ${from}.`, '  ');
  line(
    `NEXT STEP: nothing to do on this process: it goes on by itself when the answer comes or the group closes${holders[0] ? `; look at ${holders[0].comm} ${holders[0].pid}` : ''}.`,
    '  ',
  );
  line('');
}

function queueParagraphs(row: ProcessRow, snapshot: Snapshot, line: Line): void {
  const fds = [
    ...row.fds.map((fd) => ({ fd: fd.fd, kind: 'inotify' as const, bytes: fd.queuedBytes, state: fd.queueState })),
    ...row.fanotifyFds.map((fd) => ({ fd: fd.fd, kind: 'fanotify' as const, bytes: fd.queuedBytes, state: fd.queueState })),
  ].filter(
    (fd): fd is { fd: number; kind: 'inotify' | 'fanotify'; bytes: number; state: QueueState } => isQueueTrouble(fd.state) && typeof fd.bytes === 'number',
  );
  for (const fd of fds) {
    const { limits } = snapshot;
    const full = fullQueueBytes(fd.kind, fd.kind === 'inotify' ? limits.maxQueuedEvents : limits.maxFanotifyQueuedEvents);
    const limit = fd.kind === 'inotify' ? `fs.inotify.max_queued_events (${grouped(limits.maxQueuedEvents ?? 0)})` : 'fs.fanotify.max_queued_events';
    const fullAt =
      full === null
        ? ''
        : ` Full is ${bytesText(full)}: ${fd.kind === 'inotify' ? 16 : 24} bytes per event at the least × ${limit} as it is now; an instance made under another value keeps that one, which the kernel does not show.`;
    const overflow = fd.kind === 'inotify' ? 'IN_Q_OVERFLOW' : 'FAN_Q_OVERFLOW';
    line(`QUEUE fd ${fd.fd} (${fd.kind}): ${bytesText(fd.bytes)} unread, ${fd.state}.`, '  ');
    line(
      fd.state === 'may be full'
        ? `WHAT IT MEANS: the queue is at or past the size of a full one: the kernel drops new events and queues one ${overflow}, which names no file. ` +
            `A log shipper misses rotated files; a watcher misses changes, and its logs say so at debug level, if at all.${fullAt}`
        : `WHAT IT MEANS: ${row.comm} ${row.pid} has not read this queue over the last three refreshes: it is stuck, busy elsewhere, or no longer reads ` +
            `this instance. Its events wait; once the queue is full the kernel drops the rest (${overflow}).${fullAt}`,
      '  ',
    );
    line(
      `NEXT STEP: look at ${row.comm} ${row.pid}${row.pod ? ` (pod ${podLabel(row.pod)})` : ''}, not at its queue: whether it runs, what its threads wait on ` +
        `(/proc/${row.pid}/task/*/wchan), its logs. Restarting it drops the queue with its events; a watcher that rescans at start catches up. ` +
        'inotop reads nothing from the queue.',
      '  ',
    );
    line('');
  }
}

function waiterText(waiter: PermissionWaiter): string {
  const call = waiter.syscall ? ` in ${waiter.syscall}` : '';
  const path = waiter.path ? ` on ${waiter.path}` : '';
  const threads = waiter.threads > 1 ? ` (${waiter.threads} threads)` : '';
  const pod = waiter.pod ? `, pod ${podLabel(waiter.pod)}` : '';
  return `${waiter.comm} ${waiter.pid}${call}${path}${threads}: waiting ${waiter.waitingSeconds > 0 ? `${waiter.waitingSeconds} s at least` : 'since this refresh'}${pod}`;
}

function plural(n: number, one: string, many: string): string {
  return `${grouped(n)} ${n === 1 ? one : many}`;
}
