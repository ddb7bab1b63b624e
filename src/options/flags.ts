// The one flag parser and help renderer of every command (inotop, check, serve, fleet): a table of
// flags drives node:util parseArgs and --help alike. On top of parseArgs: aliases, repeated flags
// that accumulate, and boolean flags that take `--x`, `--x=true|false` and `--no-x`.
import { parseArgs } from 'node:util';

export interface FlagSpec {
  long: string;
  short?: string;
  /** Other long names for the same flag (e.g. an older name kept working). */
  aliases?: readonly string[];
  /** Placeholder of the value; none for a boolean flag. */
  value?: string;
  /** Every occurrence counts (`-p 1 -p 2`); otherwise the last one wins. */
  multiple?: boolean;
  /** For a boolean that is on unless turned off: help shows `--no-LONG`. */
  defaultOn?: boolean;
  help: string;
  /** What its value can be, for shell completion; none: nothing to offer. */
  complete?: FlagValues;
}

/** A flag value's completion: a file, a directory, a user name, or one of some words (comma-separated: a list of them). */
export type FlagValues = 'file' | 'directory' | 'user' | { words: readonly string[]; commaSeparated?: boolean };

export class UsageError extends Error {
  /** Where to read more; the caller adds its own `see ... --help` when this is null. */
  constructor(
    message: string,
    readonly seeAlso: string | null = null,
  ) {
    super(message);
  }
}

export interface ParsedFlags {
  /** The last value of a flag that takes one, or null. */
  string(long: string): string | null;
  /** Every value of a flag that takes one, in order. */
  strings(long: string): string[];
  /** A boolean flag: true, false (`--no-x`, `--x=false`), or null when not given. */
  boolean(long: string): boolean | null;
}

export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[]): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) for (const name of [spec.long, ...(spec.aliases ?? [])]) byName.set(name, spec);
  const args = booleanValuesAsNegation(argv, byName);
  // parseArgs checks every option it is given, in code run once per process (some 1 ms of a
  // one-shot's start for a table of 60): it is given those the arguments can name, which are all it
  // looks up, so its tokens and errors are the same.
  const { longs, shorts } = namedIn(args);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of byName) {
    const short = spec.short && name === spec.long ? spec.short : undefined;
    if (!longs.has(name) && !longs.has(`no-${name}`) && !(short !== undefined && shorts.has(short))) continue;
    options[name] = { type: spec.value ? 'string' : 'boolean', ...(short !== undefined ? { short } : {}) };
    if (!spec.value) options[`no-${name}`] = { type: 'boolean' };
  }
  let tokens;
  try {
    tokens = parseArgs({ args, options, strict: true, allowPositionals: false, tokens: true }).tokens;
  } catch (error) {
    throw new UsageError(parseArgsMessage(error as Error, specs, argv));
  }
  const strings = new Map<FlagSpec, string[]>();
  const booleans = new Map<FlagSpec, boolean>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const negated = !byName.has(token.name) && token.name.startsWith('no-');
    const spec = byName.get(negated ? token.name.slice(3) : token.name)!;
    if (spec.value) {
      const values = strings.get(spec) ?? [];
      strings.set(spec, spec.multiple ? [...values, token.value!] : [token.value!]);
    } else {
      booleans.set(spec, !negated);
    }
  }
  const lookup = (long: string): FlagSpec => {
    const spec = byName.get(long);
    if (!spec) throw new Error(`no flag --${long} in this table`);
    return spec;
  };
  return {
    string: (long) => strings.get(lookup(long))?.at(-1) ?? null,
    strings: (long) => strings.get(lookup(long)) ?? [],
    boolean: (long) => booleans.get(lookup(long)) ?? null,
  };
}

/** The long names (`--name`, `--name=value`) and the short letters (`-x`, `-xyz`, `-x1`) the arguments hold, wherever they are. */
function namedIn(args: readonly string[]): { longs: Set<string>; shorts: Set<string> } {
  const longs = new Set<string>();
  const shorts = new Set<string>();
  for (const arg of args) {
    if (arg.startsWith('--')) longs.add(arg.slice(2).split('=', 1)[0]!);
    else if (arg.startsWith('-')) for (const letter of arg.slice(1)) shorts.add(letter);
  }
  return { longs, shorts };
}

/**
 * `--x=true|false` and `--x true|false` of a boolean flag become `--x` and `--no-x`, which parseArgs
 * knows. No command takes positionals, so a lone `true` or `false` after a boolean is its value.
 */
function booleanValuesAsNegation(argv: readonly string[], byName: ReadonlyMap<string, FlagSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const spec = match ? byName.get(match[1]!) : undefined;
    if (!match || !spec || spec.value) {
      out.push(arg);
      continue;
    }
    const [, name] = match as unknown as [string, string];
    let value = match[2];
    if (value === undefined && (argv[i + 1] === 'true' || argv[i + 1] === 'false')) value = argv[++i];
    if (value === undefined || value === 'true') out.push(`--${name}`);
    else if (value === 'false') out.push(`--no-${name}`);
    else throw new UsageError(`--${name}: expected true or false, got '${value}'`);
  }
  return out;
}

/** parseArgs' first sentence, without its advice about positionals (no command here takes any); a guess for an unknown flag. */
function parseArgsMessage(error: Error, specs: readonly FlagSpec[], argv: readonly string[]): string {
  const first = error.message.split('\n')[0]!;
  const unknown = /^Unknown option '([^']+)'/.exec(first);
  if (unknown) {
    const guess = didYouMean(unknown[1]!, specs, argv);
    return guess ? `no option ${guess.typed} (did you mean ${guess.meant}?)` : `no option ${unknown[1]}`;
  }
  const positional = /^Unexpected argument '([^']*)'/.exec(first);
  if (positional) return `unexpected argument '${positional[1]}'`;
  return first.replace(/\. To specify.*$/, '').replace(/\.$/, '');
}

/** Every spelling a flag of `specs` is accepted in: --long, --alias, --no-long for booleans. */
export function longNames(specs: readonly FlagSpec[]): string[] {
  return specs.flatMap((spec) => [spec.long, ...(spec.aliases ?? [])].flatMap((name) => (spec.value ? [`--${name}`] : [`--${name}`, `--no-${name}`])));
}

/**
 * The flag meant by an unknown one, as git and cargo guess: one edit away (a typo, two letters
 * swapped) in a short name, two in a longer one, or the start of exactly one. `-json` for
 * `--json` too: parseArgs reports one of its letters, as short flags run together.
 */
function didYouMean(unknown: string, specs: readonly FlagSpec[], argv: readonly string[]): { typed: string; meant: string } | null {
  let typed = unknown;
  if (/^-[^-]$/.test(unknown)) {
    const runTogether = argv.find((arg) => /^-[^-]/.test(arg) && arg.length > 2 && arg.split('=')[0]!.includes(unknown[1]!));
    if (!runTogether) return null;
    typed = runTogether.split('=')[0]!;
  }
  const word = typed.replace(/^-+/, '');
  const names = longNames(specs);
  const scored = names.map((name) => ({ name, distance: editDistance(word, name.slice(2)) }));
  const best = Math.min(...scored.map((s) => s.distance));
  const closest = scored.filter((s) => s.distance === best && best <= (word.length <= 4 ? 1 : 2));
  if (closest.length === 1) return { typed, meant: closest[0]!.name };
  const extending = names.filter((name) => word.length >= 3 && name.startsWith(`--${word}`));
  return extending.length === 1 ? { typed, meant: extending[0]! } : null;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The flag as a message names it: its short form if it has one. */
export function flagName(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}` : `--${spec.long}`;
}

/** Where a flag's help starts in --help, after its names. */
const FLAG_NAMES_WIDTH = 30;

/**
 * The options part of --help: one line per flag, in table order; names too long for their column
 * have the help on the next line, in the column, as GNU tools do (not run on after one space).
 */
export function flagHelpLines(specs: readonly FlagSpec[]): string[] {
  return specs.map((flag) => {
    const long = flag.defaultOn ? `no-${flag.long}` : flag.long;
    const names = [`--${long}`, ...(flag.aliases ?? []).map((alias) => `--${alias}`)].join(', ');
    const name = `${flag.short ? `-${flag.short}, ` : '    '}${names}${flag.value ? ` ${flag.value}` : ''}`;
    const help = `${flag.help}${flag.multiple ? ' (may be repeated)' : ''}`;
    if (name.length <= FLAG_NAMES_WIDTH) return `  ${name.padEnd(FLAG_NAMES_WIDTH)} ${help}`;
    return `  ${name}\n${' '.repeat(FLAG_NAMES_WIDTH + 3)}${help}`;
  });
}

/** A subcommand's flags (check, serve, fleet): what cli/subcommand.ts parses its arguments with. */
export interface SubcommandFlags<Options> {
  /** The first lines of its --help: usage, what it does. */
  intro: readonly string[];
  flags: readonly FlagSpec[];
  /** It scans this node: it takes the node and pod source flags (options/node.ts) too. */
  scansNode: boolean;
  options(flags: ParsedFlags, env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): Options;
}

/** Flags under a title, as --help, the man page and the completions group them. */
export interface FlagGroup {
  title: string;
  flags: readonly FlagSpec[];
}

/** A help text: what the command does, then its flags in groups. */
export function helpText(intro: readonly string[], groups: readonly FlagGroup[]): string {
  const lines = [...intro];
  for (const group of groups) lines.push('', `${group.title}:`, ...flagHelpLines(group.flags));
  return lines.join('\n') + '\n';
}

// Value checks shared by the commands; `flag` names the flag in the message.

export function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new UsageError(`${flag}: expected a positive integer, got '${text}'`);
  return n;
}

export function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag}: expected a whole number, got '${text}'`);
  return Number(text);
}

export function seconds(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0.1) throw new UsageError(`${flag}: expected a number of seconds >= 0.1, got '${text}'`);
  return n;
}

export function oneOf<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if (!choices.includes(text as T)) throw new UsageError(`${flag}: expected one of ${choices.join(', ')}, got '${text}'`);
  return text as T;
}
