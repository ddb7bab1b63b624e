// The screen's regions as lines of blessed-tagged text, from a view state and a size. Pure, so the
// table, meters and panes are tested without a terminal. Every line is cut to its width here;
// text from the node (commands, paths, pod names) goes through screenText (text.ts): `{red-fg}` in
// a command stays text, and controls show as `\x1b`, `\n`, never acted on or splitting a row.
import { grouped } from '../../common/format.js';
import type { ChangeEvent, PodDelta } from '../../model/history.js';
import { durationText } from '../../model/projection.js';
import { churnByPid, matchesFilter } from '../../model/query.js';
import type { PodRef, PodsStatus, ProcessRow, Snapshot, SyscallFailure, TargetRow, UserRow, WatchChurn } from '../../model/types.js';
import {
  clipColumns,
  columnSpec,
  HIDEABLE_COLUMNS,
  placeColumns,
  rowCells,
  rowStyle,
  titleCells,
  viewColumns,
  isShown,
  sortableColumns,
  type CellContext,
  type ChurnRates,
  type ColumnSpec,
  type PlacedColumn,
  targetColumns,
  targetStyle,
  type TargetColumn,
  type TargetContext,
} from '../columns.js';
import { recentFailures } from '../../trace/failures.js';
import { failureAlert, worstFailure } from '../failures.js';
import { fit, podLabel, signed, usage } from '../format.js';
import { screenText } from '../../common/text.js';
import { displayWidth, wrapColumns } from '../../common/width.js';
import { activeBindings, MOUSE_HELP } from './keys.js';
import { visiblePods } from './pods-view.js';
import { verdictLine } from './verdict.js';
import { Painter } from '../painter.js';
import { allNotes, columnChoice, processRows, screenColumns, treePrefix, selectedRow, targetRows, userChoices, type ViewState } from './state.js';

export const MIN_WIDTH = 80;
export const MIN_HEIGHT = 24;

// The styles and their painter are both screens' (views/painter.ts); re-exported for this screen's callers.
export { Painter };

const esc = screenText;

// ---- layout ----

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
  /** Whether the header ends with the alert of failed inotify calls. */
  alert: boolean;
  /** The header has a verdict line (something leaks), under the title. */
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
  /** Something leaks: a verdict line under the title. */
  verdict?: boolean;
  /** The snapshot has notes: a line for them under the totals. */
  notes?: boolean;
  /** Recent failed inotify calls: an alert line at the header's end (see failureAlertLine). */
  alert?: boolean;
  content?: PaneContent;
}

/** The layout's needs from a state: its verdict, notes and pane contents. */
export function layoutNeeds(state: ViewState): LayoutNeeds {
  const snapshot = state.snapshot;
  return {
    verdict: snapshot?.processes.some((row) => row.leaked > 0) ?? false,
    notes: allNotes(state).length > 0,
    alert: snapshotRecentFailures(snapshot).length > 0,
    content: state.view === 'pods' ? podContent(state) : { tableRows: processRows(state).length, detailRows: targetRows(state).length },
  };
}

function podContent(state: ViewState): PaneContent {
  const rows = visiblePods(state);
  const selected = rows.find((row) => row.pod.uid === state.selectedPod);
  return { tableRows: rows.length, detailRows: selected ? selected.watchers.length + selected.holders.length + selected.members.length : 0 };
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

// ---- header ----

/**
 * "every 2 s", or, when refreshes cost too much of that: "every 6 s (asked 2 s: a refresh takes
 * 480 ms)", or, where the refreshes between full scans read only the processes that changed:
 * "every 2s (all processes every 133.4s: a full scan takes 4000 ms)".
 */
function intervalText(state: ViewState): string {
  const pace = state.pace;
  const full = pace?.fullScan ? ` (all processes every ${seconds(pace.fullScan.everyMs)}: a full scan takes ${pace.fullScan.ms} ms)` : '';
  if (!pace || pace.usedMs <= state.intervalMs) return `every ${seconds(state.intervalMs)}${full}`;
  return `every ${seconds(pace.usedMs)} (asked ${seconds(state.intervalMs)}: a refresh takes ${pace.refreshMs} ms)${full}`;
}

export function headerLines(state: ViewState, l: Layout, painter: Painter): string[] {
  const width = l.width;
  const snapshot = state.snapshot;
  const left = l.sparkline.left - 1;
  if (!snapshot) return [painter.paint('title', esc(fit('inotop: first scan…', width)))];
  const interval = state.paused ? 'PAUSED' : intervalText(state);
  const replay = state.replay;
  // Most wanted first: narrow terminals cut the end.
  const title = [
    replay ? `REPLAY of ${replay.hostname} recorded ${replay.started.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : `inotop ${snapshot.hostname}`,
    clock(snapshot.time),
    replay ? `snapshot ${replay.index + 1}/${replay.count}${state.paused ? '  PAUSED' : replay.index + 1 === replay.count ? '  (end)' : ''}` : interval,
    podsText(snapshot.pods),
    `kernel ${snapshot.kernel}`,
    `scan ${snapshot.scanMs} ms`,
  ];
  const lines = [painter.paint('title', esc(fit(partsThatFit(title, width), width)))];
  const verdict = l.verdict ? verdictLine(snapshot, width) : null;
  if (l.verdict) lines.push(verdict === null ? ' '.repeat(width) : painter.paint('crit', esc(fit(verdict, width))));
  const users = snapshot.users.slice(0, l.userLines);
  for (let i = 0; i < l.userLines; i++) {
    const user = users[i];
    lines.push(user ? userMeters(user, snapshot, left, painter) : ' '.repeat(left));
  }
  while (lines.length < l.header.height - 1 - (l.notes ? 1 : 0) - (l.alert ? 1 : 0)) lines.push(' '.repeat(left));
  const { totals } = snapshot;
  const deltas = [...state.history.sinceLast.values()].reduce((sum, d) => sum + d, 0);
  const sinceStart = totals.watches - (state.history.totals[0] ?? totals.watches);
  const summary =
    `total ${grouped(totals.processes)} processes  ${grouped(totals.instances)} instances  ` +
    `${grouped(totals.watches)} watches  Δ ${signed(deltas)}  ΔSTART ${signed(sinceStart)}` +
    ((totals.fanotifyGroups ?? 0) > 0 ? `  ·  fanotify ${grouped(totals.fanotifyGroups!)} groups  ${grouped(totals.fanotifyMarks ?? 0)} marks` : '');
  lines.push(esc(fit(summary, left)));
  if (l.notes) lines.push(painter.paint('warn', esc(fit(notesLine(allNotes(state), width), width))));
  // Below the sparkline: the whole width.
  if (l.alert) lines.push(painter.paint('crit', esc(fit(failureAlertLine(snapshot) ?? '', width))));
  return lines;
}

/** Failed inotify calls of the last minutes, as of the snapshot's time. */
export function snapshotRecentFailures(snapshot: Snapshot | null): SyscallFailure[] {
  return snapshot ? recentFailures(snapshot.failures, Date.parse(snapshot.time)) : [];
}

/** "FAILED fluent-bit 4242: 17 × inotify_add_watch ENOSPC, last 3 s ago: uid 0 at …", null without recent failures. */
export function failureAlertLine(snapshot: Snapshot): string | null {
  const recent = snapshotRecentFailures(snapshot);
  const worst = worstFailure(recent);
  if (!worst) return null;
  const others = new Set(recent.map((f) => f.pid)).size - 1;
  return `FAILED ${failureAlert(worst, snapshot, Date.parse(snapshot.time))}${others > 0 ? `  (+${others} more process${others === 1 ? '' : 'es'})` : ''}`;
}

/** The title's parts, most wanted first, joined: a part that does not fit is left out whole, never cut. */
function partsThatFit(parts: string[], width: number): string {
  const separator = '  ·  ';
  let text = parts[0] ?? '';
  let droppedAny = false;
  for (const part of parts.slice(1)) {
    if (displayWidth(text + separator + part) <= width - 3) text += separator + part;
    else droppedAny = true;
  }
  return droppedAny && displayWidth(text + separator + '…') <= width ? text + separator + '…' : text;
}

/**
 * The notes whole, as many as fit, and how many more (`n` lists them all); one longer than the
 * line is cut at a word's end.
 */
export function notesLine(notes: readonly string[], width: number): string {
  const more = (n: number) => (n > 0 ? `  (+${n} more: n lists them)` : '  (n: all notes)');
  let text = 'note: ';
  let shown = 0;
  for (const note of notes) {
    const next = `${text}${shown > 0 ? '; ' : ''}${note}`;
    if (displayWidth(next + more(notes.length - shown - 1)) > width) break;
    text = next;
    shown++;
  }
  if (shown === notes.length) return text.replace(/^note: /, notes.length > 1 ? 'notes: ' : 'note: ');
  if (shown > 0) return text + more(notes.length - shown);
  const tail = more(notes.length - 1);
  const room = width - displayWidth('note: ' + tail) - 1;
  const words = notes[0]!.split(' ');
  let cut = '';
  for (const word of words) {
    if (displayWidth(cut ? `${cut} ${word}` : word) > room) break;
    cut = cut ? `${cut} ${word}` : word;
  }
  return `note: ${cut}…${tail}`;
}

/**
 * When a user reaches a limit at its pace: "full in ~2 h 10 min at +47/min" (watches first, the
 * sooner of the two), or '' when neither grows.
 */
export function exhaustionText(user: UserRow): string {
  const trend = user.trend;
  if (!trend) return '';
  const candidates = [
    { seconds: trend.watchesFullInSeconds, rate: trend.watchesPerMinute, what: '' },
    { seconds: trend.instancesFullInSeconds, rate: trend.instancesPerMinute, what: ' instances' },
  ].filter((c): c is { seconds: number; rate: number | null; what: string } => c.seconds !== null);
  const soonest = candidates.sort((a, b) => a.seconds - b.seconds)[0];
  if (!soonest) return '';
  if (soonest.seconds === 0) return `FULL${soonest.what}`;
  const rate = soonest.rate === null ? '' : ` at ${signed(Math.round(soonest.rate))}/min`;
  return `full${soonest.what} in ${durationText(soonest.seconds)}${rate}`;
}

function userMeters(user: UserRow, snapshot: Snapshot, lineWidth: number, painter: Painter): string {
  const name = user.userns ? `${user.name}@${user.userns}` : user.name;
  const nameWidth = 16;
  const exhaustion = exhaustionText(user);
  // The projection after the meters, when there is room for meters still.
  const suffix = exhaustion && lineWidth - exhaustion.length - 2 >= 50 ? ` ${exhaustion} ` : '';
  const width = lineWidth - suffix.length;
  const meterSpace = width - nameWidth - 1;
  const { limits } = snapshot;
  // fanotify's meters (groups, marks) only where some user holds a group: most nodes have none.
  const fanotify = (snapshot.totals.fanotifyGroups ?? 0) > 0;
  const inotifySpace = fanotify ? Math.ceil(meterSpace * 0.55) : meterSpace;
  const watchesWidth = Math.ceil(inotifySpace * 0.6);
  const inotify =
    painter.paint('title', esc(fit(name, nameWidth))) +
    ' ' +
    meter('watches', user.watches, limits.maxUserWatches, watchesWidth - 1, painter) +
    ' ' +
    meter('inst', user.instances, limits.maxUserInstances, inotifySpace - watchesWidth - (fanotify ? 1 : 0), painter);
  const fanotifySpace = meterSpace - inotifySpace;
  const groupsWidth = Math.floor(fanotifySpace * 0.45);
  const fanotifyMeters = fanotify
    ? ' ' +
      meter('fanotify', user.fanotifyGroups ?? 0, limits.maxUserFanotifyGroups ?? null, groupsWidth - 1, painter) +
      ' ' +
      meter('marks', user.fanotifyMarks ?? 0, limits.maxUserFanotifyMarks ?? null, fanotifySpace - groupsWidth, painter)
    : '';
  return inotify + fanotifyMeters + (suffix ? painter.paint('warn', esc(suffix)) : '');
}

/** htop-style `label[|||||     used/limit pct]`: yellow above 75%, red above 90%. */
export function meter(label: string, used: number, limit: number | null, width: number, painter: Painter): string {
  const inner = width - label.length - 2;
  const text = usage(used, limit);
  if (limit === null || limit <= 0 || inner < text.length) return esc(fit(`${label} ${text}`, width));
  const fraction = Math.min(1, used / limit);
  const bars = Math.round(fraction * inner);
  const style = fraction > 0.9 ? 'crit' : fraction > 0.75 ? 'warn' : 'ok';
  const cells = [...('|'.repeat(bars) + ' '.repeat(inner - bars))];
  cells.splice(inner - text.length, text.length, ...text);
  const filled = cells.slice(0, bars).join('');
  const rest = cells.slice(bars).join('');
  return `${esc(label)}[${painter.paint(style, esc(filled))}${esc(rest)}]`;
}

export function sparklineTitle(state: ViewState): string {
  const totals = state.history.totals;
  if (totals.length === 0) return 'watches';
  const low = grouped(Math.min(...totals));
  const high = grouped(Math.max(...totals));
  return low === high ? `watches ${low}` : `watches ${low}–${high}`;
}

function podsText(pods: PodsStatus): string {
  const live = pods.live !== null ? ` ${pods.live} live` : '';
  const problems = [pods.stale ? 'stale' : '', pods.error ?? ''].filter(Boolean).join(': ');
  return `pods: ${pods.source}${live}${problems ? ` (${problems})` : ''}`;
}

function clock(time: string): string {
  return new Date(time).toTimeString().slice(0, 8);
}

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

// ---- process table ----

/** The table's shown columns (columns.ts) placed across `width`, cut at its edge; the sort column's title is marked. */
export function tableColumns(state: ViewState, width: number): PlacedColumn[] {
  const title = (spec: ColumnSpec) => spec.title + (spec.sort?.field === state.sort.field ? (state.sort.descending ? '▼' : '▲') : '');
  return clipColumns(placeColumns(screenColumns(state), width, title), width);
}

export function tableLines(state: ViewState, width: number, height: number, painter: Painter): string[] {
  const columns = tableColumns(state, width);
  const lines = [painter.paint('columns', esc(titleCells(columns).join(' ')))];
  const rows = processRows(state);
  if (!state.snapshot) return lines;
  if (rows.length === 0) {
    lines.push(esc(fit(state.snapshot.processes.length === 0 ? '  no process holds inotify watches' : '  no process matches the filter', width)));
    return lines;
  }
  // Cells only for the rows that show: a node has thousands.
  const visible = rows.slice(state.tableTop, state.tableTop + height - 1);
  const context = cellContext(state);
  for (const row of visible) lines.push(rowLine(row, columns, state, painter, context));
  return lines;
}

/** What the screen's cells need: grouped counts, blank zeros, the history's deltas, the tracer's churn. */
export function cellContext(state: ViewState): CellContext {
  const failing = new Set(snapshotRecentFailures(state.snapshot).map((f) => f.pid));
  const churn = state.snapshot ? churnByPid(state.snapshot) : new Map<number, WatchChurn>();
  const traced = state.snapshot?.trace?.state === 'on';
  return {
    count: grouped,
    blankZeros: true,
    sinceLast: (pid) => state.history.sinceLast.get(pid) ?? 0,
    sinceStart: (pid) => state.history.sinceStart.get(pid) ?? 0,
    churn: (pid) => (traced ? (churn.get(pid) ?? NO_CHURN) : null),
    prefix: (pid) => treePrefix(state, pid),
    failed: (pid) => failing.has(pid),
  };
}

const NO_CHURN: ChurnRates = { addsPerSecond: 0, removesPerSecond: 0 };

function rowLine(row: ProcessRow, columns: PlacedColumn[], state: ViewState, painter: Painter, context: CellContext): string {
  const cells = rowCells(row, columns, context).map(esc);
  if (row.pid === state.selectedPid) return painter.paint(state.focus === 'table' ? 'selected' : 'selectedDim', cells.join(' '));
  const style = rowStyle(row, context);
  if (style) return painter.paint(style, cells.join(' '));
  return cells
    .map((cell, i) => {
      const cellStyle = columns[i]!.spec.style?.(row, context) ?? null;
      return cellStyle ? painter.paint(cellStyle, cell) : cell;
    })
    .join(' ');
}

// ---- detail pane ----

export function detailLines(state: ViewState, width: number, height: number, painter: Painter): string[] {
  const row = selectedRow(state);
  const focused = state.focus === 'detail';
  const targets = targetRows(state);
  const narrowed = [state.filter.leakedOnly ? 'leaked only' : '', state.targetFilterText ? `/${state.targetFilterText}/` : ''].filter(Boolean);
  const filter = narrowed.length > 0 ? `  filter ${narrowed.join(', ')}: ${targets.length} of ${row?.targets.length ?? 0}` : '';
  const failed = row ? snapshotRecentFailures(state.snapshot).filter((f) => f.pid === row.pid) : [];
  const failedText = failed.map((f) => `  ·  FAILED ${grouped(f.count)} × ${f.syscall} ${f.errno}`).join('');
  const churn = row && state.snapshot ? churnByPid(state.snapshot).get(row.pid) : undefined;
  const churnText = churn ? `  ·  ADD/s ${churn.addsPerSecond} RM/s ${churn.removesPerSecond}` : '';
  const heading = row
    ? `pid ${row.pid} ${row.comm}: ${plainPlural(row.instances, 'instance', 'instances')}, ${plainPlural(row.watches, 'watch', 'watches')}` +
      `${row.fanotifyGroups ? `, ${plainPlural(row.fanotifyGroups, 'fanotify group', 'fanotify groups')}, ${plainPlural(row.fanotifyMarks ?? 0, 'mark', 'marks')}` : ''}` +
      `${row.leaked ? `, ${grouped(row.leaked)} leaked` : ''}${row.pod ? `  ·  pod ${podLabel(row.pod)}` : ''}${churnText}${failedText}${filter}`
    : 'no process selected';
  const hint = focused ? '  (↑↓ move, Enter inspect, / filter, Esc back)' : '  (Enter: focus)';
  const lines = [rule(heading + hint, width, focused, painter)];
  if (!row) return lines;
  const columns = detailColumns(targets, width);
  lines.push(painter.paint('columns', esc(fit(titleCells(columns).join(' '), width))));
  targets.slice(state.detailTop, state.detailTop + height - 2).forEach((target, i) => {
    const line = esc(rowCells(target, columns, ON_SCREEN).join(' '));
    // The cursor, where Enter inspects.
    const style = focused && state.detailTop + i === state.detailCursor ? 'selected' : targetStyle(target, ON_SCREEN);
    lines.push(style ? painter.paint(style, line) : line);
  });
  return lines;
}

const ON_SCREEN: TargetContext = { markRepeats: true, holdersInPath: false };

/** Where DEV and FSTYPE show in the pane too (inspect always shows them). */
const WIDE_DETAIL = 160;

/**
 * The detail pane's columns (columns.ts's target table): STATUS, the holder and POD as wide as
 * their texts (they are what one acts on), PATH the rest, losing its middle. DEV and FSTYPE only
 * where there is room to spare.
 */
export function detailColumns(targets: readonly TargetRow[], width: number): PlacedColumn<TargetColumn>[] {
  const specs = targetColumns(
    width >= WIDE_DETAIL ? ['watches', 'dev', 'fstype', 'status', 'path', 'holders', 'pod'] : ['watches', 'status', 'path', 'holders', 'pod'],
  );
  const sized = specs.map((spec) => {
    if (spec.id !== 'holders' && spec.id !== 'pod') return spec;
    const cap = spec.id === 'holders' ? spec.width : Math.max(20, Math.floor(width / 3));
    const widest = Math.max(displayWidth(spec.title), ...targets.map((t) => displayWidth(spec.cell(t, ON_SCREEN))));
    return { ...spec, width: Math.min(cap, widest) };
  });
  return placeColumns(sized, width);
}

function plainPlural(n: number, one: string, many: string): string {
  return `${grouped(n)} ${n === 1 ? one : many}`;
}

// ---- change log ----

export function logLines(state: ViewState, width: number, height: number, painter: Painter): string[] {
  const events = loggedEvents(state);
  const lines = [rule(`changes${events.length ? ` (${events.length})` : ''}`, width, false, painter)];
  const shown = events.slice(-(height - 1));
  if (shown.length === 0) lines.push(esc(fit(state.snapshot ? '  no changes yet' : '', width)));
  for (const event of shown) {
    const text = esc(fit(`${clock(event.time)}  ${eventText(event)}`, width));
    lines.push(isLeakEvent(event) ? painter.paint('leak', text) : text);
  }
  return lines;
}

/** Events of the processes the filter shows (leaked or not), and every pod event: pods are the node's. */
function loggedEvents(state: ViewState): readonly ChangeEvent[] {
  const filter = { ...state.filter, leakedOnly: false };
  if (!filter.pids && filter.user === null && !filter.command && !filter.text) return state.history.events;
  return state.history.events.filter((event) => !('process' in event) || matchesFilter({ ...event.process, leaked: 0 }, filter));
}

function isLeakEvent(event: ChangeEvent): boolean {
  return event.kind === 'pod-gone' || event.kind === 'process-stranded';
}

export function eventText(event: ChangeEvent): string {
  switch (event.kind) {
    case 'process-started':
      return `${event.process.comm} ${event.process.pid} started: ${plural(event.watches, 'watch')}${podsPart(event.pods)}`;
    case 'process-exited':
      return `${event.process.comm} ${event.process.pid} exited: ${plural(event.watches, 'watch')} freed`;
    case 'process-changed':
      return `${event.process.comm} ${event.process.pid} ${signed(event.delta)}${podsPart(event.pods)}`;
    case 'process-stranded':
      return `${event.process.comm} ${event.process.pid}: ${signed(event.delta)} watches on unmounted or deleted targets (${event.stranded} in all)`;
    case 'pod-gone': {
      const name = podName(event);
      const [only, ...others] = event.holders;
      if (only && others.length === 0) return `pod ${name} gone: ${only.comm} ${only.pid} still holds ${plural(only.watches, 'watch')}`;
      return `pod ${name} gone: still held by ${event.holders.map((h) => `${h.comm} ${h.pid} (${h.watches})`).join(', ')}`;
    }
    case 'pod-released':
      return `pod ${podName(event)} gone: all its watches released`;
  }
}

/** The pod's name without the "(gone)" that podLabel adds: the event says it. */
function podName(event: { pod: PodRef }): string {
  return podLabel({ ...event.pod, state: 'live' });
}

function podsPart(pods: PodDelta[]): string {
  if (pods.length === 0) return '';
  if (pods.length === 1) return `: pod ${podLabel(pods[0]!.pod)}`;
  const shown = pods.slice(0, 3).map((p) => `pod ${podLabel(p.pod)} ${signed(p.delta)}`);
  return `: ${shown.join(', ')}${pods.length > 3 ? ', …' : ''}`;
}

function plural(n: number, word: string): string {
  return `${grouped(n)} ${word}${n === 1 ? '' : 'es'}`;
}

// ---- footer and overlays ----

export function footerLine(state: ViewState, width: number, painter: Painter): string {
  if (state.prompt) {
    const where = state.prompt.pane === 'detail' ? 'paths and pods' : 'processes';
    const text = ` Filter ${where}: ${state.prompt.text}_`;
    const hint = '   Enter keep · Esc clear';
    const message = state.message ? `   ${state.message}` : '';
    return painter.paint('footerKey', esc(fit(text + hint, width - message.length))) + painter.paint('error', esc(message));
  }
  const entries = activeBindings(state.replay !== null).flatMap((binding) => {
    if (!binding.footer) return [];
    const label = binding.command === 'pause' && state.paused ? 'Resume' : binding.footer.label;
    return [{ key: binding.footer.key, label, quit: binding.command === 'quit' }];
  });
  const size = (entry: { key: string; label: string }) => entry.key.length + entry.label.length + 1;
  const message = state.message ? fit(` ${state.message} `, Math.min(width, state.message.length + 2)) : '';
  // Quit always shows; the others as they fit, most important first.
  let room = width - (message ? message.length + 1 : 0) - entries.filter((e) => e.quit).reduce((sum, e) => sum + size(e), 0);
  const shown = entries.filter((entry) => {
    if (entry.quit) return true;
    if (size(entry) > room) return false;
    room -= size(entry);
    return true;
  });
  const used = width - room;
  const line = shown.map((e) => painter.paint('footerKey', esc(e.key)) + painter.paint('footerLabel', esc(e.label)) + ' ').join('');
  return (message ? painter.paint('error', esc(message)) + ' ' : '') + line + ' '.repeat(Math.max(0, width - used));
}

export function helpLines(replaying: boolean): string[] {
  const lines = ['{bold}keys{/bold}'];
  for (const binding of activeBindings(replaying)) lines.push(`  {bold}${esc(fit(binding.shown, 10))}{/bold} ${esc(binding.help)}`);
  lines.push('', '{bold}mouse{/bold}', ...MOUSE_HELP.map((text) => `  ${esc(text)}`));
  lines.push(
    '',
    '{bold}columns{/bold} (F2 shows and hides them)',
    ...viewColumns('screen').map((spec) => `  ${esc(fit(spec.title, 10))} ${esc(spec.help)}`),
    '  FAILED     the process had inotify calls fail for want of a limit in the last 5 minutes',
    '  ×N         detail pane: an inode this process watches N times',
    '  HELD BY    detail pane: the process whose mount namespace keeps the target alive (+N: more)',
    '  / in the detail pane filters its paths and pods',
    '',
    '{bold}a leak{/bold}',
    '  LEAK …     the header names the leaking process, the gone pods and who keeps them',
    '  Enter      on a target in the detail pane: what keeps it and the safe next step',
  );
  return lines;
}

/** The notes overlay: every note of the last refresh, whole, wrapped to `width`. */
export function notesLines(state: ViewState, width: number): string[] {
  const notes = allNotes(state);
  if (notes.length === 0) return ['no notes'];
  return notes.flatMap((note) => wrapColumns(`• ${note}`, width, '  ').map(esc));
}

export function menuLines(state: ViewState, painter: Painter): { title: string; lines: string[] } {
  const overlay = state.overlay;
  if (overlay?.kind === 'sort') {
    return {
      title: 'Sort by',
      lines: sortableColumns('screen').map((spec, i) => {
        const current = spec.sort!.field === state.sort.field ? (state.sort.descending ? '▼' : '▲') : ' ';
        const text = esc(`${current} ${fit(spec.title, 8)} ${spec.help}`);
        return i === overlay.index ? painter.paint('selected', text) : text;
      }),
    };
  }
  if (overlay?.kind === 'columns') {
    const choice = columnChoice(state);
    return {
      title: 'Columns (Enter shows or hides)',
      lines: HIDEABLE_COLUMNS.map((id, i) => {
        const spec = columnSpec(id);
        const text = esc(`[${isShown(spec, 'screen', choice) ? 'x' : ' '}] ${fit(spec.title, 8)} ${spec.help}`);
        return i === overlay.index ? painter.paint('selected', text) : text;
      }),
    };
  }
  if (overlay?.kind === 'user') {
    const users = state.snapshot?.users ?? [];
    return {
      title: 'Show user',
      lines: userChoices(state).map((name, i) => {
        const user = users.find((u) => u.name === name);
        const current = name === state.filter.user ? '•' : ' ';
        const label = name === null ? 'all users' : `${fit(name, 16)} ${user ? `${grouped(user.watches)} watches` : ''}`;
        const text = esc(`${current} ${label}`);
        return i === overlay.index ? painter.paint('selected', text) : text;
      }),
    };
  }
  return { title: '', lines: [] };
}

function rule(text: string, width: number, focused: boolean, painter: Painter): string {
  const title = `── ${fit(text, width - 4).trimEnd()} `;
  const line = title + '─'.repeat(Math.max(0, width - [...title].length));
  return painter.paint(focused ? 'ruleFocused' : 'rule', esc(line));
}

export function tooSmallLines(width: number, height: number): string[] {
  return [`terminal too small: ${width}×${height}`, `inotop needs at least ${MIN_WIDTH}×${MIN_HEIGHT}`, '', 'make the window bigger, or press q to quit'];
}
