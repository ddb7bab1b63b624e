// Flags of `inotop check`, `inotop serve` and `inotop fleet`, through the same parser and help
// renderer as plain inotop (src/options); the node and pod source flags are the very same table.
import type { FleetCommand } from './commands.js';
import { helpText, oneOf, parseFlags, seconds, UsageError, wholeNumber, type FlagSpec } from '../options/flags.js';
import { NODE_FLAGS, nodeOptions, type NodeOptions } from '../options/node.js';

/**
 * Not on Prometheus's default port allocations page: its 9100-9999 range is fully allocated. 19742 is
 * also clear of Kubernetes' own ports (10248-10260), the NodePort range (30000-32767) and Linux's
 * ephemeral ports (32768-60999), so a host-network pod can take it too.
 */
export const DEFAULT_PORT = 19742;

const HELP_FLAG: FlagSpec = { long: 'help', short: 'h', help: 'show this help' };

const CHECK_FLAGS: readonly FlagSpec[] = [
  { long: 'instances-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of max_user_instances or more (default 90%)' },
  { long: 'watches-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of max_user_watches or more (default 90%)' },
  { long: 'fanotify-groups-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of fs.fanotify.max_user_groups or more (default 90%)' },
  { long: 'fanotify-marks-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of fs.fanotify.max_user_marks or more (default 90%)' },
  { long: 'fail-on-leaked', help: 'leaked watches are a problem (default; =false skips path and pod work)' },
  { long: 'pods-timeout', value: 'SECS', help: 'wait this long for the live pod list (default 2)' },
  { long: 'deadline', value: 'SECS', help: 'the verdict by then, else exit 2 "cannot tell in time"; nothing runs on after it (default 4)' },
];

const SERVE_FLAGS: readonly FlagSpec[] = [
  {
    long: 'web.listen-address',
    aliases: ['listen'],
    value: '[ADDR]:PORT',
    help: `serve /metrics, /-/healthy, /-/ready here (default :${DEFAULT_PORT}, every address; port 0: any free one)`,
  },
  { long: 'web.config.file', value: 'FILE', help: 'TLS and basic auth, in the exporter-toolkit web config format' },
  { long: 'interval', short: 'd', aliases: ['delay'], value: 'SECS', help: 'scan every SECS seconds, whatever the scrape rate (default 15)' },
  { long: 'top', value: 'N', help: 'per-process series for the N processes with most watches and most instances (default 20)' },
  { long: 'node-name', value: 'NAME', help: "the node label of every series (default: hostname; with --replay the recording's host)" },
  { long: 'textfile', value: 'DIR', help: "write DIR/inotop.prom for node_exporter's textfile collector instead of listening" },
  { long: 'replay', value: 'FILE', help: 'serve the snapshots of a recording on its own timing, then hold the last one' },
];

export const FLEET_SORT_FIELDS = ['node', 'watches', 'instances', 'leaked', 'gone', 'failures', 'scrape'] as const;
export type FleetSortField = (typeof FLEET_SORT_FIELDS)[number];

const FLEET_FLAGS: readonly FlagSpec[] = [
  { long: 'prometheus', value: 'URL', help: 'the Prometheus that scrapes inotop serve (e.g. http://prometheus:9090)' },
  { long: 'batch', short: 'b', help: 'print a text table instead of the screen' },
  { long: 'json', help: 'print the nodes as JSON' },
  { long: 'delay', short: 'd', value: 'SECS', help: 'on the screen: query every SECS seconds (default 15)' },
  { long: 'sort', short: 's', value: 'FIELD', help: `sort by ${FLEET_SORT_FIELDS.join(', ')} (default watches)` },
  { long: 'filter', short: 'F', value: 'REGEX', help: 'only nodes whose name matches' },
  { long: 'color', defaultOn: true, help: 'no colors (also when NO_COLOR is set or stdout is not a terminal)' },
];

export interface CheckOptions {
  shared: NodeOptions;
  /** Fractions of the limits; null: not checked. */
  instancesThreshold: number | null;
  watchesThreshold: number | null;
  fanotifyGroupsThreshold: number | null;
  fanotifyMarksThreshold: number | null;
  failOnLeaked: boolean;
  podsTimeoutMs: number;
  /** The verdict is out, and every child stopped, by then (node-problem-detector kills a plugin at 5 s). */
  deadlineMs: number;
}

export interface ListenAddress {
  /** null: every address (`:PORT`). */
  host: string | null;
  port: number;
}

export interface ServeOptions {
  shared: NodeOptions;
  listen: ListenAddress;
  webConfigFile: string | null;
  intervalMs: number;
  top: number;
  /** null: the hostname (or the recording's host with --replay). */
  nodeName: string | null;
  textfile: string | null;
  replay: string | null;
}

export interface FleetOptions {
  prometheus: string;
  mode: 'tui' | 'batch' | 'json';
  intervalMs: number;
  sort: FleetSortField;
  filter: RegExp | null;
  color: boolean;
}

export type FleetArgs =
  | { command: 'help'; text: string }
  | { command: 'check'; options: CheckOptions }
  | { command: 'serve'; options: ServeOptions }
  | { command: 'fleet'; options: FleetOptions };

const OWN_FLAGS: Record<FleetCommand, readonly FlagSpec[]> = { check: CHECK_FLAGS, serve: SERVE_FLAGS, fleet: FLEET_FLAGS };
/** fleet scans nothing itself: no node flags. */
const TAKES_NODE_FLAGS: Record<FleetCommand, boolean> = { check: true, serve: true, fleet: false };

export function parseFleetArgs(command: FleetCommand, argv: string[], env: NodeJS.ProcessEnv = {}, stdoutIsTTY = false): FleetArgs {
  const flags = parseFlags([...OWN_FLAGS[command], ...(TAKES_NODE_FLAGS[command] ? NODE_FLAGS : []), HELP_FLAG], argv);
  if (flags.boolean('help')) return { command: 'help', text: fleetHelpText(command) };
  const value = (name: string): string | null => flags.string(name);
  switch (command) {
    case 'check':
      return {
        command,
        options: {
          shared: nodeOptions(flags),
          instancesThreshold: threshold('--instances-threshold', value('instances-threshold') ?? '90%'),
          watchesThreshold: threshold('--watches-threshold', value('watches-threshold') ?? '90%'),
          fanotifyGroupsThreshold: threshold('--fanotify-groups-threshold', value('fanotify-groups-threshold') ?? '90%'),
          fanotifyMarksThreshold: threshold('--fanotify-marks-threshold', value('fanotify-marks-threshold') ?? '90%'),
          failOnLeaked: flags.boolean('fail-on-leaked') ?? true,
          podsTimeoutMs: seconds('--pods-timeout', value('pods-timeout') ?? '2') * 1000,
          deadlineMs: seconds('--deadline', value('deadline') ?? '4') * 1000,
        },
      };
    case 'serve': {
      const textfile = value('textfile');
      const replay = value('replay');
      if (textfile !== null && value('web.listen-address') !== null) throw new UsageError('--textfile and --web.listen-address do not go together');
      return {
        command,
        options: {
          shared: nodeOptions(flags),
          listen: listenAddress(value('web.listen-address') ?? `:${DEFAULT_PORT}`),
          webConfigFile: value('web.config.file'),
          intervalMs: seconds('--interval', value('interval') ?? '15') * 1000,
          top: wholeNumber('--top', value('top') ?? '20'),
          nodeName: value('node-name'),
          textfile,
          replay,
        },
      };
    }
    case 'fleet': {
      const prometheus = value('prometheus');
      if (prometheus === null) throw new UsageError('--prometheus URL is needed: the Prometheus that scrapes inotop serve');
      const filter = value('filter');
      let filterRegex: RegExp | null;
      try {
        filterRegex = filter === null ? null : new RegExp(filter, 'i');
      } catch (error) {
        throw new UsageError(`-F: invalid regular expression: ${(error as Error).message}`);
      }
      return {
        command,
        options: {
          prometheus: prometheusUrl(prometheus),
          mode: flags.boolean('json') ? 'json' : flags.boolean('batch') ? 'batch' : 'tui',
          intervalMs: seconds('-d', value('delay') ?? '15') * 1000,
          sort: oneOf('-s', value('sort') ?? 'watches', FLEET_SORT_FIELDS),
          filter: filterRegex,
          color: stdoutIsTTY && flags.boolean('color') !== false && !('NO_COLOR' in env && env.NO_COLOR !== ''),
        },
      };
    }
  }
}

const INTROS: Record<FleetCommand, string[]> = {
  check: [
    'Usage: inotop check [options]   one verdict, for node-problem-detector (custom plugin)',
    '',
    'Exit 0: fine; 1: a problem (a user near an inotify limit, leaked watches); 2: cannot tell.',
    'One line on stdout, at most 80 characters, names the problem.',
  ],
  serve: [
    'Usage: inotop serve [options]   Prometheus exporter of this node, scanned in the background',
    '',
    'Serves /metrics, /-/healthy and /-/ready (/healthz: the same as /-/healthy); a scrape never starts a scan.',
  ],
  fleet: [
    'Usage: inotop fleet --prometheus URL [-b | --json]   one row per node, from the inotop_* series in Prometheus',
    '',
    'On the screen: Enter opens a node (its top processes and leaked pods); ? lists the keys.',
  ],
};

export function fleetHelpText(command: FleetCommand): string {
  const groups = [{ title: 'Options', flags: OWN_FLAGS[command] }];
  if (TAKES_NODE_FLAGS[command]) groups.push({ title: 'Node and pod source (as for inotop itself)', flags: NODE_FLAGS });
  groups.push({ title: 'Other', flags: [HELP_FLAG] });
  return helpText(INTROS[command], groups) + '\nBoolean flags also take =true, =false and a --no- prefix.\n';
}

/** "90%", "90" or "off"; a fraction of the limit. */
function threshold(flag: string, text: string): number | null {
  if (text === 'off') return null;
  const percent = Number(text.replace(/%$/, ''));
  if (text.trim() === '' || !Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new UsageError(`${flag}: expected a percentage in (0, 100] or 'off', got '${text}'`);
  }
  return percent / 100;
}

/** ":19742" (every address), "127.0.0.1:19742", "[::1]:19742", "localhost:0". */
export function listenAddress(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--web.listen-address: expected [ADDR]:PORT (e.g. :${DEFAULT_PORT}), got '${text}'`);
  const host = match[1] ?? match[2]!;
  return { host: host === '' ? null : host, port };
}

function prometheusUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--prometheus: expected a URL (e.g. http://prometheus:9090), got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--prometheus: expected an http or https URL, got '${text}'`);
  return url.href.replace(/\/+$/, '');
}
