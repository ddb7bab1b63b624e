// What changed between snapshots: watch deltas per pid (since the last refresh and since the
// session started), the node's total watches over the session, and a change log per process and
// pod. Pure: `advanceHistory(history, snapshot)` returns a new history, so the screen can feed it
// from the live collector or from a recording alike.
import type { Deltas } from './query.js';
import type { PodRef, ProcessRow, Snapshot } from './types.js';

/** Enough points for a sparkline as wide as any terminal. */
const MAX_TOTALS = 1000;
const MAX_EVENTS = 500;

export interface PodWatches {
  pod: PodRef;
  watches: number;
}

/** Who a process is, for the change log and its filter; kept without the targets. */
export type ProcessIdentity = Pick<ProcessRow, 'pid' | 'startTime' | 'uid' | 'user' | 'comm' | 'cmdline' | 'pod'>;

/** What history keeps of a process between refreshes; targets themselves are not kept. */
export interface ProcessSummary {
  process: ProcessIdentity;
  watches: number;
  /** Watches on unmounted or deleted targets (gone pods are told by pod events). */
  stranded: number;
  /** Watches per pod uid of the targets. */
  pods: Map<string, PodWatches>;
}

export interface PodDelta {
  pod: PodRef;
  delta: number;
}

export interface Holding {
  pid: number;
  comm: string;
  watches: number;
}

export type ChangeEvent =
  | { kind: 'process-started'; time: string; process: ProcessIdentity; watches: number; pods: PodDelta[] }
  | { kind: 'process-exited'; time: string; process: ProcessIdentity; watches: number }
  | { kind: 'process-changed'; time: string; process: ProcessIdentity; delta: number; watches: number; pods: PodDelta[] }
  | { kind: 'process-stranded'; time: string; process: ProcessIdentity; delta: number; stranded: number }
  | { kind: 'pod-gone'; time: string; pod: PodRef; holders: Holding[] }
  | { kind: 'pod-released'; time: string; pod: PodRef };

export interface History {
  /** Time of the first snapshot, null before it. */
  startedAt: string | null;
  /** Watches per pid in the first snapshot, with the start time of that pid's process then. */
  baseline: ReadonlyMap<number, { watches: number; startTime: number }>;
  previous: ReadonlyMap<number, ProcessSummary>;
  sinceLast: ReadonlyMap<number, number>;
  sinceStart: ReadonlyMap<number, number>;
  /** Node total watches per refresh, oldest first. */
  totals: readonly number[];
  /** Oldest first. */
  events: readonly ChangeEvent[];
  /** Holders of each gone pod at the last refresh, so its release can be told once. */
  gonePods: ReadonlyMap<string, PodWatches>;
}

export const EMPTY_HISTORY: History = {
  startedAt: null,
  baseline: new Map(),
  previous: new Map(),
  sinceLast: new Map(),
  sinceStart: new Map(),
  totals: [],
  events: [],
  gonePods: new Map(),
};

export function advanceHistory(history: History, snapshot: Snapshot): History {
  return advanceHistoryWith(history, snapshot, summarizeAll(snapshot.processes));
}

/**
 * `advanceHistory` with the summaries made where the targets are: the live screen gets the
 * targets of the selected process only, and the collector's thread summarizes all of them.
 * `current` has a summary per process of the snapshot, by pid.
 */
export function advanceHistoryWith(history: History, snapshot: Snapshot, current: ReadonlyMap<number, ProcessSummary>): History {
  const first = history.startedAt === null;
  const baseline = first ? new Map([...current].map(([pid, s]) => [pid, { watches: s.watches, startTime: s.process.startTime }])) : history.baseline;
  const sinceLast = new Map<number, number>();
  const sinceStart = new Map<number, number>();
  for (const [pid, summary] of current) {
    // A pid reused by a new process starts from 0: the old one's numbers are not its own.
    const before = samePrevious(history.previous, summary);
    const base = baseline.get(pid);
    sinceLast.set(pid, first ? 0 : summary.watches - (before?.watches ?? 0));
    sinceStart.set(pid, summary.watches - (base && base.startTime === summary.process.startTime ? base.watches : 0));
  }
  const gonePods = gonePodHolders(current);
  const events = [...(first ? [] : processEvents(history.previous, current, snapshot.time)), ...podEvents(history.gonePods, gonePods, current, snapshot.time)];
  return {
    startedAt: history.startedAt ?? snapshot.time,
    baseline,
    previous: current,
    sinceLast,
    sinceStart,
    totals: [...history.totals, snapshot.totals.watches].slice(-MAX_TOTALS),
    events: events.length === 0 ? history.events : [...history.events, ...events].slice(-MAX_EVENTS),
    gonePods,
  };
}

/** The previous summary of the same process: the same pid, started at the same time. */
function samePrevious(previous: ReadonlyMap<number, ProcessSummary>, now: ProcessSummary): ProcessSummary | undefined {
  const before = previous.get(now.process.pid);
  return before && before.process.startTime === now.process.startTime ? before : undefined;
}

export function deltasOf(history: History): Deltas {
  return {
    sinceLast: (pid) => history.sinceLast.get(pid) ?? 0,
    sinceStart: (pid) => history.sinceStart.get(pid) ?? 0,
  };
}

/** A summary per process, by pid. */
export function summarizeAll(rows: readonly ProcessRow[]): Map<number, ProcessSummary> {
  return new Map(rows.map((row) => [row.pid, summarize(row)]));
}

/** What a row adds up to. */
export function summarize(row: ProcessRow): ProcessSummary {
  const pods = new Map<string, PodWatches>(row.watchedPods.map(({ pod, watches }) => [pod.uid, { pod, watches }]));
  const { pid, startTime, uid, user, comm, cmdline, pod } = row;
  return { process: { pid, startTime, uid, user, comm, cmdline, pod }, watches: row.watches, stranded: row.stranded, pods };
}

function processEvents(previous: ReadonlyMap<number, ProcessSummary>, current: ReadonlyMap<number, ProcessSummary>, time: string): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  for (const now of current.values()) {
    const before = samePrevious(previous, now);
    if (!before) {
      if (now.watches > 0) events.push({ kind: 'process-started', time, process: now.process, watches: now.watches, pods: podDeltas(undefined, now) });
      continue;
    }
    const delta = now.watches - before.watches;
    if (delta !== 0) {
      events.push({ kind: 'process-changed', time, process: now.process, delta, watches: now.watches, pods: podDeltas(before, now) });
    }
    if (now.stranded > before.stranded) {
      events.push({ kind: 'process-stranded', time, process: now.process, delta: now.stranded - before.stranded, stranded: now.stranded });
    }
  }
  for (const [pid, before] of previous) {
    const now = current.get(pid);
    const exited = !now || now.process.startTime !== before.process.startTime;
    if (exited && before.watches > 0) events.push({ kind: 'process-exited', time, process: before.process, watches: before.watches });
  }
  return events;
}

/** Pods whose watches by this process changed, biggest change first. */
function podDeltas(before: ProcessSummary | undefined, now: ProcessSummary): PodDelta[] {
  const deltas: PodDelta[] = [];
  for (const [uid, { pod, watches }] of now.pods) {
    const delta = watches - (before?.pods.get(uid)?.watches ?? 0);
    if (delta !== 0) deltas.push({ pod, delta });
  }
  for (const [uid, { pod, watches }] of before?.pods ?? []) {
    if (!now.pods.has(uid)) deltas.push({ pod, delta: -watches });
  }
  return deltas.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta));
}

/** Total watches on each gone pod, across processes. */
function gonePodHolders(current: ReadonlyMap<number, ProcessSummary>): Map<string, PodWatches> {
  const gone = new Map<string, PodWatches>();
  for (const summary of current.values()) {
    for (const [uid, { pod, watches }] of summary.pods) {
      if (pod.state !== 'gone') continue;
      const entry = gone.get(uid);
      if (entry) entry.watches += watches;
      else gone.set(uid, { pod, watches });
    }
  }
  return gone;
}

function podEvents(
  goneBefore: ReadonlyMap<string, PodWatches>,
  goneNow: ReadonlyMap<string, PodWatches>,
  current: ReadonlyMap<number, ProcessSummary>,
  time: string,
): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  for (const [uid, { pod }] of goneNow) {
    if (goneBefore.has(uid)) continue;
    const holders: Holding[] = [];
    for (const summary of current.values()) {
      const held = summary.pods.get(uid);
      if (held) holders.push({ pid: summary.process.pid, comm: summary.process.comm, watches: held.watches });
    }
    holders.sort((a, b) => b.watches - a.watches || a.pid - b.pid);
    events.push({ kind: 'pod-gone', time, pod, holders });
  }
  for (const [uid, { pod }] of goneBefore) {
    if (!goneNow.has(uid)) events.push({ kind: 'pod-released', time, pod });
  }
  return events;
}
