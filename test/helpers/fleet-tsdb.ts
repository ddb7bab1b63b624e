// A fleet in a real Prometheus TSDB, without a fleet: the inotop_* series of real `serve --replay`
// scrapes (a leaky node's and a healthy one's) copied to N nodes with their own node, node_shard,
// cluster, instance and job labels and their own figures, written as OpenMetrics and backfilled
// with `promtool tsdb create-blocks-from openmetrics`. Two clusters share node names; every tenth
// node leaks; some fail scans, a few lag; some names are hostile (escapes, braces, wide
// characters). The figures each node must show in `inotop fleet` come with it.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeRow } from '../../src/fleet/nodes.js';
import { CLUSTER_LABEL, NODE_LABEL, nodeShard, SHARD_LABEL } from '../../src/serve/labels.js';
import { inotopBin } from './build.js';
import { eventually } from './eventually.js';

export const PROMTOOL = '/usr/bin/promtool';

export interface TemplateSample {
  name: string;
  /** Without node, node_shard and cluster: each node gets its own. */
  labels: Record<string, string>;
  value: number;
}

export interface Templates {
  leaky: TemplateSample[];
  healthy: TemplateSample[];
}

/** The inotop_* samples of a text exposition (what /metrics serves). */
export function parseExposition(text: string): TemplateSample[] {
  const samples: TemplateSample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('inotop_')) continue;
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      if (pair[1] === NODE_LABEL || pair[1] === SHARD_LABEL || pair[1] === CLUSTER_LABEL) continue;
      labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * One scrape of `serve --replay FILE ...args` (on a port of its own) once `ready` says it has what
 * it should (the replay's later snapshots).
 */
export async function scrapeReplay(
  recording: string,
  ready: (samples: TemplateSample[]) => boolean,
  args: readonly string[] = ['--web.disable-exporter-metrics'],
): Promise<TemplateSample[]> {
  const child = spawn(process.execPath, [inotopBin, 'serve', '--replay', recording, ...args, '--web.listen-address', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const port = await eventually(
      () => {
        const found = /serving http:\/\/[^ ]*:(\d+)\//.exec(stderr)?.[1];
        if (!found) throw new Error(`serve --replay ${recording} did not say where it listens: ${stderr}`);
        return found;
      },
      { timeoutMs: 20_000 },
    );
    return await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`);
        const samples = parseExposition(await response.text());
        if (!response.ok || !ready(samples)) throw new Error(`no ready scrape of ${recording} yet`);
        return samples;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } finally {
    child.kill();
    await once(child, 'exit');
  }
}

/** Real scrapes of the two fixtures: the leaky node once it leaks, the healthy one at its first scan. */
export async function realScrapes(repo: string): Promise<Templates> {
  const [leaky, healthy] = await Promise.all([
    scrapeReplay(join(repo, 'fixtures/leaky-kubelet.jsonl.gz'), (s) => s.some((x) => x.name === 'inotop_gone_pods' && x.value > 0)),
    scrapeReplay(join(repo, 'fixtures/healthy-node.jsonl'), (s) => s.some((x) => x.name === 'inotop_user_watches')),
  ]);
  return { leaky, healthy };
}

export interface FleetSpec {
  /** Nodes in each cluster, named alike in every cluster. */
  nodesPerCluster: number;
  /** '' for series without a cluster label. */
  clusters: readonly string[];
  /** Extra nodes with these names in the first cluster. */
  hostileNames?: readonly string[];
  /** The scrape time of the freshest nodes, seconds since the epoch. */
  at: number;
}

/** What a node must show: the row `inotop fleet` reads (its shard as a number). */
export type ExpectedNode = Omit<NodeRow, 'shard'> & { shard: number };

interface FleetNode {
  cluster: string;
  clusterIndex: number;
  node: string;
  index: number;
}

export const nodeName = (i: number): string => `ip-10-${(i >> 16) & 255}-${(i >> 8) & 255}-${i & 255}.ec2.internal`;

function fleetNodes(spec: FleetSpec): FleetNode[] {
  const nodes: FleetNode[] = [];
  spec.clusters.forEach((cluster, clusterIndex) => {
    for (let i = 0; i < spec.nodesPerCluster; i++) nodes.push({ cluster, clusterIndex, node: nodeName(i), index: i + clusterIndex * 7 });
  });
  (spec.hostileNames ?? []).forEach((node, i) => nodes.push({ cluster: spec.clusters[0]!, clusterIndex: 0, node, index: spec.nodesPerCluster + i }));
  return nodes;
}

/** What makes one node unlike another: its template and figures, from its index alone. */
function figures(node: FleetNode, spec: FleetSpec) {
  const i = node.index;
  return {
    leaky: i % 10 === 3,
    watchesShare: ((i * 7919) % 997) / 1000,
    instancesShare: ((i * 104729) % 991) / 1000,
    leakFactor: 1 + (i % 5),
    extraGone: i % 7,
    failures: i % 97 === 5 ? 1 + (i % 4) : 0,
    // A few nodes lag: Prometheus has not scraped them for minutes.
    scrapedAt: spec.at - (i % 1000 === 500 ? 200 : i % 30),
  };
}

/** The node's value of a template sample. */
function valueOf(sample: TemplateSample, f: ReturnType<typeof figures>, limits: { watches: number; instances: number }): number {
  switch (sample.name) {
    case 'inotop_user_watches':
      return sample.labels.uid === '0' ? Math.round(f.watchesShare * limits.watches) : sample.value;
    case 'inotop_user_instances':
      return sample.labels.uid === '0' ? Math.round(f.instancesShare * limits.instances) : sample.value;
    case 'inotop_leaked_watches':
    case 'inotop_process_leaked_watches':
      return sample.value * f.leakFactor;
    case 'inotop_gone_pods':
      return sample.value + (f.leaky ? f.extraGone : 0);
    case 'inotop_scan_failures_total':
      return f.failures;
    default:
      return sample.value;
  }
}

const limitOf = (samples: TemplateSample[], name: string) => samples.find((s) => s.name === name)!.value;

function expected(node: FleetNode, spec: FleetSpec, templates: Templates): ExpectedNode {
  const f = figures(node, spec);
  const samples = f.leaky ? templates.leaky : templates.healthy;
  const limits = { watches: limitOf(samples, 'inotop_max_user_watches'), instances: limitOf(samples, 'inotop_max_user_instances') };
  const values = (name: string) => samples.filter((s) => s.name === name).map((s) => valueOf(s, f, limits));
  // Each user against the limit in force for it, else (an exporter before those) a host user against the host's.
  const highest = (what: 'watches' | 'instances', hostLimit: number) => {
    const shares = samples
      .filter((s) => s.name === `inotop_user_${what}`)
      .flatMap((s) => {
        const own = samples.find((l) => l.name === `inotop_user_${what}_limit` && l.labels.uid === s.labels.uid && l.labels.userns === s.labels.userns);
        const limit = own ? valueOf(own, f, limits) : s.labels.userns === '' ? hostLimit : null;
        return limit ? [valueOf(s, f, limits) / limit] : [];
      });
    return shares.length > 0 ? Math.max(...shares) : null;
  };
  return {
    cluster: node.cluster,
    node: node.node,
    shard: nodeShard(node.node),
    maxWatchesShare: highest('watches', limits.watches),
    maxInstancesShare: highest('instances', limits.instances),
    leaked: values('inotop_leaked_watches').reduce((a, b) => a + b, 0),
    gonePods: values('inotop_gone_pods').reduce((a, b) => a + b, 0),
    failures: f.failures,
    lastScrapeAt: f.scrapedAt * 1000,
  };
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Writes the fleet as OpenMetrics to `path` (metric families whole, as the format wants); what each node must show. */
export async function writeFleet(path: string, spec: FleetSpec, templates: Templates): Promise<ExpectedNode[]> {
  const nodes = fleetNodes(spec);
  const out = createWriteStream(path);
  let buffer = '';
  const write = async (text: string) => {
    buffer += text;
    if (buffer.length < 1 << 20) return;
    const chunk = buffer;
    buffer = '';
    if (!out.write(chunk)) await once(out, 'drain');
  };
  const names = [...new Set([...templates.leaky, ...templates.healthy].map((s) => s.name))];
  const params = nodes.map((node) => {
    const f = figures(node, spec);
    const samples = f.leaky ? templates.leaky : templates.healthy;
    const limits = { watches: limitOf(samples, 'inotop_max_user_watches'), instances: limitOf(samples, 'inotop_max_user_instances') };
    const own = [
      `${NODE_LABEL}="${escapeLabel(node.node)}"`,
      `${SHARD_LABEL}="${nodeShard(node.node)}"`,
      ...(node.cluster ? [`${CLUSTER_LABEL}="${escapeLabel(node.cluster)}"`] : []),
      `instance="10.${node.clusterIndex}.${(node.index >> 8) & 255}.${node.index & 255}:19742"`,
      'job="inotop"',
    ].join(',');
    return { f, samples, limits, own };
  });
  for (const name of names) {
    const counter = name.endsWith('_total');
    await write(`# TYPE ${counter ? name.slice(0, -'_total'.length) : name} ${counter ? 'counter' : 'gauge'}\n`);
    for (const { f, samples, limits, own } of params) {
      for (const sample of samples) {
        if (sample.name !== name) continue;
        const labels = Object.entries(sample.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
        await write(`${name}{${[...labels, own].join(',')}} ${valueOf(sample, f, limits)} ${f.scrapedAt}\n`);
      }
    }
  }
  buffer += '# EOF\n';
  out.end(buffer);
  await once(out, 'finish');
  return nodes.map((node) => expected(node, spec, templates));
}

/** A Prometheus data directory holding the fleet (`dir`/data), and what each node must show. */
export async function fleetTsdb(dir: string, spec: FleetSpec, templates: Templates): Promise<{ data: string; nodes: ExpectedNode[] }> {
  mkdirSync(dir, { recursive: true });
  const input = join(dir, 'fleet.om');
  const data = join(dir, 'data');
  const nodes = await writeFleet(input, spec, templates);
  execFileSync(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', input, data], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  rmSync(input);
  return { data, nodes };
}
