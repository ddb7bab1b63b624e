// Event queues judged from their queued bytes over the last refreshes: empty, still to be judged,
// draining, not draining (its reader is stuck, busy or gone) or maybe full (events being dropped).
//
// What the bytes tell, and what they cannot:
// - inotify: an event is 16 bytes plus its name, NUL-padded to a multiple of 16, so a queue holds
//   at most bytes / 16 events: below 16 × max_queued_events it is certainly not full. At or above
//   that it may be full (names make events longer, so it may also hold fewer). The kernel takes a
//   group's limit from fs.inotify.max_queued_events when the instance is made and keeps it; it
//   shows it nowhere. So a queue is judged against the sysctl as it is now: an instance made
//   under a lower value is full sooner than inotop says (its overflow shows only as a queue that
//   stopped growing), one made under a higher value later.
// - fanotify: an event is 24 bytes of metadata plus its info records, and a group holds at most
//   fs.fanotify.max_queued_events of them (taken at fanotify_init, as inotify's; 16,384 before
//   Linux 5.13), or any number with FAN_UNLIMITED_QUEUE (fdinfo's flags): such a queue is never full.
import type { QueueState } from './types.js';

/** The readings a queue is judged over: three in a row that did not shrink is "not draining". */
export const QUEUE_READINGS = 3;

export const INOTIFY_EVENT_BYTES = 16;
export const FANOTIFY_EVENT_BYTES = 24;
/** fanotify's limit before fs.fanotify.max_queued_events existed (Linux 5.13). */
export const FANOTIFY_DEFAULT_MAX_EVENTS = 16_384;
/** fanotify_init's FAN_UNLIMITED_QUEUE, as fdinfo's `fanotify flags:` print it. */
export const FAN_UNLIMITED_QUEUE = 0x10;

/** The bytes at which a queue may be full: its event limit × the smallest event; null when it has no limit or the limit is unknown. */
export function fullQueueBytes(kind: 'inotify' | 'fanotify', maxEvents: number | null, groupFlags = 0): number | null {
  if (kind === 'fanotify') {
    if ((groupFlags & FAN_UNLIMITED_QUEUE) !== 0) return null;
    return FANOTIFY_EVENT_BYTES * (maxEvents ?? FANOTIFY_DEFAULT_MAX_EVENTS);
  }
  return maxEvents === null || maxEvents <= 0 ? null : INOTIFY_EVENT_BYTES * maxEvents;
}

/**
 * A queue's state from its readings, oldest first, the last one now's (null: not read). Judged
 * over the last QUEUE_READINGS: fewer readings in a row are "pending".
 */
export function queueState(readings: readonly (number | null)[], fullBytes: number | null): QueueState {
  const now = readings.at(-1);
  if (now === undefined || now === null) return 'unknown';
  if (fullBytes !== null && now >= fullBytes) return 'may be full';
  if (now === 0) return 'empty';
  const window = readings.slice(-QUEUE_READINGS);
  if (window.length < QUEUE_READINGS || window.some((bytes) => bytes === null)) return 'pending';
  for (let i = 1; i < window.length; i++) if (window[i]! < window[i - 1]!) return 'draining';
  return window[0]! > 0 ? 'not draining' : 'pending';
}

/** States that name a reader in trouble: the QUEUE column shows by default while any queue is in one. */
export function isQueueTrouble(state: QueueState | undefined): boolean {
  return state === 'not draining' || state === 'may be full';
}

/** The worse of two states, for a process's summary: may be full, not draining, pending, draining, empty, unknown. */
const SEVERITY: Record<QueueState, number> = { 'may be full': 5, 'not draining': 4, pending: 3, draining: 2, empty: 1, unknown: 0 };

export function worseQueueState(a: QueueState, b: QueueState): QueueState {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** A queue's readings kept between refreshes, by the instance it is and the process that made its id. */
interface QueueHistory {
  readings: (number | null)[];
  seenAt: number;
}

/**
 * The readings of every queue over the last refreshes, by instance: `add` takes a refresh's and
 * answers each instance's state. An instance is known by its id and its first holder's start
 * time (a pid taken again is another instance); one not read for QUEUE_READINGS refreshes is forgotten.
 */
export class QueueHistories {
  private readonly histories = new Map<string, QueueHistory>();
  private refresh = 0;

  /** The readings of this refresh (null: not read) for each instance key; each instance's readings, oldest first. */
  add(readings: ReadonlyMap<string, number | null>): Map<string, readonly (number | null)[]> {
    this.refresh++;
    const out = new Map<string, readonly (number | null)[]>();
    for (const [key, bytes] of readings) {
      let history = this.histories.get(key);
      if (!history) this.histories.set(key, (history = { readings: [], seenAt: this.refresh }));
      history.readings.push(bytes);
      if (history.readings.length > QUEUE_READINGS) history.readings.shift();
      history.seenAt = this.refresh;
      out.set(key, history.readings);
    }
    for (const [key, history] of this.histories) if (this.refresh - history.seenAt >= QUEUE_READINGS) this.histories.delete(key);
    return out;
  }
}
