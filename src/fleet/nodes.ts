// What `inotop fleet` knows of each node, from the inotop_* series in Prometheus (its HTTP API,
// /api/v1/query). Every series of `inotop serve` carries the node label (metrics.ts), so each
// query below is one vector by node. Pure except for `fetchNodes` and `fetchNodeDetail`.
import { compareCodeUnits } from '../common/compare.js';
import { grouped } from '../common/format.js';
import { NODE_LABEL } from '../serve/metrics.js';
import type { FleetSortField } from './args.js';

export interface NodeRow {
  node: string;
  /** Highest share of max_user_watches any one user holds on the node, 0..1; null: not known. */
  maxWatchesShare: number | null;
  maxInstancesShare: number | null;
  leaked: number;
  /** Gone pods whose watches are still held. */
  gonePods: number;
  /** Failed scans since inotop serve started. */
  failures: number;
  /** When Prometheus last scraped the node's inotop (ISO 8601). */
  lastScrapeAt: string;
}

const by = `by (${NODE_LABEL})`;

/**
 * The highest share any key is charged of the limit in force for it; a node whose exporter
 * predates inotop_user_*_limit: its host users against the host's limit.
 */
function shareQuery(what: 'watches' | 'instances'): string {
  const perKey = `inotop_user_${what} / inotop_user_${what}_limit`;
  const before = `inotop_user_${what}{userns=""} / ignoring(uid, user, userns) group_left inotop_max_user_${what}`;
  return `max ${by} (${perKey} or ${before})`;
}

/** One instant query per column; `build` is the series every healthy `inotop serve` has. */
export const NODE_QUERIES = {
  build: `max ${by} (timestamp(inotop_build_info))`,
  watchesShare: shareQuery('watches'),
  instancesShare: shareQuery('instances'),
  leaked: `sum ${by} (inotop_leaked_watches)`,
  gonePods: `count ${by} (count by (${NODE_LABEL}, pod_uid) (inotop_leaked_watches{form="gone", pod_uid!=""}))`,
  failures: `sum ${by} (inotop_scan_failures_total)`,
} as const;

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export type QueryResults = Record<keyof typeof NODE_QUERIES, readonly Sample[]>;

export class PrometheusError extends Error {}

/** One instant query's vector. */
export async function instantQuery(prometheus: string, promql: string, signal?: AbortSignal): Promise<Sample[]> {
  const url = `${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: signal ?? AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new PrometheusError(`cannot reach ${prometheus}: ${(error as Error).message}`);
  }
  let body: { status?: string; error?: string; data?: { resultType?: string; result?: Sample[] } };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new PrometheusError(`${prometheus} answered ${response.status} without JSON: is it a Prometheus?`);
  }
  if (body.status !== 'success') throw new PrometheusError(`${prometheus}: ${body.error ?? `status ${response.status}`}`);
  if (body.data?.resultType !== 'vector') throw new PrometheusError(`${prometheus}: expected a vector for ${promql}`);
  return body.data.result ?? [];
}

export async function fetchNodes(prometheus: string): Promise<NodeRow[]> {
  const names = Object.keys(NODE_QUERIES) as (keyof typeof NODE_QUERIES)[];
  const vectors = await Promise.all(names.map((name) => instantQuery(prometheus, NODE_QUERIES[name])));
  return nodeRows(Object.fromEntries(names.map((name, i) => [name, vectors[i]!])) as unknown as QueryResults);
}

/** One row per node that has an inotop_build_info series; the other columns where known. */
export function nodeRows(results: QueryResults): NodeRow[] {
  const byNode = (samples: readonly Sample[]) => new Map(samples.map((s) => [s.metric[NODE_LABEL] ?? '', Number(s.value[1])]));
  const share = byNode(results.watchesShare);
  const instances = byNode(results.instancesShare);
  const leaked = byNode(results.leaked);
  const gone = byNode(results.gonePods);
  const failures = byNode(results.failures);
  return [...byNode(results.build)].map(([node, scrapedAt]) => ({
    node,
    maxWatchesShare: share.get(node) ?? null,
    maxInstancesShare: instances.get(node) ?? null,
    leaked: leaked.get(node) ?? 0,
    gonePods: gone.get(node) ?? 0,
    failures: failures.get(node) ?? 0,
    lastScrapeAt: new Date(scrapedAt * 1000).toISOString(),
  }));
}

/** Biggest first for the counts, A-Z for the name; ties by name. */
export function sortNodes(rows: readonly NodeRow[], field: FleetSortField, filter: RegExp | null = null, inverted = false): NodeRow[] {
  const key = (row: NodeRow): number => {
    switch (field) {
      case 'node':
        return 0;
      case 'watches':
        return row.maxWatchesShare ?? -1;
      case 'instances':
        return row.maxInstancesShare ?? -1;
      case 'leaked':
        return row.leaked;
      case 'gone':
        return row.gonePods;
      case 'failures':
        return row.failures;
      case 'scrape':
        return -Date.parse(row.lastScrapeAt);
    }
  };
  const direction = inverted ? -1 : 1;
  return rows.filter((row) => !filter || filter.test(row.node)).sort((a, b) => direction * (key(b) - key(a) || compareCodeUnits(a.node, b.node)));
}

export interface FleetColumn {
  field: FleetSortField;
  title: string;
  width: number;
  cell(row: NodeRow, now: number): string;
}

/** The table's columns; FAILURES only when a node has failures. */
export function fleetColumns(rows: readonly NodeRow[]): FleetColumn[] {
  const nodeWidth = Math.max(4, ...rows.map((r) => r.node.length));
  const columns: FleetColumn[] = [
    { field: 'node', title: 'NODE', width: nodeWidth, cell: (r) => r.node },
    { field: 'watches', title: 'WATCHES%', width: 8, cell: (r) => shareText(r.maxWatchesShare) },
    { field: 'instances', title: 'INST%', width: 6, cell: (r) => shareText(r.maxInstancesShare) },
    { field: 'leaked', title: 'LEAKED', width: 8, cell: (r) => grouped(r.leaked) },
    { field: 'gone', title: 'GONE PODS', width: 9, cell: (r) => String(r.gonePods) },
  ];
  if (rows.some((r) => r.failures > 0)) columns.push({ field: 'failures', title: 'FAILURES', width: 8, cell: (r) => String(r.failures) });
  columns.push({ field: 'scrape', title: 'LAST SCRAPE', width: 11, cell: (r, now) => agoText(Date.parse(r.lastScrapeAt), now) });
  return columns;
}

export function fleetTable(rows: readonly NodeRow[], now: number): string[] {
  const columns = fleetColumns(rows);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(columns[i]!.width) : cell.padStart(columns[i]!.width)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map((row) => line(columns.map((c) => c.cell(row, now))))];
}

export function fleetJson(rows: readonly NodeRow[]): string {
  return JSON.stringify({ nodes: rows }, null, 2) + '\n';
}

function shareText(share: number | null): string {
  if (share === null) return '-';
  const pct = share * 100;
  return pct > 0 && pct < 1 ? '<1%' : `${Math.round(pct)}%`;
}

export function agoText(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export interface NodeProcess {
  pid: string;
  comm: string;
  pod: string;
  watches: number;
  instances: number;
  leaked: number;
}

export interface NodeLeak {
  pod: string;
  podUid: string;
  form: string;
  watches: number;
}

export interface NodeDetail {
  node: string;
  processes: NodeProcess[];
  leaks: NodeLeak[];
}

/** A node's exported processes (inotop serve's top ones and every leaking one) and leaked pods. */
export async function fetchNodeDetail(prometheus: string, node: string): Promise<NodeDetail> {
  const selector = `{${NODE_LABEL}=${JSON.stringify(node)}}`;
  const [watches, instances, leaked, leaks] = await Promise.all(
    ['inotop_process_watches', 'inotop_process_instances', 'inotop_process_leaked_watches', 'inotop_leaked_watches'].map((name) =>
      instantQuery(prometheus, `${name}${selector}`),
    ),
  );
  return nodeDetail(node, watches!, instances!, leaked!, leaks!);
}

export function nodeDetail(
  node: string,
  watches: readonly Sample[],
  instances: readonly Sample[],
  leaked: readonly Sample[],
  leaks: readonly Sample[],
): NodeDetail {
  const podName = (m: Record<string, string>) => (m.pod_name ? `${m.pod_namespace ? `${m.pod_namespace}/` : ''}${m.pod_name}` : (m.pod_uid ?? ''));
  const processes = new Map<string, NodeProcess>();
  const row = (m: Record<string, string>): NodeProcess => {
    const pid = m.pid ?? '';
    let p = processes.get(pid);
    if (!p) processes.set(pid, (p = { pid, comm: m.comm ?? '', pod: podName(m), watches: 0, instances: 0, leaked: 0 }));
    return p;
  };
  for (const s of watches) row(s.metric).watches = Number(s.value[1]);
  for (const s of instances) row(s.metric).instances = Number(s.value[1]);
  for (const s of leaked) row(s.metric).leaked = Number(s.value[1]);
  return {
    node,
    processes: [...processes.values()].sort((a, b) => b.watches - a.watches || Number(a.pid) - Number(b.pid)),
    leaks: leaks
      .map((s) => ({ pod: podName(s.metric), podUid: s.metric.pod_uid ?? '', form: s.metric.form ?? '', watches: Number(s.value[1]) }))
      .sort((a, b) => b.watches - a.watches || compareCodeUnits(a.pod, b.pod)),
  };
}

/** The node's detail as text lines: what the screen shows after Enter. */
export function nodeDetailLines(detail: NodeDetail): string[] {
  const lines = [`Node ${detail.node}: open it with  kubectl inotop ${detail.node}`, '', 'Top processes (by watches):'];
  lines.push(`  ${'PID'.padStart(8)}  ${'WATCHES'.padStart(9)}  ${'INST'.padStart(5)}  ${'LEAKED'.padStart(7)}  COMMAND / POD`);
  for (const p of detail.processes) {
    lines.push(
      `  ${p.pid.padStart(8)}  ${grouped(p.watches).padStart(9)}  ${String(p.instances).padStart(5)}  ${String(p.leaked).padStart(7)}  ${p.comm}${p.pod ? `  ${p.pod}` : ''}`,
    );
  }
  if (detail.processes.length === 0) lines.push('  (none exported)');
  lines.push('', 'Leaked watches by pod:');
  for (const l of detail.leaks) lines.push(`  ${grouped(l.watches).padStart(9)}  ${l.form.padEnd(9)}  ${l.pod || '(no pod)'}`);
  if (detail.leaks.length === 0) lines.push('  (none)');
  return lines;
}
