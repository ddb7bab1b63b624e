// Sorting and filtering of process rows: shared by batch output and the screen, so a flag given
// to `-b` and the same key in the TUI select the same rows in the same order.
import type { PodRef, ProcessRow } from './types.js';

export interface SortFieldSpec {
  field: SortField;
  /** Column title in tables. */
  title: string;
  description: string;
  /** Counts sort biggest first; names and pids smallest first. */
  descendingByDefault: boolean;
}

export type SortField = 'pid' | 'user' | 'instances' | 'watches' | 'delta' | 'deltaStart' | 'leaked' | 'command';

/** In table column order. */
export const SORT_FIELDS: readonly SortFieldSpec[] = [
  { field: 'pid', title: 'PID', description: 'process id', descendingByDefault: false },
  { field: 'user', title: 'USER', description: 'effective user', descendingByDefault: false },
  { field: 'instances', title: 'INST', description: 'inotify instances', descendingByDefault: true },
  { field: 'watches', title: 'WATCHES', description: 'inotify watches', descendingByDefault: true },
  { field: 'delta', title: 'Δ', description: 'change of watches since the last refresh', descendingByDefault: true },
  { field: 'deltaStart', title: 'ΔSTART', description: 'change of watches since inotop started', descendingByDefault: true },
  { field: 'leaked', title: 'LEAKED', description: 'watches on gone pods, unmounted or deleted targets', descendingByDefault: true },
  { field: 'command', title: 'COMMAND', description: 'command line', descendingByDefault: false },
];

/** Fields a batch run can sort by (deltas need a previous refresh). */
export const BATCH_SORT_FIELDS: readonly SortField[] = ['watches', 'instances', 'pid', 'user', 'command', 'leaked'];

export function sortFieldSpec(field: SortField): SortFieldSpec {
  return SORT_FIELDS.find((spec) => spec.field === field)!;
}

export function parseSortField(name: string): SortField | null {
  const lower = name.toLowerCase();
  const spec = SORT_FIELDS.find((s) => s.field.toLowerCase() === lower || s.title.toLowerCase() === lower);
  return spec ? spec.field : null;
}

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

export function compareRows(field: SortField, deltas: Deltas | null): (a: ProcessRow, b: ProcessRow) => number {
  switch (field) {
    case 'pid':
      return (a, b) => a.pid - b.pid;
    case 'user':
      return (a, b) => a.user.localeCompare(b.user);
    case 'instances':
      return (a, b) => a.instances - b.instances;
    case 'watches':
      return (a, b) => a.watches - b.watches;
    case 'leaked':
      return (a, b) => a.leaked - b.leaked;
    case 'command':
      return (a, b) => commandOf(a).localeCompare(commandOf(b));
    case 'delta':
      return (a, b) => (deltas?.sinceLast(a.pid) ?? 0) - (deltas?.sinceLast(b.pid) ?? 0);
    case 'deltaStart':
      return (a, b) => (deltas?.sinceStart(a.pid) ?? 0) - (deltas?.sinceStart(b.pid) ?? 0);
  }
}

/** Filtered and sorted rows; ties fall back to most watches, then pid, so the order is stable. */
export function queryRows(
  rows: readonly ProcessRow[],
  filter: ProcessFilter,
  sort: { field: SortField; descending: boolean },
  deltas: Deltas | null = null,
): ProcessRow[] {
  const primary = compareRows(sort.field, deltas);
  const direction = sort.descending ? -1 : 1;
  return rows.filter((row) => matchesFilter(row, filter)).sort((a, b) => direction * primary(a, b) || b.watches - a.watches || a.pid - b.pid);
}

/** The processes with leaked watches, most leaked first. */
export function leakingProcesses(processes: readonly ProcessRow[]): ProcessRow[] {
  return processes.filter((row) => row.leaked > 0).sort((a, b) => b.leaked - a.leaked || a.pid - b.pid);
}
