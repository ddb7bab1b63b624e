// One refresh of the whole pipeline: scan -> resolve -> attribute -> snapshot. Holds what lives
// across refreshes (resolver caches, the pod list refreshed in the background, the recording).
import { buildSnapshot } from '../model/snapshot.js';
import type { Snapshot } from '../model/types.js';
import { createAttribution, PodMemory, PodSource, type PodSourceKind } from '../pods/index.js';
import { RecordingWriter } from '../record/writer.js';
import { Resolver } from '../resolve/index.js';
import { closeScanFiles, scan } from '../scan/index.js';
import { readProcTextOrNull } from '../scan/procfs.js';
import { Tracer } from '../trace/tracer.js';
import { VERSION } from '../version.js';

/** Plain data: it crosses into the scan worker thread. */
export interface CollectorOptions {
  procRoot: string;
  pods: PodSourceKind;
  runtimeEndpoint: string | null;
  crictl: string | null;
  kubectl: string | null;
  kubeletRoot: string;
  nodeName: string | null;
  forceWalk: boolean;
  /** Recording file, or null. */
  record: string | null;
  intervalSeconds: number;
  /** Trace failed inotify calls (src/trace); off when missing. */
  trace?: boolean;
}

export class Collector {
  private readonly recorder: RecordingWriter | null;
  private readonly resolver: Resolver;
  private readonly pods: PodSource;
  /** What the session learnt about pods (names of gone ones, devices of pod volumes). */
  private readonly podMemory = new PodMemory();
  private readonly tracer: Tracer;
  /** performance.now() when start() asked for the first pod list; null once the first scan is done. */
  private firstListAskedAt: number | null = null;

  constructor(private readonly options: CollectorOptions) {
    this.resolver = new Resolver({ procRoot: options.procRoot, forceWalk: options.forceWalk });
    this.pods = new PodSource({
      kind: options.pods,
      kubeletRoot: options.kubeletRoot,
      ...(options.runtimeEndpoint ? { runtimeEndpoint: options.runtimeEndpoint } : {}),
      ...(options.crictl ? { crictlPath: options.crictl } : {}),
      ...(options.kubectl ? { kubectlPath: options.kubectl } : {}),
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
    });
    this.tracer = new Tracer({ enabled: options.trace === true, procRoot: options.procRoot });
    this.recorder = options.record ? new RecordingWriter(options.record, { intervalSeconds: options.intervalSeconds, inotopVersion: VERSION }) : null;
  }

  /** Starts the background pod list and the tracer; resolves when the first list is in (or failed). */
  async start(): Promise<void> {
    this.firstListAskedAt = performance.now();
    await Promise.all([this.pods.start(), this.tracer.start()]);
  }

  /** Fetches the pod list now instead of at the next background refresh; resolves when it is in (or failed). */
  refreshPods(): Promise<void> {
    return this.pods.refresh();
  }

  collect(): Snapshot {
    const { procRoot, kubeletRoot } = this.options;
    // The first scan is judged by the list start() waited for, taken just before it: a one-shot
    // run gets its answer, at the price of a pod made in those milliseconds counting as gone.
    const scannedAt = this.firstListAskedAt ?? performance.now();
    this.firstListAskedAt = null;
    const scanned = scan({ procRoot });
    const resolutions = this.resolver.resolve(scanned);
    const scannedCgroups = new Map(scanned.processes.map((p) => [p.pid, p.cgroups]));
    const attribution = createAttribution(this.pods.list(), this.pods.status(), this.podMemory, {
      kubeletRoot,
      // Holders of unmounted volumes need not hold inotify instances, so may not be scanned.
      cgroupsOf: (pid) => scannedCgroups.get(pid) ?? (readProcTextOrNull(`${procRoot}/${pid}/cgroup`) ?? '').split('\n').filter(Boolean),
      notes: this.pods.takeNotes(),
      listTakenAt: this.pods.listTakenAt(),
      scannedAt,
    });
    const snapshot = buildSnapshot(scanned, resolutions, attribution);
    const traced = this.tracer.take({ users: snapshot.users, limits: snapshot.limits, podOf: (pid, cgroups) => attribution.processPod({ pid, cgroups }) });
    snapshot.failures = traced.failures;
    snapshot.churn = traced.churn;
    snapshot.trace = traced.status;
    snapshot.notes.push(...traced.notes);
    // Pods the list may be too old to know: ask now rather than at the next background refresh.
    if (attribution.needsNewerList()) void this.pods.refresh();
    this.recorder?.append(snapshot);
    return snapshot;
  }

  stop(): void {
    this.tracer.stop();
    closeScanFiles();
    this.pods.stop();
    this.resolver.close();
    this.recorder?.close();
  }
}
