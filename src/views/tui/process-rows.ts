// The process view's model: the snapshot's processes filtered and sorted as the state says (in
// the tree view under their parents; for a moment after navigation in the order they had), and
// the selected process's targets for the detail pane. Pure, below the reducer and the painters;
// derived rows are kept per snapshot (memo.ts), so a key press that changes none of what they
// come from derives nothing.
import { deltasOf, type History } from '../../model/history.js';
import { churnByPid, queryRows, type ProcessFilter } from '../../model/query.js';
import type { HolderDetail, ProcessRow, Snapshot, SyscallFailure, TargetRow } from '../../model/types.js';
import { recentFailures } from '../../trace/failures.js';
import { podLabel, targetPathText } from '../format.js';
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

/** Leaked targets first, each part in its order (most watched first): the ones to look at come on top. */
const leakedFirst = perList((targets: readonly TargetRow[]): readonly TargetRow[] => [
  ...targets.filter((target) => target.leak !== null),
  ...targets.filter((target) => target.leak === null),
]);

const shownTargets = perList((targets: readonly TargetRow[], leakedOnly: boolean, filter: RegExp | null): readonly TargetRow[] => {
  const all = leakedFirst(targets);
  const kept = leakedOnly ? all.filter((target) => target.leak !== null) : all;
  if (!filter) return kept;
  return kept.filter((target) => filter.test(targetPathText(target)) || filter.test(podLabel(target.pod)));
});

const NO_TARGETS: readonly TargetRow[] = [];

/**
 * The selected process's targets the detail pane shows (leaked first, then most watched first). With `l`
 * (leaked only) on, only its leaked targets: the ones to look at among thousands.
 */
export function targetRows(state: ProcessQuery & Pick<ViewState, 'selectedPid' | 'targetFilter'>): readonly TargetRow[] {
  const targets = selectedRow(state)?.targets;
  return targets ? shownTargets(targets, state.filter.leakedOnly, state.targetFilter) : NO_TARGETS;
}

/** The process and target inspect shows, null once they are gone. */
export function inspectedTarget(state: Pick<ViewState, 'overlay' | 'snapshot'>): { row: ProcessRow; target: TargetRow } | null {
  const overlay = state.overlay;
  if (overlay?.kind !== 'inspect' || !('dev' in overlay)) return null;
  const row = state.snapshot?.processes.find((candidate) => candidate.pid === overlay.pid);
  const target = row?.targets.find((candidate) => candidate.dev === overlay.dev && candidate.ino === overlay.ino);
  return row && target ? { row, target } : null;
}

/**
 * What is known of holders: the collector's word, else (a recording, a holder that exited) the
 * snapshot's row of a holder that holds inotify instances itself.
 */
export function holderDetailsOf(state: Pick<ViewState, 'overlay' | 'snapshot' | 'holderDetails'>): ReadonlyMap<number, HolderDetail> {
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
