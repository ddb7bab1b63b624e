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
  table.rows.slice(table.top, table.top + height - 2).forEach((row, i) => {
    const line = esc(rowCells(row, columns, table.context).join(' '));
    const style = table.top + i === table.cursor ? 'selected' : table.style(row, table.context);
    lines.push(style ? painter.paint(style, line) : line);
  });
  return lines;
}
