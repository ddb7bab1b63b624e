// A view of the table as a value: its rows and their key, its columns, how the one sort and the
// `/` filter apply to them, its detail pane, what Enter does, and where in the state its selection
// is kept. The reducer moves the selection and the painters draw the table and the detail pane
// through it, so switching views is a change of `state.view`, not a branch; a view is one file,
// listed in views.ts. Text and styles by name only: no painting here.
import type { SortField } from '../../model/query.js';
import type { CellStyle, PlacedColumn, TableColumn } from '../columns.js';
import type { Paragraph } from './inspect.js';
import type { Sort, ViewId, ViewState } from './view-state.js';

/** Where a view's selection is: its row's key, its index (where the selection stays when the row goes), the first row shown. */
export interface Place<Key> {
  key: Key | null;
  index: number;
  top: number;
}

/** A column of a view's table; one that sorts names its field, and a click on its title sorts by it. */
export interface ViewColumn<Row, Context> extends TableColumn<Row, Context> {
  sort?: { field: SortField } | null;
}

/** The detail pane of the selected row: a rule, then a table of its own rows. */
export interface DetailPane<Row, Context> {
  heading: string;
  /** null: no row selected, the heading alone. */
  table: {
    /** The rows held: all of them, or (a long list the collector hands out in windows) a window from `from`. */
    rows: readonly Row[];
    /** The place of rows[0] in the table; absent: 0. */
    from?: number;
    /** How many rows the table has; absent: rows.length. */
    total?: number;
    /** The first row shown. */
    top: number;
    /** The row under the cursor (Enter inspects it); null: the pane has no cursor. */
    cursor: number | null;
    columns(width: number): PlacedColumn<TableColumn<Row, Context>>[];
    context: Context;
    style(row: Row, context: Context): CellStyle | null;
  } | null;
}

// Methods, not function-typed fields: they compare bivariantly, so every view is an AnyView.
export interface ScreenView<Row, Key extends string | number, Context, DetailRow, DetailContext> {
  id: ViewId;
  /** What the rows are, as the filter prompt names them. */
  rowsName: string;
  /** The table's rows: filtered and sorted as the state says. */
  rows(state: ViewState): readonly Row[];
  keyOf(row: Row): Key;
  place(state: ViewState): Place<Key>;
  withPlace(state: ViewState, place: Place<Key>): ViewState;
  /** The row to open on when the view is switched to with none selected yet. */
  openingIndex(rows: readonly Row[]): number;
  /** After the user picked a row (keys, mouse). */
  picked(state: ViewState, now: number): ViewState;
  /** The sort fields `<` and `>` step through: one a sortable column, in the order they show. */
  sortFields(state: ViewState): readonly SortField[];
  /** The columns placed across `width` and cut at its edge, the sort column's title marked. */
  columns(state: ViewState, width: number): PlacedColumn<ViewColumn<Row, Context>>[];
  cellContext(state: ViewState, width: number): Context;
  /** A row's own color (leaked, failed), over its cells'. */
  rowStyle(row: Row, context: Context): CellStyle | null;
  /** What the table says without rows; null: nothing (no snapshot yet). */
  emptyText(state: ViewState): string | null;
  detail(state: ViewState): DetailPane<DetailRow, DetailContext>;
  /**
   * Enter on a row inspects it: these paragraphs, null once it is gone. A view without it takes
   * Enter into its detail pane instead, where Enter inspects the row under the cursor.
   */
  inspect?(state: ViewState, key: Key): Paragraph[] | null;
}

export type AnyView = ScreenView<unknown, string | number, unknown, unknown, unknown>;

/** Where most views open: on the first row with leaked watches, else the top one. */
export function firstLeaking(rows: readonly { leaked: number }[]): number {
  return Math.max(
    0,
    rows.findIndex((row) => row.leaked > 0),
  );
}

/** What marks the sort column's title (and the sort menu's current entry): its direction. */
export function sortMarker(sort: Sort): string {
  return sort.descending ? '▼' : '▲';
}
