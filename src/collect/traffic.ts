// Traffic, not only inventory: at each refresh, the bytes waiting unread in every event queue and
// the processes waiting for a fanotify permission answer, both judged across refreshes. The
// collector holds one Traffic for the session.
import { fullQueueBytes, QueueHistories, queueState } from '../model/queues.js';
import type { QueueLookup } from '../model/snapshot.js';
import type { Attribution, Limits, PermissionWaits, QueueState, Resolution, Resolutions, ScannedProcess } from '../model/types.js';
import { hasPermissionGroup, PERMISSION_BITS, PermissionWaitTracker, permissionGroupsOf, type MarkRef } from '../model/waits.js';
import { QueueReader, queueKey } from '../scan/queues.js';
import { PermissionWaitFinder } from '../scan/waits.js';

export interface TrafficReading {
  queues: QueueLookup;
  permissionWaits: PermissionWaits;
  notes: string[];
}

const NO_WAITS: PermissionWaits = { processes: [], groups: [], incomplete: null };

export class Traffic {
  private readonly reader: QueueReader;
  private readonly histories = new QueueHistories();
  private readonly finder: PermissionWaitFinder;
  private readonly tracker = new PermissionWaitTracker();
  /** fs.inotify.max_queued_events as first seen this session: instances made before a change keep it. */
  private firstMaxQueuedEvents: number | null | undefined;

  constructor(procRoot: string) {
    this.reader = new QueueReader(procRoot === '/proc');
    this.finder = new PermissionWaitFinder(procRoot);
  }

  /** Closes what the queue reads keep for the next refresh. */
  close(): void {
    this.reader.close();
  }

  /** Processes were waiting for a permission answer at the last look: opening a file outside /proc may wait too. */
  sawWaiters = false;

  /** The waits only (check's second look, before it builds a snapshot). */
  waits(
    processes: readonly ScannedProcess[],
    resolutions: Resolutions | null,
    attribution: Attribution | null,
    deadline: number | null = null,
  ): PermissionWaits {
    if (!hasPermissionGroup(processes)) {
      this.finder.reset();
      this.sawWaiters = false;
      return NO_WAITS;
    }
    // Inode marks have paths only once looked up; mount and filesystem marks need only mountinfo.
    const withInodeMarks = processes.filter((proc) =>
      proc.fanotifyGroups.some((group) => group.inodeMarks.mask.some((mask) => (mask & PERMISSION_BITS) !== 0)),
    );
    if (resolutions && withInodeMarks.length > 0) resolutions.prepare(withInodeMarks, 'all');
    const groups = permissionGroupsOf(processes, (proc, mark) => (resolutions ? markPath(resolutions, proc, mark) : null));
    const search = this.finder.find(undefined, deadline);
    const podOf = (thread: { pid: number; cgroups: string[] }) => attribution?.processPod(thread) ?? null;
    const waits = this.tracker.update(search.threads, groups, podOf, Date.now(), search.incomplete);
    this.sawWaiters = waits.processes.length > 0;
    return waits;
  }

  read(
    processes: readonly ScannedProcess[],
    limits: Limits,
    resolutions: Resolutions | null,
    attribution: Attribution | null,
    /** The queues as the scan read them (ScanResult.queued), if it did. */
    queued: ReadonlyMap<string, number> | null = null,
  ): TrafficReading {
    const readings = this.reader.read(processes, undefined, queued);
    const histories = this.histories.add(readings.bytes);
    const byPid = new Map(processes.map((proc) => [proc.pid, proc]));
    const states = new Map<string, { bytes: number | null; state: QueueState }>();
    const judge = (instanceId: string, fullBytes: number | null): void => {
      const key = queueKey(instanceId, byPid);
      states.set(instanceId, { bytes: readings.bytes.get(key) ?? null, state: queueState(histories.get(key) ?? [], fullBytes) });
    };
    const inotifyFull = fullQueueBytes('inotify', limits.maxQueuedEvents);
    for (const proc of processes) {
      for (const instance of proc.instances) judge(instance.instanceId, inotifyFull);
      for (const group of proc.fanotifyGroups) judge(group.instanceId, fullQueueBytes('fanotify', limits.maxFanotifyQueuedEvents, group.flags));
    }
    const notes = [...readings.notes];
    this.firstMaxQueuedEvents ??= limits.maxQueuedEvents;
    if (this.firstMaxQueuedEvents !== limits.maxQueuedEvents && this.firstMaxQueuedEvents !== null && limits.maxQueuedEvents !== null) {
      notes.push(
        `fs.inotify.max_queued_events changed from ${this.firstMaxQueuedEvents} to ${limits.maxQueuedEvents} this session: ` +
          `instances made before keep the old limit, and their queues are judged against the new one`,
      );
    }
    const permissionWaits = this.waits(processes, resolutions, attribution);
    if (permissionWaits.incomplete) notes.push(permissionWaits.incomplete);
    return { queues: (instanceId) => states.get(instanceId), permissionWaits, notes };
  }
}

/** Where a permission mark is, as its holder sees it: a mount's mount point, a filesystem's widest mount, an inode's path. */
function markPath(resolutions: Resolutions, proc: ScannedProcess, mark: MarkRef): string | null {
  let resolution: Resolution;
  if (mark.markType === 'mount') resolution = resolutions.mountById(proc, mark.mntId).resolution;
  else if (mark.markType === 'filesystem') resolution = resolutions.filesystem(proc, mark.sdev);
  else resolution = resolutions.get(proc, mark.sdev, mark.ino);
  return resolution.path ?? resolution.mountpoint;
}
