// Flags of `inotop fleet`, through the one flag parser (src/options). It scans nothing itself: no
// node flags.
import { oneOf, positiveInteger, seconds, UsageError, type FlagSpec, type SubcommandFlags } from '../options/flags.js';

export const FLEET_SORT_FIELDS = ['node', 'watches', 'instances', 'leaked', 'gone', 'failures', 'scrape'] as const;
export type FleetSortField = (typeof FLEET_SORT_FIELDS)[number];

export interface FleetOptions {
  prometheus: string;
  mode: 'tui' | 'batch' | 'json';
  intervalMs: number;
  sort: FleetSortField;
  filter: RegExp | null;
  /** --cluster: a regex Prometheus matches cluster labels with (RE2, anchored); null: every cluster. */
  cluster: string | null;
  /** Each query, its body included. */
  timeoutMs: number;
  /** Each answer's bytes; null: in proportion to the fleet (nodes.ts). */
  maxResponseBytes: number | null;
  color: boolean;
}

const FLAGS: readonly FlagSpec[] = [
  { long: 'prometheus', value: 'URL', help: 'the Prometheus that scrapes inotop serve (e.g. http://prometheus:9090)' },
  { long: 'batch', short: 'b', help: 'print a text table instead of the screen' },
  { long: 'json', help: 'print the nodes as JSON' },
  { long: 'delay', short: 'd', value: 'SECS', help: 'on the screen: query every SECS seconds (default 15)' },
  { long: 'sort', short: 's', value: 'FIELD', help: `sort by ${FLEET_SORT_FIELDS.join(', ')} (default watches)`, complete: { words: FLEET_SORT_FIELDS } },
  { long: 'filter', short: 'F', value: 'REGEX', help: 'only nodes whose name matches' },
  { long: 'cluster', value: 'REGEX', help: 'only clusters whose cluster label matches (a PromQL regex: whole label, RE2)' },
  { long: 'query-timeout', value: 'SECS', help: 'give up on a query after SECS seconds, its answer included (default 10)' },
  {
    long: 'max-response-bytes',
    value: 'N',
    help: 'refuse an answer longer than N bytes (default 1 MiB and 1 KiB a node, from the node count Prometheus gives)',
  },
  { long: 'color', defaultOn: true, help: 'no colors (also when NO_COLOR is set or stdout is not a terminal)' },
];

export const FLEET_FLAGS: SubcommandFlags<FleetOptions> = {
  intro: [
    'Usage: inotop fleet --prometheus URL [-b | --json]   one row per node, from the inotop_* series in Prometheus',
    '',
    'On the screen: Enter opens a node (its top processes and leaked pods); ? lists the keys.',
  ],
  flags: FLAGS,
  scansNode: false,
  options(flags, env, stdoutIsTTY) {
    const value = (name: string): string | null => flags.string(name);
    const prometheus = value('prometheus');
    if (prometheus === null) throw new UsageError('--prometheus URL is needed: the Prometheus that scrapes inotop serve');
    const filter = value('filter');
    const maxResponseBytes = value('max-response-bytes');
    let filterRegex: RegExp | null;
    try {
      filterRegex = filter === null ? null : new RegExp(filter, 'i');
    } catch (error) {
      throw new UsageError(`-F: invalid regular expression: ${(error as Error).message}`);
    }
    return {
      prometheus: prometheusUrl(prometheus),
      mode: flags.boolean('json') ? 'json' : flags.boolean('batch') ? 'batch' : 'tui',
      intervalMs: seconds('-d', value('delay') ?? '15') * 1000,
      sort: oneOf('-s', value('sort') ?? 'watches', FLEET_SORT_FIELDS),
      filter: filterRegex,
      cluster: value('cluster'),
      timeoutMs: seconds('--query-timeout', value('query-timeout') ?? '10') * 1000,
      maxResponseBytes: maxResponseBytes === null ? null : positiveInteger('--max-response-bytes', maxResponseBytes),
      color: stdoutIsTTY && flags.boolean('color') !== false && !('NO_COLOR' in env && env.NO_COLOR !== ''),
    };
  },
};

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
