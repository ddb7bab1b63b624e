// The change log: what each refresh changed, per process and pod, newest last; pod events
// always, process events of the processes the filter shows.
import { grouped } from '../../../common/format.js';
import type { ChangeEvent, PodDelta } from '../../../model/history.js';
import { matchesFilter } from '../../../model/query.js';
import type { PodRef } from '../../../model/types.js';
import { fit, signed } from '../../format.js';
import { podLabel } from '../../../model/target-text.js';
import { screenText as esc } from '../../../common/text.js';
import { displayWidth } from '../../../common/width.js';
import type { ViewState } from '../view-state.js';
import { clock } from './header.js';
import { rule, type Painter } from '../../painter.js';

export function logLines(state: ViewState, width: number, height: number, painter: Painter): string[] {
  const events = loggedEvents(state);
  const lines = [rule(`changes${events.length ? ` (${events.length})` : ''}`, width, false, painter)];
  const shown = events.slice(-(height - 1));
  if (shown.length === 0) lines.push(esc(fit(state.snapshot ? '  no changes yet' : '', width)));
  for (const event of shown) {
    const text = esc(fit(atBoundary(`${clock(event.time)}  ${eventText(event)}`, width), width));
    lines.push(isLeakEvent(event) ? painter.paint('leak', text) : text);
  }
  return lines;
}

/** Events of the processes the filter shows (leaked or not), and every pod event: pods are the node's. */
function loggedEvents(state: ViewState): readonly ChangeEvent[] {
  const filter = { ...state.filter, leakedOnly: false };
  if (!filter.pids && filter.user === null && !filter.command && !filter.text) return state.history.events;
  return state.history.events.filter((event) => !('process' in event) || matchesFilter({ ...event.process, leaked: 0 }, filter));
}

function isLeakEvent(event: ChangeEvent): boolean {
  return event.kind === 'pod-gone' || event.kind === 'process-stranded';
}

export function eventText(event: ChangeEvent): string {
  switch (event.kind) {
    case 'process-started':
      return `${event.process.comm} ${event.process.pid} started: ${plural(event.watches, 'watch')}${podsPart(event.pods)}`;
    case 'process-exited':
      return `${event.process.comm} ${event.process.pid} exited: ${plural(event.watches, 'watch')} freed`;
    case 'process-changed':
      return `${event.process.comm} ${event.process.pid} ${signed(event.delta)}${podsPart(event.pods)}`;
    case 'process-stranded':
      return `${event.process.comm} ${event.process.pid}: ${signed(event.delta)} watches on unmounted or deleted targets (${event.stranded} in all)`;
    case 'pod-gone': {
      const name = podName(event);
      const [only, ...others] = event.holders;
      if (only && others.length === 0) return `pod ${name} gone: ${only.comm} ${only.pid} still holds ${plural(only.watches, 'watch')}`;
      return `pod ${name} gone: still held by ${event.holders.map((h) => `${h.comm} ${h.pid} (${h.watches})`).join(', ')}`;
    }
    case 'pod-released':
      return `pod ${podName(event)} gone: all its watches released`;
  }
}

/** The pod's name without the "(gone)" that podLabel adds: the event says it. */
function podName(event: { pod: PodRef }): string {
  return podLabel({ ...event.pod, state: 'live' });
}

function podsPart(pods: PodDelta[]): string {
  if (pods.length === 0) return '';
  const [only] = pods;
  if (only && pods.length === 1) return `: pod ${podLabel(only.pod)}`;
  const shown = pods.slice(0, 3).map((p) => `pod ${podLabel(p.pod)} ${signed(p.delta)}`);
  return `: ${shown.join(', ')}${pods.length > 3 ? ', …' : ''}`;
}

function plural(n: number, word: string): string {
  return `${grouped(n)} ${word}${n === 1 ? '' : 'es'}`;
}

/**
 * A line longer than `width` cut where its list or its words part, with "…": never inside a
 * figure (80 columns cut "pod ci/runner-bxl9j +32" to "pod ci/runner-bxl9j +3…").
 */
function atBoundary(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  for (const [separator, tail] of [
    [', ', ', …'],
    [' ', ' …'],
  ] as const) {
    for (let at = text.lastIndexOf(separator); at > 0; at = text.lastIndexOf(separator, at - 1)) {
      const cut = text.slice(0, at) + tail;
      if (displayWidth(cut) <= width) return cut;
    }
  }
  return text;
}
