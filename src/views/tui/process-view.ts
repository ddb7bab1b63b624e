// The process view: a row per process holding inotify instances or fanotify groups, its columns
// from the one column table (columns.ts), its detail pane the selected process's targets, which
// Enter focuses (and there inspects the target under the cursor).
import { grouped } from '../../common/format.js';
import { churnByPid } from '../../model/query.js';
import type { ProcessRow, Snapshot, TargetRow, WatchChurn } from '../../model/types.js';
import {
  clipColumns,
  placeColumns,
  rowStyle,
  shownColumns,
  targetColumns,
  targetStyle,
  type CellContext,
  type ChurnRates,
  type ColumnChoice,
  type ColumnSpec,
  type PlacedColumn,
  type TargetColumn,
  type TargetContext,
} from '../columns.js';
import { podLabel } from '../../model/target-text.js';
import { permissionRoles, processQueuesText, someQueueTrouble } from '../traffic.js';
import { stuckWaiters } from '../../model/waits.js';
import { ON_SCREEN, type WidestCells } from '../target-pane.js';
import { processRows, processTable, selectedRow, snapshotRecentFailures, targetPane } from './process-rows.js';
import { firstLeaking, sortMarker, type DetailPane, type ScreenView } from './screen-view.js';
import type { ViewState } from './view-state.js';

/** How long rows keep their order after a navigation key, so they do not jump under the cursor. */
export const ORDER_HOLD_MS = 1500;

/** What decides the table's columns: the user's choices, whether the node holds fanotify groups, whether a queue is in trouble. */
export function columnChoice(state: ViewState): ColumnChoice {
  return {
    fanotify: (state.snapshot?.totals.fanotifyGroups ?? 0) > 0,
    queues: someQueueTrouble(state.snapshot),
    hidden: state.hiddenColumns,
    shown: state.shownColumns,
  };
}

/** The table's columns, in table order (columns.ts). */
export function screenColumns(state: ViewState): ColumnSpec[] {
  return shownColumns('screen', columnChoice(state));
}

/** What the screen's cells need: grouped counts, blank zeros, the history's deltas, the tracer's churn, the tree's branches. */
export function cellContext(state: ViewState): CellContext {
  const failing = new Set(snapshotRecentFailures(state.snapshot).map((f) => f.pid));
  const churn = state.snapshot ? churnByPid(state.snapshot) : new Map<number, WatchChurn>();
  const traced = state.snapshot?.trace.state === 'on';
  const { prefixes } = processTable(state);
  return {
    count: grouped,
    blankZeros: true,
    sinceLast: (pid) => state.history.sinceLast.get(pid) ?? 0,
    sinceStart: (pid) => state.history.sinceStart.get(pid) ?? 0,
    churn: (pid) => (traced ? (churn.get(pid) ?? NO_CHURN) : null),
    prefix: (pid) => prefixes.get(pid) ?? '',
    failed: (pid) => failing.has(pid),
    permission: permissionRoles(state.snapshot?.permissionWaits),
  };
}

const NO_CHURN: ChurnRates = { addsPerSecond: 0, removesPerSecond: 0 };

/** Where DEV and FSTYPE show in the pane too (inspect always shows them). */
const WIDE_DETAIL = 160;

/**
 * The detail pane's columns (columns.ts's target table): STATUS, the holder and POD as wide as
 * the widest of their cells among the targets that show (they are what one acts on), PATH the
 * rest, losing its middle. DEV and FSTYPE only where there is room to spare.
 */
export function detailColumns(width: number, widest: WidestCells): PlacedColumn<TargetColumn>[] {
  const specs = targetColumns(
    width >= WIDE_DETAIL ? ['watches', 'dev', 'fstype', 'status', 'path', 'holders', 'pod'] : ['watches', 'status', 'path', 'holders', 'pod'],
  );
  const cells = new Map(widest);
  const sized = specs.map((spec) => {
    const widestCell = cells.get(spec.id);
    if (widestCell === undefined) return spec;
    const cap = spec.id === 'holders' ? spec.width : Math.max(20, Math.floor(width / 3));
    return { ...spec, width: Math.min(cap, widestCell) };
  });
  return placeColumns(sized, width);
}

function plainPlural(n: number, one: string, many: string): string {
  return `${grouped(n)} ${n === 1 ? one : many}`;
}

/** "  ·  BLOCKING 312 waiters, oldest 41 s" for a holder others wait on, "  ·  WAITING 41 s …" for a waiter; '' otherwise. */
function permissionText(row: ProcessRow, snapshot: Snapshot | null): string {
  const stuck = stuckWaiters(snapshot?.permissionWaits);
  const waiting = stuck.filter((waiter) => waiter.heldBy.includes(row.pid));
  if (waiting.length > 0)
    return `  ·  BLOCKING ${plainPlural(waiting.length, 'waiter', 'waiters')}, oldest ${waiting[0]?.waitingSeconds ?? 0} s (Enter: who and why)`;
  const self = stuck.find((waiter) => waiter.pid === row.pid);
  return self ? `  ·  WAITING ${self.waitingSeconds} s for a fanotify answer${self.syscall ? ` in ${self.syscall}` : ''}` : '';
}

/** The selected process: its counts, pod, permission waits, queues, rates and failed calls, then its targets. */
function processDetail(state: ViewState): DetailPane<TargetRow, TargetContext> {
  const row = selectedRow(state);
  const snapshot = state.snapshot;
  const focused = state.focus === 'detail';
  const pane = targetPane(state);
  const narrowed = [state.filter.leakedOnly ? 'leaked only' : '', state.targetFilterText ? `/${state.targetFilterText}/` : ''].filter(Boolean);
  const filter = narrowed.length > 0 ? `  filter ${narrowed.join(', ')}: ${grouped(pane.total)} of ${grouped(pane.all)}` : '';
  const failed = row ? snapshotRecentFailures(state.snapshot).filter((f) => f.pid === row.pid) : [];
  const failedText = failed.map((f) => `  ·  FAILED ${grouped(f.count)} × ${f.syscall} ${f.errno}`).join('');
  const churn = row && state.snapshot ? churnByPid(state.snapshot).get(row.pid) : undefined;
  const churnText = churn ? `  ·  ADD/s ${churn.addsPerSecond} RM/s ${churn.removesPerSecond}` : '';
  const queueText = row ? processQueuesText(row) : '';
  const permission = row ? permissionText(row, snapshot) : '';
  const heading = row
    ? `pid ${row.pid} ${row.comm}: ${plainPlural(row.instances, 'instance', 'instances')}, ${plainPlural(row.watches, 'watch', 'watches')}` +
      `${row.fanotifyGroups ? `, ${plainPlural(row.fanotifyGroups, 'fanotify group', 'fanotify groups')}, ${plainPlural(row.fanotifyMarks, 'mark', 'marks')}` : ''}` +
      `${row.leaked ? `, ${grouped(row.leaked)} leaked` : ''}${row.pod ? `  ·  pod ${podLabel(row.pod)}` : ''}${permission}` +
      `${queueText ? `  ·  ${queueText}` : ''}${churnText}${failedText}${filter}`
    : 'no process selected';
  const hint = focused ? '  (↑↓ move, Enter inspect, / filter, Esc back)' : '  (Enter: focus)';
  return {
    heading: heading + hint,
    table:
      row && snapshot
        ? {
            rows: pane.rows,
            from: pane.from,
            total: pane.total,
            top: state.detailTop,
            cursor: focused ? state.detailCursor : null,
            columns: (width) => detailColumns(width, pane.widest),
            context: ON_SCREEN,
            style: targetStyle,
          }
        : null,
  };
}

export const PROCESS_VIEW: ScreenView<ProcessRow, number, CellContext, TargetRow, TargetContext> = {
  id: 'processes',
  rowsName: 'processes',
  rows: processRows,
  keyOf: (row) => row.pid,
  place: (state) => ({ key: state.selectedPid, index: state.selectedIndex, top: state.tableTop }),
  withPlace: (state, place) => ({ ...state, selectedPid: place.key, selectedIndex: place.index, tableTop: place.top }),
  openingIndex: firstLeaking,
  // The order holds still for a moment, and the selection stops following the first leaking process.
  picked: (state, now) => ({ ...state, selectionPicked: true, heldOrder: processRows(state).map((row) => row.pid), orderHeldUntil: now + ORDER_HOLD_MS }),
  sortFields: (state) => screenColumns(state).flatMap((spec) => (spec.sort ? [spec.sort.field] : [])),
  columns(state, width) {
    const title = (spec: ColumnSpec) => spec.title + (spec.sort?.field === state.sort.field ? sortMarker(state.sort) : '');
    return clipColumns(placeColumns(screenColumns(state), width, title), width);
  },
  cellContext,
  rowStyle,
  emptyText: (state) => (!state.snapshot ? null : state.snapshot.processes.length === 0 ? 'no process holds inotify watches' : 'no process matches the filter'),
  detail: processDetail,
};
