// The pod view's model: one row per pod that a process runs in or watches, live or gone, with its
// watches across every process, who watches it and whose mount namespaces keep it. Pure, below the
// reducer and the painters; rows are derived once per snapshot (memo.ts).
import { compareCodeUnits } from '../../common/compare.js';
import type { History } from '../../model/history.js';
import type { SortField } from '../../model/query.js';
import type { PodRef, PodState, Snapshot } from '../../model/types.js';
import { podLabel } from '../../model/target-text.js';
import { perSnapshot } from './memo.js';
import type { Sort, ViewState } from './view-state.js';

export interface PodRow {
  pod: PodRef;
  watches: number;
  leaked: number;
  /** Pids of the processes watching inside it, most watches first. */
  watchers: { pid: number; comm: string; watches: number; leaked: number }[];
  /** Pids whose mount namespaces keep its leaked targets. */
  holders: number[];
  /** Pids of processes running in it (their cgroup is the pod's). */
  members: number[];
}

const byName = (a: PodRow, b: PodRow) => compareCodeUnits(podLabel(a.pod), podLabel(b.pod));

const rowsOf = perSnapshot((snapshot: Snapshot): readonly PodRow[] => {
  const rows = new Map<string, PodRow>();
  const rowOf = (pod: PodRef): PodRow => {
    let row = rows.get(pod.uid);
    if (!row) rows.set(pod.uid, (row = { pod, watches: 0, leaked: 0, watchers: [], holders: [], members: [] }));
    else if (row.pod.name === null && pod.name !== null) row.pod = pod;
    return row;
  };
  for (const proc of snapshot.processes) {
    if (proc.pod) rowOf(proc.pod).members.push(proc.pid);
    for (const entry of proc.watchedPods) {
      const row = rowOf(entry.pod);
      row.watches += entry.watches;
      row.leaked += entry.leaked;
      row.watchers.push({ pid: proc.pid, comm: proc.comm, watches: entry.watches, leaked: entry.leaked });
      for (const pid of entry.holders) if (!row.holders.includes(pid)) row.holders.push(pid);
    }
  }
  for (const row of rows.values()) {
    row.watchers.sort((a, b) => b.watches - a.watches || a.pid - b.pid);
    row.holders.sort((a, b) => a - b);
  }
  return [...rows.values()].sort((a, b) => b.leaked - a.leaked || b.watches - a.watches || byName(a, b));
});

/** Pods of a snapshot: from its processes' own pods and the pods they watch; most leaked, then most watched first. */
export function podRows(snapshot: Snapshot | null): readonly PodRow[] {
  return snapshot ? rowsOf(snapshot) : [];
}

/** The pods `filter` (the `/` regex) matches by name, namespace or uid. */
export function filterPods(rows: readonly PodRow[], filter: RegExp | null): PodRow[] {
  if (!filter) return [...rows];
  return rows.filter((row) => filter.test(podLabel(row.pod)) || filter.test(row.pod.uid));
}

/** What the one sort field sorts pods by: their counts, else their names. */
export type PodSortKey = 'leaked' | 'watches' | 'name';

/** The sort field that stands for each of the pods' own sorts (`<` and `>` step through these). */
export const POD_SORT_FIELDS: Readonly<Record<PodSortKey, SortField>> = { name: 'command', watches: 'watches', leaked: 'leaked' };

export function isPodSortKey(id: string): id is PodSortKey {
  return Object.hasOwn(POD_SORT_FIELDS, id);
}

export function podSortKey(field: SortField): PodSortKey {
  if (field === 'leaked') return 'leaked';
  if (field === 'pid' || field === 'user' || field === 'command') return 'name';
  // Counts: the pods' own count.
  return 'watches';
}

const sortedPods = perSnapshot((snapshot: Snapshot, filter: RegExp | null, sort: Sort): readonly PodRow[] => {
  const key = podSortKey(sort.field);
  const direction = sort.descending ? -1 : 1;
  const primary = (a: PodRow, b: PodRow) => (key === 'name' ? byName(a, b) : a[key] - b[key]);
  // podRows' order (leaked, watches, name) breaks ties.
  return filterPods(rowsOf(snapshot), filter).sort((a, b) => direction * primary(a, b));
});

/** The pod view's rows: filtered by the `/` text, sorted as the one sort says (<, >, s, I). */
export function visiblePods(state: Pick<ViewState, 'snapshot' | 'filter' | 'sort'>): readonly PodRow[] {
  return state.snapshot ? sortedPods(state.snapshot, state.filter.text, state.sort) : [];
}

/** A line of a pod's detail pane: a process watching inside it, keeping its mounts, or running in it. */
export interface PodMember {
  watches: number | null;
  leaked: number;
  pid: number;
  who: string;
}

const commsOf = perSnapshot((snapshot: Snapshot): ReadonlyMap<number, string> => new Map(snapshot.processes.map((proc) => [proc.pid, proc.comm])));

/** Who watches inside the pod, whose namespaces keep its mounts, and who runs in it. */
export function podMembers(row: PodRow, snapshot: Snapshot | null): PodMember[] {
  const comm = (pid: number) => (snapshot ? commsOf(snapshot).get(pid) : undefined) ?? '?';
  return [
    ...row.watchers.map((w) => ({ watches: w.watches, leaked: w.leaked, pid: w.pid, who: `${w.comm}: watches inside it` })),
    ...row.holders.map((pid) => ({ watches: null, leaked: 0, pid, who: `${comm(pid)}: its mount namespace keeps the pod's mounts` })),
    ...row.members.map((pid) => ({ watches: null, leaked: 0, pid, who: `${comm(pid)}: runs in it` })),
  ];
}

/** "live", "gone since 10:21:06" (when this session saw it go), "gone", "unknown". */
export function podStateText(pod: PodRef, history: History): string {
  if (pod.state !== 'gone') return pod.state satisfies PodState;
  const went = [...history.events].reverse().find((event) => event.kind === 'pod-gone' && event.pod.uid === pod.uid);
  // Gone in the first snapshot: it went before this session began, when is not known.
  if (!went || went.time === history.startedAt) return 'gone';
  return `gone since ${new Date(went.time).toTimeString().slice(0, 8)}`;
}

/** How long ago `since` was, as "42s", "12m", "3h", "2d". */
export function ageText(since: string | undefined, now: string): string {
  if (since === undefined) return '-';
  const seconds = Math.max(0, Math.round((Date.parse(now) - Date.parse(since)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function pidList(pids: readonly number[], max = 4): string {
  if (pids.length === 0) return '-';
  return pids.length > max ? `${pids.slice(0, max).join(',')} +${pids.length - max}` : pids.join(',');
}

/** When this session first saw each pod (the pod view's AGE): the snapshot's new pods added. */
export function withPodsSeen(seen: ReadonlyMap<string, string>, snapshot: Snapshot): ReadonlyMap<string, string> {
  let next: Map<string, string> | null = null;
  for (const row of snapshot.processes) {
    for (const pod of [row.pod, ...row.watchedPods.map((entry) => entry.pod)]) {
      if (!pod || seen.has(pod.uid) || next?.has(pod.uid)) continue;
      next ??= new Map(seen);
      next.set(pod.uid, snapshot.time);
    }
  }
  return next ?? seen;
}
