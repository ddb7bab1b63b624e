// One refresh of the whole pipeline: scan -> resolve -> attribute -> snapshot. Holds what lives
// across refreshes (resolver caches, the pod list refreshed in the background).
import { buildSnapshot } from '../model/snapshot.js';
import type { Snapshot } from '../model/types.js';
import { scan } from '../scan/index.js';

export interface CollectorOptions {
  procRoot: string;
}

export class Collector {
  constructor(private readonly options: CollectorOptions) {}

  /** Gets ready for the first refresh (e.g. the first pod list). */
  async start(): Promise<void> {}

  collect(): Snapshot {
    const scanned = scan({ procRoot: this.options.procRoot });
    return buildSnapshot(scanned, null, null);
  }

  stop(): void {}
}
