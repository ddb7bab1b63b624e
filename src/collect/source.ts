// Where the screen's snapshots come from: the live collector in a worker thread, or a recording.
// The screen only talks to this interface.
import type { Pace } from './protocol.js';
import type { HolderDetail, Snapshot } from '../model/types.js';
import type { PaneAsk, PaneSlice } from '../model/pane.js';
import type { ScanProgress } from '../scan/index.js';

/** Which snapshot of which recording is showing. */
export interface ReplayPosition {
  hostname: string;
  /** When the recording started (ISO 8601). */
  started: string;
  /** 0-based. */
  index: number;
  count: number;
}

/** What comes with a snapshot. */
export interface SnapshotContext {
  /** Where in a recording the snapshot is; absent when live. */
  replay?: ReplayPosition;
  /** How often refreshes come, when live: the wished interval, the one kept, and why. */
  pace?: Pace;
  /** The process to open on until the user picks one (a recording's: its end's leaker or top process). */
  openOn?: number;
}

export interface SourceListener {
  snapshot(snapshot: Snapshot, context: SnapshotContext): void;
  /** The window of targets asked for (askTargets), and its process's holders' details: live snapshots carry no targets. */
  slice?(slice: PaneSlice, holders: HolderDetail[]): void;
  /** How far the first scan has got, while there is no snapshot yet; a source asks it only of a listener that has this. */
  progress?(progress: ScanProgress): void;
  /** One refresh failed (e.g. /proc unreadable); the source tries again at the next one. */
  failed(message: string): void;
  /** The source broke for good: the screen closes and shows the error. */
  fatal(error: Error): void;
  /** Text the source would have printed; kept until the screen is closed. */
  output(text: string): void;
}

export interface SnapshotSource {
  start(listener: SourceListener): void;
  /** Next refresh `intervalMs` after the previous one finished; none while paused. */
  schedule(intervalMs: number, paused: boolean): void;
  /**
   * Which window of which process's targets the screen's detail pane shows (null: none), answered
   * now and again whenever that process's targets change; a source whose snapshots carry every
   * target needs no telling.
   */
  askTargets?(ask: PaneAsk | null): void;
  /** Only a recording can step: one snapshot back (-1) or forward (+1). */
  step?(delta: number): void;
  stop(): Promise<void>;
}
