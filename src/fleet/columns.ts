// The fleet table's columns on the one column engine (views/columns.ts): the screen and `-b` place
// and fill them alike, each cell made visible and cut in display columns there. CLUSTER shows only
// where nodes of more than one cluster are listed, FAILURES only where some node has failed scans.
import { grouped } from '../common/format.js';
import { visible } from '../common/text.js';
import { displayWidth } from '../common/width.js';
import { placeColumns, rowCells, titleCells, type TableColumn } from '../views/columns.js';
import type { FleetSortField } from './args.js';
import type { NodeRow } from './nodes.js';

export interface FleetCellContext {
  /** Now, for the LAST SCRAPE column's "3s ago". */
  now: number;
}

export type FleetColumnId = 'cluster' | FleetSortField;

export interface FleetColumn extends TableColumn<NodeRow, FleetCellContext> {
  id: FleetColumnId;
  /** The field it sorts by; null: none (CLUSTER: the node order is by cluster first). */
  sort: FleetSortField | null;
}

/** What the columns' shapes depend on, taken once per read of the fleet (a loop: no spread of 100,000 rows). */
export interface FleetShape {
  /** Distinct clusters among the rows. */
  clusters: number;
  /** Display widths of the widest cluster and node names, as shown (escapes visible). */
  clusterWidth: number;
  nodeWidth: number;
  failures: boolean;
}

/** Printable ASCII: shown as it is, a column a character. */
const PLAIN = /^[\x20-\x7e]*$/;

/** The display width of a name as shown; printable ASCII (nearly every node name) without visible()'s scan. */
const shownWidth = (name: string): number => (PLAIN.test(name) ? name.length : displayWidth(visible(name)));

export function fleetShape(rows: readonly NodeRow[]): FleetShape {
  let clusters = 0;
  let lastCluster: string | null = null;
  let clusterWidth = 0;
  let nodeWidth = 0;
  let failures = false;
  // Rows come in cluster order: a new cluster starts where the name changes.
  for (const row of rows) {
    if (row.cluster !== lastCluster) {
      clusters++;
      lastCluster = row.cluster;
      clusterWidth = Math.max(clusterWidth, shownWidth(row.cluster));
    }
    nodeWidth = Math.max(nodeWidth, shownWidth(row.node));
    if (row.failures > 0) failures = true;
  }
  return { clusters, clusterWidth, nodeWidth, failures };
}

/** A share as a whole percentage: above 0 and under 1% says so, and under the whole limit never shows 100%. */
export function shareText(share: number | null): string {
  if (share === null) return '-';
  const pct = share * 100;
  if (pct > 0 && pct < 1) return '<1%';
  return `${share < 1 ? Math.min(99, Math.round(pct)) : Math.round(pct)}%`;
}

export function agoText(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

/** A figure's column: as wide as its title and the sort mark after it. */
const number = (id: FleetSortField, title: string, width: number, cell: (row: NodeRow, context: FleetCellContext) => string): FleetColumn => ({
  id,
  title,
  width,
  flexible: false,
  align: 'right',
  cell,
  sort: id,
});

/**
 * The table's columns for rows of this shape, in table order; `nodeCap` bounds NODE on a screen
 * (a longer name loses its middle).
 */
export function fleetColumns(shape: FleetShape, nodeCap = Infinity): FleetColumn[] {
  const columns: FleetColumn[] = [];
  if (shape.clusters > 1) {
    columns.push({
      id: 'cluster',
      title: 'CLUSTER',
      width: Math.max(7, shape.clusterWidth),
      flexible: false,
      align: 'left',
      cell: (r) => r.cluster,
      sort: null,
    });
  }
  columns.push(
    {
      id: 'node',
      title: 'NODE',
      width: Math.min(nodeCap, Math.max(4, shape.nodeWidth)),
      flexible: false,
      align: 'left',
      elide: 'middle',
      cell: (r) => r.node,
      sort: 'node',
    },
    number('watches', 'WATCHES%', 9, (r) => shareText(r.maxWatchesShare)),
    number('instances', 'INST%', 6, (r) => shareText(r.maxInstancesShare)),
    number('leaked', 'LEAKED', 8, (r) => grouped(r.leaked)),
    number('gone', 'GONE PODS', 10, (r) => grouped(r.gonePods)),
  );
  if (shape.failures) columns.push(number('failures', 'FAILURES', 9, (r) => grouped(r.failures)));
  columns.push(number('scrape', 'LAST SCRAPE', 12, (r, context) => agoText(r.lastScrapeAt, context.now)));
  return columns;
}

/** `-b`: the title line and a line per row, every cell through the text boundary. */
export function fleetTable(rows: readonly NodeRow[], now: number): string[] {
  const columns = placeColumns(fleetColumns(fleetShape(rows)), null);
  const context = { now };
  return [titleCells(columns).join(' ').trimEnd(), ...rows.map((row) => rowCells(row, columns, context).join(' ').trimEnd())];
}
