// The collector's thread: scans run here so that a scan of 100,000 watches never blocks the
// screen's keys. The next scan is scheduled when the previous snapshot has been delivered.
// The screen shows the targets of one process: it gets those of the selected one only, with a
// summary of every process for its change log, so that it never holds (or collects the garbage
// of) every target of the node. The latest full snapshot stays here to answer a new selection.
import { parentPort, workerData } from 'node:worker_threads';
import { summarize, type ProcessSummary } from '../model/history.js';
import type { ProcessRow, Snapshot, TargetRow } from '../model/types.js';
import { ScanError } from '../scan/index.js';
import { Collector, type CollectorOptions } from './collector.js';

/** Which targets the snapshots carry: every process's, or the selected process's only. */
export type TargetDelivery = 'all' | 'selected';

export interface WorkerInit {
  collector: CollectorOptions;
  intervalMs: number;
  paused: boolean;
  targets: TargetDelivery;
}

export type ToWorker =
  | { type: 'schedule'; intervalMs: number; paused: boolean }
  | { type: 'select'; pid: number | null }
  | { type: 'ack' }
  | { type: 'stop' };

/**
 * A snapshot goes over in parts, each acknowledged before the next: the receiving thread
 * deserializes a message in one go, and a whole big snapshot would hold its keys for
 * hundreds of milliseconds.
 */
export type FromWorker =
  | { type: 'begin'; snapshot: Snapshot }
  /** `summaries` (of the same rows) when the rows carry the selected process's targets only. */
  | { type: 'rows'; rows: ProcessRow[]; summaries: ProcessSummary[] | null; last: boolean }
  | { type: 'failed'; message: string }
  /** The targets of a newly selected process, from the latest snapshot; needs no acknowledgement. */
  | { type: 'targets'; pid: number; targets: TargetRow[] };

/** A few milliseconds of deserialization per part. */
const TARGETS_PER_PART = 1500;

/** A part as queued: its rows keep their targets until it is sent, as the selection may change in between. */
type Part = { type: 'begin'; snapshot: Snapshot } | { type: 'rows'; rows: ProcessRow[]; last: boolean } | { type: 'failed'; message: string };

const port = parentPort!;
const init = workerData as WorkerInit;
const collector = new Collector(init.collector);
let intervalMs = init.intervalMs;
let paused = init.paused;
let busy = false;
let lastFinished = 0;
let stopped = false;
let timer: NodeJS.Timeout | null = null;
let pendingParts: Part[] = [];
let latest: Snapshot | null = null;
let selectedPid: number | null = null;
/** The selection changed while a snapshot was going over: its targets follow the snapshot's last part. */
let selectionOwed = false;

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'ack':
      return sendNextPart();
    case 'schedule':
      intervalMs = message.intervalMs;
      paused = message.paused;
      return scheduleNext();
    case 'select':
      selectedPid = message.pid;
      // Parts already sent may have had the row without its targets.
      if (busy) selectionOwed = true;
      else sendSelectedTargets();
      return;
    case 'stop':
      stopped = true;
      if (timer) clearTimeout(timer);
      collector.stop();
      port.close();
  }
});

await collector.start();
if (!stopped) refresh();

function refresh(): void {
  timer = null;
  busy = true;
  let snapshot: Snapshot;
  try {
    snapshot = collector.collect();
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    pendingParts = [{ type: 'failed', message: error.message }];
    return sendNextPart();
  }
  // Only a screen that is sent one process's targets asks for another's.
  latest = init.targets === 'selected' ? snapshot : null;
  pendingParts = [{ type: 'begin', snapshot: { ...snapshot, processes: [] } }, ...rowParts(snapshot.processes)];
  sendNextPart();
}

function rowParts(processes: ProcessRow[]): Part[] {
  const parts: Part[] = [];
  let rows: ProcessRow[] = [];
  let targets = 0;
  for (const row of processes) {
    rows.push(row);
    targets += (init.targets === 'all' ? row.targets.length : 0) + 1;
    if (targets >= TARGETS_PER_PART) {
      parts.push({ type: 'rows', rows, last: false });
      rows = [];
      targets = 0;
    }
  }
  parts.push({ type: 'rows', rows, last: true });
  return parts;
}

function sendNextPart(): void {
  const part = pendingParts.shift();
  if (part) {
    port.postMessage(part.type === 'rows' ? forScreen(part.rows, part.last) : part);
    // A failure needs no acknowledgement: nothing follows it.
    if (part.type !== 'failed') return;
  }
  if (selectionOwed) sendSelectedTargets();
  busy = false;
  lastFinished = Date.now();
  scheduleNext();
}

function forScreen(rows: ProcessRow[], last: boolean): FromWorker {
  if (init.targets === 'all') return { type: 'rows', rows, summaries: null, last };
  return {
    type: 'rows',
    rows: rows.map((row) => (row.pid === selectedPid ? row : { ...row, targets: [] })),
    summaries: rows.map(summarize),
    last,
  };
}

function sendSelectedTargets(): void {
  selectionOwed = false;
  const row = latest?.processes.find((process) => process.pid === selectedPid);
  if (row) port.postMessage({ type: 'targets', pid: row.pid, targets: row.targets } satisfies FromWorker);
}

function scheduleNext(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (busy || paused || stopped) return;
  timer = setTimeout(refresh, Math.max(0, lastFinished + intervalMs - Date.now()));
}
