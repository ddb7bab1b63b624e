// One refresh of the whole pipeline: scan -> resolve -> attribute -> snapshot. Holds what lives
// across refreshes (resolver caches, the pod list refreshed in the background, the recording).
import type { PodSourceKind } from '../cli/args.js';
import { buildSnapshot } from '../model/snapshot.js';
import type { Snapshot } from '../model/types.js';
import { RecordingWriter } from '../record/writer.js';
import { Resolver } from '../resolve/index.js';
import { scan } from '../scan/index.js';
import { VERSION } from '../version.js';

/** Plain data: it crosses into the scan worker thread. */
export interface CollectorOptions {
  procRoot: string;
  pods: PodSourceKind;
  crictl: string | null;
  kubectl: string | null;
  kubeletRoot: string;
  nodeName: string | null;
  forceWalk: boolean;
  /** Recording file, or null. */
  record: string | null;
  intervalSeconds: number;
}

export class Collector {
  private readonly recorder: RecordingWriter | null;
  private readonly resolver: Resolver;

  constructor(private readonly options: CollectorOptions) {
    this.resolver = new Resolver({ procRoot: options.procRoot, forceWalk: options.forceWalk });
    this.recorder = options.record ? new RecordingWriter(options.record, { intervalSeconds: options.intervalSeconds, inotopVersion: VERSION }) : null;
  }

  /** Gets ready for the first refresh (e.g. the first pod list). */
  async start(): Promise<void> {}

  collect(): Snapshot {
    const scanned = scan({ procRoot: this.options.procRoot });
    const snapshot = buildSnapshot(scanned, this.resolver.resolve(scanned), null);
    this.recorder?.append(snapshot);
    return snapshot;
  }

  stop(): void {
    this.resolver.close();
    this.recorder?.close();
  }
}
