// What `inotop fleet` asks Prometheus. Each column of the table is one series per node, from a
// recording rule of deploy/prometheus/inotop-fleet-rules.yaml where the rules run, else from the
// same expression over the raw series (a test holds the two equal). Dense columns have a value for
// every node and are read a few node shards at a time; sparse ones exist only where not 0.
import { CLUSTER_LABEL, NODE_LABEL, SHARD_LABEL } from '../serve/labels.js';

export type QueryMode = 'rules' | 'raw';

/** Where the figures come from, for people: the recording rules, or the raw series and why. */
export function queriesText(mode: QueryMode): string {
  return mode === 'rules' ? 'from the recording rules' : 'from raw series: no recording rules in this Prometheus (deploy/prometheus/inotop-fleet-rules.yaml)';
}

export type NodeColumn = 'lastScrape' | 'watchesShare' | 'instancesShare' | 'leaked' | 'gonePods' | 'failures';

/** Every node has one: lastScrape lists the nodes (every healthy exporter has inotop_build_info). */
export const DENSE_COLUMNS: readonly NodeColumn[] = ['lastScrape', 'watchesShare', 'instancesShare'];
/** Only where not 0: what they cost grows with the nodes that leak or fail, not with the fleet. */
export const SPARSE_COLUMNS: readonly NodeColumn[] = ['leaked', 'gonePods', 'failures'];

const BY_NODE = `by (${CLUSTER_LABEL}, ${NODE_LABEL}, ${SHARD_LABEL})`;

export interface Rule {
  record: string;
  /** The rule's expression, with `m` the label matchers of every raw selector ('' in the rules file). */
  expr(m: string): string;
}

/** A selector of `name` with the matchers `extra` and `m` (each comma-separated, or ''). */
function select(name: string, m: string, extra = ''): string {
  const all = [extra, m].filter((part) => part !== '').join(',');
  return all === '' ? name : `${name}{${all}}`;
}

/**
 * The highest share of a limit any user (charge key) is charged on a node: against the limit in
 * force for it; from an exporter without inotop_user_*_limit, its host users against the host's.
 */
function shareExpr(what: 'watches' | 'instances', m: string): string {
  const perKey = `${select(`inotop_user_${what}`, m)} / ${select(`inotop_user_${what}_limit`, m)}`;
  const before = `${select(`inotop_user_${what}`, m, 'userns=""')} / ignoring(uid, user, userns) group_left ${select(`inotop_max_user_${what}`, m)}`;
  return `max ${BY_NODE} (${perKey} or ${before})`;
}

export const NODE_RULES: Record<NodeColumn, Rule> = {
  watchesShare: { record: 'node:inotop_watches_share:max', expr: (m) => shareExpr('watches', m) },
  instancesShare: { record: 'node:inotop_instances_share:max', expr: (m) => shareExpr('instances', m) },
  lastScrape: { record: 'node:inotop_last_scrape_timestamp_seconds:max', expr: (m) => `max ${BY_NODE} (timestamp(${select('inotop_build_info', m)}))` },
  leaked: {
    record: 'node:inotop_leaked_watches:sum',
    expr: (m) => `max ${BY_NODE} (sum by (${CLUSTER_LABEL}, ${NODE_LABEL}, ${SHARD_LABEL}, instance) (${select('inotop_leaked_watches', m)})) > 0`,
  },
  gonePods: { record: 'node:inotop_gone_pods:max', expr: (m) => `max ${BY_NODE} (${select('inotop_gone_pods', m)}) > 0` },
  failures: { record: 'node:inotop_scan_failures_total:max', expr: (m) => `max ${BY_NODE} (${select('inotop_scan_failures_total', m)}) > 0` },
};

export type ClusterField = 'nodes' | 'watchesShare' | 'instancesShare' | 'leakingNodes' | 'leaked' | 'gonePods' | 'failingNodes';

/** The per-cluster rules, from the per-node ones (the header's figures); read in one query. */
export const CLUSTER_RULES: Record<ClusterField, Rule> = {
  nodes: { record: 'cluster:inotop_nodes:count', expr: () => `count by (${CLUSTER_LABEL}) (${NODE_RULES.lastScrape.record})` },
  watchesShare: { record: 'cluster:inotop_watches_share:max', expr: () => `max by (${CLUSTER_LABEL}) (${NODE_RULES.watchesShare.record})` },
  instancesShare: { record: 'cluster:inotop_instances_share:max', expr: () => `max by (${CLUSTER_LABEL}) (${NODE_RULES.instancesShare.record})` },
  leakingNodes: { record: 'cluster:inotop_leaking_nodes:count', expr: () => `count by (${CLUSTER_LABEL}) (${NODE_RULES.leaked.record})` },
  leaked: { record: 'cluster:inotop_leaked_watches:sum', expr: () => `sum by (${CLUSTER_LABEL}) (${NODE_RULES.leaked.record})` },
  gonePods: { record: 'cluster:inotop_gone_pods:sum', expr: () => `sum by (${CLUSTER_LABEL}) (${NODE_RULES.gonePods.record})` },
  failingNodes: { record: 'cluster:inotop_failing_nodes:count', expr: () => `count by (${CLUSTER_LABEL}) (${NODE_RULES.failures.record})` },
};

/** Some node shards; with `unlabelled`, also the series that have no node_shard label. */
export interface ShardGroup {
  shards: readonly number[];
  unlabelled: boolean;
}

/** Which nodes a query is about: the clusters matching a regex (RE2, anchored, as PromQL's =~), some shards. */
export interface Selection {
  cluster: string | null;
  /** null: every shard. */
  shards: ShardGroup | null;
}

/**
 * The label matchers of a selection, `cluster=~"…",node_shard=~"3|35"` or ''. The empty
 * alternative (`"|3|35"`) matches series without the label (exporters from before it) too: only
 * one group asks for it, since Prometheus finds those by going through every other shard's series.
 */
export function matchers(selection: Selection): string {
  const parts: string[] = [];
  if (selection.cluster !== null) parts.push(`${CLUSTER_LABEL}=~${promqlString(selection.cluster)}`);
  const group = selection.shards;
  if (group !== null) parts.push(`${SHARD_LABEL}=~"${group.unlabelled ? '|' : ''}${group.shards.join('|')}"`);
  return parts.join(',');
}

/** A PromQL string literal: PromQL strings escape as Go's, which JSON's escapes are a subset of. */
export function promqlString(text: string): string {
  return JSON.stringify(text);
}

export function nodeQuery(mode: QueryMode, column: NodeColumn, selection: Selection): string {
  const rule = NODE_RULES[column];
  return mode === 'rules' ? select(rule.record, matchers(selection)) : rule.expr(matchers(selection));
}

/** Every per-cluster recorded series in one query: their names tell which figure each is. */
export function clusterRulesQuery(cluster: string | null): string {
  const names = Object.values(CLUSTER_RULES)
    .map((rule) => rule.record)
    .join('|');
  const clusterMatcher = cluster === null ? '' : `,${CLUSTER_LABEL}=~${promqlString(cluster)}`;
  return `{__name__=~${promqlString(names)}${clusterMatcher}}`;
}

/** Without rules: the nodes of each cluster, once, to size the answers to expect. */
export function rawNodeCountQuery(cluster: string | null): string {
  return `count by (${CLUSTER_LABEL}) (${select('inotop_build_info', matchers({ cluster, shards: null }))})`;
}

/** A node's own series (its detail): the selector of one cluster's node ('' matches no cluster label). */
export function nodeSelector(cluster: string, node: string): string {
  return `{${CLUSTER_LABEL}=${promqlString(cluster)},${NODE_LABEL}=${promqlString(node)}}`;
}
