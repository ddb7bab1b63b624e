// Where the screen's snapshots come from: the live collector in a worker thread today, a
// recording later. The screen only talks to this interface.
import type { Snapshot } from '../../model/types.js';

export interface SourceListener {
  snapshot(snapshot: Snapshot): void;
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
  stop(): Promise<void>;
}
