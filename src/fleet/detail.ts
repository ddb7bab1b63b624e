// A node's detail (Enter) as lines, on the one column engine: the gone pods first (what the view
// is for), each whole (its gone cgroup and unmounted volumes), then the other leaks, then the
// exported process groups. Plain text: the screen makes
// every line visible and cuts it to its width, and scrolls through them.
import { grouped } from '../common/format.js';
import { OTHER } from '../serve/labels.js';
import { placeColumns, rowCells, titleCells, type TableColumn } from '../views/columns.js';
import { agoText, shareText } from './columns.js';
import type { Fleet, NodeDetail, NodePodLeak, NodeProcess } from './nodes.js';

function count<Row>(title: string, width: number, value: (row: Row) => number): TableColumn<Row, null> {
  return { id: title.toLowerCase(), title, width, flexible: false, align: 'right', cell: (row) => grouped(value(row)) };
}

const LEAK_FORMS_SHOWN = ['gone', 'unmounted', 'deleted'];

const POD_COLUMNS: TableColumn<NodePodLeak, null>[] = [
  count<NodePodLeak>('WATCHES', 9, (p) => p.watches),
  {
    id: 'forms',
    title: 'HOW',
    width: 24,
    flexible: false,
    align: 'left',
    // Its gone cgroup and its volumes: "gone 2, unmounted 45".
    cell: (p) =>
      Object.entries(p.forms)
        .sort(([a], [b]) => LEAK_FORMS_SHOWN.indexOf(a) - LEAK_FORMS_SHOWN.indexOf(b))
        .map(([form, watches]) => `${form} ${grouped(watches)}`)
        .join(', '),
  },
  { id: 'pod', title: 'POD', width: 10, flexible: true, align: 'left', cell: (p) => p.pod || '(no pod)' },
];

const PROCESS_COLUMNS: TableColumn<NodeProcess, null>[] = [
  count<NodeProcess>('WATCHES', 9, (p) => p.watches),
  count<NodeProcess>('INST', 6, (p) => p.instances),
  count<NodeProcess>('LEAKED', 8, (p) => p.leaked),
  {
    id: 'command',
    title: 'COMMAND',
    width: 16,
    flexible: false,
    align: 'left',
    cell: (p) => (p.comm === OTHER ? 'the rest, summed' : `${p.comm}${p.pid ? ` ${p.pid}` : ''}`),
  },
  { id: 'pod', title: 'POD', width: 10, flexible: true, align: 'left', cell: (p) => p.pod || '-' },
];

function table<Row>(columns: TableColumn<Row, null>[], rows: readonly Row[], indent: string): string[] {
  const placed = placeColumns(columns, null);
  return [indent + titleCells(placed).join(' '), ...rows.map((row) => indent + rowCells(row, placed, null).join(' '))];
}

export function nodeDetailLines(detail: NodeDetail, fleet: Fleet | null): string[] {
  const where = detail.cluster ? `cluster ${detail.cluster}, node ${detail.node}` : `node ${detail.node}`;
  const lines = [`${where}: open it with  kubectl inotop ${detail.node}${detail.cluster ? `  (in cluster ${detail.cluster}'s context)` : ''}`];
  const row = fleet?.rows.find((r) => r.cluster === detail.cluster && r.node === detail.node);
  if (row) {
    lines.push(
      `highest use: ${shareText(row.maxWatchesShare)} of watches, ${shareText(row.maxInstancesShare)} of instances · ` +
        `${grouped(row.leaked)} leaked watches · last scrape ${agoText(row.lastScrapeAt, Date.now())}`,
    );
  }
  const gone = detail.pods.filter((p) => p.gone);
  const other = detail.pods.filter((p) => !p.gone);
  const rest = detail.rest.map((r) => `${r.form} ${grouped(r.watches)}`).join(', ');
  const goneCount = detail.gonePods ?? gone.length;
  lines.push(
    '',
    `Gone pods still watched: ${grouped(goneCount)}${goneCount > gone.length ? ` (${grouped(gone.length)} listed: the pods with most leaked watches)` : ''}`,
  );
  lines.push(...(gone.length > 0 ? table(POD_COLUMNS, gone, '  ') : ['  (none listed)']));
  lines.push('', 'Other leaked watches (unmounted or deleted targets, of pods not known gone or of none):');
  lines.push(...(other.length > 0 ? table(POD_COLUMNS, other, '  ') : ['  (none listed)']));
  if (rest !== '') lines.push('', `The other pods' leaked watches, summed by the exporter: ${rest}`);
  lines.push('', 'Processes by command and pod (the top groups inotop serve exports):');
  lines.push(...(detail.processes.length > 0 ? table(PROCESS_COLUMNS, detail.processes, '  ') : ['  (none exported)']));
  return lines;
}
