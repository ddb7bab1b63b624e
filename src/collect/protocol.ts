// The messages between the screen's side (BackgroundCollector) and the collector's thread
// (worker.ts). Plain data: they cross threads by structured clone.
import type { HolderDetail, Snapshot } from '../model/types.js';
import type { PaneAsk, PaneSlice } from '../model/pane.js';
import type { ScanProgress } from '../scan/index.js';
import type { CollectorOptions } from './collector.js';
import type { SentRow } from './sent-rows.js';

/** Which targets the snapshots carry: leaked ones (the metrics), or those of the pid asked for (the screen). */
export type TargetDelivery = 'leaked' | 'asked';

export interface WorkerInit {
  collector: CollectorOptions;
  intervalMs: number;
  paused: boolean;
  targets: TargetDelivery;
  /** Lengthen the interval when a refresh costs more than its share of it (worker.ts). */
  stretch: boolean;
  /** Tell how far the first scan has got as it goes: a screen shows it while it has nothing else. */
  progress: boolean;
  /** The stop cell's cells (StopCell): asked there too, a refresh under way ends at its next process read. */
  stop: Int32Array;
}

export type ToWorker =
  | { type: 'schedule'; intervalMs: number; paused: boolean }
  /** A window of this process's targets for the screen's detail pane, now and whenever they change (null: none). */
  | { type: 'targets'; ask: PaneAsk | null }
  | { type: 'ack' }
  | { type: 'stop' };

/** The refresh interval wished for (-d), the one kept, and what the last refresh cost (refreshCostMs in pace.ts). */
export interface Pace {
  wishedMs: number;
  usedMs: number;
  refreshMs: number;
  /** When full scans come less often than refreshes (those between read only what the trace saw change): how often, and what one costs. */
  fullScan: { everyMs: number; ms: number } | null;
}

/**
 * A snapshot goes over in parts, each acknowledged before the next: the receiving thread
 * deserializes a message in one go, and a whole big snapshot would hold its keys for
 * hundreds of milliseconds.
 */
export type FromWorker =
  /** `keptTargets`: the pids whose rows come without targets, as they were sent before (sent-rows.ts). */
  | { type: 'begin'; snapshot: Snapshot; pace: Pace; keptTargets: number[] }
  /** A row as before comes as its pid (sent-rows.ts). */
  | { type: 'rows'; rows: SentRow[]; last: boolean }
  | { type: 'failed'; message: string }
  /** How far the first scan has got; sent while it runs, needs no acknowledgement. */
  | { type: 'progress'; progress: ScanProgress }
  /** The window of targets asked for, from the latest refresh, and its process's holders; needs no acknowledgement. */
  | { type: 'slice'; slice: PaneSlice; holders: HolderDetail[] };
