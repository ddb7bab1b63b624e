// The table of the current view: its column titles, then its rows from the view's first shown
// one. Cells are built only for the rows that show: a node has thousands.
import { rowCells, titleCells, type PlacedColumn } from '../../columns.js';
import { fit } from '../../format.js';
import { screenText as esc } from '../../../common/text.js';
import type { ViewColumn } from '../screen-view.js';
import type { ViewState } from '../view-state.js';
import { viewOf } from '../views.js';
import type { Painter } from '../../painter.js';

/** The view's columns placed across `width`: where a click falls, and the titles. */
export function tableColumns(state: ViewState, width: number): PlacedColumn<ViewColumn<unknown, unknown>>[] {
  return viewOf(state).columns(state, width);
}

export function tableLines(state: ViewState, width: number, height: number, painter: Painter): string[] {
  const view = viewOf(state);
  const columns = view.columns(state, width);
  const lines = [painter.paint('columns', esc(titleCells(columns).join(' ')))];
  const rows = view.rows(state);
  if (rows.length === 0) {
    const empty = view.emptyText(state);
    if (empty !== null) lines.push(esc(fit(`  ${empty}`, width)));
    return lines;
  }
  const { key, top } = view.place(state);
  const context = view.cellContext(state, width);
  for (const row of rows.slice(top, top + height - 1)) {
    const cells = rowCells(row, columns, context).map(esc);
    if (view.keyOf(row) === key) {
      lines.push(painter.paint(state.focus === 'table' ? 'selected' : 'selectedDim', cells.join(' ')));
      continue;
    }
    const style = view.rowStyle(row, context);
    if (style) {
      lines.push(painter.paint(style, cells.join(' ')));
      continue;
    }
    const painted = cells.map((cell, i) => {
      const cellStyle = columns[i]?.spec.style?.(row, context) ?? null;
      return cellStyle ? painter.paint(cellStyle, cell) : cell;
    });
    lines.push(painted.join(' '));
  }
  return lines;
}
