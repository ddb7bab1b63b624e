// The header: the title (host, time, pace, pod source, parts that do not fit left out whole), the
// verdict (verdict.ts), a line of meters per user, the node's totals, the notes and the alert:
// the processes waiting on a permission answer, else failed calls. The sparkline beside it is a widget (screen.ts), titled here.
import { grouped } from '../../../common/format.js';
import { POD_LIST_PENDING } from '../../../pods/sources.js';
import type { PodsStatus, Snapshot } from '../../../model/types.js';
import type { ReplayPosition } from '../../../collect/source.js';
import { failureAlert, worstFailure } from '../../failures.js';
import { fit, signed } from '../../format.js';
import { screenText as esc } from '../../../common/text.js';
import { displayWidth } from '../../../common/width.js';
import { snapshotRecentFailures } from '../process-rows.js';
import { allNotes } from '../state.js';
import { verdictLine } from '../verdict.js';
import { waitersAlert } from '../../traffic.js';
import type { ViewState } from '../view-state.js';
import type { Layout } from './layout.js';
import { userMeters } from './meters.js';
import { firstScanLines } from './progress.js';
import type { Painter } from '../../painter.js';

/**
 * "every 2 s", or, when refreshes cost too much of that: "every 6 s (asked 2 s: a refresh takes
 * 480 ms)", or, where the refreshes between full scans read only the processes that changed:
 * "every 2s (all processes every 133.4s: a full scan takes 4000 ms)".
 */
function intervalText(state: ViewState): string {
  const pace = state.pace;
  const full = pace?.fullScan ? ` (all processes every ${seconds(pace.fullScan.everyMs)}: a full scan takes ${pace.fullScan.ms} ms)` : '';
  if (!pace || pace.usedMs <= state.intervalMs) return `every ${seconds(state.intervalMs)}${full}`;
  return `every ${seconds(pace.usedMs)} (asked ${seconds(state.intervalMs)}: a refresh takes ${pace.refreshMs} ms)${full}`;
}

export function headerLines(state: ViewState, l: Layout, painter: Painter): string[] {
  const width = l.width;
  const snapshot = state.snapshot;
  const left = l.sparkline.left - 1;
  if (!snapshot) return firstScanLines(state.scanProgress, l, painter);
  const interval = state.paused ? 'PAUSED' : intervalText(state);
  const replay = state.replay;
  // Most wanted first: narrow terminals cut the end.
  const position = replay
    ? `snapshot ${replay.index + 1}/${replay.count}${state.paused ? '  PAUSED' : replay.index + 1 === replay.count ? '  (end)' : ''}`
    : interval;
  const time = clock(snapshot.time);
  const head = replay ? replayHead(replay, [time, position], width) : { text: `inotop ${snapshot.hostname}`, withClock: true };
  const title = [head.text, ...(head.withClock ? [time] : []), position, podsTexts(snapshot.pods), `kernel ${snapshot.kernel}`, `scan ${snapshot.scanMs} ms`];
  const lines = [painter.paint('title', esc(fit(partsThatFit(title, width), width)))];
  const verdict = l.verdict ? verdictLine(snapshot, width) : null;
  if (l.verdict) lines.push(verdict === null ? ' '.repeat(width) : painter.paint('crit', esc(fit(verdict, width))));
  const users = snapshot.users.slice(0, l.userLines);
  for (let i = 0; i < l.userLines; i++) {
    const user = users[i];
    lines.push(user ? userMeters(user, snapshot, left, painter) : ' '.repeat(left));
  }
  while (lines.length < l.header.height - 1 - (l.notes ? 1 : 0) - (l.alert ? 1 : 0)) lines.push(' '.repeat(left));
  const { totals } = snapshot;
  const deltas = [...state.history.sinceLast.values()].reduce((sum, d) => sum + d, 0);
  const sinceStart = totals.watches - (state.history.totals[0] ?? totals.watches);
  // Counts that are too low to go by, or that are the last good ones: said before them.
  const blind = state.refreshFailed
    ? `CANNOT TELL: ${state.refreshFailed}; as of ${clock(snapshot.time)}: `
    : snapshot.scan.complete
      ? null
      : `CANNOT TELL: ${snapshot.scan.reason}: `;
  // A count that does not fit beside the sparkline is left out whole, never cut inside its figure
  // (80 columns made "Δ +2,300  ΔSTART +6,297" into "Δ +2,30…").
  const summary = wholeParts(
    [
      `total ${grouped(totals.processes)} processes`,
      `${grouped(totals.instances)} instances`,
      `${grouped(totals.watches)} watches`,
      ...(totals.fanotifyGroups > 0 ? [`·  fanotify ${grouped(totals.fanotifyGroups)} groups  ${grouped(totals.fanotifyMarks)} marks`] : []),
      `Δ ${signed(deltas)}`,
      `ΔSTART ${signed(sinceStart)}`,
    ],
    left - displayWidth(blind ?? ''),
  );
  lines.push(blind === null ? esc(fit(summary, left)) : painter.paint('crit', esc(fit(blind + summary, left))));
  if (l.notes) lines.push(painter.paint('warn', esc(fit(notesLine(allNotes(state), width), width))));
  // Below the sparkline: the whole width. Processes hanging on a permission answer come before failed calls.
  if (l.alert) lines.push(painter.paint('crit', esc(fit(waitersAlert(snapshot.permissionWaits, width) ?? failureAlertLine(snapshot) ?? '', width))));
  return lines;
}

/** "FAILED fluent-bit 4242: 17 × inotify_add_watch ENOSPC, last 3 s ago: uid 0 at …", null without recent failures. */
export function failureAlertLine(snapshot: Snapshot): string | null {
  const recent = snapshotRecentFailures(snapshot);
  const worst = worstFailure(recent);
  if (!worst) return null;
  const others = new Set(recent.map((f) => f.pid)).size - 1;
  return `FAILED ${failureAlert(worst, snapshot, Date.parse(snapshot.time))}${others > 0 ? `  (+${others} more process${others === 1 ? '' : 'es'})` : ''}`;
}

/**
 * A replay's title head, as long as leaves room for the clock and where in the recording it is
 * (snapshot N/M, PAUSED, end), else for where it is alone: at 80 columns "REPLAY of HOST recorded
 * DATE" left no room for either, and Z, ← and → showed nothing of what they did.
 */
function replayHead(replay: ReplayPosition, [time, position]: [string, string], width: number): { text: string; withClock: boolean } {
  const forms = [`REPLAY of ${replay.hostname} recorded ${replay.started.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`, `REPLAY of ${replay.hostname}`, 'REPLAY'];
  const fits = (...parts: string[]) => displayWidth(parts.join('  ·  ')) <= width - 3;
  const withClock = forms.find((form) => fits(form, time, position));
  if (withClock !== undefined) return { text: withClock, withClock: true };
  return { text: forms.find((form) => fits(form, position)) ?? 'REPLAY', withClock: false };
}

/**
 * The title's parts, most wanted first, joined: a part that does not fit is left out whole, never
 * cut; a part given as its forms, longest first, shows in the longest that fits.
 */
function partsThatFit(parts: (string | string[])[], width: number): string {
  const separator = '  ·  ';
  const [first = '', ...rest] = parts.map((part) => (typeof part === 'string' ? [part] : part));
  let text = first[0] ?? '';
  let droppedAny = false;
  for (const forms of rest) {
    const form = forms.find((candidate) => displayWidth(text + separator + candidate) <= width - 3);
    if (form !== undefined) text += separator + form;
    else droppedAny = true;
  }
  return droppedAny && displayWidth(text + separator + '…') <= width ? text + separator + '…' : text;
}

/**
 * The notes whole, as many as fit, and how many more (`n` lists them all); one longer than the
 * line is cut at a word's end.
 */
export function notesLine(notes: readonly string[], width: number): string {
  const more = (n: number) => (n > 0 ? `  (+${n} more: n lists them)` : '  (n: all notes)');
  let text = 'note: ';
  let shown = 0;
  for (const note of notes) {
    const next = `${text}${shown > 0 ? '; ' : ''}${note}`;
    if (displayWidth(next + more(notes.length - shown - 1)) > width) break;
    text = next;
    shown++;
  }
  if (shown === notes.length) return text.replace(/^note: /, notes.length > 1 ? 'notes: ' : 'note: ');
  if (shown > 0) return text + more(notes.length - shown);
  const tail = more(notes.length - 1);
  const room = width - displayWidth('note: ' + tail) - 1;
  const words = (notes[0] ?? '').split(' ');
  let cut = '';
  for (const word of words) {
    if (displayWidth(cut ? `${cut} ${word}` : word) > room) break;
    cut = cut ? `${cut} ${word}` : word;
  }
  return `note: ${cut}…${tail}`;
}

/**
 * The sparkline's title in `width` columns: "watches 3,813–10,110", else without "watches", else
 * the graph's top alone ("max 10,110"): a figure is never cut.
 */
export function sparklineTitle(state: ViewState, width: number): string {
  const totals = state.history.totals;
  if (totals.length === 0) return 'watches';
  const low = grouped(Math.min(...totals));
  const high = grouped(Math.max(...totals));
  const range = low === high ? low : `${low}–${high}`;
  const forms = [`watches ${range}`, range, `max ${high}`];
  return forms.find((form) => displayWidth(form) <= width) ?? high;
}

/** Parts, two spaces apart, in order, as many as fit in `width`: one that does not fit is left out whole, the first never. */
function wholeParts(parts: readonly string[], width: number): string {
  const [first = '', ...rest] = parts;
  let text = first;
  for (const part of rest) if (displayWidth(`${text}  ${part}`) <= width) text += `  ${part}`;
  return text;
}

/**
 * The pod source's status, whole, then short where its error is long: "pods: none answered (n)",
 * "pods: crictl failed (n)", "pods: crictl 49 live (stale, n)"; the notes overlay (n) has it whole.
 */
function podsTexts(pods: PodsStatus): string[] {
  const live = pods.live !== null ? ` ${pods.live} live` : '';
  const problems = [pods.stale ? 'stale' : '', pods.error ?? ''].filter(Boolean).join(': ');
  const whole = `pods: ${pods.source}${live}${problems ? ` (${problems})` : ''}`;
  if (pods.error === null || pods.error === POD_LIST_PENDING) return [whole];
  if (pods.stale) return [whole, `pods: ${pods.source}${live} (stale, n)`];
  return [whole, pods.source === 'none' ? 'pods: none answered (n)' : `pods: ${pods.source} failed (n)`];
}

export function clock(time: string): string {
  return new Date(time).toTimeString().slice(0, 8);
}

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}
