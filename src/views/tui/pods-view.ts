// The pod view (`v`): one row per pod that a process runs in or watches, live or gone, with its
// watches across every process, who watches it and whose mount namespaces keep it. Pure.
import { grouped } from '../../common/format.js';
import type { History } from '../../model/history.js';
import type { PodRef, PodState, Snapshot } from '../../model/types.js';
import { commandOf, type SortField } from '../../model/query.js';
import { placeColumns, rowCells, titleCells, type PlacedColumn, type TableColumn } from '../columns.js';
import { fit, podLabel } from '../format.js';
import { screenText as esc } from '../../common/text.js';
import type { Paragraph } from './inspect.js';
import type { Painter } from './render.js';
import type { ViewState } from './state.js';

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

/** Pods of a snapshot: from its processes' own pods and the pods they watch. */
export function podRows(snapshot: Snapshot | null): PodRow[] {
  const rows = new Map<string, PodRow>();
  const rowOf = (pod: PodRef): PodRow => {
    let row = rows.get(pod.uid);
    if (!row) rows.set(pod.uid, (row = { pod, watches: 0, leaked: 0, watchers: [], holders: [], members: [] }));
    else if (row.pod.name === null && pod.name !== null) row.pod = pod;
    return row;
  };
  for (const proc of snapshot?.processes ?? []) {
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
  return [...rows.values()].sort((a, b) => b.leaked - a.leaked || b.watches - a.watches || podLabel(a.pod).localeCompare(podLabel(b.pod)));
}

/** The pods `filter` (the `/` regex) matches by name, namespace or uid. */
export function filterPods(rows: readonly PodRow[], filter: RegExp | null): PodRow[] {
  if (!filter) return [...rows];
  return rows.filter((row) => filter.test(podLabel(row.pod)) || filter.test(row.pod.uid));
}

/** What the process view's sort field sorts pods by: their counts, else their names. */
export type PodSortKey = 'leaked' | 'watches' | 'name';

export function podSortKey(field: SortField): PodSortKey {
  if (field === 'leaked') return 'leaked';
  if (field === 'pid' || field === 'user' || field === 'command') return 'name';
  // Counts: the pods' own count.
  return 'watches';
}

let podsCache: { snapshot: Snapshot | null; filter: RegExp | null; sort: ViewState['sort']; rows: PodRow[] } | null = null;

/** The pod view's rows: filtered by the `/` text, sorted as the process view's sort says (<, >, s, I). */
export function visiblePods(state: Pick<ViewState, 'snapshot' | 'filter' | 'sort'>): PodRow[] {
  if (podsCache?.snapshot === state.snapshot && podsCache.filter === state.filter.text && podsCache.sort === state.sort) return podsCache.rows;
  const key = podSortKey(state.sort.field);
  const direction = state.sort.descending ? -1 : 1;
  const name = (row: PodRow) => podLabel(row.pod);
  const primary = (a: PodRow, b: PodRow) => (key === 'name' ? name(a).localeCompare(name(b)) : a[key] - b[key]);
  // podRows' order (leaked, watches, name) breaks ties.
  const rows = filterPods(podRows(state.snapshot), state.filter.text).sort((a, b) => direction * primary(a, b));
  podsCache = { snapshot: state.snapshot, filter: state.filter.text, sort: state.sort, rows };
  return rows;
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

/** Inspect of a pod: who watches inside it, who keeps its mounts, and what to do. */
export function podInspectParagraphs(row: PodRow, snapshot: Snapshot): Paragraph[] {
  const byPid = new Map(snapshot.processes.map((proc) => [proc.pid, proc]));
  const out: Paragraph[] = [];
  const line = (text: string, indent = '    ') => out.push({ text, indent });
  const pod = row.pod;
  line(`Pod ${podLabel(pod)}  uid ${pod.uid}${pod.nameSource ? `  (name from ${pod.nameSource})` : pod.name === null ? '  (name unknown)' : ''}`, '  ');
  line('');
  line(`${grouped(row.watches)} watches on it, ${grouped(row.leaked)} leaked`);
  line('');
  line('WATCHED BY:', '  ');
  for (const w of row.watchers)
    line(`pid ${w.pid} ${w.comm}: ${w.watches} watches, ${w.leaked} leaked  (${commandOf(byPid.get(w.pid) ?? { cmdline: '', comm: w.comm })})`, '      ');
  if (row.holders.length > 0) {
    line('');
    line('KEPT BY (their mount namespaces still have its mounts):', '  ');
    for (const pid of row.holders) {
      const proc = byPid.get(pid);
      line(`pid ${pid} ${proc ? `${proc.comm}  (${commandOf(proc)})` : '(holds no inotify instance: inspect a target for its command line)'}`, '      ');
    }
  }
  if (row.members.length > 0) {
    line('');
    line(`RUNS IN IT: ${row.members.map((pid) => `pid ${pid} ${byPid.get(pid)?.comm ?? '?'}`).join(', ')}`, '  ');
  }
  line('');
  const watchers = row.watchers.filter((w) => w.leaked > 0).map((w) => `${w.comm} (pid ${w.pid})`);
  const next =
    row.leaked === 0
      ? 'nothing to do: no watch on it leaked.'
      : row.holders.length > 0
        ? `its mounts live on while pid ${row.holders.join(', pid ')} ${row.holders.length === 1 ? 'exits' : 'exit'}: check what ${row.holders.length === 1 ? 'it is' : 'they are'}, then stop ${row.holders.length === 1 ? 'it' : 'them'}. What no namespace keeps (a removed cgroup dir) only the watcher drops: restarting ${watchers.join(', ')} releases it.`
        : `only the watchers can drop these watches: restarting ${watchers.join(', ')} releases them.`;
  line(`NEXT STEP: ${next}`, '  ');
  return out;
}

// ---- drawing ----

type PodColumn = TableColumn<PodRow, null>;

/** Where the UID shows whole; narrower, its first 8 digits (inspect and the detail pane have it whole). */
const WHOLE_UID = 160;

/** The pod table's columns, placed by the one placing code (columns.ts); the sort column's title marked. */
function podColumns(state: ViewState, width: number): PlacedColumn<PodColumn>[] {
  const now = state.snapshot?.time ?? new Date(0).toISOString();
  const uidWidth = width >= WHOLE_UID ? 36 : 8;
  const column = (id: string, title: string, columnWidth: number, align: 'left' | 'right', cell: (row: PodRow) => string): PodColumn => ({
    id,
    title,
    width: columnWidth,
    flexible: false,
    align,
    cell,
  });
  const specs: PodColumn[] = [
    { ...column('name', 'NAMESPACE/NAME', 10, 'left', (row) => podLabel({ ...row.pod, state: 'live' })), flexible: true },
    column('uid', 'UID', uidWidth, 'left', (row) => row.pod.uid.slice(0, uidWidth)),
    column('state', 'STATE', 19, 'left', (row) => podStateText(row.pod, state.history)),
    column('watches', 'WATCHES', 8, 'right', (row) => grouped(row.watches)),
    column('leaked', 'LEAKED', 7, 'right', (row) => (row.leaked ? grouped(row.leaked) : '')),
    column('watchers', 'WATCHERS', 16, 'left', (row) =>
      pidList(
        row.watchers.map((w) => w.pid),
        2,
      ),
    ),
    column('holders', 'HOLDERS', 16, 'left', (row) => pidList(row.holders, 2)),
    column('age', 'AGE', 5, 'right', (row) => ageText(state.podsSeen.get(row.pod.uid), now)),
  ];
  const sortedBy = podSortKey(state.sort.field);
  const marker = state.sort.descending ? '▼' : '▲';
  return placeColumns(specs, width, (spec) => spec.title + (spec.id === sortedBy ? marker : ''));
}

export function podTableLines(state: ViewState, width: number, height: number, painter: Painter): string[] {
  const columns = podColumns(state, width);
  const lines = [painter.paint('columns', esc(titleCells(columns).join(' ')))];
  const rows = visiblePods(state);
  if (rows.length === 0) {
    lines.push(esc(fit(state.filter.text ? '  no pod matches the filter' : '  no process runs in or watches a pod', width)));
    return lines;
  }
  for (const row of rows.slice(state.podTop, state.podTop + height - 1)) {
    const text = esc(rowCells(row, columns, null).join(' '));
    if (row.pod.uid === state.selectedPod) lines.push(painter.paint('selected', text));
    else lines.push(row.leaked > 0 || row.pod.state === 'gone' ? painter.paint('leak', text) : text);
  }
  return lines;
}

/** A line of the pod's detail pane: a process watching inside it, keeping its mounts, or running in it. */
interface PodMember {
  watches: number | null;
  leaked: number;
  pid: number;
  who: string;
}

const MEMBER_COLUMNS: readonly TableColumn<PodMember, null>[] = [
  { id: 'watches', title: 'WATCHES', width: 8, flexible: false, align: 'right', cell: (m) => (m.watches === null ? '' : grouped(m.watches)) },
  { id: 'leaked', title: 'LEAKED', width: 7, flexible: false, align: 'right', cell: (m) => (m.leaked ? String(m.leaked) : '') },
  { id: 'pid', title: 'PID', width: 8, flexible: false, align: 'right', cell: (m) => String(m.pid) },
  { id: 'who', title: 'WHO', width: 10, flexible: true, align: 'left', cell: (m) => m.who },
];

/** The selected pod: who watches inside it, and whose namespaces keep its mounts. */
export function podDetailLines(state: ViewState, width: number, height: number, painter: Painter): string[] {
  const row = visiblePods(state).find((candidate) => candidate.pod.uid === state.selectedPod);
  const heading = row
    ? `pod ${podLabel(row.pod)}  uid ${row.pod.uid}${row.pod.nameSource ? `  (name from ${row.pod.nameSource})` : ''}: ` +
      `${grouped(row.watches)} watches${row.leaked ? `, ${grouped(row.leaked)} leaked` : ''}`
    : 'no pod selected';
  const lines = [painter.paint('rule', esc(fit(`── ${heading} `, width).replace(/ +$/, (spaces) => ' ' + '─'.repeat(spaces.length - 1))))];
  if (!row) return lines;
  const columns = placeColumns(MEMBER_COLUMNS, width);
  lines.push(painter.paint('columns', esc(titleCells(columns).join(' '))));
  const comms = new Map((state.snapshot?.processes ?? []).map((proc) => [proc.pid, proc.comm]));
  const members: PodMember[] = [
    ...row.watchers.map((w) => ({ watches: w.watches, leaked: w.leaked, pid: w.pid, who: `${w.comm}: watches inside it` })),
    ...row.holders.map((pid) => ({ watches: null, leaked: 0, pid, who: `${comms.get(pid) ?? '?'}: its mount namespace keeps the pod's mounts` })),
    ...row.members.map((pid) => ({ watches: null, leaked: 0, pid, who: `${comms.get(pid) ?? '?'}: runs in it` })),
  ];
  for (const member of members.slice(0, height - 2)) lines.push(esc(rowCells(member, columns, null).join(' ')));
  return lines;
}
