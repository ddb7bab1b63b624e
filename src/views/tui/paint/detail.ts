// The detail pane of the current view's selected row: a rule with its heading, then its own table
// from its first shown row, the row under the cursor marked when the pane has the focus.
import { rowCells, titleCells } from '../../columns.js';
import { fit } from '../../format.js';
import { screenText as esc } from '../../../common/text.js';
import type { ViewState } from '../view-state.js';
import { viewOf } from '../views.js';
import { rule, type Painter } from '../../painter.js';

export function detailLines(state: ViewState, width: number, height: number, painter: Painter): string[] {
  const { heading, table } = viewOf(state).detail(state);
  const lines = [rule(heading, width, state.focus === 'detail', painter)];
  if (!table) return lines;
  const columns = table.columns(width);
  lines.push(painter.paint('columns', esc(fit(titleCells(columns).join(' '), width))));
  // A window that does not hold the first row shown is the one before a scroll, whose own window
  // is on its way: it shows until then.
  const from = table.from ?? 0;
  const start = table.top >= from && table.top < from + table.rows.length ? table.top - from : 0;
  table.rows.slice(start, start + height - 2).forEach((row, i) => {
    const line = esc(rowCells(row, columns, table.context).join(' '));
    const style = from + start + i === table.cursor ? 'selected' : table.style(row, table.context);
    lines.push(style ? painter.paint(style, line) : line);
  });
  return lines;
}
