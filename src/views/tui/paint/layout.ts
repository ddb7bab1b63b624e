// Where each region of the screen goes: the header grows with its verdict, notes and alert; the
// table and the detail pane share what is left by what they would show; the change log and the
// footer below. Pure: the blessed layer places its boxes by it.
import { stuckWaiters } from '../../../model/waits.js';
import { wrapColumns } from '../../../common/width.js';
import { snapshotRecentFailures } from '../process-rows.js';
import { allNotes } from '../state.js';
import type { ViewState } from '../view-state.js';
import { hasVerdict } from '../verdict.js';
import { viewOf } from '../views.js';

export const MIN_WIDTH = 80;
export const MIN_HEIGHT = 24;

export interface Rect {
  top: number;
  height: number;
}

export interface Layout {
  width: number;
  header: Rect;
  /** Right part of the header where the sparkline goes. */
  sparkline: { left: number; width: number; top: number; height: number };
  table: Rect;
  detail: Rect;
  log: Rect;
  footer: Rect;
  /** How many per-user meter lines the header has. */
  userLines: number;
  /** Whether the header ends with an alert: processes waiting on a permission answer, else failed inotify calls. */
  alert: boolean;
  /** The header has a verdict line (something blocks, leaks, or a queue falls behind), under the title. */
  verdict: boolean;
  /** The header's last line lists the notes. */
  notes: boolean;
}

export function tooSmall(width: number, height: number): boolean {
  return width < MIN_WIDTH || height < MIN_HEIGHT;
}

/** What the panes would show: the table and the detail pane share their space by it. */
export interface PaneContent {
  tableRows: number;
  detailRows: number;
}

/** The smallest a pane gets: its titles and two rows. */
const MIN_PANE = 4;

/** What the header holds besides its fixed lines, and what the panes would show. */
export interface LayoutNeeds {
  /** Something blocks, leaks, or a queue falls behind: a verdict line under the title. */
  verdict?: boolean;
  /** The snapshot has notes: a line for them under the totals. */
  notes?: boolean;
  /** Lasting permission waits or recent failed inotify calls: an alert line at the header's end. */
  alert?: boolean;
  content?: PaneContent;
}

/** The layout's needs from a state: its verdict, notes and the view's pane contents. */
/** How many rows a detail pane's table has, held or not. */
function detailTotal(table: { rows: readonly unknown[]; total?: number } | null): number {
  return table ? (table.total ?? table.rows.length) : 0;
}

export function layoutNeeds(state: ViewState): LayoutNeeds {
  const snapshot = state.snapshot;
  const view = viewOf(state);
  return {
    verdict: snapshot ? hasVerdict(snapshot) : false,
    notes: allNotes(state).length > 0,
    alert: snapshotRecentFailures(snapshot).length > 0 || stuckWaiters(snapshot?.permissionWaits).length > 0,
    content: { tableRows: view.rows(state).length, detailRows: detailTotal(view.detail(state).table) },
  };
}

export function layout(width: number, height: number, users: number, needs: LayoutNeeds = {}): Layout {
  const { verdict = false, notes = false, alert = false, content = null } = needs;
  const userLines = Math.min(Math.max(users, 1), height >= 40 ? 4 : 2);
  const verdictLines = verdict ? 1 : 0;
  const headerHeight = Math.max(4, 2 + userLines) + verdictLines + (notes ? 1 : 0) + (alert ? 1 : 0);
  const available = height - headerHeight - 1;
  const logHeight = height >= 40 ? 7 : 4;
  const shared = available - logHeight;
  let detailHeight = Math.max(5, Math.round(shared * 0.4));
  if (content) {
    // A pane with fewer rows than its share gives the rest to the other one.
    const tableNeeds = Math.max(MIN_PANE, content.tableRows + 1);
    const detailNeeds = Math.max(MIN_PANE, content.detailRows + 2);
    if (tableNeeds < shared - detailHeight) detailHeight = Math.min(shared - tableNeeds, Math.max(detailHeight, detailNeeds));
    else if (detailNeeds < detailHeight) detailHeight = detailNeeds;
  }
  const tableHeight = shared - detailHeight;
  const sparkWidth = Math.min(48, Math.floor(width / 4));
  return {
    width,
    header: { top: 0, height: headerHeight },
    sparkline: { left: width - sparkWidth, width: sparkWidth, top: 1 + verdictLines, height: 3 },
    table: { top: headerHeight, height: tableHeight },
    detail: { top: headerHeight + tableHeight, height: detailHeight },
    log: { top: headerHeight + tableHeight + detailHeight, height: logHeight },
    footer: { top: height - 1, height: 1 },
    userLines,
    alert,
    verdict,
    notes,
  };
}

/** Table rows that fit under the column titles; detail rows under its rule and titles. */
export function paneRows(l: Layout): { tableRows: number; detailRows: number } {
  return { tableRows: l.table.height - 1, detailRows: l.detail.height - 2 };
}

/** What a terminal below MIN_WIDTH×MIN_HEIGHT shows, wrapped at words to its width: nothing of it is cut. */
export function tooSmallLines(width: number, height: number): string[] {
  const text = [`terminal too small: ${width}×${height}`, `inotop needs at least ${MIN_WIDTH}×${MIN_HEIGHT}`, '', 'make the window bigger, or press q to quit'];
  return text.flatMap((line) => (line === '' ? [''] : wrapColumns(line, Math.max(1, width))));
}
