// One refresh of the whole pipeline: scan -> resolve -> attribute -> snapshot. Holds what lives
// across refreshes (resolver caches, the pod list refreshed in the background, the recording).
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { UsageTrends } from '../model/projection.js';
import { buildSnapshot, targetOrder, type SnapshotTargets } from '../model/snapshot.js';
import type { HolderDetail, ProcessRow, ScanResult, Snapshot, TargetRow, UserNamespace } from '../model/types.js';
import { nodePath } from '../common/node-root.js';
import {
  createAttribution,
  PodMemory,
  PodSource,
  podFromPath,
  podRootDirs,
  POD_LOG_ROOT,
  shownCgroupPath,
  type PodAttribution,
  type PodSourceOptions,
} from '../pods/index.js';
import { RecordingError } from '../record/format.js';
import type { RecordingWriter } from '../record/writer.js';
import { Resolver, type RefreshResolutions } from '../resolve/index.js';
import { readProcTextOrNull, Scanner, type ScanProgressListener } from '../scan/index.js';
import { Tracer } from '../trace/tracer.js';
import { Traffic } from './traffic.js';
import { samePlainData } from './sent-rows.js';
import { sameOrder, TargetList } from './target-list.js';
import { parseCmdline } from '../scan/parse.js';
import { VERSION } from '../version.js';
import { uptimeMs } from '../deadline.js';

/** The most of a holder's file looked at: an etc-hosts is a few hundred bytes. */
const SMALL_FILE_BYTES = 64 * 1024;

/**
 * A small regular file inside another process's root, null otherwise: a container decides what
 * its /etc/hosts is, and a FIFO or a device there must not block or flood a read-only scan.
 */
function readSmallFileOrNull(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const bytes = Buffer.alloc(SMALL_FILE_BYTES);
    return bytes.subarray(0, readSync(fd, bytes, 0, SMALL_FILE_BYTES, 0)).toString('utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

const HELD_FILES_NOTE =
  "while processes wait for fanotify permission answers, inotop opens no pod's files (a gone pod's name from its etc-hosts): the open would wait too";

function listDirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Plain data: it crosses into the scan worker thread. */
export interface CollectorOptions {
  procRoot: string;
  pods: PodSourceOptions;
  forceWalk: boolean;
  /** Recording file, or null. */
  record: string | null;
  /** Add to the recording file instead of replacing it (--append). */
  appendRecord?: boolean;
  intervalSeconds: number;
  /** Trace failed inotify calls (src/trace). */
  trace: boolean;
  /** Why not, when `trace` is false for another reason than --no-trace. */
  traceOffReason?: string;
  /** One refresh only (a one-shot run): the scan keeps nothing for a next one (ScanOptions.once). */
  once?: boolean;
  /** With `once`: a big node's scan is read by two threads (ScanOptions.secondThread). */
  secondThread?: boolean;
}

/** The stages' outputs of the last collect(): what a view may ask more of (another process's targets). */
interface LastRefresh {
  scan: ScanResult;
  resolutions: RefreshResolutions;
  attribution: PodAttribution;
}

export class Collector {
  /** Made by start() when recording: the writer, its reader (for --append) and zlib load only then. */
  private recorder: RecordingWriter | null = null;
  /** Why the recording stopped (the file took no more: ENOSPC), said in every later snapshot's notes; null while it goes on. */
  recordingStopped: string | null = null;
  private readonly scanner: Scanner;
  private readonly resolver: Resolver;
  private last: LastRefresh | null = null;
  /** The last collect() passed its deadline before every path it needed was looked up. */
  outOfTime = false;
  private readonly pods: PodSource;
  /** What the session learnt about pods (names of gone ones, devices of pod volumes). */
  private readonly podMemory = new PodMemory();
  private readonly tracer: Tracer;
  /** Each user's counts over the last refreshes: their time to exhaustion. */
  private readonly trends = new UsageTrends();
  /** uptimeMs() when start() asked for the first pod list; null once the first scan is done. */
  private firstListAskedAt: number | null = null;
  /** Event queues and permission waits, judged across refreshes. */
  private readonly traffic: Traffic;
  /** collect() calls so far: a target list is known to be as made when its process was kept since. */
  private refreshes = 0;
  /** The target list made last (targetList), by pid, and what it was made from. */
  private targetLists = new Map<number, { startTime: number; context: string; refresh: number; list: TargetList }>();

  /**
   * `checkpoint`: called between the units of a refresh's work (ScanOptions.checkpoint), where a
   * collector's thread asked to stop throws (StopCell.check): the refresh ends there.
   */
  constructor(
    private readonly options: CollectorOptions,
    checkpoint?: () => void,
  ) {
    // A one-shot reads its queues once, right after its scan: the scan's threads read them as they read each holder.
    this.scanner = new Scanner({
      procRoot: options.procRoot,
      once: options.once ?? false,
      secondThread: options.secondThread ?? false,
      readQueues: options.once ?? false,
      checkpoint,
    });
    this.resolver = new Resolver({
      procRoot: options.procRoot,
      forceWalk: options.forceWalk,
      podRoots: podRootDirs(options.pods.kubeletRoot),
      isPodPath: (path) => podFromPath(path, options.pods.kubeletRoot) !== null,
    });
    this.pods = new PodSource(options.pods, options.once === true);
    this.traffic = new Traffic(options.procRoot);
    this.tracer = new Tracer({ enabled: options.trace, procRoot: options.procRoot, ...(options.traceOffReason ? { offReason: options.traceOffReason } : {}) });
  }

  /**
   * Starts the background pod list and the tracer. Resolves once the first pod list is asked for
   * (its requests out), not answered: the first scan runs beside it, and its snapshot waits for
   * podsReady().
   */
  async start(): Promise<void> {
    this.firstListAskedAt = uptimeMs();
    if (this.options.record) {
      const { RecordingWriter } = await import('../record/writer.js');
      this.recorder = new RecordingWriter(
        this.options.record,
        { intervalSeconds: this.options.intervalSeconds, inotopVersion: VERSION },
        this.options.appendRecord === true,
      );
    }
    await Promise.all([this.pods.start(), this.tracer.start()]);
  }

  /** The first pod list is in, or failed, or its source's timeout passed (then pods show "pending"). */
  podsReady(): Promise<void> {
    return this.pods.ready();
  }

  /** Fetches the pod list now instead of at the next background refresh; resolves when it is in (or failed). */
  refreshPods(): Promise<void> {
    return this.pods.refresh();
  }

  /** One scan of /proc, for a caller that judges its counts before it asks for more (check). */
  scan(deadline: number | null = null): ScanResult {
    return this.scanner.scan(deadline);
  }

  /** A user namespace, as the scans know it or looked up through a process in it (a failing one): see Scanner.namespaceOf. */
  namespaceOf(userns: string, pid: number): UserNamespace | null {
    return this.scanner.namespaceOf(userns, pid);
  }

  /** Whether refreshes between full scans can read only the processes that changed (the trace tells which). */
  tellsChanges(): boolean {
    return this.tracer.tellsChanges();
  }

  /**
   * The scan of a refresh: of only the processes whose calls the trace saw since the previous
   * one (and new ones) when `changedOnly` and the trace can tell, else of every process;
   * `progress` told how far it has got as it goes.
   */
  scanForRefresh(changedOnly: boolean, progress: ScanProgressListener | null = null): ScanResult {
    // Asked before every scan: what a scan of all finds needs telling no more.
    const changed = this.tracer.takeChanged();
    return this.scanner.scan(null, changedOnly && this.scanner.canScanChanged() ? changed : null, progress);
  }

  /**
   * One refresh: scan (or the scan given), resolve, attribute, snapshot. `targets` says whose
   * target rows the snapshot carries; a recording always gets every one. `deadline`
   * (uptimeMs() time) bounds path lookups: past it, the rest stay unresolved and
   * `outOfTime` says so until the next collect().
   */
  collect(targets: SnapshotTargets, scanned: ScanResult = this.scanner.scan(), deadline: number | null = null): Snapshot {
    this.refreshes++;
    const { procRoot } = this.options;
    const { kubeletRoot } = this.options.pods;
    // The first scan is judged by the list start() waited for, taken just before it: a one-shot
    // run gets its answer, at the price of a pod made in those milliseconds counting as gone.
    const scannedAt = this.firstListAskedAt ?? uptimeMs();
    this.firstListAskedAt = null;
    const resolutions = this.resolver.resolve(scanned, deadline);
    // A process that exited between the scan and now has no mounts to see its targets through.
    const present = { ...scanned, processes: scanned.processes.filter((proc) => !resolutions.vanished(proc)) };
    const wanted = this.recorder ? 'all' : targets;
    if (wanted === 'all') resolutions.prepare(present.processes, 'all');
    else if (typeof wanted !== 'string')
      resolutions.prepare(
        present.processes.filter((proc) => wanted.has(proc.pid)),
        'all',
      );
    const scannedCgroups = new Map(present.processes.map((p) => [p.pid, p.cgroups]));
    // While processes wait for a permission answer, a file opened outside /proc may wait too.
    const holdFiles = this.traffic.sawWaiters;
    const attribution = createAttribution(this.pods.list(), this.pods.status(), this.podMemory, {
      kubeletRoot,
      // Holders of unmounted volumes need not hold inotify instances, so may not be scanned.
      cgroupsOf: (pid) => scannedCgroups.get(pid) ?? (readProcTextOrNull(`${procRoot}/${pid}/cgroup`) ?? '').split('\n').filter(Boolean),
      notes: this.pods.takeNotes(),
      listTakenAt: this.pods.listTakenAt(),
      scannedAt,
      readFileOf: (pid, path) => (holdFiles ? null : readSmallFileOrNull(`${procRoot}/${pid}/root${path}`)),
      podLogDirs: () => listDirOrEmpty(nodePath(procRoot, POD_LOG_ROOT)),
    });
    const traffic = this.traffic.read(present.processes, present.limits, resolutions, attribution, present.queued);
    const made = buildSnapshot(present, resolutions, attribution, wanted, traffic.queues);
    resolutions.forgetInodes();
    const snapshot = { ...made, users: this.trends.add(made.time, made.users) };
    const traced = this.tracer.take({
      users: snapshot.users,
      limits: snapshot.limits,
      namespaceOf: (userns, pid) => this.namespaceOf(userns, pid),
      podOf: (pid, cgroups) => attribution.processPod({ pid, cgroups }),
    });
    snapshot.failures = traced.failures;
    snapshot.churn = traced.churn;
    snapshot.trace = traced.status;
    snapshot.notes.push(...traced.notes, ...traffic.notes);
    snapshot.permissionWaits = traffic.permissionWaits;
    if (holdFiles) snapshot.notes.push(HELD_FILES_NOTE);
    // Pods the list may be too old to know: ask now rather than at the next background refresh.
    if (attribution.needsNewerList()) void this.pods.refresh();
    this.podMemory.forgetUnnamed(scannedAt);
    this.record(snapshot);
    this.last = { scan: present, resolutions, attribution };
    this.outOfTime = resolutions.outOfTime;
    return snapshot;
  }

  /** Appends to the recording; a file that takes no more ends the recording, not the refreshes. */
  private record(snapshot: Snapshot): void {
    try {
      this.recorder?.append(snapshot);
    } catch (error) {
      if (!(error instanceof RecordingError)) throw error;
      this.recorder!.close();
      this.recorder = null;
      this.recordingStopped = error.message;
    }
    if (this.recordingStopped) snapshot.notes.push(`${this.recordingStopped}; the refreshes go on`);
  }

  /** The live pods' uids, in one string: target rows built under another list are built again. */
  private podUids(): string {
    return [...(this.pods.list()?.pods.keys() ?? [])].sort().join(' ');
  }

  /**
   * The targets of the process of this row (of the last refresh) as a screen's detail pane reads
   * them, null when it is not there: numbers per target, rows built for a window when asked. The
   * list made for the refresh before is the one returned while the process was kept as it was and
   * its pods and mounts did not change, or when a new one comes out the same: a list that is the
   * same object has not changed.
   */
  targetList(row: ProcessRow): TargetList | null {
    if (!this.last) return null;
    const { scan, resolutions, attribution } = this.last;
    const proc = scan.processes.find((candidate) => candidate.pid === row.pid);
    if (!proc) return null;
    const context = `${this.podUids()}|${resolutions.standingsOf(proc)}`;
    const before = this.targetLists.get(row.pid);
    const still = before?.startTime === proc.startTime && before.context === context;
    if (still && (before.refresh === this.refreshes || (before.refresh === this.refreshes - 1 && scan.keptPids.includes(row.pid)))) {
      before.refresh = this.refreshes;
      return before.list;
    }
    // Their inodes were let go with the refresh's snapshot (forgetInodes): looked up again, from the cache.
    resolutions.prepare([proc], 'pod-paths');
    const order = targetOrder(proc, resolutions, attribution);
    let fanotify: TargetRow[] = [];
    if (proc.fanotifyGroups.length > 0) {
      const marks = { ...proc, instances: [] };
      resolutions.prepare([marks], 'all');
      fanotify = buildSnapshot({ ...scan, processes: [marks] }, resolutions, attribution, 'all').processes[0]?.targets ?? [];
    }
    resolutions.forgetInodes();
    const list =
      still && sameOrder(before.list.inotify, order) && samePlainData(before.list.fanotify, fanotify)
        ? before.list
        : new TargetList(row.pid, order, fanotify, () => this.last);
    // One process's at a time: the one a screen shows.
    this.targetLists = new Map([[row.pid, { startTime: proc.startTime, context, refresh: this.refreshes, list }]]);
    return list;
  }

  /** Command line, cgroup and pod of the holders of these targets (of the last refresh), for inspect. */
  holderDetails(targets: readonly TargetRow[]): HolderDetail[] {
    if (!this.last) return [];
    const { scan, attribution } = this.last;
    const procRoot = this.options.procRoot;
    const pids = new Set(targets.flatMap((target) => target.heldBy));
    return [...pids].map((pid) => {
      const scanned = scan.processes.find((proc) => proc.pid === pid);
      const cgroups = scanned?.cgroups ?? (readProcTextOrNull(`${procRoot}/${pid}/cgroup`) ?? '').split('\n').filter(Boolean);
      const raw = scanned ? null : readProcTextOrNull(`${procRoot}/${pid}/cmdline`);
      const cmdline = scanned ? scanned.cmdline : raw === null ? null : parseCmdline(raw);
      return { pid, cmdline, cgroup: shownCgroupPath(cgroups), pod: attribution.processPod({ pid, cgroups }) };
    });
  }

  stop(): void {
    this.last = null;
    this.tracer.stop();
    this.scanner.close();
    this.pods.stop();
    this.resolver.close();
    this.traffic.close();
    this.recorder?.close();
  }
}
