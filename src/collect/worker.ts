// The collector's thread: scans run here so that a scan of 100,000 watches never blocks the
// screen's keys. The next scan is scheduled when the previous snapshot has been delivered.
import { parentPort, workerData } from 'node:worker_threads';
import type { ProcessRow, Snapshot } from '../model/types.js';
import { ScanError } from '../scan/index.js';
import { Collector, type CollectorOptions } from './collector.js';

export interface WorkerInit {
  collector: CollectorOptions;
  intervalMs: number;
  paused: boolean;
}

export type ToWorker = { type: 'schedule'; intervalMs: number; paused: boolean } | { type: 'ack' } | { type: 'stop' };

/**
 * A snapshot goes over in parts, each acknowledged before the next: the receiving thread
 * deserializes a message in one go, and a whole big snapshot would hold its keys for
 * hundreds of milliseconds.
 */
export type FromWorker =
  | { type: 'begin'; snapshot: Snapshot }
  | { type: 'rows'; rows: ProcessRow[]; last: boolean }
  | { type: 'failed'; message: string };

/** A few milliseconds of deserialization per part. */
const TARGETS_PER_PART = 1500;

const port = parentPort!;
const init = workerData as WorkerInit;
const collector = new Collector(init.collector);
let intervalMs = init.intervalMs;
let paused = init.paused;
let busy = false;
let lastFinished = 0;
let stopped = false;
let timer: NodeJS.Timeout | null = null;
let pendingParts: FromWorker[] = [];

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'ack':
      return sendNextPart();
    case 'schedule':
      intervalMs = message.intervalMs;
      paused = message.paused;
      return scheduleNext();
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
  pendingParts = [{ type: 'begin', snapshot: { ...snapshot, processes: [] } }, ...rowParts(snapshot.processes)];
  sendNextPart();
}

function rowParts(processes: ProcessRow[]): FromWorker[] {
  const parts: FromWorker[] = [];
  let rows: ProcessRow[] = [];
  let targets = 0;
  for (const row of processes) {
    rows.push(row);
    targets += row.targets.length + 1;
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
    port.postMessage(part);
    // A failure needs no acknowledgement: nothing follows it.
    if (part.type !== 'failed') return;
  }
  busy = false;
  lastFinished = Date.now();
  scheduleNext();
}

function scheduleNext(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (busy || paused || stopped) return;
  timer = setTimeout(refresh, Math.max(0, lastFinished + intervalMs - Date.now()));
}
