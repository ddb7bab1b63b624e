// The process view's model: the snapshot's processes filtered and sorted as the state says (in
// the tree view under their parents; for a moment after navigation in the order they had), and
// the selected process's targets for the detail pane. Pure, below the reducer and the painters;
// derived rows are kept per snapshot (memo.ts), so a key press that changes none of what they
// come from derives nothing.
import { deltasOf, type History } from '../../model/history.js';
import { churnByPid, queryRows, type ProcessFilter } from '../../model/query.js';
import type { HolderDetail, ProcessRow, Snapshot, SyscallFailure, TargetRow } from '../../model/types.js';
import { recentFailures } from '../../trace/failures.js';
import { paneSlice, rowsSource, type PaneAsk, type PaneSlice } from '../../model/pane.js';
import { widestCells, widestOfWindow, type WidestCells } from '../target-pane.js';
import { perList, perSnapshot } from './memo.js';
import { treeOf } from './tree.js';
import type { Sort, ViewState } from './view-state.js';

/** The table's rows in order, and in the tree view the branch drawn before each one's command. */
export interface ProcessTable {
  rows: readonly ProcessRow[];
  prefixes: ReadonlyMap<number, string>;
}

/** What the process table comes from. */
export type ProcessQuery = Pick<ViewState, 'snapshot' | 'history' | 'filter' | 'sort' | 'tree' | 'heldOrder'>;

const NO_PREFIXES: ReadonlyMap<number, string> = new Map();
const EMPTY_TABLE: ProcessTable = { rows: [], prefixes: NO_PREFIXES };

const sortedTable = perSnapshot((snapshot: Snapshot, history: History, filter: ProcessFilter, sort: Sort, tree: boolean): ProcessTable => {
  const sorted = queryRows(snapshot.processes, filter, sort, deltasOf(history), churnByPid(snapshot));
  return tree ? treeOf(sorted) : { rows: sorted, prefixes: NO_PREFIXES };
});

/** Rows still there keep their place; new ones go last. */
const heldTable = perSnapshot((_snapshot: Snapshot, table: ProcessTable, heldOrder: readonly number[]): ProcessTable => {
  const place = new Map(heldOrder.map((pid, i) => [pid, i]));
  const at = (row: ProcessRow) => place.get(row.pid) ?? -1;
  const kept = table.rows.filter((row) => place.has(row.pid)).sort((a, b) => at(a) - at(b));
  return { rows: [...kept, ...table.rows.filter((row) => !place.has(row.pid))], prefixes: table.prefixes };
});

/** The table: filtered, sorted (in the tree view, under their parents), and in the held order for a moment after navigation. */
export function processTable(query: ProcessQuery): ProcessTable {
  if (!query.snapshot) return EMPTY_TABLE;
  const table = sortedTable(query.snapshot, query.history, query.filter, query.sort, query.tree);
  return query.heldOrder ? heldTable(query.snapshot, table, query.heldOrder) : table;
}

export function processRows(query: ProcessQuery): readonly ProcessRow[] {
  return processTable(query).rows;
}

export function selectedRow(state: ProcessQuery & Pick<ViewState, 'selectedPid'>): ProcessRow | null {
  return processRows(state).find((row) => row.pid === state.selectedPid) ?? null;
}

/** What the detail pane shows of the selected process's targets: a window of them, and what it says of the whole. */
export interface TargetPane {
  /** The window's rows; rows[0] is the `from`th target shown. */
  rows: readonly TargetRow[];
  from: number;
  /** How many targets show (after the filters), and how many the process has. */
  total: number;
  all: number;
  widest: WidestCells;
}

const NO_PANE: TargetPane = { rows: [], from: 0, total: 0, all: 0, widest: [] };

/** Every target that shows, for a snapshot that carries its list (a recording's, a test's): the same order and filters as a window's. */
const wholePane = perList((targets: readonly TargetRow[], leakedOnly: boolean, filter: string | null): TargetPane => ({
  ...paneSlice(rowsSource(targets), { pid: 0, leakedOnly, filter, from: 0, count: targets.length }),
  widest: widestCells(targets),
}));

/** A window the collector sent, its cells as wide as any of the process's can be. */
const windowPane = perList((rows: readonly TargetRow[], slice: PaneSlice, row: ProcessRow): TargetPane => ({
  ...slice,
  widest: widestOfWindow(row, rows),
}));

/**
 * The selected process's targets the detail pane shows (leaked first, then most watched first;
 * with `l` on, only its leaked ones; with a `/` filter, those whose path or pod matches). A live
 * snapshot carries none: the collector answers the pane's ask with a window (paneAsk), and until
 * the answer to a new ask comes the pane shows the last one of the same process. A snapshot that
 * carries the list is shown whole.
 */
export function targetPane(state: ProcessQuery & Pick<ViewState, 'selectedPid' | 'targetFilter' | 'targetSlice'>): TargetPane {
  const row = selectedRow(state);
  if (!row) return NO_PANE;
  if (row.targets.length > 0) return wholePane(row.targets, state.filter.leakedOnly, state.targetFilter?.source ?? null);
  const slice = state.targetSlice;
  return slice?.ask.pid === row.pid ? windowPane(slice.rows, slice, row) : NO_PANE;
}

/** The pane's target at `index` of the shown order, when it is held. */
export function paneTargetAt(pane: TargetPane, index: number): TargetRow | undefined {
  return pane.rows[index - pane.from];
}

/**
 * The window to ask the collector for, or `asked` itself while it still covers what the pane
 * shows: a page either side of it, so that a line or a page of scrolling is drawn from rows held.
 * null: no process selected.
 */
export function paneAsk(
  state: ProcessQuery & Pick<ViewState, 'selectedPid' | 'targetFilter' | 'detailTop' | 'detailRows'>,
  asked: PaneAsk | null,
): PaneAsk | null {
  if (state.selectedPid === null) return null;
  const filter = state.targetFilter?.source ?? null;
  const { leakedOnly } = state.filter;
  const rows = state.detailRows;
  if (
    asked?.pid === state.selectedPid &&
    asked.leakedOnly === leakedOnly &&
    asked.filter === filter &&
    asked.from <= state.detailTop &&
    state.detailTop + rows <= asked.from + asked.count
  )
    return asked;
  return { pid: state.selectedPid, leakedOnly, filter, from: Math.max(0, state.detailTop - rows), count: 3 * rows };
}

/** The process and target inspect shows, null once they are gone. */
export function inspectedTarget(state: Pick<ViewState, 'overlay' | 'snapshot' | 'targetSlice'>): { row: ProcessRow; target: TargetRow } | null {
  const overlay = state.overlay;
  if (overlay?.kind !== 'inspect' || !('dev' in overlay)) return null;
  const row = state.snapshot?.processes.find((candidate) => candidate.pid === overlay.pid);
  // A live snapshot carries no targets: the pane's window holds the one under the cursor.
  const held = row && row.targets.length > 0 ? row.targets : state.targetSlice?.ask.pid === overlay.pid ? state.targetSlice.rows : [];
  const target = held.find((candidate) => candidate.dev === overlay.dev && candidate.ino === overlay.ino);
  return row && target ? { row, target } : null;
}

/**
 * What is known of holders: the collector's word, else (a recording, a holder that exited) the
 * snapshot's row of a holder that holds inotify instances itself.
 */
export function holderDetailsOf(state: Pick<ViewState, 'overlay' | 'snapshot' | 'holderDetails' | 'targetSlice'>): ReadonlyMap<number, HolderDetail> {
  const view = inspectedTarget(state);
  if (!view) return state.holderDetails;
  const details = new Map(state.holderDetails);
  for (const holder of view.target.holders) {
    if (details.has(holder.pid)) continue;
    const row = state.snapshot?.processes.find((candidate) => candidate.pid === holder.pid);
    if (row) details.set(holder.pid, { pid: row.pid, cmdline: row.cmdline, cgroup: null, pod: row.pod });
  }
  return details;
}

/** Failed inotify calls of the last minutes, as of the snapshot's time. */
export function snapshotRecentFailures(snapshot: Snapshot | null): SyscallFailure[] {
  return snapshot ? recentFailures(snapshot.failures, Date.parse(snapshot.time)) : [];
}
