// The detail pane's model of one process's targets: its order (leaked first, then most watched
// first), the `l` and `/` filters, and the rows of one window of it. The screen asks for a window
// and holds only that: a process with 500,000 watches has 500,000 targets, and a screen that held
// (and cloned across threads) a row for each took hundreds of megabytes. Whoever holds the
// process's targets (the collector's thread, or a recording's snapshot) answers with paneSlice().
// What is kept per process is numbers: an id per shown target, in typed arrays, made once per
// list and filter. How wide the pane's cells are is the screen's (views/target-pane.ts).
import { podLabel, targetPathText } from './target-text.js';
import type { TargetRow } from './types.js';

/** What the screen asks of a process's targets: a window of them, narrowed as the pane is. */
export interface PaneAsk {
  pid: number;
  /** `l`: leaked targets only. */
  leakedOnly: boolean;
  /** `/` in the pane: a regular expression's source (matched without case) on the path and the pod; null: none. */
  filter: string | null;
  /** The window: its first target's place in the shown order, and how many. */
  from: number;
  count: number;
}

/** The answer to a PaneAsk: the window's rows and how many there are in all. */
export interface PaneSlice {
  ask: PaneAsk;
  /** The place of rows[0] in the shown order (the ask's `from`, or less near the end). */
  from: number;
  rows: TargetRow[];
  /** How many targets show (after the filters), and how many the process has. */
  total: number;
  all: number;
}

/**
 * A process's targets as the pane reads them, whoever holds them: ids in the pane's order, which
 * are leaked, and the rows of a few ids. The collector's thread keeps numbers per target and
 * builds the rows of a window when asked; a recording's snapshot (or a test's) has every row
 * (rowsSource).
 */
export interface PaneSource {
  /** Every target of the process: the count the pane says "of". */
  readonly length: number;
  /** Target ids, leaked first, then most watched first. */
  readonly order: Int32Array;
  leaked(id: number): boolean;
  rows(ids: ArrayLike<number>): TargetRow[];
}

const rowsSources = new WeakMap<readonly TargetRow[], PaneSource>();

/** Every row held: leaked targets first, each part in the list's order (most watched first). */
export function rowsSource(targets: readonly TargetRow[]): PaneSource {
  let source = rowsSources.get(targets);
  if (source) return source;
  const order = new Int32Array(targets.length);
  let at = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i]!.leak !== null) order[at++] = i;
  for (let i = 0; i < targets.length; i++) if (targets[i]!.leak === null) order[at++] = i;
  source = {
    length: targets.length,
    order,
    leaked: (id) => targets[id]!.leak !== null,
    rows: (ids) => Array.from(ids, (id) => targets[id]!),
  };
  rowsSources.set(targets, source);
  return source;
}

/** The targets that show, as ids in the pane's order: the last filters asked of each source. */
interface Shown {
  leakedOnly: boolean;
  filter: string | null;
  ids: Int32Array;
}

const shownOf = new WeakMap<PaneSource, Shown>();

/** Rows built at a time to match a `/` filter: a source that builds rows (looking their paths up) keeps no more than these. */
const FILTER_CHUNK = 8192;

function shown(source: PaneSource, leakedOnly: boolean, filter: string | null): Int32Array {
  const kept = shownOf.get(source);
  if (kept && kept.leakedOnly === leakedOnly && kept.filter === filter) return kept.ids;
  let ids = source.order;
  if (leakedOnly) ids = ids.filter((id) => source.leaked(id));
  if (filter !== null) {
    const regex = new RegExp(filter, 'i');
    const out = new Int32Array(ids.length);
    let at = 0;
    for (let start = 0; start < ids.length; start += FILTER_CHUNK) {
      const chunk = ids.subarray(start, start + FILTER_CHUNK);
      source.rows(chunk).forEach((target, i) => {
        if (regex.test(targetPathText(target)) || regex.test(podLabel(target.pod))) out[at++] = chunk[i]!;
      });
    }
    ids = out.slice(0, at);
  }
  shownOf.set(source, { leakedOnly, filter, ids });
  return ids;
}

/**
 * The window `ask` names of a process's targets, in the pane's order and narrowed by its
 * filters. A window past the end moves back to end there: End asks for "the last ones" without
 * knowing how many show.
 */
export function paneSlice(source: PaneSource, ask: PaneAsk): PaneSlice {
  const ids = shown(source, ask.leakedOnly, ask.filter);
  const count = Math.max(0, Math.min(ask.count, ids.length));
  const from = Math.max(0, Math.min(ask.from, ids.length - count));
  return { ask, from, rows: source.rows(ids.subarray(from, from + count)), total: ids.length, all: source.length };
}

/** A target with nothing to say: its cells are the narrowest. */
export const NO_TARGET: TargetRow = {
  kind: 'inotify',
  dev: '',
  ino: 0,
  watches: 0,
  fds: [],
  mask: 0,
  path: null,
  mountpoint: null,
  mountpointRemembered: false,
  fstype: null,
  status: 'ok',
  reason: null,
  heldBy: [],
  holders: [],
  pod: null,
  leak: null,
};
