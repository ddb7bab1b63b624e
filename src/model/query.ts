// Sorting and filtering of process rows: shared by batch output and the screen, so a flag given
// to `-b` and the same key in the TUI select the same rows in the same order.
import type { PodRef, ProcessRow, Snapshot, WatchChurn } from './types.js';
import { compareCodeUnits } from '../common/compare.js';

/** What rows sort by; each is one column's (views/columns.ts). */
export type SortField =
  | 'pid'
  | 'user'
  | 'instances'
  | 'watches'
  | 'fanotifyGroups'
  | 'fanotifyMarks'
  | 'delta'
  | 'deltaStart'
  | 'addsPerSecond'
  | 'removesPerSecond'
  | 'leaked'
  | 'queuedBytes'
  | 'command';

export interface ProcessFilter {
  pids: number[] | null;
  /** User name or numeric uid. */
  user: string | null;
  /** Matched against the command line (comm when the command line is empty). */
  command: RegExp | null;
  /** Matched against command, pid, user and pod: the screen's `/` filter. */
  text: RegExp | null;
  leakedOnly: boolean;
}

export const NO_FILTER: ProcessFilter = { pids: null, user: null, command: null, text: null, leakedOnly: false };

export function commandOf(row: Pick<ProcessRow, 'cmdline' | 'comm'>): string {
  return row.cmdline || `[${row.comm}]`;
}

/** What a filter looks at: a whole row, or what the change log keeps of a process. */
export type FilterableRow = Pick<ProcessRow, 'pid' | 'uid' | 'user' | 'comm' | 'cmdline' | 'pod' | 'leaked'> & Partial<Pick<ProcessRow, 'watchedPods'>>;

export function matchesFilter(row: FilterableRow, filter: ProcessFilter): boolean {
  if (filter.pids && !filter.pids.includes(row.pid)) return false;
  if (filter.user !== null && row.user !== filter.user && String(row.uid) !== filter.user) return false;
  if (filter.command && !filter.command.test(commandOf(row))) return false;
  if (filter.leakedOnly && row.leaked === 0) return false;
  if (filter.text) {
    // Its own pod, and the pods it watches: a watcher is found by the pod it leaks on.
    const pods = [row.pod, ...(row.watchedPods ?? []).map((entry) => entry.pod)].flatMap((pod) => (pod ? [podText(pod)] : []));
    const haystacks = [commandOf(row), row.comm, String(row.pid), row.user, ...pods];
    if (!haystacks.some((h) => filter.text!.test(h))) return false;
  }
  return true;
}

function podText(pod: PodRef): string {
  return `${pod.namespace ?? ''}/${pod.name ?? pod.uid} ${pod.uid}`;
}

/** Watch changes per pid, for the delta columns; missing pids count as 0. */
export interface Deltas {
  sinceLast(pid: number): number;
  sinceStart(pid: number): number;
}

/** A snapshot's churn (watches added and removed, from the tracer) by pid. */
export type ChurnByPid = ReadonlyMap<number, WatchChurn>;

const churnMaps = new WeakMap<Snapshot, ChurnByPid>();

/** The snapshot's churn by pid, made once per snapshot: rows look their rates up by it. */
export function churnByPid(snapshot: Snapshot): ChurnByPid {
  let byPid = churnMaps.get(snapshot);
  if (!byPid) {
    byPid = new Map(snapshot.churn.map((churn) => [churn.pid, churn]));
    churnMaps.set(snapshot, byPid);
  }
  return byPid;
}

export function compareRows(field: SortField, deltas: Deltas | null, churn: ChurnByPid | null = null): (a: ProcessRow, b: ProcessRow) => number {
  const rate = (pid: number, which: 'addsPerSecond' | 'removesPerSecond') => churn?.get(pid)?.[which] ?? 0;
  switch (field) {
    case 'pid':
      return (a, b) => a.pid - b.pid;
    case 'user':
      return (a, b) => compareCodeUnits(a.user, b.user);
    case 'instances':
      return (a, b) => a.instances - b.instances;
    case 'watches':
      return (a, b) => a.watches - b.watches;
    case 'fanotifyGroups':
      return (a, b) => a.fanotifyGroups - b.fanotifyGroups;
    case 'fanotifyMarks':
      return (a, b) => a.fanotifyMarks - b.fanotifyMarks;
    case 'leaked':
      return (a, b) => a.leaked - b.leaked;
    case 'queuedBytes':
      // Not read (null, or a recording made before queues) sorts below empty.
      return (a, b) => (a.queuedBytes ?? -1) - (b.queuedBytes ?? -1);
    case 'command':
      return (a, b) => compareCodeUnits(commandOf(a), commandOf(b));
    case 'delta':
      return (a, b) => (deltas?.sinceLast(a.pid) ?? 0) - (deltas?.sinceLast(b.pid) ?? 0);
    case 'deltaStart':
      return (a, b) => (deltas?.sinceStart(a.pid) ?? 0) - (deltas?.sinceStart(b.pid) ?? 0);
    case 'addsPerSecond':
    case 'removesPerSecond':
      return (a, b) => rate(a.pid, field) - rate(b.pid, field);
  }
}

/** Filtered and sorted rows; ties fall back to most watches, then pid, so the order is stable. */
export function queryRows(
  rows: readonly ProcessRow[],
  filter: ProcessFilter,
  sort: { field: SortField; descending: boolean },
  deltas: Deltas | null = null,
  churn: ChurnByPid | null = null,
): ProcessRow[] {
  const primary = compareRows(sort.field, deltas, churn);
  const direction = sort.descending ? -1 : 1;
  return rows.filter((row) => matchesFilter(row, filter)).sort((a, b) => direction * primary(a, b) || b.watches - a.watches || a.pid - b.pid);
}

/** The processes with leaked watches, most leaked first. */
export function leakingProcesses(processes: readonly ProcessRow[]): ProcessRow[] {
  return processes.filter((row) => row.leaked > 0).sort((a, b) => b.leaked - a.leaked || a.pid - b.pid);
}
