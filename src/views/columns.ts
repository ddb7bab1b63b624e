// The tables' columns, once, as htop's Process_fields[]: the process table's drive the screen's
// table, its column chooser (F2), its sort menu and help, `-b`'s table, `-s help` and `-o help`;
// the target table's drive the detail pane and `-b --targets`. Pure: a column is its title, width,
// alignment, cell and style; the views pick, place and paint them, with the one placing code here.
import { churnByPid, commandOf, type SortField } from '../model/query.js';
import type { ProcessRow, Snapshot, TargetRow } from '../model/types.js';
import { fit, holdersText, signed, statusText } from './format.js';
import { podLabel, targetPathText } from '../model/target-text.js';
import { permissionRoles, processQueueState } from './traffic.js';
import { visible } from '../common/text.js';
import { elideMiddle } from '../common/width.js';

/** What every table's column is: enough to place it and fill its cells. */
export interface TableColumn<Row, Context> {
  id: string;
  title: string;
  /** Terminal columns; a flexible column takes the rest of the line, and at least this. */
  width: number;
  flexible: boolean;
  align: 'left' | 'right';
  /** A path loses its middle when cut (its start and its file's name tell one from another); the rest their end. */
  elide?: 'middle';
  /** The cell's text; placing cuts it to the width in display columns. */
  cell(row: Row, context: Context): string;
  /** The cell's own color, for rows that have none of their own (leaked, failed, selected). */
  style?(row: Row, context: Context): CellStyle | null;
}

/** Sortable columns are named by their sort field; the others by what they show. */
export type ColumnId = SortField | 'fanotify' | 'pod';

/**
 * When a column shows by default in a view: always; where some process on the node holds fanotify
 * groups (most nodes have none, as the meters do); while some event queue is not draining or may
 * be full; or only when asked for (the chooser, `-o`).
 */
export type DefaultShown = 'always' | 'fanotify' | 'queues' | 'asked';

/** Colors of cells and rows, by what they mean; each view paints them its way. */
export type CellStyle = 'grew' | 'shrank' | 'leak' | 'warn' | 'crit';

/** Watches added and removed per second over the last refresh. */
export interface ChurnRates {
  addsPerSecond: number;
  removesPerSecond: number;
}

/** What cells need besides their row: the view's number style and the per-pid measures. */
export interface CellContext {
  /** A count as the view writes it: "1,234" on the screen, "1234" for scripts. */
  count(n: number): string;
  /** The screen leaves rare counts (leaked, changes) blank at 0 so the others stand out; scripts get 0. */
  blankZeros: boolean;
  sinceLast(pid: number): number;
  sinceStart(pid: number): number;
  /** The process's churn (zero when it made no call); null when not traced, so it cannot be told. */
  churn(pid: number): ChurnRates | null;
  /** The tree view's branch before the command. */
  prefix(pid: number): string;
  /** Inotify calls of the process failed lately: its command says FAILED. */
  failed(pid: number): boolean;
  /**
   * Its part in fanotify permission waits that lasted: others wait for its answers (BLOCKING), or
   * it waits for one (WAITING). Missing: none.
   */
  permission?(pid: number): 'blocking' | 'waiting' | null;
}

/**
 * The cells of one snapshot as a printed format writes them, for scripts: plain counts, zeros
 * written, no deltas (one snapshot has none), churn where the tracer counted it.
 */
export function printedCellContext(snapshot: Snapshot): CellContext {
  const churn = churnByPid(snapshot);
  const traced = snapshot.trace?.state === 'on';
  return {
    count: String,
    blankZeros: false,
    sinceLast: () => 0,
    sinceStart: () => 0,
    churn: (pid) => (traced ? (churn.get(pid) ?? NO_CHURN) : null),
    prefix: () => '',
    failed: () => false,
    permission: permissionRoles(snapshot.permissionWaits),
  };
}

const NO_CHURN: ChurnRates = { addsPerSecond: 0, removesPerSecond: 0 };

/** A column of the process table. */
export interface ColumnSpec extends TableColumn<ProcessRow, CellContext> {
  id: ColumnId;
  /** The field this column sorts by (its id) and that field's natural direction; null: not sortable. */
  sort: { field: SortField; descending: boolean } | null;
  /** The chooser can hide it; PID and COMMAND are what a row is, and always show. */
  hideable: boolean;
  /** Where the screen and `-b` show it by default; null: that view does not offer it. */
  screen: DefaultShown | null;
  batch: DefaultShown | null;
  help: string;
}

const rare = (n: number, context: CellContext, text = context.count(n)): string => (n === 0 && context.blankZeros ? '' : text);
const trend = (n: number): CellStyle | null => (n > 0 ? 'grew' : n < 0 ? 'shrank' : null);

function rate(which: keyof ChurnRates): (row: ProcessRow, context: CellContext) => string {
  return (row, context) => {
    const churn = context.churn(row.pid);
    return churn === null ? '-' : rare(churn[which], context);
  };
}

/** In table order: every view keeps this order (`-o` aside). */
export const COLUMNS: readonly ColumnSpec[] = [
  {
    id: 'pid',
    title: 'PID',
    // Up to pid_max (4194304), and a space before: -b's rows start so.
    width: 8,
    flexible: false,
    align: 'right',
    cell: (row) => String(row.pid),
    sort: { field: 'pid', descending: false },
    hideable: false,
    screen: 'always',
    batch: 'always',
    help: 'process id',
  },
  {
    id: 'user',
    title: 'USER',
    width: 9,
    flexible: false,
    align: 'left',
    cell: (row) => row.user,
    sort: { field: 'user', descending: false },
    hideable: true,
    screen: 'always',
    batch: 'always',
    help: 'effective user',
  },
  {
    id: 'instances',
    title: 'INST',
    width: 5,
    flexible: false,
    align: 'right',
    cell: (row, context) => context.count(row.instances),
    sort: { field: 'instances', descending: true },
    hideable: true,
    screen: 'always',
    batch: 'always',
    help: 'inotify instances',
  },
  {
    id: 'watches',
    title: 'WATCHES',
    width: 8,
    flexible: false,
    align: 'right',
    cell: (row, context) => context.count(row.watches),
    sort: { field: 'watches', descending: true },
    hideable: true,
    screen: 'always',
    batch: 'always',
    help: 'inotify watches',
  },
  {
    id: 'fanotify',
    title: 'FANOTIFY',
    width: 9,
    flexible: false,
    align: 'right',
    cell: (row, context) => `${context.count(row.fanotifyGroups)}/${context.count(row.fanotifyMarks)}`,
    sort: null,
    hideable: true,
    screen: null,
    batch: 'fanotify',
    help: 'fanotify groups/marks',
  },
  {
    id: 'fanotifyGroups',
    title: 'FAN-G',
    width: 6,
    flexible: false,
    align: 'right',
    cell: (row, context) => context.count(row.fanotifyGroups),
    sort: { field: 'fanotifyGroups', descending: true },
    hideable: true,
    screen: 'fanotify',
    batch: 'asked',
    help: 'fanotify groups',
  },
  {
    id: 'fanotifyMarks',
    title: 'FAN-M',
    width: 8,
    flexible: false,
    align: 'right',
    cell: (row, context) => context.count(row.fanotifyMarks),
    sort: { field: 'fanotifyMarks', descending: true },
    hideable: true,
    screen: 'fanotify',
    batch: 'asked',
    help: 'fanotify marks of its groups',
  },
  {
    id: 'delta',
    title: 'Δ',
    width: 6,
    flexible: false,
    align: 'right',
    cell: (row, context) => rare(context.sinceLast(row.pid), context, signed(context.sinceLast(row.pid))),
    style: (row, context) => trend(context.sinceLast(row.pid)),
    sort: { field: 'delta', descending: true },
    hideable: true,
    screen: 'always',
    batch: null,
    help: 'watches gained or lost since the last refresh',
  },
  {
    id: 'deltaStart',
    title: 'ΔSTART',
    width: 7,
    flexible: false,
    align: 'right',
    cell: (row, context) => rare(context.sinceStart(row.pid), context, signed(context.sinceStart(row.pid))),
    style: (row, context) => trend(context.sinceStart(row.pid)),
    sort: { field: 'deltaStart', descending: true },
    hideable: true,
    screen: 'always',
    batch: null,
    help: 'watches gained or lost since inotop started',
  },
  {
    id: 'addsPerSecond',
    title: 'ADD/s',
    width: 7,
    flexible: false,
    align: 'right',
    cell: rate('addsPerSecond'),
    // Adding faster than removing: a leak in progress.
    style: (row, context) => {
      const churn = context.churn(row.pid);
      return churn && churn.addsPerSecond > churn.removesPerSecond ? 'grew' : null;
    },
    sort: { field: 'addsPerSecond', descending: true },
    hideable: true,
    screen: 'asked',
    batch: 'asked',
    help: 'inotify_add_watch calls per second, last refresh (traced; - when not)',
  },
  {
    id: 'removesPerSecond',
    title: 'RM/s',
    width: 7,
    flexible: false,
    align: 'right',
    cell: rate('removesPerSecond'),
    sort: { field: 'removesPerSecond', descending: true },
    hideable: true,
    screen: 'asked',
    batch: 'asked',
    help: 'inotify_rm_watch calls per second, last refresh (traced; - when not)',
  },
  {
    id: 'leaked',
    title: 'LEAKED',
    width: 7,
    flexible: false,
    align: 'right',
    cell: (row, context) => rare(row.leaked, context),
    sort: { field: 'leaked', descending: true },
    hideable: true,
    screen: 'always',
    batch: 'always',
    help: 'watches on gone pods, unmounted or deleted targets (red)',
  },
  {
    id: 'queuedBytes',
    title: 'QUEUE',
    width: 13,
    flexible: false,
    align: 'right',
    cell: (row, context) => queueCell(row, context),
    style: (row) => {
      const state = processQueueState(row);
      return state === 'may be full' ? 'crit' : state === 'not draining' ? 'warn' : null;
    },
    sort: { field: 'queuedBytes', descending: true },
    hideable: true,
    screen: 'queues',
    batch: 'queues',
    help: 'bytes queued unread on its instances; stuck: not draining over 3 refreshes; full?: may be full, events lost',
  },
  {
    id: 'pod',
    title: 'POD',
    width: 28,
    flexible: false,
    align: 'left',
    cell: (row) => podLabel(row.pod) || '-',
    sort: null,
    hideable: true,
    screen: 'asked',
    batch: 'always',
    help: "the process's own pod",
  },
  {
    id: 'command',
    title: 'COMMAND',
    width: 10,
    flexible: true,
    align: 'left',
    cell: (row, context) => context.prefix(row.pid) + commandMarker(row.pid, context) + commandOf(row),
    sort: { field: 'command', descending: false },
    hideable: false,
    screen: 'always',
    batch: 'always',
    help: 'command line ([comm] when it has none)',
  },
];

/** What the command cell says first: BLOCKING or WAITING (fanotify permission answers), FAILED (its calls failed). */
function commandMarker(pid: number, context: CellContext): string {
  const permission = context.permission?.(pid) ?? null;
  return (permission ? `${permission.toUpperCase()} ` : '') + (context.failed(pid) ? 'FAILED ' : '');
}

/** "3.1K stuck", "256K full?", "120" (bytes), blank when empty; "?" when not readable, "-" in a recording made before queues. */
function queueCell(row: ProcessRow, context: CellContext): string {
  const bytes = row.queuedBytes;
  if (bytes === undefined) return '-';
  if (bytes === null) return '?';
  const state = processQueueState(row);
  const tag = state === 'may be full' ? ' full?' : state === 'not draining' ? ' stuck' : '';
  return rare(bytes, context, `${context.blankZeros ? shortBytes(bytes) : String(bytes)}${tag}`);
}

/** Bytes in at most five characters: 999, 9.9K, 999K, 9.9M. */
function shortBytes(bytes: number): string {
  if (bytes < 1000) return String(bytes);
  const [value, unit] = bytes < 1000 * 1024 ? [bytes / 1024, 'K'] : [bytes / 1024 / 1024, 'M'];
  return `${value < 9.95 ? value.toFixed(1) : Math.round(value)}${unit}`;
}

export type View = 'screen' | 'batch';

export function columnSpec(id: ColumnId): ColumnSpec {
  return COLUMNS.find((spec) => spec.id === id)!;
}

/** The columns a view offers, in table order. */
export function viewColumns(view: View): ColumnSpec[] {
  return COLUMNS.filter((spec) => spec[view] !== null);
}

/** The columns of a view one can sort by, in table order: the sort menu's. */
export function sortableColumns(view: View): ColumnSpec[] {
  return viewColumns(view).filter((spec) => spec.sort !== null);
}

/** The columns the chooser lists: those of the screen it can hide. */
export const HIDEABLE_COLUMNS: readonly ColumnId[] = viewColumns('screen')
  .filter((spec) => spec.hideable)
  .map((spec) => spec.id);

/** Every sortable column's field, in table order: one column per field. */
export const SORT_FIELDS: readonly SortField[] = COLUMNS.flatMap((spec) => (spec.sort ? [spec.sort.field] : []));

export function sortColumn(field: SortField): ColumnSpec {
  return COLUMNS.find((spec) => spec.sort?.field === field)!;
}

/** A sort field by its name or its column's title, any case ("watches", "ADD/s"); null when none. */
export function parseSortField(name: string): SortField | null {
  const lower = name.toLowerCase();
  return COLUMNS.find((spec) => spec.sort && (spec.sort.field.toLowerCase() === lower || spec.title.toLowerCase() === lower))?.sort!.field ?? null;
}

/** A column of a view by its id or title, any case; null when the view has none such. */
export function parseColumn(name: string, view: View): ColumnId | null {
  const lower = name.trim().toLowerCase();
  return viewColumns(view).find((spec) => spec.id.toLowerCase() === lower || spec.title.toLowerCase() === lower)?.id ?? null;
}

/** What decides which columns show besides the defaults: the user's choices. */
export interface ColumnChoice {
  /** Some process on the node holds fanotify groups. */
  fanotify: boolean;
  /** Some event queue is not draining or may be full (views/traffic.ts someQueueTrouble); missing: none. */
  queues?: boolean;
  /** Hidden though shown by default. */
  hidden: readonly ColumnId[];
  /** Shown though not by default. */
  shown: readonly ColumnId[];
}

export function shownByDefault(spec: ColumnSpec, view: View, fanotify: boolean, queues = false): boolean {
  const shown = spec[view];
  return shown === 'always' || (shown === 'fanotify' && fanotify) || (shown === 'queues' && queues);
}

export function isShown(spec: ColumnSpec, view: View, choice: ColumnChoice): boolean {
  if (spec[view] === null) return false;
  if (!spec.hideable) return true;
  if (choice.hidden.includes(spec.id)) return false;
  return shownByDefault(spec, view, choice.fanotify, choice.queues) || choice.shown.includes(spec.id);
}

/**
 * `-o wide`: every column -b offers, in table order; fanotify's (FANOTIFY, and FAN-G and FAN-M,
 * which the screen shows so) only where some process holds a fanotify group, as by default.
 */
export function wideColumns(fanotify: boolean): ColumnSpec[] {
  return COLUMNS.filter((spec) => spec.batch !== null && (fanotify || (spec.batch !== 'fanotify' && spec.screen !== 'fanotify')));
}

/** The columns a view shows, in table order. */
export function shownColumns(view: View, choice: ColumnChoice): ColumnSpec[] {
  return COLUMNS.filter((spec) => isShown(spec, view, choice));
}

/** The choice after the chooser toggles one column: hidden if it shows, else shown. */
export function toggleColumn(choice: ColumnChoice, id: ColumnId, view: View): { hidden: ColumnId[]; shown: ColumnId[] } {
  const spec = columnSpec(id);
  const hidden = choice.hidden.filter((other) => other !== id);
  const shown = choice.shown.filter((other) => other !== id);
  if (isShown(spec, view, choice)) return { hidden: [...hidden, id], shown };
  return { hidden, shown: shownByDefault(spec, view, choice.fanotify, choice.queues) ? shown : [...shown, id] };
}

// ---- the target table: the detail pane and -b --targets ----

/** What target cells need: how the view writes repeats and holders. */
export interface TargetContext {
  /** The screen marks an inode watched N times `×N` (a watcher that re-adds watches); scripts get N. */
  markRepeats: boolean;
  /** -b has no HELD BY column: its PATH ends with `[held by …]`. */
  holdersInPath: boolean;
}

export type TargetColumnId = 'watches' | 'dev' | 'ino' | 'fstype' | 'status' | 'path' | 'holders' | 'pod';

export interface TargetColumn extends TableColumn<TargetRow, TargetContext> {
  id: TargetColumnId;
}

/** The first holder by pid and comm, and how many more: inspect lists them all. */
function holderCell(target: TargetRow): string {
  const [first, ...others] = target.holders;
  if (!first) return '';
  return `${first.pid} ${first.comm}${others.length > 0 ? ` +${others.length}` : ''}`;
}

export const TARGET_COLUMNS: readonly TargetColumn[] = [
  {
    id: 'watches',
    title: 'WATCHES',
    width: 7,
    flexible: false,
    align: 'right',
    cell: (t, context) => (context.markRepeats && t.watches > 1 ? `×${t.watches}` : String(t.watches)),
  },
  { id: 'dev', title: 'DEV', width: 8, flexible: false, align: 'left', cell: (t) => t.dev },
  {
    id: 'ino',
    title: 'INO',
    width: 10,
    flexible: false,
    align: 'right',
    // A mount or filesystem mark has no inode of its own.
    cell: (t) => (t.kind === 'fanotify' && t.markType !== 'inode' ? '-' : String(t.ino)),
  },
  { id: 'fstype', title: 'FSTYPE', width: 9, flexible: false, align: 'left', cell: (t) => t.fstype ?? '?' },
  { id: 'status', title: 'STATUS', width: 10, flexible: false, align: 'left', cell: statusText },
  {
    id: 'path',
    title: 'PATH',
    width: 10,
    flexible: true,
    align: 'left',
    elide: 'middle',
    cell: (t, context) => {
      const held = context.holdersInPath ? holdersText(t) : '';
      return `${targetPathText(t)}${held ? `  [${held}]` : ''}`;
    },
  },
  { id: 'holders', title: 'HELD BY', width: 24, flexible: false, align: 'left', cell: holderCell },
  { id: 'pod', title: 'POD', width: 30, flexible: false, align: 'left', cell: (t) => podLabel(t.pod) || '-' },
];

export function targetColumns(ids: readonly TargetColumnId[]): TargetColumn[] {
  return ids.map((id) => TARGET_COLUMNS.find((spec) => spec.id === id)!);
}

/** A target row's color: red for a leak; the screen marks an inode watched more than once. */
export function targetStyle(target: TargetRow, context: TargetContext): CellStyle | null {
  if (target.leak) return 'leak';
  return context.markRepeats && target.watches > 1 ? 'warn' : null;
}

// ---- placing: one code for every table ----

// Methods are compared bivariantly: a column of any table is a TableColumn<unknown, unknown> here.
type AnyColumn = TableColumn<unknown, unknown>;

export interface PlacedColumn<C extends AnyColumn = ColumnSpec> {
  id: C['id'];
  spec: C;
  title: string;
  /** null: a flexible column that is never cut (a pipe). */
  width: number | null;
  /** Offset from the table's left edge. */
  x: number;
}

/**
 * The columns side by side, one space apart. The flexible one (COMMAND, PATH: one a table) takes
 * what is left of `width`, and at least its own width; with `width` null it is never cut. `title`
 * may mark the sort column.
 */
export function placeColumns<C extends AnyColumn>(
  specs: readonly C[],
  width: number | null,
  title: (spec: C) => string = (spec) => spec.title,
): PlacedColumn<C>[] {
  const fixed = specs.reduce((sum, spec) => sum + (spec.flexible ? 0 : spec.width + 1), 0);
  let x = 0;
  return specs.map((spec) => {
    const columnWidth = !spec.flexible ? spec.width : width === null ? null : Math.max(spec.width, width - fixed);
    const placed: PlacedColumn<C> = { id: spec.id, spec, title: title(spec), width: columnWidth, x };
    x += (columnWidth ?? 0) + 1;
    return placed;
  });
}

/**
 * The placed columns a line of `width` shows: those past its edge are left out and the one across
 * it is cut there, as htop cuts its table at the screen's edge.
 */
export function clipColumns<C extends AnyColumn>(columns: readonly PlacedColumn<C>[], width: number): PlacedColumn<C>[] {
  return columns.filter((c) => c.x < width).map((c) => (c.width === null || c.x + c.width > width ? { ...c, width: width - c.x } : c));
}

/** Which column a click at offset x of the table falls on. */
export function columnAt<C extends AnyColumn>(columns: readonly PlacedColumn<C>[], x: number): PlacedColumn<C> | null {
  return columns.find((c) => x >= c.x && (c.width === null || x <= c.x + c.width)) ?? null;
}

/** The title line's cells, each fit to its column (made visible, cut in display columns). */
export function titleCells(columns: readonly PlacedColumn<AnyColumn>[]): string[] {
  return columns.map((c) => (c.width === null ? c.title : fit(c.title, c.width, c.spec.align)));
}

/** One row's cells, each made visible and fit to its column; built only for the rows a view shows. */
export function rowCells<Row, Context>(row: Row, columns: readonly PlacedColumn<TableColumn<Row, Context>>[], context: Context): string[] {
  return columns.map((c) => {
    const text = c.spec.cell(row, context);
    if (c.width === null) return text;
    return c.spec.elide === 'middle' ? elideMiddle(visible(text), c.width, c.spec.align) : fit(text, c.width, c.spec.align);
  });
}

/** A process row's color: red for one others wait on (BLOCKING) and for failed calls, and for leaked watches; yellow for one that waits. */
export function rowStyle(row: ProcessRow, context: CellContext): CellStyle | null {
  const permission = context.permission?.(row.pid) ?? null;
  if (permission === 'blocking' || context.failed(row.pid)) return 'crit';
  if (row.leaked > 0) return 'leak';
  return permission === 'waiting' ? 'warn' : null;
}
