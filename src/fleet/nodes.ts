// What `inotop fleet` knows of each node, read from Prometheus (queries.ts) by a FleetReader: each
// read takes every column of a group of node shards, so that one read of a 100,000-node fleet costs
// Prometheus (and inotop's memory) a part of it, and the first rows show after the first group
// rather than the whole fleet. The fleet is complete once every group was read; the screen reads
// the groups back to back until then. Rows are kept by cluster and node: two clusters may share names.
import { compareCodeUnits } from '../common/compare.js';
import { jsonText } from '../common/text.js';
import { CLUSTER_LABEL, NODE_LABEL, NODE_SHARDS, OTHER, SHARD_LABEL } from '../serve/labels.js';
import type { FleetSortField } from './args.js';
import { instantQuery, type QueryLimits, type Sample } from './prometheus.js';
import {
  CLUSTER_RULES,
  clusterRulesQuery,
  DENSE_COLUMNS,
  nodeQuery,
  nodeSelector,
  rawNodeCountQuery,
  SPARSE_COLUMNS,
  type ClusterField,
  type NodeColumn,
  type QueryMode,
  type ShardGroup,
} from './queries.js';

export interface NodeRow {
  /** '' where the series have no cluster label. */
  cluster: string;
  node: string;
  /** The node_shard label; '' from exporters without it (read at every refresh). */
  shard: string;
  /** Highest share of max_user_watches any one user holds on the node, 0..1; null: not known. */
  maxWatchesShare: number | null;
  maxInstancesShare: number | null;
  leaked: number;
  /** Gone pods whose watches are still held. */
  gonePods: number;
  /** Failed scans since inotop serve started. */
  failures: number;
  /** When Prometheus last scraped the node's inotop, ms since the epoch. */
  lastScrapeAt: number;
}

export interface ClusterSummary {
  cluster: string;
  nodes: number;
  leakingNodes: number;
  leaked: number;
  gonePods: number;
  failingNodes: number;
  /** The highest share on any node of the cluster; null: not known. */
  watchesShare: number | null;
  instancesShare: number | null;
}

/** One read of the fleet. */
export interface Fleet {
  /** In (cluster, node) code-unit order. */
  rows: readonly NodeRow[];
  clusters: readonly ClusterSummary[];
  mode: QueryMode;
  at: number;
  /** How many reads it takes to read every node anew (1: every read). */
  shardGroups: number;
  /** Every group has been read: every node is in `rows`. */
  complete: boolean;
  /** The nodes Prometheus has (of the clusters asked for), read or not yet. */
  nodes: number;
}

export interface ReaderOptions {
  prometheus: string;
  /** --cluster REGEX; null: every cluster. */
  cluster: string | null;
  timeoutMs: number;
  /** --max-response-bytes; null: in proportion to the fleet (responseBytesFor). */
  maxResponseBytes: number | null;
}

/** Room for one answer besides its nodes' samples (the detail of one node, the clusters' figures). */
const BASE_RESPONSE_BYTES = 1 << 20;
/**
 * An answer's bytes per node: a dense column's sample is about 200 bytes (its name, cluster, node,
 * shard, time and value), a detail's series alike; five times that.
 */
const RESPONSE_BYTES_PER_NODE = 1024;
/**
 * Nodes whose columns one read takes, at most. What a read costs Prometheus grows with the series
 * it answers (selecting, sorting and encoding each, and collecting the garbage of it): at 100,000
 * nodes a read of 6,250 allocated 53 MB in it and cost 0.30–0.44 s of its CPU, collections
 * included; of 3,125, 24 MB and 0.12–0.18 s. The price is a longer cycle: a node's row is read
 * anew every 32 reads there, not 16.
 */
export const NODES_PER_READ = 4000;

/** The default --max-response-bytes: in proportion to the fleet. */
export function responseBytesFor(nodes: number): number {
  return BASE_RESPONSE_BYTES + RESPONSE_BYTES_PER_NODE * nodes;
}

/** Reads that share the dense columns of `nodes` nodes: a power of two, so that shards split evenly. */
export function shardGroupsFor(nodes: number): number {
  let groups = 1;
  while (groups < NODE_SHARDS && nodes / groups > NODES_PER_READ) groups *= 2;
  return groups;
}

/**
 * Values by cluster, then node: a fleet's rows and a read's columns are looked up without a key
 * string made for each node (at 100,000 nodes, the rows kept 36 MB with them, 30 without).
 */
class ByNode<T> {
  private readonly clusters = new Map<string, Map<string, T>>();
  size = 0;

  get(cluster: string, node: string): T | undefined {
    return this.clusters.get(cluster)?.get(node);
  }

  has(cluster: string, node: string): boolean {
    return this.clusters.get(cluster)?.has(node) ?? false;
  }

  set(cluster: string, node: string, value: T): void {
    let nodes = this.clusters.get(cluster);
    if (!nodes) this.clusters.set(cluster, (nodes = new Map()));
    if (!nodes.has(node)) this.size++;
    nodes.set(node, value);
  }

  delete(cluster: string, node: string): boolean {
    const deleted = this.clusters.get(cluster)?.delete(node) ?? false;
    if (deleted) this.size--;
    return deleted;
  }
}

/** The rows' own order: by cluster, then node, in code units. */
export function compareNodes(a: NodeRow, b: NodeRow): number {
  return compareCodeUnits(a.cluster, b.cluster) || compareCodeUnits(a.node, b.node);
}

const NODE_LABELS = [CLUSTER_LABEL, NODE_LABEL, SHARD_LABEL] as const;

export class FleetReader {
  private rows = new ByNode<NodeRow>();
  /** The rows in (cluster, node) order. */
  private order: NodeRow[] = [];
  private reads = 0;
  /** Without rules: the nodes counted at the first read, until every group has been read. */
  private rawNodes = 0;
  private complete = false;

  constructor(private readonly options: ReaderOptions) {}

  private limits(nodes: number): QueryLimits {
    return { timeoutMs: this.options.timeoutMs, maxBytes: this.options.maxResponseBytes ?? responseBytesFor(Math.max(nodes, this.rows.size)) };
  }

  private query(promql: string, labels: readonly string[], nodes: number): Promise<Sample[]> {
    return instantQuery(this.options.prometheus, promql, labels, this.limits(nodes));
  }

  /** One read: the next group of shards. */
  async read(): Promise<Fleet> {
    const { cluster } = this.options;
    const summaries = await this.query(clusterRulesQuery(cluster), ['__name__', CLUSTER_LABEL], 0);
    const mode: QueryMode = summaries.some((s) => s.labels.__name__ === CLUSTER_RULES.nodes.record) ? 'rules' : 'raw';
    let nodes: number;
    if (mode === 'rules') nodes = summaries.reduce((sum, s) => sum + (s.labels.__name__ === CLUSTER_RULES.nodes.record ? s.value : 0), 0);
    else if (this.complete) nodes = this.rows.size;
    else {
      if (this.reads === 0) this.rawNodes = (await this.query(rawNodeCountQuery(cluster), [CLUSTER_LABEL], 0)).reduce((sum, s) => sum + s.value, 0);
      nodes = this.rawNodes;
    }

    const shardGroups = shardGroupsFor(nodes);
    const group = shardGroups === 1 ? null : shardGroup(this.reads % shardGroups, shardGroups);
    const columns = [...DENSE_COLUMNS, ...SPARSE_COLUMNS];
    const selection = { cluster, shards: group };
    const vectors = await Promise.all(columns.map((column) => this.query(nodeQuery(mode, column, selection), NODE_LABELS, nodes)));
    this.merge(new Map(columns.map((column, i) => [column, vectors[i]!])), group);
    this.reads++;
    this.complete ||= this.reads >= shardGroups;
    const rows = this.order;
    const clusters = mode === 'rules' ? clusterSummaries(summaries) : summarize(rows);
    return { rows, clusters, mode, at: Date.now(), shardGroups, complete: this.complete, nodes: this.complete ? rows.length : Math.max(nodes, rows.length) };
  }

  /** Every node: the groups read until the fleet is complete (-b, --json). */
  async readAll(): Promise<Fleet> {
    for (;;) {
      const fleet = await this.read();
      if (fleet.complete) return fleet;
    }
  }

  /** The read's columns into the rows: those of the shards read are replaced, the others kept. */
  private merge(results: Map<NodeColumn, Sample[]>, group: ShardGroup | null): void {
    const shardSet = group === null ? null : new Set(group.shards.map(String));
    const inGroup = (shard: string) => shardSet === null || (shard === '' ? group!.unlabelled : shardSet.has(shard));
    const column = (name: NodeColumn) => {
      const values = new ByNode<number>();
      for (const s of results.get(name) ?? []) values.set(s.labels[CLUSTER_LABEL]!, s.labels[NODE_LABEL]!, s.value);
      return values;
    };
    const watches = column('watchesShare');
    const instances = column('instancesShare');
    const leaked = column('leaked');
    const gone = column('gonePods');
    const failures = column('failures');
    const share = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? null : value);
    // The group's rows in place: the rest of the fleet is not copied.
    const read = new ByNode<NodeRow>();
    const added: NodeRow[] = [];
    for (const sample of results.get('lastScrape') ?? []) {
      const { [CLUSTER_LABEL]: cluster = '', [NODE_LABEL]: node = '', [SHARD_LABEL]: shard = '' } = sample.labels;
      const before = this.rows.get(cluster, node);
      if (read.has(cluster, node) || (before && !inGroup(before.shard))) continue;
      const row: NodeRow = {
        cluster,
        node,
        shard,
        maxWatchesShare: share(watches.get(cluster, node)),
        maxInstancesShare: share(instances.get(cluster, node)),
        leaked: leaked.get(cluster, node) ?? 0,
        gonePods: gone.get(cluster, node) ?? 0,
        failures: failures.get(cluster, node) ?? 0,
        lastScrapeAt: sample.value * 1000,
      };
      read.set(cluster, node, row);
      this.rows.set(cluster, node, row);
      if (!before) added.push(row);
    }
    // The same nodes keep their order: the other groups' rows as they were, the group's anew, and
    // those it no longer has gone. New ones (a group read for the first time) are sorted among
    // themselves and merged in: a group's sort, not the fleet's.
    const order: NodeRow[] = [];
    for (const row of this.order) {
      if (!inGroup(row.shard)) order.push(row);
      else {
        const now = read.get(row.cluster, row.node);
        if (now) order.push(now);
        else this.rows.delete(row.cluster, row.node);
      }
    }
    this.order = added.length > 0 ? mergeSorted(order, added.sort(compareNodes), compareNodes) : order;
  }
}

/** Two sorted lists as one. */
function mergeSorted<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): T[] {
  const out = new Array<T>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compare(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/**
 * What the group `group` of `groups` reads: every `groups`-th shard from `group`, and the first
 * group also the series without a node_shard label (exporters from before it).
 */
export function shardGroup(group: number, groups: number): ShardGroup {
  return { shards: shardsOfGroup(group, groups), unlabelled: group === 0 };
}

/** The shards a group of `groups` reads: every `groups`-th one from `group`. */
export function shardsOfGroup(group: number, groups: number): number[] {
  const shards: number[] = [];
  for (let shard = group; shard < NODE_SHARDS; shard += groups) shards.push(shard);
  return shards;
}

const FIELD_BY_RECORD = new Map(Object.entries(CLUSTER_RULES).map(([field, rule]) => [rule.record, field as ClusterField]));

/** The per-cluster recorded series as one summary per cluster, in code-unit order. */
export function clusterSummaries(samples: readonly Sample[]): ClusterSummary[] {
  const byCluster = new Map<string, ClusterSummary>();
  for (const sample of samples) {
    const field = FIELD_BY_RECORD.get(sample.labels.__name__ ?? '');
    if (!field) continue;
    const cluster = sample.labels[CLUSTER_LABEL] ?? '';
    let summary = byCluster.get(cluster);
    if (!summary) byCluster.set(cluster, (summary = emptySummary(cluster)));
    summary[field] = sample.value;
  }
  return [...byCluster.values()].sort((a, b) => compareCodeUnits(a.cluster, b.cluster));
}

function emptySummary(cluster: string): ClusterSummary {
  return { cluster, nodes: 0, leakingNodes: 0, leaked: 0, gonePods: 0, failingNodes: 0, watchesShare: null, instancesShare: null };
}

/** Without rules: the same summaries from the rows (in cluster order already). */
export function summarize(rows: readonly NodeRow[]): ClusterSummary[] {
  const summaries: ClusterSummary[] = [];
  let summary: ClusterSummary | null = null;
  const higher = (a: number | null, b: number | null) => (b === null ? a : a === null ? b : Math.max(a, b));
  for (const row of rows) {
    if (!summary || summary.cluster !== row.cluster) summaries.push((summary = emptySummary(row.cluster)));
    summary.nodes++;
    if (row.leaked > 0) summary.leakingNodes++;
    if (row.failures > 0) summary.failingNodes++;
    summary.leaked += row.leaked;
    summary.gonePods += row.gonePods;
    summary.watchesShare = higher(summary.watchesShare, row.maxWatchesShare);
    summary.instancesShare = higher(summary.instancesShare, row.maxInstancesShare);
  }
  return summaries;
}

// ---- one node ----

export interface NodeProcess {
  comm: string;
  pod: string;
  /** Exporters from before process groups label processes by pid. */
  pid: string;
  watches: number;
  instances: number;
  leaked: number;
}

/** A pod's leaked watches on the node, its forms together. */
export interface NodePodLeak {
  pod: string;
  podUid: string;
  /** Some of its watches are on the pod's own gone cgroup: the pod is gone. */
  gone: boolean;
  watches: number;
  /** Watches by form (gone, unmounted, deleted). */
  forms: Record<string, number>;
}

export interface NodeDetail {
  cluster: string;
  node: string;
  processes: NodeProcess[];
  /** Gone pods first (what the view is for), then by watches. */
  pods: NodePodLeak[];
  /** The pods past the exporter's bound, summed per form. */
  rest: { form: string; watches: number }[];
  /** Every gone pod still watched, also those in `rest`; null: not exported. */
  gonePods: number | null;
}

const PROCESS_LABELS = ['pid', 'comm', 'pod_namespace', 'pod_name', 'pod_uid'] as const;
const LEAK_LABELS = ['pod_namespace', 'pod_name', 'pod_uid', 'form'] as const;

/** A node's exported process groups and leaked pods (the screen's Enter). */
export async function fetchNodeDetail(options: ReaderOptions, cluster: string, node: string): Promise<NodeDetail> {
  const selector = nodeSelector(cluster, node);
  const limits = { timeoutMs: options.timeoutMs, maxBytes: options.maxResponseBytes ?? responseBytesFor(1) };
  const query = (name: string, labels: readonly string[]) => instantQuery(options.prometheus, `${name}${selector}`, labels, limits);
  const [watches, instances, leaked, leaks, gone] = await Promise.all([
    query('inotop_process_watches', PROCESS_LABELS),
    query('inotop_process_instances', PROCESS_LABELS),
    query('inotop_process_leaked_watches', PROCESS_LABELS),
    query('inotop_leaked_watches', LEAK_LABELS),
    query('inotop_gone_pods', []),
  ]);
  return nodeDetail(cluster, node, { watches, instances, leaked, leaks, gone });
}

export function nodeDetail(
  cluster: string,
  node: string,
  series: { watches: readonly Sample[]; instances: readonly Sample[]; leaked: readonly Sample[]; leaks: readonly Sample[]; gone: readonly Sample[] },
): NodeDetail {
  const podName = (m: Record<string, string>) => (m.pod_name ? `${m.pod_namespace ? `${m.pod_namespace}/` : ''}${m.pod_name}` : (m.pod_uid ?? ''));
  const processes = new Map<string, NodeProcess>();
  const row = (m: Record<string, string>): NodeProcess => {
    const key = `${m.pid}\0${m.comm}\0${m.pod_namespace}\0${m.pod_name}`;
    let p = processes.get(key);
    if (!p) processes.set(key, (p = { comm: m.comm ?? '', pod: podName(m), pid: m.pid ?? '', watches: 0, instances: 0, leaked: 0 }));
    return p;
  };
  for (const s of series.watches) row(s.labels).watches = s.value;
  for (const s of series.instances) row(s.labels).instances = s.value;
  for (const s of series.leaked) row(s.labels).leaked = s.value;
  const pods = new Map<string, NodePodLeak>();
  const rest: { form: string; watches: number }[] = [];
  for (const { labels, value } of series.leaks) {
    const form = labels.form ?? '';
    if (labels.pod_name === OTHER && !labels.pod_uid) {
      rest.push({ form, watches: value });
      continue;
    }
    const uid = labels.pod_uid ?? '';
    let pod = pods.get(uid);
    if (!pod) pods.set(uid, (pod = { pod: podName(labels), podUid: uid, gone: false, watches: 0, forms: {} }));
    pod.gone ||= form === 'gone';
    pod.watches += value;
    pod.forms[form] = (pod.forms[form] ?? 0) + value;
  }
  return {
    cluster,
    node,
    processes: [...processes.values()].sort((a, b) => b.watches - a.watches || compareCodeUnits(a.comm, b.comm) || compareCodeUnits(a.pod, b.pod)),
    pods: [...pods.values()].sort((a, b) => Number(b.gone) - Number(a.gone) || b.watches - a.watches || compareCodeUnits(a.pod, b.pod)),
    rest: rest.sort((a, b) => compareCodeUnits(a.form, b.form)),
    gonePods: series.gone[0]?.value ?? null,
  };
}

// ---- order ----

const SORT_KEYS: Record<Exclude<FleetSortField, 'node'>, (row: NodeRow) => number> = {
  watches: (row) => row.maxWatchesShare ?? -1,
  instances: (row) => row.maxInstancesShare ?? -1,
  leaked: (row) => row.leaked,
  gone: (row) => row.gonePods,
  failures: (row) => row.failures,
  // The stalest first: a node whose exporter stopped being scraped is the one to look at.
  scrape: (row) => -row.lastScrapeAt,
};

/**
 * Rows in (cluster, node) order sorted by a field: biggest first for the counts, ties kept in
 * node order; inverted, the whole order reversed. No comparator runs: each row's key becomes its
 * rank among the distinct keys, and rank × rows + position one number, which a Float64Array sorts
 * natively (a third of the time of a comparator sort at 100,000 rows; NaN sorts last).
 */
export function sortRows(rows: readonly NodeRow[], field: FleetSortField, inverted: boolean): NodeRow[] {
  let sorted: NodeRow[];
  if (field === 'node') sorted = rows.slice();
  else {
    const key = SORT_KEYS[field];
    const n = rows.length;
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = -key(rows[i]!);
    const distinct = Float64Array.from(new Set(keys)).sort();
    const rank = new Map<number, number>();
    for (let r = 0; r < distinct.length; r++) rank.set(distinct[r]!, r);
    const order = new Float64Array(n);
    for (let i = 0; i < n; i++) order[i] = rank.get(keys[i]!)! * n + i;
    order.sort();
    sorted = new Array<NodeRow>(n);
    for (let i = 0; i < n; i++) sorted[i] = rows[order[i]! % n]!;
  }
  return inverted ? sorted.reverse() : sorted;
}

/** A node as --json writes it: shares as fractions (0..1), the time in ISO 8601, `cluster` null where there is no label. */
export interface JsonNode {
  cluster: string | null;
  node: string;
  maxWatchesShare: number | null;
  maxInstancesShare: number | null;
  leaked: number;
  gonePods: number;
  failures: number;
  lastScrapeAt: string;
}

const clusterOf = (cluster: string) => (cluster === '' ? null : cluster);

function jsonNode(row: NodeRow): JsonNode {
  return {
    cluster: clusterOf(row.cluster),
    node: row.node,
    maxWatchesShare: row.maxWatchesShare,
    maxInstancesShare: row.maxInstancesShare,
    leaked: row.leaked,
    gonePods: row.gonePods,
    failures: row.failures,
    lastScrapeAt: new Date(row.lastScrapeAt).toISOString(),
  };
}

/** Nodes a piece of --json holds. */
const JSON_NODES_A_PIECE = 1000;

/**
 * --json: where the figures come from (rules or raw), each cluster's, and the rows, in pieces of
 * a thousand nodes whose text together is jsonText(…, 2) of the whole: 100,000 nodes are never one
 * 25 MB string (nor its objects) at once.
 */
export function* fleetJson(fleet: Fleet, rows: readonly NodeRow[]): Generator<string> {
  const head = jsonText(
    { queries: fleet.mode, clusters: fleet.clusters.map((summary) => ({ ...summary, cluster: clusterOf(summary.cluster) })), nodes: [] },
    2,
  );
  if (rows.length === 0) {
    yield head + '\n';
    return;
  }
  // `  "nodes": []\n}` opened instead, each node indented two levels, and closed.
  yield head.slice(0, -']\n}'.length) + '\n';
  for (let i = 0; i < rows.length; i += JSON_NODES_A_PIECE) {
    const piece = rows.slice(i, i + JSON_NODES_A_PIECE).map((row) => '    ' + jsonText(jsonNode(row), 2).replace(/\n/g, '\n    '));
    yield (i > 0 ? ',\n' : '') + piece.join(',\n');
  }
  yield '\n  ]\n}\n';
}
