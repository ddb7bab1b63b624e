// The collector's thread: scans run here so that a scan of 100,000 watches never blocks the
// screen's keys. The next scan is scheduled when the previous snapshot has been delivered.
// The screen shows the targets of one process: it asks for those of one pid (every row carries
// the counts its change log needs), so that it never holds (or collects the garbage of) every
// target of the node. The ask stands: each refresh answers it again. The collector keeps the last
// refresh to answer a new one. The messages are in protocol.ts.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { ProcessRow, Snapshot } from '../model/types.js';
import { ScanError } from '../scan/index.js';
import { Collector } from './collector.js';
import type { FromWorker, Pace, ToWorker, WorkerInit } from './protocol.js';

/**
 * A refresh may take at most this share of the interval: past it, the next one waits longer, so
 * that inotop never takes more than about this much of a core on a node that is already in trouble.
 */
export const STRETCH_SHARE = 0.06;

/** A few milliseconds of deserialization per part. */
const TARGETS_PER_PART = 1500;

/** A part as queued. */
type Part = { type: 'begin'; snapshot: Snapshot; pace: Pace } | { type: 'rows'; rows: ProcessRow[]; last: boolean } | { type: 'failed'; message: string };

const port = parentPort!;
const init = workerData as WorkerInit;
const collector = new Collector(init.collector);
let intervalMs = init.intervalMs;
/** The interval actually kept: intervalMs, or longer when refreshes cost too much of it. */
let usedIntervalMs = init.intervalMs;
let refreshes = 0;
let paused = init.paused;
let busy = false;
let lastFinished = 0;
let stopped = false;
let timer: NodeJS.Timeout | null = null;
let pendingParts: Part[] = [];
let wantedPid: number | null = null;
/** The selection changed while a snapshot was going over: its targets follow the snapshot's last part. */
let selectionOwed = false;

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'ack':
      return sendNextPart();
    case 'schedule':
      intervalMs = message.intervalMs;
      usedIntervalMs = Math.max(usedIntervalMs, intervalMs);
      paused = message.paused;
      return scheduleNext();
    case 'targets':
      wantedPid = message.pid;
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
  const started = performance.now();
  try {
    snapshot = collector.collect(init.targets === 'leaked' ? 'leaked' : new Set(wantedPid === null ? [] : [wantedPid]));
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    pendingParts = [{ type: 'failed', message: error.message }];
    return sendNextPart();
  }
  const costMs = performance.now() - started;
  // The first refresh parses and resolves everything once; the ones after it are the steady state.
  if (refreshes++ > 0) usedIntervalMs = init.stretch ? Math.max(intervalMs, Math.ceil(costMs / STRETCH_SHARE / 100) * 100) : intervalMs;
  const pace: Pace = { wishedMs: intervalMs, usedMs: usedIntervalMs, refreshMs: Math.round(costMs) };
  pendingParts = [{ type: 'begin', snapshot: { ...snapshot, processes: [] }, pace }, ...rowParts(snapshot.processes)];
  sendNextPart();
}

function rowParts(processes: ProcessRow[]): Part[] {
  const parts: Part[] = [];
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
    port.postMessage(part satisfies FromWorker);
    // A failure needs no acknowledgement: nothing follows it.
    if (part.type !== 'failed') return;
  }
  if (selectionOwed) sendSelectedTargets();
  busy = false;
  lastFinished = Date.now();
  scheduleNext();
}

/** The targets of the pid asked for, looked up in the last refresh's scan (not a new one). */
function sendSelectedTargets(): void {
  selectionOwed = false;
  if (wantedPid === null) return;
  const row = collector.targetsOf(wantedPid);
  if (row) port.postMessage({ type: 'targets', pid: row.pid, targets: row.targets, holders: collector.holderDetails(row) } satisfies FromWorker);
}

function scheduleNext(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (busy || paused || stopped) return;
  timer = setTimeout(refresh, Math.max(0, lastFinished + usedIntervalMs - Date.now()));
}
