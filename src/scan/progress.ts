// How far a scan has got, for a screen that has nothing else to show while a large node's first
// scan runs. Only a scan given a listener makes a meter: batch, JSON, check and serve pay nothing.
import type { ScannedProcess } from '../model/types.js';
import { uptimeMs } from '../deadline.js';

/** Processes read of those listed, and the inotify watches of those that hold any, so far. */
export interface ScanProgress {
  read: number;
  of: number;
  watches: number;
}

export type ScanProgressListener = (progress: ScanProgress) => void;

/** Often enough for a count that moves; rare enough to cost nothing beside the reads. */
export const SCAN_PROGRESS_EVERY_MS = 100;

/**
 * Tells the listener at once (the total is news), then at most every SCAN_PROGRESS_EVERY_MS: a
 * clock read per process, nothing per fd; each process's watches are summed once, when told.
 */
export class ScanProgressMeter {
  private read = 0;
  private counted = 0;
  private watches = 0;
  /** The watch lists counted (InotifyInstance.listKey): an instance held by several processes counts once. */
  private readonly lists = new Set<string>();
  private nextAt = 0;

  constructor(
    private readonly total: number,
    private readonly listener: ScanProgressListener,
  ) {}

  /** A process is about to be read; `processes` are those the scan kept so far. */
  reading(processes: readonly ScannedProcess[]): void {
    const now = uptimeMs();
    if (now >= this.nextAt) {
      this.tell(processes);
      this.nextAt = now + SCAN_PROGRESS_EVERY_MS;
    }
    this.read++;
  }

  /** Every process listed is read. */
  done(processes: readonly ScannedProcess[]): void {
    this.read = this.total;
    this.tell(processes);
  }

  private tell(processes: readonly ScannedProcess[]): void {
    for (; this.counted < processes.length; this.counted++) {
      for (const { listKey, watches } of processes[this.counted]!.instances) {
        if (listKey === '' || this.lists.has(listKey)) continue;
        this.lists.add(listKey);
        this.watches += watches.length;
      }
    }
    this.listener({ read: this.read, of: this.total, watches: this.watches });
  }
}
