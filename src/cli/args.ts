// Flags of plain inotop (the screen, -b, --json), through the one flag parser of src/options.
import type { SortField } from '../model/query.js';
import { parseColumn, parseSortField, shownByDefault, sortableColumns, sortColumn, viewColumns, type ColumnId } from '../views/columns.js';
import { flagName, helpText as renderHelp, parseFlags, positiveInteger, seconds, UsageError, type FlagGroup, type FlagSpec } from '../options/flags.js';
import { OUTPUT_FLAGS, OUTPUT_FORMATS, outputFormatsGiven, type OutputFormatName } from '../views/output.js';
import { NODE_FLAGS, nodeOptions, type NodeOptions } from '../options/node.js';
import { PackageFile } from '../package-files.js';
import type { RecordingSource } from '../record/reader.js';

export { UsageError };

export interface Options extends NodeOptions {
  /** The screen, a printed format (views/output.ts), or a help text. */
  mode: 'tui' | OutputFormatName | 'help' | 'version' | 'sort-help' | 'columns-help';
  iterations: number | null;
  delaySeconds: number;
  targets: boolean;
  pids: number[] | null;
  user: string | null;
  sort: SortField;
  /** Set when -s was given: keeps the field's natural direction otherwise. */
  descending: boolean;
  commandFilter: RegExp | null;
  /** -o: the columns of -b, in this order; 'wide': every one (-o wide); null: its defaults. */
  columns: ColumnId[] | 'wide' | null;
  color: boolean;
  /** Recording file (replaced), or null. */
  record: string | null;
  /** --record adds to the file instead of replacing it. */
  append: boolean;
  /** Show a recording instead of the live node. */
  replay: RecordingSource | null;
  /** Lengthen the screen's interval when a refresh costs too much of it (-d is then a wish). */
  stretch: boolean;
  /** Read and keep the screen's settings (sort, columns, interval, view); --no-config: neither. */
  config: boolean;
  /** -s and -d were given: they win over the saved settings. */
  sortGiven: boolean;
  delayGiven: boolean;
}

/** The refresh interval flag; `inotop serve` takes it too. */
export const DELAY_FLAG: FlagSpec = { long: 'delay', short: 'd', value: 'SECS', help: 'refresh interval in seconds (default 2)' };

/**
 * -o's words as kubectl users mean them (`kubectl get -o json`, `-o wide`); any other -o is a list
 * of columns, as ps's -o. No column is called either.
 */
export const KUBECTL_OUTPUTS = ['json', 'wide'] as const;

const VIEW_FLAGS: readonly FlagSpec[] = [
  ...OUTPUT_FLAGS,
  { long: 'iterations', short: 'n', value: 'N', help: 'with -b or --json: refresh N times, then exit (default 1)' },
  DELAY_FLAG,
  { long: 'targets', help: 'also list each watched inode: path, mount, status, pod' },
  { long: 'pid', short: 'p', value: 'PID[,PID...]', multiple: true, help: 'only these processes' },
  { long: 'user', short: 'u', value: 'USER', help: 'only processes of this user (name or uid)', complete: 'user' },
  {
    long: 'sort',
    short: 's',
    value: 'FIELD',
    help: 'sort by FIELD (default watches); -s help lists them',
    complete: { words: [...sortableColumns('screen').map((spec) => spec.sort!.field), 'help'] },
  },
  { long: 'filter', short: 'F', value: 'REGEX', help: 'only processes whose command line matches' },
  {
    long: 'columns',
    short: 'o',
    // kubectl's name for it.
    aliases: ['output'],
    value: 'json|wide|LIST',
    help: "json: --json; wide: -b with every column; LIST: -b with these columns, in this order (ps's -o); -o help lists them",
    complete: { words: [...KUBECTL_OUTPUTS, ...viewColumns('batch').map((spec) => spec.id), 'help'], commaSeparated: true },
  },
  { long: 'record', value: 'FILE', help: 'write every snapshot to FILE, replacing it (JSON lines; gzip when FILE ends in .gz)', complete: 'file' },
  { long: 'append', help: 'with --record: add to the recording in FILE instead of replacing it' },
  { long: 'replay', value: 'FILE', help: 'show a recording instead of the live node (with -b or --json: print it)', complete: 'file' },
  { long: 'color', defaultOn: true, help: 'no colors (also when NO_COLOR is set or stdout is not a terminal)' },
  { long: 'stretch', defaultOn: true, help: 'keep -d as given, a full scan at every refresh, even when one takes more than 6% of it' },
  { long: 'demo', help: 'replay the recording inotop ships: a leaky kubelet on a node with 150 pods' },
  { long: 'config', defaultOn: true, help: "neither read nor save the screen's settings ($XDG_CONFIG_HOME/inotop/config.json)" },
];

export const HELP_FLAG: FlagSpec = { long: 'help', short: 'h', help: 'show this help' };
const VERSION_FLAG: FlagSpec = { long: 'version', short: 'V', help: 'show the version' };

/** inotop's own flags, grouped as its --help, the man page and the shell completions show them. */
export const INOTOP_FLAG_GROUPS: readonly FlagGroup[] = [
  { title: 'Options', flags: VIEW_FLAGS },
  { title: 'Node and pod source', flags: NODE_FLAGS },
  { title: 'Other', flags: [HELP_FLAG, VERSION_FLAG] },
];
const FLAGS: readonly FlagSpec[] = INOTOP_FLAG_GROUPS.flatMap((group) => group.flags);

/** Shipped in the package (package.json files). */
const DEMO_RECORDING = new PackageFile('fixtures/leaky-kubelet.jsonl.gz');

/** What inotop is, and its usages: --help's first lines, and the man page's synopsis. */
export const INOTOP_SUMMARY = 'who holds the inotify instances and watches, and which pods leaked them';
export const INOTOP_USAGE = [
  'inotop [options]          full-screen view (run as root to see every process)',
  'inotop -b [-n N] [-d S]   text tables',
  'inotop --json [--targets] one JSON snapshot',
  'inotop --replay FILE      a recording made with --record',
  'inotop check [options]    node-problem-detector check: exit 0 fine, 1 problem, 2 cannot tell',
  'inotop serve [options]    Prometheus exporter of this node',
  'inotop fleet [options]    every node, from Prometheus',
  'inotop completion SHELL   a completion script for bash, zsh or fish',
  'inotop install --dest DIR the single executable copies itself to DIR',
];

export function helpText(version: string): string {
  const intro = [
    `inotop ${version}: ${INOTOP_SUMMARY}`,
    '',
    ...INOTOP_USAGE.map((line, i) => `${i === 0 ? 'Usage:' : '      '} ${line}`),
    '       (inotop COMMAND --help for each command)',
  ];
  return renderHelp(intro, INOTOP_FLAG_GROUPS) + '\nKeys on the screen: press ? for help.\n';
}

export function sortHelpText(): string {
  const batch = sortableColumns('batch');
  const screenOnly = sortableColumns('screen').filter((spec) => !batch.includes(spec));
  return (
    'Sort fields (-s FIELD, or its column title):\n' +
    batch.map((spec) => `  ${spec.sort!.field.padEnd(16)} ${spec.title.padEnd(8)} ${spec.help}`).join('\n') +
    `\nOn the screen, also: ${screenOnly.map((spec) => spec.sort!.field).join(', ')}.\n`
  );
}

export function columnsHelpText(): string {
  return (
    '-o json: one JSON snapshot, as --json.\n' +
    "-o wide: the text table of -b with every column below (fanotify's where some process holds a group).\n" +
    '-o ID,ID... (ids or titles): the text table of -b with these columns, in this order (-b may be left out).\n' +
    '\n' +
    'Columns of -b (* shown by default, + where some process holds fanotify groups, ! while some event queue\n' +
    'is not draining or may be full):\n' +
    viewColumns('batch')
      .map((spec) => {
        const mark = shownByDefault(spec, 'batch', false) ? '*' : spec.batch === 'fanotify' ? '+' : spec.batch === 'queues' ? '!' : ' ';
        return `${mark} ${spec.id.padEnd(16)} ${spec.title.padEnd(8)} ${spec.help}`;
      })
      .join('\n') +
    '\n'
  );
}

/** The flags of the formats that print the columns -o names. */
const COLUMN_FLAGS = Object.values(OUTPUT_FORMATS)
  .filter((format) => format.takesColumns)
  .map((format) => flagName(format.flag))
  .join(' or ');

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): Options {
  const flags = parseFlags(FLAGS, argv);
  const str = (name: string): string | null => flags.string(name);
  const flag = (name: string): boolean => flags.boolean(name) === true;

  const sortName = str('sort');
  const output = str('columns');
  let mode: Options['mode'];
  if (flag('help')) mode = 'help';
  else if (flag('version')) mode = 'version';
  else if (sortName === 'help') mode = 'sort-help';
  else if (output === 'help') mode = 'columns-help';
  else {
    // -o json is --json, as kubectl users mean it; -o wide and a column list imply the text table.
    const byOutput = (long: string) => long === 'json' && output === 'json';
    const formats = outputFormatsGiven((long) => flag(long) || byOutput(long));
    const named = (name: OutputFormatName) =>
      byOutput(OUTPUT_FORMATS[name].flag.long) && !flag(OUTPUT_FORMATS[name].flag.long) ? `-o ${output}` : flagName(OUTPUT_FORMATS[name].flag);
    if (formats.length > 1) throw new UsageError(`${formats.map(named).join(' and ')} do not go together`, 'inotop -o help');
    mode = formats[0] ?? (output !== null ? 'batch' : 'tui');
    if (output !== null && output !== 'json' && mode !== 'tui' && !OUTPUT_FORMATS[mode].takesColumns) {
      throw new UsageError(`${flagName(OUTPUT_FORMATS[mode].flag)} prints every field; -o ${output} is for the text table (${COLUMN_FLAGS})`, 'inotop -o help');
    }
  }

  const iterations = str('iterations');
  const delay = str('delay');
  const sort = sortName && sortName !== 'help' ? parseSortField(sortName) : 'watches';
  if (!sort) throw new UsageError(`unknown sort field '${sortName}'`, 'inotop -s help');
  if (flags.boolean('demo') && str('replay') !== null) throw new UsageError('--demo and --replay do not go together');
  const replay = flags.boolean('demo') ? DEMO_RECORDING : str('replay');
  if (str('record') !== null && replay !== null) throw new UsageError('--record and --replay do not go together');
  if (flags.boolean('append') && str('record') === null) throw new UsageError('--append goes with --record FILE');
  const pids = flags.strings('pid').flatMap((list) => list.split(','));
  const format = mode in OUTPUT_FORMATS ? OUTPUT_FORMATS[mode as OutputFormatName] : null;
  const columns = !format?.takesColumns ? null : output === 'wide' ? 'wide' : columnList(output);
  return {
    mode,
    iterations: iterations === null ? null : positiveInteger('-n', iterations),
    delaySeconds: delay === null ? 2 : seconds('-d', delay),
    targets: flag('targets'),
    pids: pids.length === 0 ? null : pids.map((p) => positiveInteger('-p', p.trim())),
    user: str('user'),
    sort,
    descending: sortColumn(sort).sort!.descending,
    commandFilter: str('filter') === null ? null : regex('-F', str('filter')!),
    columns,
    ...nodeOptions(flags),
    color: stdoutIsTTY && flags.boolean('color') !== false && !('NO_COLOR' in env && env.NO_COLOR !== ''),
    record: str('record'),
    append: flags.boolean('append') ?? false,
    replay,
    stretch: flags.boolean('stretch') !== false,
    config: flags.boolean('config') !== false,
    sortGiven: sortName !== null,
    delayGiven: delay !== null,
  };
}

function regex(flag: string, text: string): RegExp {
  try {
    return new RegExp(text, 'i');
  } catch (error) {
    throw new UsageError(`${flag}: invalid regular expression: ${(error as Error).message}`);
  }
}

/** -o's columns, by id or title; null when not given. */
function columnList(text: string | null): ColumnId[] | null {
  if (text === null) return null;
  const names = text.split(',').filter((name) => name.trim() !== '');
  if (names.length === 0) throw new UsageError('-o needs at least one column', 'inotop -o help');
  return names.map((name) => {
    const id = parseColumn(name, 'batch');
    if (!id) throw new UsageError(`unknown column '${name.trim()}'`, 'inotop -o help');
    return id;
  });
}
