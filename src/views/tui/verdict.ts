// The header's verdict: one line says what is wrong and who to look at, so that nobody has to
// read the table to know. Most urgent first: processes blocked on fanotify permission answers
// (views/traffic.ts), a queue losing events, a leak (below), a queue not draining. Pure.
//
// A leak's line says who leaks, on which pods, and who keeps it alive.
// It shortens by dropping detail, in order: pod names past the first two, pod names, the
// holders' comms, the other leaking processes' counts, words, the pods. Pids stay: they are what one acts on.
import { grouped } from '../../common/format.js';
import type { ProcessRow, Snapshot, WatchedPod } from '../../model/types.js';
import { leakingProcesses } from '../../model/query.js';
import { displayWidth, fitColumns } from '../../common/width.js';
import { blockedVerdict, queueIssues, queueVerdict } from '../traffic.js';

/** How much a verdict says; each level drops something the one before said. */
const LEVELS = 7;
/** The level that says pods by count and holders by pid. */
const PIDS_ONLY = 3;

/** Whether the header has a verdict line: something blocks, leaks, or a queue falls behind. */
export function hasVerdict(snapshot: Snapshot): boolean {
  return blockedVerdict(snapshot.permissionWaits) !== null || leakingProcesses(snapshot.processes).length > 0 || queueIssues(snapshot.processes).length > 0;
}

/** The verdict at `width` columns, or null when nothing is wrong. */
export function verdictLine(snapshot: Snapshot, width: number): string | null {
  const blocked = shortest((level) => blockedVerdict(snapshot.permissionWaits, level), 3, width);
  if (blocked !== null) return blocked;
  const queue = shortest((level) => queueVerdict(snapshot, level), 2, width);
  if (queueIssues(snapshot.processes)[0]?.state === 'may be full') return queue;
  return leakLine(snapshot, width) ?? queue;
}

/** The first of a verdict's `levels` that fits, else the last one cut; null when there is none. */
function shortest(at: (level: number) => string | null, levels: number, width: number): string | null {
  for (let level = 0; level < levels; level++) {
    const text = at(level);
    if (text === null) return null;
    if (displayWidth(text) <= width) return text;
  }
  const last = at(levels - 1);
  return last === null ? null : fitColumns(last, width);
}

/** The leak's verdict at `width` columns, or null when nothing leaks. */
function leakLine(snapshot: Snapshot, width: number): string | null {
  const leaking = leakingProcesses(snapshot.processes);
  if (leaking.length === 0) return null;
  for (let level = 0; level < LEVELS; level++) {
    const text = verdictAt(leaking, level);
    if (displayWidth(text) <= width) return text;
  }
  // Too many holders for one line: the count of pods, as many pids as fit, and how many more.
  const holders = leaking[0]?.leakHolders.length ?? 0;
  for (let shown = holders - 1; shown > 0; shown--) {
    const text = verdictAt(leaking, PIDS_ONLY, shown);
    if (displayWidth(text) <= width) return text;
  }
  return fitColumns(verdictAt(leaking, LEVELS - 1), width);
}

function verdictAt(leaking: ProcessRow[], level: number, holdersShown = Infinity): string {
  const [first, ...others] = leaking as [ProcessRow, ...ProcessRow[]];
  let text = `LEAK ${processVerdict(first, level, holdersShown)}`;
  if (others.length === 0) return text;
  if (level < 4) text += `; also ${others.map((row) => `${row.comm} ${row.pid}: ${grouped(row.leaked)}`).join(', ')}`;
  else text += `; ${others.length} more leaking: ${others.map((row) => row.pid).join(' ')}`;
  return text;
}

function processVerdict(row: ProcessRow, level: number, holdersShown: number): string {
  const words = level < 5;
  let text = `${row.comm} ${row.pid}: ${words ? plural(row.leaked, 'watch', 'watches') : grouped(row.leaked)}`;
  const pods = row.watchedPods.filter((entry) => entry.leaked > 0);
  if (pods.length > 0 && level < 6) {
    const allGone = pods.every((entry) => entry.pod.state === 'gone');
    const kind = allGone && words ? 'gone ' : '';
    text += ` on ${pods.length} ${kind}pod${pods.length === 1 ? '' : 's'}${podNames(pods, level)}`;
  }
  const holders = row.leakHolders;
  if (holders.length > 0) {
    const shown = holders.slice(0, holdersShown).map((holder) => (level < 3 ? `${holder.pid} ${holder.comm}` : String(holder.pid)));
    const more = holders.length - shown.length;
    text += `, kept by ${shown.join(level < 3 ? ', ' : ' ')}${more > 0 ? ` +${more} more` : ''}`;
  }
  return text;
}

function podNames(pods: WatchedPod[], level: number): string {
  if (level >= 2) return '';
  const names = pods.map((entry) => entry.pod.name ?? entry.pod.uid.slice(0, 8));
  if (level === 0 || names.length <= 2) return ` (${names.join(', ')})`;
  return ` (${names.slice(0, 2).join(', ')}, …)`;
}

function plural(n: number, one: string, many: string): string {
  return `${grouped(n)} ${n === 1 ? one : many}`;
}
