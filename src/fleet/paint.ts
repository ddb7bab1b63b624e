// The fleet screen's regions as lines of blessed-tagged text, from its state and a size. Pure, so
// they are tested without a terminal. Every text from Prometheus (node and cluster names, errors)
// goes through the text boundary (common/text.ts): made visible and cut in display columns by
// `fit` or the column engine, braces escaped by screenText. Cells are made only for the rows shown.
import { grouped } from '../common/format.js';
import { screenText as esc } from '../common/text.js';
import { clipColumns, placeColumns, rowCells, titleCells } from '../views/columns.js';
import { fit } from '../views/format.js';
import { rule, type Painter } from '../views/painter.js';
import { fleetColumns, shareText, type FleetColumn } from './columns.js';
import type { ClusterSummary } from './nodes.js';
import { FLEET_KEY_BINDINGS, shownRows, type FleetState } from './screen-state.js';
import { queriesText } from './queries.js';

/** Lines above the table and below it: the header's two, the footer. */
export const HEADER_LINES = 2;
export const FOOTER_LINES = 1;

/** Rows the table (or the detail pane) shows in a terminal `height` lines high, under their title line. */
export function pageRowsFor(height: number): number {
  return Math.max(1, height - HEADER_LINES - FOOTER_LINES - 1);
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19) + 'Z';
}

export function headerLines(state: FleetState, prometheus: string, width: number, painter: Painter): string[] {
  const fleet = state.fleet;
  const parts = [`inotop fleet · ${prometheus}`];
  if (fleet) {
    const clusters = fleet.clusters.filter((c) => c.cluster !== '').length;
    const read = fleet.complete ? '' : `${grouped(fleet.rows.length)} read of `;
    parts.push(`${read}${grouped(fleet.nodes)} nodes${clusters > 1 ? ` in ${clusters} clusters` : ''}`, clock(fleet.at), queriesText(fleet.mode));
    if (fleet.shardGroups > 1) parts.push(`each node read anew every ${fleet.shardGroups} reads`);
  } else parts.push('reading…');
  const title = painter.paint('title', esc(fit(parts.join(' · '), width)));
  if (state.error !== null) return [title, painter.paint('error', esc(fit(state.error, width)))];
  const filter = state.filter !== null ? `filter /${state.filterText}/: ${grouped(state.visible.length)} of ${grouped(state.sorted.length)} · ` : '';
  return [title, esc(fit(filter + (fleet ? fleet.clusters.map(clusterText).join(' · ') : ''), width))];
}

function clusterText(summary: ClusterSummary): string {
  const name = summary.cluster === '' ? '' : `${summary.cluster}: `;
  const leaks =
    summary.leakingNodes > 0
      ? `${grouped(summary.leakingNodes)} leaking (${grouped(summary.leaked)} watches, ${grouped(summary.gonePods)} gone pods)`
      : 'no leaks';
  const failing = summary.failingNodes > 0 ? `, ${grouped(summary.failingNodes)} failing scans` : '';
  return `${name}${grouped(summary.nodes)} nodes, ${leaks}${failing}, top ${shareText(summary.watchesShare)} of watches, ${shareText(summary.instancesShare)} of instances`;
}

/** The table's columns across `width`: NODE as wide as the names, but leaving room for the figures. */
export function tableColumns(state: FleetState, width: number) {
  const others = fleetColumns(state.shape).filter((c) => c.id !== 'node');
  const room = width - others.reduce((sum, c) => sum + c.width + 1, 0) - 1;
  const marked = (spec: FleetColumn) => {
    if (spec.sort !== state.sort) return spec.title;
    const descending = spec.sort === 'node' ? state.inverted : !state.inverted;
    return spec.title + (descending ? '▼' : '▲');
  };
  return clipColumns(placeColumns(fleetColumns(state.shape, Math.max(12, room)), width, marked), width);
}

export function tableLines(state: FleetState, width: number, painter: Painter): string[] {
  const columns = tableColumns(state, width);
  const lines = [painter.paint('columns', esc(fit(titleCells(columns).join(' '), width)))];
  if (state.visible.length === 0) {
    const empty = !state.fleet ? '' : state.sorted.length === 0 ? 'no node has inotop_* series here' : 'no node matches the filter';
    return [...lines, esc(fit(`  ${empty}`, width))];
  }
  const context = { now: Date.now() };
  shownRows(state).forEach((row, i) => {
    const line = esc(fit(rowCells(row, columns, context).join(' '), width));
    if (state.top + i === state.selected) lines.push(painter.paint('selected', line));
    else if (row.leaked > 0) lines.push(painter.paint('leak', line));
    else lines.push(line);
  });
  return lines;
}

/** The opened node: a rule that says where the window is, then its lines from the window's top. */
export function detailLines(state: FleetState, width: number, painter: Painter): string[] {
  const open = state.open;
  if (!open) return [];
  const name = open.cluster ? `${open.cluster}/${open.node}` : open.node;
  if (open.error !== null) return [rule(`node ${name}`, width, false, painter), painter.paint('error', esc(fit(open.error, width)))];
  if (!open.detail) return [rule(`node ${name}`, width, false, painter), esc(fit('asking Prometheus…', width))];
  const shown = open.lines.slice(open.top, open.top + state.pageRows);
  const where = `lines ${open.top + 1}–${open.top + shown.length} of ${open.lines.length} (↑↓ PgUp PgDn scroll, Esc back)`;
  return [rule(`node ${name} · ${where}`, width, false, painter), ...shown.map((line) => esc(fit(line, width)))];
}

export function helpLines(): string[] {
  return [
    '{bold}keys{/bold}',
    ...FLEET_KEY_BINDINGS.map((binding) => `  {bold}${esc(fit(binding.shown, 10))}{/bold} ${esc(binding.help)}`),
    '',
    '{bold}columns{/bold}',
    '  WATCHES%   the highest share of max_user_watches one user holds on the node; INST% of max_user_instances',
    '  LEAKED     watches on gone pods, unmounted or deleted targets; GONE PODS: gone pods still watched',
    '  FAILURES   failed scans since inotop serve started (shown when a node has some)',
    '  LAST SCRAPE  when Prometheus last scraped the node',
  ];
}

export function footerLine(state: FleetState, width: number, painter: Painter): string {
  if (state.prompt !== null) {
    const count = `${grouped(state.visible.length)} of ${grouped(state.sorted.length)} nodes`;
    return painter.paint('footerKey', esc(fit(` Filter nodes: ${state.prompt}_   Enter keep · Esc clear   ${count}`, width)));
  }
  const entries = FLEET_KEY_BINDINGS.flatMap((binding) => (binding.footer ? [{ ...binding.footer, quit: binding.command === 'quit' }] : []));
  const size = (entry: { key: string; label: string }) => entry.key.length + entry.label.length + 1;
  // Quit always shows; the others as they fit, in the table's order.
  let room = width - entries.filter((e) => e.quit).reduce((sum, e) => sum + size(e), 0);
  const shown = entries.filter((entry) => {
    if (entry.quit) return true;
    if (size(entry) > room) return false;
    room -= size(entry);
    return true;
  });
  const used = shown.reduce((sum, e) => sum + size(e), 0);
  return (
    shown.map((e) => painter.paint('footerKey', esc(e.key)) + painter.paint('footerLabel', esc(e.label)) + ' ').join('') + ' '.repeat(Math.max(0, width - used))
  );
}
