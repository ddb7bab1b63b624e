// The printed outputs of plain inotop (a one-shot run, -n N, a printed replay): each format one
// file, an OutputFormat with its own flag. A new one is its file and its entry below; cli/ takes
// its flag and prints through it with no case of its own.
import type { FlagSpec } from '../options/flags.js';
import type { ProcessRow, Snapshot } from '../model/types.js';
import type { ColumnId } from './columns.js';
import { TEXT_OUTPUT } from './batch.js';
import { JSON_OUTPUT } from './json.js';

export interface PrintOptions {
  /** --targets: each process's watched inodes too. */
  withTargets: boolean;
  color: boolean;
  /** Terminal width to cut a wide column at; null: never cut (a pipe). */
  width: number | null;
  /** `-o`: these columns in this order; 'wide': every one (`-o wide`); null: the format's defaults. */
  columns?: readonly ColumnId[] | 'wide' | null;
}

/** Where a printed snapshot stands: alone, or one of several (-n N, a replay), from 0. */
export interface SeriesPlace {
  index: number;
  series: boolean;
  /** What the snapshot is of, when not the live node (a replay's host and snapshot). */
  title: string | null;
}

export interface OutputFormat {
  /** The flag that asks for it. */
  flag: FlagSpec;
  /** It prints the columns -o names. */
  takesColumns: boolean;
  /** One snapshot, `rows` the processes the flags select in their order; ends with a newline. */
  render(snapshot: Snapshot, rows: ProcessRow[], options: PrintOptions, place: SeriesPlace): string;
}

export const OUTPUT_FORMATS = { batch: TEXT_OUTPUT, json: JSON_OUTPUT } as const satisfies Record<string, OutputFormat>;

export type OutputFormatName = keyof typeof OUTPUT_FORMATS;

export const OUTPUT_FLAGS: readonly FlagSpec[] = Object.values(OUTPUT_FORMATS).map((format) => format.flag);

/** The formats whose flags are given: none for the screen; more than one is a mistake the caller says. */
export function outputFormatsGiven(given: (long: string) => boolean): OutputFormatName[] {
  return (Object.keys(OUTPUT_FORMATS) as OutputFormatName[]).filter((name) => given(OUTPUT_FORMATS[name].flag.long));
}
