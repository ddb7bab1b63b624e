// Builds the model snapshot from the stages' outputs: per-process counts and leaks, per-user and
// node totals with shared instances counted once, and target rows only for what is shown.
//
// Counts go by device: a watch on a filesystem that holds no pod paths can be leaked only by
// being unmounted from its watcher's namespace, which its device tells. Only watches on
// filesystems that hold pod paths are looked at one by one. A million watches cost a few
// lookups per instance and device, not an object each.
//
// fanotify groups and marks are counted beside inotify's, never in them: they have limits of
// their own. Their targets are shown, but not judged as leaks (leaks count inotify watches).
import { compareCodeUnits } from '../common/compare.js';
import { chargedUsers, keyText, NO_CHARGE, type ChargeKey } from './charges.js';
import { devicesOf, devOf } from './watches.js';
import type {
  Attribution,
  ChargeCounts,
  FanotifyFdRow,
  FanotifyGroup,
  FdRow,
  Holder,
  LeakForm,
  LeakHolder,
  PodRef,
  PodsStatus,
  ProcessRow,
  QueueFields,
  QueueState,
  Resolution,
  Resolutions,
  ScanResult,
  ScannedProcess,
  Snapshot,
  TargetRow,
  TraceStatus,
  WatchedPod,
  WatchList,
} from './types.js';

const NO_POD_SOURCE: PodsStatus = { source: 'none', live: null, stale: false, error: null };

/** A snapshot as built is not traced: the collector puts its tracer's failures, churn and status in. */
const NOT_TRACED: TraceStatus = { state: 'off', reason: 'not traced' };

/**
 * Whose targets a snapshot carries: every process's (--targets, recordings), only leaked ones
 * (check and metrics name them), none (counts), or those of some pids (the screen's selection).
 * Resolutions must have been prepared for the processes whose every target is wanted.
 */
export type SnapshotTargets = 'all' | 'leaked' | 'none' | ReadonlySet<number>;

/** An instance's (or group's) queue as this refresh read and judged it (model/queues.ts), by its instanceId. */
export type QueueLookup = (instanceId: string) => { bytes: number | null; state: QueueState } | undefined;

export function buildSnapshot(
  scan: ScanResult,
  resolutions: Resolutions | null,
  attribution: Attribution | null,
  targets: SnapshotTargets,
  queues: QueueLookup | null = null,
): Snapshot {
  const pods = new PodsOfResolutions(attribution);
  const processes = scan.processes.map((proc) => buildProcessRow(proc, scan.hostUserns, resolutions, pods, wantsTargets(targets, proc.pid), queues));
  const counted = new Set<string>();
  const owns = new Map<string, { key: ChargeKey; name: string; own: ChargeCounts; pods: Set<string> }>();
  let instances = 0;
  let watches = 0;
  let fanotifyGroups = 0;
  let fanotifyMarks = 0;
  // The kernel charges an instance to one key; a shared one goes to its first (lowest pid) holder.
  scan.processes.forEach((proc, i) => {
    const key = { userns: processes[i]!.userns, uid: proc.uid };
    let user = owns.get(keyText(key));
    if (!user) {
      user = { key, name: proc.user, own: { ...NO_CHARGE }, pods: new Set() };
      owns.set(keyText(key), user);
    }
    const pod = processes[i]!.pod;
    if (pod) user.pods.add(pod.uid);
    const own = user.own;
    for (const instance of proc.instances) {
      if (counted.has(instance.instanceId)) continue;
      counted.add(instance.instanceId);
      own.instances++;
      own.watches += instance.watches.length;
      instances++;
      watches += instance.watches.length;
    }
    for (const group of proc.fanotifyGroups) {
      if (counted.has(group.instanceId)) continue;
      counted.add(group.instanceId);
      const marks = marksOf(group);
      own.fanotifyGroups++;
      if ((group.flags & FAN_UNLIMITED_MARKS) === 0) own.fanotifyMarks += marks;
      fanotifyGroups++;
      fanotifyMarks += marks;
    }
  });
  const notes = [...(resolutions?.notes ?? []), ...(attribution?.notes ?? [])];
  return {
    schema: 1,
    time: scan.time,
    hostname: scan.hostname,
    kernel: scan.kernel,
    limits: scan.limits,
    totals: { processes: processes.length, instances, watches, fanotifyGroups, fanotifyMarks },
    users: chargedUsers([...owns.values()], scan.userNamespaces, scan.limits),
    processes: processes.sort((a, b) => b.watches - a.watches || a.pid - b.pid),
    pods: attribution?.status ?? NO_POD_SOURCE,
    notes,
    scanNotes: scan.notes,
    scanMs: Math.round(scan.durationMs * 10) / 10,
    scanScope: scan.scope,
    failures: [],
    churn: [],
    trace: NOT_TRACED,
    scan: scan.coverage,
  };
}

/** A group made with FAN_UNLIMITED_MARKS (CAP_SYS_ADMIN) is not charged for its marks. */
const FAN_UNLIMITED_MARKS = 0x20;

function marksOf(group: FanotifyGroup): number {
  return group.inodeMarks.length + group.mountMarks.length + group.filesystemMarks.length;
}

/**
 * An fd row with its queue's fields, set on it; none when the snapshot was made without queues
 * (check's counts). Set, not spread into the row's literal: V8 copies a spread property by
 * property, and the row it makes is slower to turn into JSON.
 */
function withQueueFields<Row extends QueueFields>(row: Row, queues: QueueLookup | null, instanceId: string): Row {
  if (!queues) return row;
  const queue = queues(instanceId);
  row.queuedBytes = queue?.bytes ?? null;
  row.queueState = queue?.state ?? 'unknown';
  return row;
}

/** The sum of the queues read, null when none was. */
function queuedSum(bytes: readonly (number | null)[]): number | null {
  const read = bytes.filter((value): value is number => value !== null);
  return read.length === 0 ? null : read.reduce((sum, value) => sum + value, 0);
}

function wantsTargets(targets: SnapshotTargets, pid: number): 'all' | 'leaked' | 'none' {
  if (typeof targets === 'string') return targets;
  return targets.has(pid) ? 'all' : 'none';
}

/** Pods of targets, once per resolution (many watches share one: a device's, or a cached one). */
class PodsOfResolutions {
  private readonly byResolution = new WeakMap<Resolution, PodRef | null>();
  private readonly byDevice = new Map<string, PodRef | null>();

  constructor(private readonly attribution: Attribution | null) {}

  of(dev: string, resolution: Resolution | null): PodRef | null {
    if (!this.attribution) return null;
    if (resolution === null) {
      let pod = this.byDevice.get(dev);
      if (pod === undefined) this.byDevice.set(dev, (pod = this.attribution.targetPod(dev, null)));
      return pod;
    }
    let pod = this.byResolution.get(resolution);
    if (pod === undefined) this.byResolution.set(resolution, (pod = this.attribution.targetPod(dev, resolution)));
    return pod;
  }

  processPod(proc: ScannedProcess): PodRef | null {
    return this.attribution?.processPod(proc) ?? null;
  }
}

/** What a process's watches add up to, without a row per target. */
class Tally {
  leaked = 0;
  stranded = 0;
  readonly pods = new Map<string, WatchedPod>();
  readonly holders = new Map<number, LeakHolder>();
  /** Holder lists that are in: many watches share one (a resolution's). */
  private readonly seen = new WeakSet<readonly Holder[]>();

  add(watches: number, pod: PodRef | null, leak: LeakForm | null, heldBy: readonly Holder[] | null): void {
    if (leak !== null) this.leaked += watches;
    if (leak === 'unmounted' || leak === 'deleted') this.stranded += watches;
    const newHolders = leak !== null && heldBy !== null && !this.seen.has(heldBy) ? heldBy : [];
    if (newHolders.length > 0) {
      this.seen.add(heldBy!);
      for (const holder of newHolders) if (!this.holders.has(holder.pid)) this.holders.set(holder.pid, { pid: holder.pid, comm: holder.comm });
    }
    if (!pod) return;
    let entry = this.pods.get(pod.uid);
    if (!entry) this.pods.set(pod.uid, (entry = { pod, watches: 0, leaked: 0, holders: [] }));
    // A later target may have found the name an earlier one had not (a holder's etc-hosts).
    if (entry.pod.name === null && pod.name !== null) entry.pod = pod;
    entry.watches += watches;
    if (leak !== null) entry.leaked += watches;
    for (const holder of newHolders) if (!entry.holders.includes(holder.pid)) entry.holders.push(holder.pid);
  }

  summaries(): Pick<ProcessRow, 'leaked' | 'stranded' | 'watchedPods' | 'leakHolders'> {
    return {
      leaked: this.leaked,
      stranded: this.stranded,
      watchedPods: [...this.pods.values()].sort(compareWatchedPods),
      leakHolders: [...this.holders.values()].sort((a, b) => a.pid - b.pid),
    };
  }
}

/** A row's counts of leaks and pods from its target rows (every one of them: a recording's). fanotify marks are not judged as leaks. */
export function tallyTargets(targets: readonly TargetRow[]): Pick<ProcessRow, 'leaked' | 'stranded' | 'watchedPods' | 'leakHolders'> {
  const tally = new Tally();
  for (const target of targets) if (target.kind === 'inotify') tally.add(target.watches, target.pod, target.leak, target.holders);
  return tally.summaries();
}

function buildProcessRow(
  proc: ScannedProcess,
  hostUserns: string | null,
  resolutions: Resolutions | null,
  pods: PodsOfResolutions,
  targets: 'all' | 'leaked' | 'none',
  queues: QueueLookup | null,
): ProcessRow {
  const tally = new Tally();
  const rows = new Map<string, Map<number, TargetRow>>();
  let watches = 0;
  for (const instance of proc.instances) {
    const list = instance.watches;
    watches += list.length;
    const { sdevs, counts } = devicesOf(list);
    for (let d = 0; d < sdevs.length; d++) {
      const sdev = sdevs[d]!;
      const dev = devOf(sdev);
      const standing = resolutions?.standing(proc, sdev) ?? 'unknown';
      const oneByOne = targets === 'all' || standing === 'pod-paths' || (targets === 'leaked' && standing === 'unmounted');
      if (!oneByOne) {
        const { pod, leak, resolution } = deviceVerdict(proc, sdev, standing, resolutions, pods);
        tally.add(counts[d]!, pod, leak, resolution?.heldBy ?? null);
        continue;
      }
      for (let i = 0; i < list.length; i++) {
        if (list.sdev[i] !== sdev) continue;
        const ino = list.ino[i]!;
        const { pod, leak, resolution } = inodeVerdict(proc, sdev, ino, resolutions, pods);
        tally.add(1, pod, leak, resolution?.heldBy ?? null);
        if (targets === 'none' || (targets === 'leaked' && leak === null)) continue;
        let byIno = rows.get(dev);
        if (!byIno) rows.set(dev, (byIno = new Map()));
        const row = byIno.get(ino);
        if (row) {
          row.watches++;
          row.mask |= list.mask[i]!;
          if (!row.fds.includes(instance.fd)) row.fds.push(instance.fd);
        } else {
          byIno.set(ino, targetRow(dev, ino, instance.fd, list.mask[i]!, resolution, pod, leak));
        }
      }
    }
  }
  const targetRows = [...rows.values()].flatMap((byIno) => [...byIno.values()]);
  targetRows.sort((a, b) => b.watches - a.watches || compareDev(a.dev, b.dev) || a.ino - b.ino);
  if (targets === 'all') targetRows.push(...fanotifyTargetRows(proc, resolutions, pods));
  // Its fields set in their order, none spread (see withQueueFields): some 10 µs a row in a cold
  // one-shot, 5 ms at 500 holders.
  const row: Omit<ProcessRow, 'leaked' | 'stranded' | 'watchedPods' | 'leakHolders' | 'pod' | 'targets'> & Partial<ProcessRow> = {
    pid: proc.pid,
    ppid: proc.ppid,
    startTime: proc.startTime,
    uid: proc.uid,
    user: proc.user,
    userns: proc.userns !== null && proc.userns !== hostUserns ? proc.userns : null,
    comm: proc.comm,
    cmdline: proc.cmdline,
    instances: proc.instances.length,
    watches,
    fds: proc.instances.map((i) =>
      withQueueFields<FdRow>({ fd: i.fd, watches: i.watches.length, shared: i.shared, instance: i.instanceId }, queues, i.instanceId),
    ),
    fanotifyGroups: proc.fanotifyGroups.length,
    fanotifyMarks: proc.fanotifyGroups.reduce((sum, group) => sum + marksOf(group), 0),
    fanotifyFds: proc.fanotifyGroups.map((g) =>
      withQueueFields<FanotifyFdRow>({ fd: g.fd, marks: marksOf(g), shared: g.shared, instance: g.instanceId }, queues, g.instanceId),
    ),
  };
  if (queues) row.queuedBytes = queuedSum([...proc.instances, ...proc.fanotifyGroups].map((item) => queues(item.instanceId)?.bytes ?? null));
  const { leaked, stranded, watchedPods, leakHolders } = tally.summaries();
  row.leaked = leaked;
  row.stranded = stranded;
  row.watchedPods = watchedPods;
  row.leakHolders = leakHolders;
  row.pod = pods.processPod(proc);
  row.targets = targetRows;
  return row as ProcessRow;
}

/** A target's pod and leak, and what they come from, judged by its device alone (a watch not looked at one by one). */
function deviceVerdict(proc: ScannedProcess, sdev: number, standing: string, resolutions: Resolutions | null, pods: PodsOfResolutions): Verdict {
  const resolution = standing === 'unmounted' ? resolutions!.unmountedDevice(proc, sdev) : null;
  const pod = standing === 'unmounted' || standing === 'plain' ? pods.of(devOf(sdev), resolution) : null;
  return { resolution, pod, leak: leakForm({ status: resolution?.status ?? 'ok', pod }) };
}

/** A target's pod and leak, judged by its inode's resolution. */
function inodeVerdict(proc: ScannedProcess, sdev: number, ino: number, resolutions: Resolutions | null, pods: PodsOfResolutions): Verdict {
  const resolution = resolutions?.get(proc, sdev, ino) ?? null;
  const pod = pods.of(devOf(sdev), resolution);
  return { resolution, pod, leak: leakForm({ status: resolution?.status ?? 'unresolved', pod }) };
}

interface Verdict {
  resolution: Resolution | null;
  pod: PodRef | null;
  leak: LeakForm | null;
}

/**
 * A process's inotify targets (its watched inodes) as numbers, and their order in a detail pane:
 * leaked first, then most watched first, by device and inode. A screen shows a few of a process's
 * targets at a time; this is what it takes to know which, at a few numbers a target where rows
 * would be objects of a few hundred bytes (a process can hold 500,000 watches). Each target's
 * leak is judged as the process's counts judge it (buildProcessRow without target rows): by its
 * device where its filesystem holds no pod paths, else by its inode's resolution, which the
 * refresh looked up (prepare 'pod-paths').
 */
export interface TargetOrder {
  /** Each target's device and inode: ids are in device, then inode order (targetIdOf searches them). */
  readonly sdev: Uint32Array;
  readonly ino: Float64Array;
  /** How many of the process's watches are on each target. */
  readonly watches: Uint32Array;
  /** 1 where a target is leaked. */
  readonly leaked: Uint8Array;
  /** Target ids in the pane's order. */
  readonly order: Int32Array;
}

export function targetOrder(proc: ScannedProcess, resolutions: Resolutions | null, attribution: Attribution | null): TargetOrder {
  const pods = new PodsOfResolutions(attribution);
  // Each device's watched inodes, sorted (a native sort of numbers): equal ones are one target.
  const byDevice = new Map<number, number>();
  for (const instance of proc.instances) {
    const { sdevs, counts } = devicesOf(instance.watches);
    sdevs.forEach((sdev, d) => byDevice.set(sdev, (byDevice.get(sdev) ?? 0) + counts[d]!));
  }
  const devices = [...byDevice.keys()].sort((a, b) => a - b);
  const parts = devices.map((sdev) => {
    const inos = new Float64Array(byDevice.get(sdev)!);
    let at = 0;
    for (const instance of proc.instances) {
      const list = instance.watches;
      for (let i = 0; i < list.length; i++) if (list.sdev[i] === sdev) inos[at++] = list.ino[i]!;
    }
    inos.sort();
    let distinct = 0;
    for (let i = 0; i < inos.length; i++) if (i === 0 || inos[i] !== inos[i - 1]) distinct++;
    return { sdev, inos, distinct };
  });
  const count = parts.reduce((sum, part) => sum + part.distinct, 0);
  const sdev = new Uint32Array(count);
  const ino = new Float64Array(count);
  const watches = new Uint32Array(count);
  const leaked = new Uint8Array(count);
  // In device, then inode order.
  let id = -1;
  for (const part of parts) {
    const standing = resolutions?.standing(proc, part.sdev) ?? 'unknown';
    const byDevice = standing === 'pod-paths' ? null : deviceVerdict(proc, part.sdev, standing, resolutions, pods).leak !== null;
    for (let i = 0; i < part.inos.length; i++) {
      const number = part.inos[i]!;
      if (i === 0 || number !== part.inos[i - 1]) {
        id++;
        sdev[id] = part.sdev;
        ino[id] = number;
        leaked[id] = (byDevice ?? inodeVerdict(proc, part.sdev, number, resolutions, pods).leak !== null) ? 1 : 0;
      }
      watches[id]!++;
    }
  }
  return { sdev, ino, watches, leaked, order: leakedThenMostWatched(leaked, watches) };
}

/** The id of the target on this device and inode, -1 when the order has none: a binary search of ids in device, then inode order. */
export function targetIdOf(order: TargetOrder, sdev: number, ino: number): number {
  let low = 0;
  let high = order.sdev.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const device = order.sdev[middle]!;
    const inode = order.ino[middle]!;
    if (device === sdev && inode === ino) return middle;
    if (device < sdev || (device === sdev && inode < ino)) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/**
 * Where each target's watches are in a process's watch lists: target id's watches are entries
 * starts[id] to starts[id + 1] of `list` (which of `lists`) and `index` (the watch's place in it),
 * in list and then watch order. Built once (a search per watch) so that the rows of a few targets
 * are found in their own watches, not by a pass over every watch of the process.
 */
export interface WatchesByTarget {
  readonly lists: readonly WatchList[];
  readonly starts: Int32Array;
  readonly list: Int32Array;
  readonly index: Int32Array;
}

/** The watches of `lists` by their target in `order`; watches on an inode the order lacks are left out. */
export function watchesByTarget(order: TargetOrder, lists: readonly WatchList[]): WatchesByTarget {
  const targets = order.sdev.length;
  const targetOf = lists.map((list) => {
    const ids = new Int32Array(list.length);
    // Watchers walk directories, often in inode order: the target after the last one found is tried first.
    let next = 0;
    for (let i = 0; i < list.length; i++) {
      const sdev = list.sdev[i]!;
      const ino = list.ino[i]!;
      const id = order.sdev[next] === sdev && order.ino[next] === ino ? next : targetIdOf(order, sdev, ino);
      ids[i] = id;
      if (id >= 0) next = id + 1;
    }
    return ids;
  });
  const starts = new Int32Array(targets + 1);
  for (const ids of targetOf) for (const id of ids) if (id >= 0) starts[id + 1]!++;
  for (let id = 0; id < targets; id++) starts[id + 1]! += starts[id]!;
  const next = starts.slice(0, targets);
  const list = new Int32Array(starts[targets]!);
  const index = new Int32Array(starts[targets]!);
  targetOf.forEach((ids, l) => {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0) continue;
      const at = next[id]!++;
      list[at] = l;
      index[at] = i;
    }
  });
  return { lists, starts, list, index };
}

/** Ids (in device and inode order) leaked first, then most watched first, each group in id order: a counting sort, few counts being distinct. */
function leakedThenMostWatched(leaked: Uint8Array, watches: Uint32Array): Int32Array {
  // Smaller first: leaked before not, then more watches before fewer.
  const groupOf = (id: number) => (1 - leaked[id]!) * 2 ** 32 + (2 ** 32 - 1 - watches[id]!);
  const sizes = new Map<number, number>();
  for (let id = 0; id < leaked.length; id++) {
    const group = groupOf(id);
    sizes.set(group, (sizes.get(group) ?? 0) + 1);
  }
  const starts = new Map<number, number>();
  let start = 0;
  for (const group of [...sizes.keys()].sort((a, b) => a - b)) {
    starts.set(group, start);
    start += sizes.get(group)!;
  }
  const order = new Int32Array(leaked.length);
  for (let id = 0; id < leaked.length; id++) {
    const group = groupOf(id);
    const at = starts.get(group)!;
    order[at] = id;
    starts.set(group, at + 1);
  }
  return order;
}

/**
 * A target row per fanotify mark, inode marks of several groups on one inode together: inode
 * marks resolve as watches do, mount marks to the mount their id names, filesystem marks to a
 * mount of their device. After the inotify targets.
 */
function fanotifyTargetRows(proc: ScannedProcess, resolutions: Resolutions | null, pods: PodsOfResolutions): TargetRow[] {
  const inodes = new Map<string, TargetRow>();
  const others: TargetRow[] = [];
  for (const group of proc.fanotifyGroups) {
    const list = group.inodeMarks;
    for (let i = 0; i < list.length; i++) {
      const sdev = list.sdev[i]!;
      const dev = devOf(sdev);
      const ino = list.ino[i]!;
      const key = `${dev} ${ino}`;
      const row = inodes.get(key);
      if (row) {
        row.watches++;
        row.mask |= list.mask[i]!;
        if (!row.fds.includes(group.fd)) row.fds.push(group.fd);
        continue;
      }
      const resolution = resolutions?.get(proc, sdev, ino) ?? null;
      inodes.set(key, targetRow(dev, ino, group.fd, list.mask[i]!, resolution, pods.of(dev, resolution), null, { kind: 'fanotify', markType: 'inode' }));
    }
    for (const mark of group.mountMarks) {
      const found = resolutions?.mountById(proc, mark.mntId) ?? null;
      const dev = found?.dev ?? '?';
      const resolution = found?.resolution ?? null;
      others.push(
        targetRow(dev, 0, group.fd, mark.mask, resolution, pods.of(dev, resolution), null, { kind: 'fanotify', markType: 'mount', mntId: mark.mntId }),
      );
    }
    for (const mark of group.filesystemMarks) {
      const dev = devOf(mark.sdev);
      const resolution = resolutions?.filesystem(proc, mark.sdev) ?? null;
      others.push(targetRow(dev, 0, group.fd, mark.mask, resolution, pods.of(dev, resolution), null, { kind: 'fanotify', markType: 'filesystem' }));
    }
  }
  return [...inodes.values(), ...others];
}

type TargetSource = Pick<TargetRow, 'kind' | 'markType' | 'mntId'>;
const INOTIFY: TargetSource = { kind: 'inotify' };

function targetRow(
  dev: string,
  ino: number,
  fd: number,
  mask: number,
  resolution: Resolution | null,
  pod: PodRef | null,
  leak: LeakForm | null,
  source: TargetSource = INOTIFY,
): TargetRow {
  // Every field in one literal: begun with a spread (`{ ...source, dev, … }`), each row got a
  // hidden class of its own, some 30 µs and 500 bytes more a row (16 s and 370 MB for 500,000
  // rows, which a screen with the top process of a node selected built at every full scan).
  const row: TargetRow = {
    kind: source.kind,
    dev,
    ino,
    watches: 1,
    fds: [fd],
    mask,
    path: resolution?.path ?? null,
    mountpoint: resolution?.mountpoint ?? null,
    mountpointRemembered: resolution?.mountpointRemembered ?? false,
    fstype: resolution?.fstype ?? null,
    status: resolution?.status ?? 'unresolved',
    reason: resolution ? resolution.reason : 'not resolved',
    heldBy: resolution?.heldBy.map((h) => h.pid) ?? [],
    holders: resolution?.heldBy ?? [],
    pod,
    leak,
  };
  // A fanotify mark's fields after its kind, as they always came: few rows are marks.
  return source === INOTIFY ? row : { ...source, ...row };
}

/** Unmounted first (the strongest signal), then deleted, then a gone pod. */
export function leakForm(target: Pick<TargetRow, 'status' | 'pod'>): LeakForm | null {
  if (target.status === 'unmounted') return 'unmounted';
  if (target.status === 'deleted') return 'deleted';
  if (target.pod?.state === 'gone') return 'gone';
  return null;
}

/** Devices ("MAJ:MIN") by major, then minor. A sort of 500,000 rows compares millions of times: mostly one device with itself. */
function compareDev(a: string, b: string): number {
  return a === b ? 0 : devOrder(a) - devOrder(b);
}

// A node has a few dozen devices: each "MAJ:MIN" is read once.
const devOrders = new Map<string, number>();

/** A device as one number in major, then minor order (minors are under 2^20, as in the kernel's dev_t). */
function devOrder(dev: string): number {
  let order = devOrders.get(dev);
  if (order === undefined) {
    const [major, minor] = dev.split(':').map(Number) as [number, number];
    order = major * 0x100000 + minor;
    devOrders.set(dev, order);
  }
  return order;
}

/** A process's watched pods, most watched first, ties in uid order (the one text order: common/compare.ts). */
export function compareWatchedPods(a: WatchedPod, b: WatchedPod): number {
  return b.watches - a.watches || compareCodeUnits(a.pod.uid, b.pod.uid);
}
