// Flags of `inotop serve`, through the one flag parser (src/options); the node and pod source
// flags are the very same table as plain inotop's (the node's name, --node, is the series' label too).
import { seconds, UsageError, wholeNumber, type FlagSpec, type SubcommandFlags } from '../options/flags.js';
import { nodeOptions, type NodeOptions } from '../options/node.js';

/**
 * Not on Prometheus's default port allocations page: its 9100-9999 range is fully allocated. 19742 is
 * also clear of Kubernetes' own ports (10248-10260), the NodePort range (30000-32767) and Linux's
 * ephemeral ports (32768-60999), so a host-network pod can take it too.
 */
export const DEFAULT_PORT = 19742;

/** Process groups and leaked pods with series of their own: with these, a node exports at most 60 inotop_* series (metrics.ts). */
export const DEFAULT_TOP = 3;
export const DEFAULT_TOP_LEAKS = 4;

export interface ListenAddress {
  /** null: every address (`:PORT`). */
  host: string | null;
  port: number;
}

export interface ServeOptions {
  /** Its nodeName is the node label of every series (null: the hostname, or the recording's host with --replay). */
  shared: NodeOptions;
  listen: ListenAddress;
  webConfigFile: string | null;
  intervalMs: number;
  top: number;
  topLeaks: number;
  /** The cluster label of every series (--cluster); null: none. */
  cluster: string | null;
  /** prom-client's process and nodejs_* series beside inotop's (off: --web.disable-exporter-metrics). */
  exporterMetrics: boolean;
  textfile: string | null;
  replay: string | null;
}

const FLAGS: readonly FlagSpec[] = [
  {
    long: 'web.listen-address',
    aliases: ['listen'],
    value: '[ADDR]:PORT',
    help: `serve /metrics, /-/healthy, /-/ready here (default :${DEFAULT_PORT}, every address; port 0: any free one)`,
  },
  { long: 'web.config.file', value: 'FILE', help: 'TLS and basic auth, in the exporter-toolkit web config format', complete: 'file' },
  { long: 'interval', short: 'd', aliases: ['delay'], value: 'SECS', help: 'scan every SECS seconds, whatever the scrape rate (default 15)' },
  {
    long: 'top',
    value: 'N',
    help: `series for N groups of processes (same command, same pod): most leaked, most watches, most instances in turn; the rest summed (default ${DEFAULT_TOP})`,
  },
  {
    long: 'top-leaks',
    value: 'N',
    help: `at most N series of leaked watches, for the pods with most (each pod whole); the rest summed per form (default ${DEFAULT_TOP_LEAKS})`,
  },
  { long: 'cluster', value: 'NAME', help: 'a cluster label on every series (or set one by relabelling in Prometheus)' },
  { long: 'web.disable-exporter-metrics', help: "no process_* and nodejs_* series of inotop's own (as node_exporter's flag)" },
  { long: 'textfile', value: 'DIR', help: "write DIR/inotop.prom for node_exporter's textfile collector instead of listening", complete: 'directory' },
  { long: 'replay', value: 'FILE', help: 'serve the snapshots of a recording on its own timing, then hold the last one', complete: 'file' },
];

export const SERVE_FLAGS: SubcommandFlags<ServeOptions> = {
  intro: [
    'Usage: inotop serve [options]   Prometheus exporter of this node, scanned in the background',
    '',
    'Serves /metrics, /-/healthy and /-/ready (/healthz: the same as /-/healthy); a scrape never starts a scan.',
    "Every series has a node label: --node, else the hostname (with --replay the recording's host).",
  ],
  flags: FLAGS,
  scansNode: true,
  options(flags) {
    const value = (name: string): string | null => flags.string(name);
    const textfile = value('textfile');
    if (textfile !== null && value('web.listen-address') !== null) throw new UsageError('--textfile and --web.listen-address do not go together');
    return {
      shared: nodeOptions(flags),
      listen: listenAddress(value('web.listen-address') ?? `:${DEFAULT_PORT}`),
      webConfigFile: value('web.config.file'),
      intervalMs: seconds('--interval', value('interval') ?? '15') * 1000,
      top: wholeNumber('--top', value('top') ?? String(DEFAULT_TOP)),
      topLeaks: wholeNumber('--top-leaks', value('top-leaks') ?? String(DEFAULT_TOP_LEAKS)),
      cluster: clusterName(value('cluster')),
      exporterMetrics: flags.boolean('web.disable-exporter-metrics') !== true,
      textfile,
      replay: value('replay'),
    };
  },
};

/** ":19742" (every address), "127.0.0.1:19742", "[::1]:19742", "localhost:0". */
export function listenAddress(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--web.listen-address: expected [ADDR]:PORT (e.g. :${DEFAULT_PORT}), got '${text}'`);
  const host = match[1] ?? match[2]!;
  return { host: host === '' ? null : host, port };
}

/** A label value: any text but empty (an empty label is no label to Prometheus). */
function clusterName(text: string | null): string | null {
  if (text === null) return null;
  if (text === '') throw new UsageError('--cluster: expected a name (an empty label is no label)');
  return text;
}
