// Command-line flags: one table drives parsing and --help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CollectorOptions } from '../collect/collector.js';
import { BATCH_SORT_FIELDS, parseSortField, SORT_FIELDS, type SortField } from '../model/query.js';
import { POD_SOURCE_KINDS as POD_SOURCES, type PodSourceKind } from '../pods/index.js';

/** The flags; those that configure a refresh are the collector's own options. */
export interface Options extends Omit<CollectorOptions, 'intervalSeconds'> {
  mode: 'tui' | 'batch' | 'json' | 'help' | 'version' | 'sort-help';
  iterations: number | null;
  delaySeconds: number;
  targets: boolean;
  pids: number[] | null;
  user: string | null;
  sort: SortField;
  /** Set when -s was given: keeps the field's natural direction otherwise. */
  descending: boolean;
  commandFilter: RegExp | null;
  color: boolean;
  /** Show a recording instead of the live node. */
  replay: string | null;
}

export class UsageError extends Error {}

interface FlagSpec {
  long: string;
  short?: string;
  value?: string;
  help: string;
}

const FLAGS: readonly FlagSpec[] = [
  { long: 'batch', short: 'b', help: 'print plain text tables instead of the screen (like top -b)' },
  { long: 'iterations', short: 'n', value: 'N', help: 'with -b or --json: refresh N times, then exit (default 1)' },
  { long: 'delay', short: 'd', value: 'SECS', help: 'refresh interval in seconds (default 2)' },
  { long: 'json', help: 'print one snapshot as JSON and exit' },
  { long: 'targets', help: 'also list each watched inode: path, mount, status, pod' },
  { long: 'pid', short: 'p', value: 'PID[,PID...]', help: 'only these processes' },
  { long: 'user', short: 'u', value: 'USER', help: 'only processes of this user (name or uid)' },
  { long: 'sort', short: 's', value: 'FIELD', help: 'sort by FIELD (default watches); -s help lists them' },
  { long: 'filter', short: 'F', value: 'REGEX', help: 'only processes whose command line matches' },
  { long: 'proc', value: 'DIR', help: 'procfs root to scan (default /proc)' },
  { long: 'pods', value: 'SOURCE', help: `live pod list from ${POD_SOURCES.join(', ')} (default auto)` },
  {
    long: 'runtime-endpoint',
    value: 'unix:///SOCK',
    help: 'container runtime CRI socket (default: $CONTAINER_RUNTIME_ENDPOINT, /etc/crictl.yaml, the usual sockets)',
  },
  { long: 'crictl', value: 'PATH', help: 'crictl binary (default: from PATH)' },
  { long: 'kubectl', value: 'PATH', help: 'kubectl binary (default: from PATH)' },
  { long: 'kubelet-root', value: 'DIR', help: 'kubelet root directory (default /var/lib/kubelet)' },
  { long: 'node', value: 'NAME', help: 'node name for the kubectl pod source (default: hostname)' },
  { long: 'record', value: 'FILE', help: 'append every snapshot to FILE (JSON lines; gzip when FILE ends in .gz)' },
  { long: 'replay', value: 'FILE', help: 'show a recording instead of the live node (with -b or --json: print it)' },
  { long: 'force-walk', help: 'resolve paths by walking mounts, never by file handle' },
  { long: 'no-trace', help: 'do not trace failed inotify calls (tracefs)' },
  { long: 'no-color', help: 'no colors (also when NO_COLOR is set or stdout is not a terminal)' },
  { long: 'help', short: 'h', help: 'show this help' },
  { long: 'version', short: 'V', help: 'show the version' },
];

export function helpText(version: string): string {
  const lines = [
    `inotop ${version}: who holds the inotify instances and watches, and which pods leaked them`,
    '',
    'Usage: inotop [options]          full-screen view (run as root to see every process)',
    '       inotop -b [-n N] [-d S]   text tables',
    '       inotop --json [--targets] one JSON snapshot',
    '       inotop --replay FILE      a recording made with --record',
    '       inotop check [options]    node-problem-detector check: exit 0 fine, 1 problem, 2 cannot tell',
    '       inotop serve [options]    Prometheus metrics (see inotop check --help, inotop serve --help)',
    '',
    'Options:',
  ];
  for (const flag of FLAGS) {
    const name = `${flag.short ? `-${flag.short}, ` : '    '}--${flag.long}${flag.value ? ` ${flag.value}` : ''}`;
    lines.push(`  ${name.padEnd(28)} ${flag.help}`);
  }
  lines.push('', 'Keys on the screen: press ? for help.');
  return lines.join('\n') + '\n';
}

export function sortHelpText(): string {
  return (
    'Sort fields (-s FIELD):\n' +
    SORT_FIELDS.filter((spec) => BATCH_SORT_FIELDS.includes(spec.field))
      .map((spec) => `  ${spec.field.padEnd(10)} ${spec.description}`)
      .join('\n') +
    '\nOn the screen, also: delta, deltaStart.\n'
  );
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): Options {
  const config: ParseArgsConfig = {
    args: argv,
    strict: true,
    allowPositionals: false,
    options: Object.fromEntries(
      FLAGS.map((f) => [f.long, { type: f.value ? ('string' as const) : ('boolean' as const), ...(f.short ? { short: f.short } : {}) }]),
    ),
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs(config).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''));
  }
  const str = (name: string): string | null => (typeof values[name] === 'string' ? (values[name] as string) : null);
  const flag = (name: string): boolean => values[name] === true;

  const sortName = str('sort');
  let mode: Options['mode'] = 'tui';
  if (flag('help')) mode = 'help';
  else if (flag('version')) mode = 'version';
  else if (sortName === 'help') mode = 'sort-help';
  else if (flag('json')) mode = 'json';
  else if (flag('batch')) mode = 'batch';

  const iterations = str('iterations');
  const delay = str('delay');
  const sort = sortName && sortName !== 'help' ? parseSortField(sortName) : 'watches';
  if (!sort) throw new UsageError(`unknown sort field '${sortName}' (see -s help)`);
  if (str('record') !== null && str('replay') !== null) throw new UsageError('--record and --replay do not go together');
  const pods = str('pods') ?? 'auto';
  if (!POD_SOURCES.includes(pods as PodSourceKind)) {
    throw new UsageError(`unknown pod source '${pods}' (one of ${POD_SOURCES.join(', ')})`);
  }
  return {
    mode,
    iterations: iterations === null ? null : positiveInteger('-n', iterations),
    delaySeconds: delay === null ? 2 : positiveNumber('-d', delay),
    targets: flag('targets'),
    pids: str('pid') === null ? null : str('pid')!.split(',').map((p) => positiveInteger('-p', p.trim())),
    user: str('user'),
    sort,
    descending: SORT_FIELDS.find((s) => s.field === sort)!.descendingByDefault,
    commandFilter: str('filter') === null ? null : regex('-F', str('filter')!),
    procRoot: str('proc') ?? '/proc',
    pods: pods as PodSourceKind,
    runtimeEndpoint: str('runtime-endpoint'),
    crictl: str('crictl'),
    kubectl: str('kubectl'),
    kubeletRoot: (str('kubelet-root') ?? '/var/lib/kubelet').replace(/\/+$/, '') || '/',
    nodeName: str('node'),
    forceWalk: flag('force-walk'),
    trace: !flag('no-trace'),
    color: stdoutIsTTY && !flag('no-color') && !('NO_COLOR' in env && env.NO_COLOR !== ''),
    record: str('record'),
    replay: str('replay'),
  };
}

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new UsageError(`${flag}: expected a positive integer, got '${text}'`);
  return n;
}

function positiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0.1) {
    throw new UsageError(`${flag}: expected a number of seconds >= 0.1, got '${text}'`);
  }
  return n;
}

function regex(flag: string, text: string): RegExp {
  try {
    return new RegExp(text, 'i');
  } catch (error) {
    throw new UsageError(`${flag}: invalid regular expression: ${(error as Error).message}`);
  }
}

/** What one refresh needs of the flags; plain data, for the scan worker too. */
export function collectorOptions(options: Options): CollectorOptions {
  return {
    procRoot: options.procRoot,
    pods: options.pods,
    runtimeEndpoint: options.runtimeEndpoint,
    crictl: options.crictl,
    kubectl: options.kubectl,
    kubeletRoot: options.kubeletRoot,
    nodeName: options.nodeName,
    forceWalk: options.forceWalk,
    trace: options.trace,
    record: options.record,
    intervalSeconds: options.delaySeconds,
  };
}
