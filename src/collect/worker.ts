// The collector's thread: scans run here so that a scan of 100,000 watches never blocks the
// screen's keys. The next scan is scheduled when the previous snapshot has been delivered.
// The screen shows the targets of one process, and of those only the window its detail pane
// shows: it asks for that (every row carries the counts its change log needs), so that it never
// holds (or collects the garbage of) a list of hundreds of thousands of targets. The ask stands:
// a refresh that changes the process's list answers it again. The collector keeps the last
// refresh to answer a new one. The messages are in protocol.ts.
// A refresh is synchronous (koffi's syscalls), and this thread is never terminated in one (see
// src/common/thread-stop.ts): asked to stop through its stop cell too, it ends a refresh under way
// at its next process read, drops it, and ends itself once the 'stop' message comes.
import { parentPort, workerData } from 'node:worker_threads';
import type { ProcessRow, ScanResult, Snapshot, TargetRow } from '../model/types.js';
import { ScanError } from '../scan/index.js';
import { Collector } from './collector.js';
import { afterRefresh, initialPace, readsChangedOnly, refreshCostMs, withWish, type PaceOptions } from './pace.js';
import type { FromWorker, Pace, ToWorker, WorkerInit } from './protocol.js';
import { RowsSender, samePlainData, type SentRow } from './sent-rows.js';
import type { TargetList } from './target-list.js';
import { uptimeMs } from '../deadline.js';
import type { ScanProgress } from '../scan/index.js';
import { paneSlice, type PaneAsk } from '../model/pane.js';
import { StopCell, Stopped } from '../common/thread-stop.js';

/** A few milliseconds of deserialization per part. */
const TARGETS_PER_PART = 1500;

/** A part as queued. */
type Part =
  | { type: 'begin'; snapshot: Snapshot; pace: Pace; keptTargets: number[] }
  | { type: 'rows'; rows: SentRow[]; last: boolean }
  | { type: 'failed'; message: string };

const port = parentPort!;
const init = workerData as WorkerInit;
const stopCell = new StopCell(init.stop);
// Its modules are loaded: from now on it shows signs of life while it works (BackgroundCollector.stop).
stopCell.beat();
const collector = new Collector(init.collector, stopCell.check);
let pace = initialPace(init.intervalMs);
let paused = init.paused;
let busy = false;
let lastFinished = 0;
/** Asked to stop: by the 'stop' message, or through the stop cell in the middle of a refresh (Stopped). */
let stopped = false;
let timer: NodeJS.Timeout | null = null;
let pendingParts: Part[] = [];
/** Rows and target lists go over only when they changed. */
const rowsSender = new RowsSender();
/** The screen's detail pane's ask. */
let ask: PaneAsk | null = null;
/** The targets of the process asked for, as of the last refresh; null: not there. */
let asked: TargetList | null = null;
/** The last answer: its ask, list and rows. A refresh that keeps the list needs no new answer. */
let answered: { ask: PaneAsk; list: TargetList; rows: TargetRow[] } | null = null;
/** The last snapshot's rows (without targets), by pid: what a new ask's list is made for. */
let lastRows = new Map<number, ProcessRow>();
/** The refresh being sent read every process: the window's rows are looked up again once it is. */
let fullScanned = false;

port.on('message', (message: ToWorker) => (message.type === 'stop' ? end() : atWork(() => receive(message))));

function receive(message: Exclude<ToWorker, { type: 'stop' }>): void {
  switch (message.type) {
    case 'ack':
      return sendNextPart();
    case 'schedule':
      pace = withWish(pace, message.intervalMs, paceOptions());
      paused = message.paused;
      return scheduleNext();
    case 'targets':
      // A new process's list is built from the last refresh; a new window of the same one is cut from the list held.
      if (message.ask?.pid !== ask?.pid) asked = listOf(message.ask);
      ask = message.ask;
      return answer(false);
  }
}

/** The 'stop' message: the collector stopped (its trace instances removed), the thread ended. */
function end(): void {
  stopped = true;
  if (timer) clearTimeout(timer);
  stopCell.busy(true);
  collector.stop();
  port.close();
  // Ended here, in JavaScript (never inside koffi), and now: whatever the collector started that
  // is still under way (a pod list's request) keeps it no longer.
  process.exit(0);
}

await collector.start();
if (!stopped) {
  const scanned = await firstScan();
  if (!stopped) atWork(() => refresh(scanned));
}

/**
 * Synchronous work (koffi's calls), so marked in the stop cell while it runs, and none once this
 * thread is asked to stop: a process that exits under it waits for it to end (StopCell.askAndAwaitIdle).
 */
function atWork(work: () => void): void {
  stopCell.busy(true);
  try {
    if (!stopCell.asked()) work();
  } finally {
    stopCell.busy(false);
  }
}

/** Whether a refresh's work ended because this thread was asked to stop (StopCell.check): it is dropped, and nothing more is done. */
function stoppedBy(error: unknown): boolean {
  if (!(error instanceof Stopped)) return false;
  stopped = true;
  return true;
}

/** The first scan, made while the first pod list is fetched; it is shown once the list is in (or late). */
async function firstScan(): Promise<ScanResult | null> {
  let scanned: ScanResult | null = null;
  try {
    // Only the first scan is told as it goes: later ones have a snapshot on the screen meanwhile.
    atWork(() => {
      scanned = collector.scanForRefresh(false, init.progress ? tellProgress : null);
    });
  } catch (error) {
    if (stoppedBy(error)) return null;
    // refresh() scans again and says why.
    if (!(error instanceof ScanError)) throw error;
  }
  await collector.podsReady();
  return scanned;
}

/** Read at each refresh: the trace may stop telling (off, or lost events are only seen as they come). */
function paceOptions(): PaceOptions {
  return { stretch: init.stretch, tellsChanges: collector.tellsChanges() };
}

/** `scanned`: the first refresh's scan, made beforehand beside the first pod list. */
function refresh(scanned: ScanResult | null = null): void {
  timer = null;
  busy = true;
  let snapshot: Snapshot;
  // A scan made beforehand counts in the refresh's cost.
  const started = uptimeMs() - (scanned?.durationMs ?? 0);
  const cpuAtStart = process.cpuUsage();
  const options = paceOptions();
  let scope: 'all' | 'changed';
  try {
    scanned ??= collector.scanForRefresh(readsChangedOnly(pace, started, options), init.progress && pace.refreshes === 0 ? tellProgress : null);
    scope = scanned.scope;
    snapshot = collector.collect(init.targets === 'leaked' ? 'leaked' : 'none', scanned);
  } catch (error) {
    if (stoppedBy(error)) return;
    if (!(error instanceof ScanError)) throw error;
    pendingParts = [{ type: 'failed', message: error.message }];
    return sendNextPart();
  }
  const costMs = refreshCostMs(uptimeMs() - started, process.cpuUsage(cpuAtStart));
  pace = afterRefresh(pace, started, costMs, scope, options);
  const told: Pace = {
    wishedMs: pace.wishedMs,
    usedMs: pace.usedMs,
    refreshMs: Math.round(costMs),
    fullScan: pace.fullEveryMs > pace.usedMs ? { everyMs: pace.fullEveryMs, ms: Math.round(pace.fullCostMs) } : null,
  };
  if (init.targets === 'asked') {
    lastRows = new Map(snapshot.processes.map((row) => [row.pid, row]));
    asked = listOf(ask);
    fullScanned = scope === 'all';
  }
  const { rows, kept } = rowsSender.strip(snapshot.processes);
  pendingParts = [{ type: 'begin', snapshot: { ...snapshot, processes: [] }, pace: told, keptTargets: [...kept] }, ...rowParts(rows)];
  sendNextPart();
}

/** Posted at once, from within the scan: the screen's thread takes it while this one scans on. */
function tellProgress(progress: ScanProgress): void {
  port.postMessage({ type: 'progress', progress } satisfies FromWorker);
}

function rowParts(processes: SentRow[]): Part[] {
  const parts: Part[] = [];
  let rows: SentRow[] = [];
  let targets = 0;
  for (const row of processes) {
    rows.push(row);
    targets += typeof row === 'number' ? 0 : row.targets.length + 1;
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
  answer(fullScanned);
  fullScanned = false;
  busy = false;
  lastFinished = Date.now();
  scheduleNext();
}

/** The targets of the process asked for, as of the last refresh. */
function listOf(of: PaneAsk | null): TargetList | null {
  const row = of === null ? undefined : lastRows.get(of.pid);
  return row ? collector.targetList(row) : null;
}

/**
 * The window asked for, unless the last answer was to the same ask from the same list; after a
 * full scan (`recheck`), when its rows are not as sent (a watched directory renamed).
 */
function answer(recheck: boolean): void {
  if (ask === null || asked?.pid !== ask.pid) return;
  const same = answered?.ask === ask && answered.list === asked;
  if (same && !recheck) return;
  const slice = paneSlice(asked, ask);
  if (same && samePlainData(answered!.rows, slice.rows)) return;
  answered = { ask, list: asked, rows: slice.rows };
  port.postMessage({ type: 'slice', slice, holders: collector.holderDetails(slice.rows) } satisfies FromWorker);
}

function scheduleNext(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (busy || paused || stopped) return;
  timer = setTimeout(() => atWork(refresh), Math.max(0, lastFinished + pace.usedMs - Date.now()));
}
