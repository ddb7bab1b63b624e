// Flags of `inotop check` and `inotop serve`. Each subcommand pulls out its own flags; the pod
// and procfs flags it shares with plain inotop go through the main parser (parseOptions), so they
// mean exactly the same thing everywhere.
import { parseOptions, UsageError, type Options } from '../cli/args.js';

export type FleetCommand = 'check' | 'serve';

interface FleetFlag {
  long: string;
  /** Placeholder of the value; none for a boolean flag. */
  value?: string;
  help: string;
}

const CHECK_FLAGS: readonly FleetFlag[] = [
  { long: 'instances-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of max_user_instances or more (default 90%)' },
  { long: 'watches-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of max_user_watches or more (default 90%)' },
  { long: 'fail-on-leaked', value: '[=true|false]', help: 'leaked watches are a problem (default true; false skips path and pod work)' },
  { long: 'pods-timeout', value: 'SECS', help: 'wait this long for the live pod list (default 2)' },
];

const SERVE_FLAGS: readonly FleetFlag[] = [
  { long: 'listen', value: 'ADDR:PORT', help: 'serve /metrics and /healthz here (default 127.0.0.1:9742; port 0: any free one)' },
  { long: 'interval', value: 'SECS', help: 'scan every SECS seconds, whatever the scrape rate (default 15)' },
  { long: 'top', value: 'N', help: 'per-process series for the N processes with most watches and most instances (default 20)' },
  { long: 'textfile', value: 'DIR', help: "write DIR/inotop.prom for node_exporter's textfile collector instead of listening" },
];

/** Flags of plain inotop that the subcommands take too; true when the flag takes a value. */
const SHARED_FLAGS: ReadonlyMap<string, boolean> = new Map([
  ['proc', true],
  ['pods', true],
  ['runtime-endpoint', true],
  ['crictl', true],
  ['kubectl', true],
  ['kubelet-root', true],
  ['node', true],
  ['force-walk', false],
  ['no-trace', false],
]);

export interface CheckOptions {
  shared: Options;
  /** Fractions of the limits; null: not checked. */
  instancesThreshold: number | null;
  watchesThreshold: number | null;
  failOnLeaked: boolean;
  podsTimeoutMs: number;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface ServeOptions {
  shared: Options;
  listen: ListenAddress;
  intervalMs: number;
  top: number;
  textfile: string | null;
}

export type FleetArgs =
  | { command: 'help'; text: string }
  | { command: 'check'; options: CheckOptions }
  | { command: 'serve'; options: ServeOptions };

export function parseFleetArgs(command: FleetCommand, argv: string[]): FleetArgs {
  const own = command === 'check' ? CHECK_FLAGS : SERVE_FLAGS;
  const { values, rest } = splitArgs(own, argv);
  const shared = parseOptions(rest, {}, false);
  if (shared.mode === 'help') return { command: 'help', text: fleetHelpText(command) };
  const value = (name: string): string | undefined => values.get(name);
  if (command === 'check') {
    return {
      command,
      options: {
        shared,
        instancesThreshold: threshold('--instances-threshold', value('instances-threshold') ?? '90%'),
        watchesThreshold: threshold('--watches-threshold', value('watches-threshold') ?? '90%'),
        failOnLeaked: boolean('--fail-on-leaked', value('fail-on-leaked') ?? 'true'),
        podsTimeoutMs: seconds('--pods-timeout', value('pods-timeout') ?? '2') * 1000,
      },
    };
  }
  return {
    command,
    options: {
      shared,
      listen: listenAddress(value('listen') ?? '127.0.0.1:9742'),
      intervalMs: seconds('--interval', value('interval') ?? '15') * 1000,
      top: count('--top', value('top') ?? '20'),
      textfile: value('textfile') ?? null,
    },
  };
}

export function fleetHelpText(command: FleetCommand): string {
  const lines =
    command === 'check'
      ? [
          'Usage: inotop check [options]   one verdict, for node-problem-detector (custom plugin)',
          '',
          'Exit 0: fine; 1: a problem (a user near an inotify limit, leaked watches); 2: cannot tell.',
          'One line on stdout, at most 80 characters, names the problem.',
        ]
      : [
          'Usage: inotop serve [options]   Prometheus metrics of this node, scanned in the background',
          '',
          'Serves /metrics and /healthz; a scrape never starts a scan of its own.',
        ];
  lines.push('', 'Options:');
  for (const flag of command === 'check' ? CHECK_FLAGS : SERVE_FLAGS) {
    const name = `--${flag.long}${flag.value ? `${flag.value.startsWith('[') ? '' : ' '}${flag.value}` : ''}`;
    lines.push(`  ${name.padEnd(30)} ${flag.help}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(30)} show this help`);
  lines.push('', `Also, as for inotop itself (see inotop --help): ${[...SHARED_FLAGS.keys()].map((f) => `--${f}`).join(', ')}.`);
  return lines.join('\n') + '\n';
}

/** The subcommand's own flags by name, and the arguments left for parseOptions. */
function splitArgs(own: readonly FleetFlag[], argv: string[]): { values: Map<string, string>; rest: string[] } {
  const values = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      rest.push(arg);
      continue;
    }
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unexpected argument '${arg}'`);
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    const flag = own.find((f) => f.long === name);
    if (flag) {
      // fail-on-leaked is a boolean that also takes =true|false.
      const takesNext = flag.value !== undefined && !flag.value.startsWith('[');
      const value = inline ?? (takesNext ? argv[++i] : 'true');
      if (value === undefined) throw new UsageError(`--${name} needs a value (${flag.value})`);
      values.set(name, value);
      continue;
    }
    const sharedTakesValue = SHARED_FLAGS.get(name);
    if (sharedTakesValue === undefined) throw new UsageError(`no option --${name} here`);
    rest.push(arg);
    if (sharedTakesValue && inline === undefined && i + 1 < argv.length) rest.push(argv[++i]!);
  }
  return { values, rest };
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

function boolean(flag: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new UsageError(`${flag}: expected true or false, got '${text}'`);
}

function seconds(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0.1) throw new UsageError(`${flag}: expected a number of seconds >= 0.1, got '${text}'`);
  return n;
}

function count(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag}: expected a whole number, got '${text}'`);
  return Number(text);
}

/** "127.0.0.1:9742", "[::1]:9742", "0.0.0.0:0". */
function listenAddress(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--listen: expected ADDR:PORT (e.g. 127.0.0.1:9742), got '${text}'`);
  return { host: match[1] ?? match[2]!, port };
}
