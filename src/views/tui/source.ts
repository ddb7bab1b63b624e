// Where the screen's snapshots come from: the live collector in a worker thread, or a recording.
// The screen only talks to this interface.
import type { Snapshot } from '../../model/types.js';

/** Which snapshot of which recording is showing. */
export interface ReplayPosition {
  hostname: string;
  /** When the recording started (ISO 8601). */
  started: string;
  /** 0-based. */
  index: number;
  count: number;
}

export interface SourceListener {
  /** A new snapshot; `replay` says where in a recording it is (absent when live). */
  snapshot(snapshot: Snapshot, replay?: ReplayPosition): void;
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
  /** Only a recording can step: one snapshot back (-1) or forward (+1). */
  step?(delta: number): void;
  stop(): Promise<void>;
}
