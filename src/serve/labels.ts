// The labels inotop serve puts on every series and inotop fleet reads back: no prom-client here,
// so that the fleet view (and the CLI's flag tables) load without it.

/** The node's name (--node), so that a fleet view names nodes, not pod IPs. */
export const NODE_LABEL = 'node';
/** Set by `serve --cluster`, or by Prometheus's relabelling: nodes of two clusters may share names. */
export const CLUSTER_LABEL = 'cluster';
/**
 * A hash of the node's name, 0 to NODE_SHARDS - 1: `inotop fleet` reads a big fleet's per-node
 * series a few shards at a time (node_shard=~"3|35"), so that Prometheus selects only those
 * nodes' series for a refresh, not the whole fleet's.
 */
export const SHARD_LABEL = 'node_shard';
export const NODE_SHARDS = 64;
/** The value of label sets summed together past a bound (a process group, a pod, a failure). */
export const OTHER = '_other';

/** FNV-1a over the name's UTF-8, modulo NODE_SHARDS: the same node lands in the same shard everywhere. */
export function nodeShard(node: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(node, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % NODE_SHARDS;
}

/** The labels every series has: node, its shard, and the cluster when set. */
export function defaultLabels(node: string, cluster: string | null): Record<string, string> {
  return { [NODE_LABEL]: node, [SHARD_LABEL]: String(nodeShard(node)), ...(cluster !== null ? { [CLUSTER_LABEL]: cluster } : {}) };
}
