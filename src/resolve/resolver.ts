// The resolve stage: watch targets to a path, a mount and a status.
//
// An inode's place is kept as its path from the root of its filesystem (fsPath), which does not
// depend on any mount namespace; each watcher then sees it through its own mounts. fsPath comes
// from the watch's file handle (open_by_handle_at + readlink) or, failing that, from walking a
// mount. It is cached by (dev, ino, handle) across refreshes and confirmed each refresh by the
// stamps of its directories or one statx of the path (a rename, or the name being reused, shows
// as another inode or none there), which is what keeps a warm refresh cheap.
//
// Paths cost a lookup per inode, so they are found only where needed: for the targets a view
// shows (prepare), and on the filesystems that hold pod directories, where the pod of a target
// and so whether it leaked depend on its path. Elsewhere a watch needs only its device: whether
// its filesystem is still mounted where its watcher lives.
import { readlinkSync } from 'node:fs';
import type { DeviceStanding, Resolution, Resolutions, ScanResult, ScannedProcess, WatchList } from '../model/types.js';
import { devicesOf, devOf } from '../model/watches.js';
import { parseNamespaceLink } from '../scan/index.js';
import { Describer, resolution } from './describe.js';
import { InodeCache, InodeMap } from './inodes.js';
import { HandleDecoding, InodeLookup, type InodeWork, type LookupContext } from './lookup.js';
import { widestMount, type MountEntry } from './mountinfo.js';
import { MountAccess, ViewSet } from './mounts.js';
import { MountNamespaces, type MountTable, type MountTableResult } from './namespaces.js';
import { fileCalls, nodeStatAt, type StatAt } from '../sys/files.js';
import { uptimeMs } from '../deadline.js';

export interface ResolverOptions {
  /** procfs root; anything but /proc is a recorded tree, where nothing can be opened. */
  procRoot: string;
  /** Never decode file handles: find every target by walking its mount. */
  forceWalk?: boolean;
  /** Time all walks of one refresh may take together. */
  walkBudgetMs?: number;
  /**
   * Directories whose entries' paths name pods (kubelet's pod dirs, pod logs, runtime dirs): the
   * filesystem that holds one (in some watcher's namespace) has its targets resolved path by
   * path in every refresh, since their pods depend on their paths. Default none.
   */
  podRoots?: readonly string[];
  /** Whether a path names a pod: a filesystem mounted at one (a pod's volume) is resolved so too. */
  isPodPath?: (path: string) => boolean;
}

const DEFAULT_WALK_BUDGET_MS = 2000;
/** Pod cgroups are pod paths wherever the hierarchy is mounted. */
const POD_PATH_FSTYPES: ReadonlySet<string> = new Set(['cgroup', 'cgroup2']);

/**
 * What one refresh's resolutions use of the resolver: what lives across refreshes, read and
 * grown through its own methods, never replaced.
 */
interface ResolverState extends LookupContext {
  readonly procRoot: string;
  readonly namespaces: MountNamespaces;
  /** Our own mount namespace, whose mounts are opened by their paths (and cloned: see mounts.ts). */
  readonly selfNs: string | null;
  /** (watcher namespace, dev) -> the last mount of dev seen there, for mounts that go away. */
  readonly lastMounts: Map<string, MountEntry>;
  podDevicesOf(table: MountTable): Set<string>;
}

/** The means of lookups: made at the first target looked up, as koffi's calls are bound then (LookupContext). */
interface LookupMeans {
  /** null with --force-walk: no handle is decoded. */
  handles: HandleDecoding | null;
  statAt: StatAt;
  mounts: MountAccess;
}

export class Resolver {
  private readonly procRoot: string;
  private readonly walkBudgetMs: number;
  private readonly forceWalk: boolean;
  private readonly namespaces: MountNamespaces;
  private means: LookupMeans | null = null;
  private readonly inodes = new InodeCache();
  /** Read when first asked for (undefined before). */
  private ownNs: string | null | undefined;
  private readonly podRoots: readonly string[];
  private readonly isPodPath: (path: string) => boolean;
  private readonly lastMounts = new Map<string, MountEntry>();
  /** Mount tables (by their parse) -> devices that hold pod paths. */
  private readonly podDevices = new WeakMap<Map<string, MountEntry[]>, Set<string>>();
  private refresh = 0;

  constructor(options: ResolverOptions) {
    this.procRoot = options.procRoot.replace(/\/+$/, '') || '/';
    this.walkBudgetMs = options.walkBudgetMs ?? DEFAULT_WALK_BUDGET_MS;
    this.forceWalk = options.forceWalk ?? false;
    this.namespaces = new MountNamespaces(this.procRoot);
    this.podRoots = options.podRoots ?? [];
    this.isPodPath = options.isPodPath ?? (() => false);
  }

  /**
   * Starts a refresh for a scan: mount tables are read, the targets on filesystems holding pod
   * paths are resolved. Other targets are resolved when prepare() is asked for them.
   */
  resolve(scan: ScanResult, deadline: number | null = null): RefreshResolutions {
    this.refresh++;
    // What the refresh before last used is kept: a view may still prepare a process of the last one.
    this.inodes.forgetUnusedSince(this.refresh - 1);
    this.namespaces.beginRefresh();
    // A refresh with nothing to look up (no holder, or none on a filesystem of pod paths in a
    // one-shot) reads no mount table of ours and loads no calls: these are made when first used.
    const means = (): LookupMeans => this.lookupMeans();
    const ownNamespace = (): string | null => this.ownNamespace();
    const state: ResolverState = {
      refresh: this.refresh,
      inodes: this.inodes,
      get mounts() {
        return means().mounts;
      },
      get statAt() {
        return means().statAt;
      },
      walkBudgetMs: this.walkBudgetMs,
      get handles() {
        return means().handles;
      },
      procRoot: this.procRoot,
      namespaces: this.namespaces,
      get selfNs() {
        return ownNamespace();
      },
      lastMounts: this.lastMounts,
      podDevicesOf: (table) => this.podDevicesOf(table),
    };
    const refresh = new RefreshResolutions(state, scan, deadline);
    refresh.prepare(scan.processes, 'pod-paths');
    this.namespaces.endRefresh();
    return refresh;
  }

  close(): void {
    this.means?.mounts.closeAll();
    this.inodes.clear();
  }

  private lookupMeans(): LookupMeans {
    if (this.means === null) {
      const calls = fileCalls();
      const statAt = calls.ok ? calls.value.statAt : nodeStatAt;
      this.means = {
        handles: this.forceWalk ? null : new HandleDecoding(calls),
        statAt,
        mounts: new MountAccess(this.procRoot, calls.ok ? calls.value : null, statAt),
      };
    }
    return this.means;
  }

  private ownNamespace(): string | null {
    if (this.ownNs === undefined) this.ownNs = this.procRoot === '/proc' ? readNamespace('/proc/self/ns/mnt') : null;
    return this.ownNs;
  }

  /** Devices of a table that hold pod paths: mounted at a pod path, or holding a pod root there. */
  private podDevicesOf(table: MountTable): Set<string> {
    let devices = this.podDevices.get(table.byDev);
    if (devices) return devices;
    devices = new Set();
    const entries = [...table.byDev.values()].flat();
    for (const entry of entries) {
      if (POD_PATH_FSTYPES.has(entry.fstype) || this.isPodPath(entry.mountpoint)) devices.add(entry.dev);
    }
    for (const root of this.podRoots) {
      const holder = deepestMountOver(entries, root);
      if (holder) devices.add(holder.dev);
    }
    this.podDevices.set(table.byDev, devices);
    return devices;
  }
}

/** The resolutions of one refresh: asked for per target, found per inode and device. */
export class RefreshResolutions implements Resolutions {
  readonly notes: string[] = [];
  /** Set when the deadline passed before every asked-for target was looked up. */
  outOfTime = false;
  private readonly noteSet = new Set<string>();
  private readonly tables = new Map<number, MountTableResult>();
  private readonly standings = new Map<MountTable, Map<number, DeviceStanding>>();
  /** The inodes asked for this refresh; those `done` are established (or were left to the walk). */
  private readonly works = new InodeMap<InodeWork>();
  /** dev -> the views of its inodes, shared (ViewSet). */
  private readonly viewSets = new Map<string, ViewSet>();
  /** Batch (prepare call) count: a work is collected once per batch. */
  private batches = 0;
  private readonly described = new Map<MountTable, InodeMap<Resolution>>();
  private readonly unmountedDescribed = new Map<MountTable, Map<number, Resolution>>();
  private readonly r: ResolverState;
  private readonly describer: Describer;
  private readonly lookup: InodeLookup;

  constructor(
    resolver: ResolverState,
    scan: ScanResult,
    private readonly deadline: number | null,
  ) {
    this.r = resolver;
    this.describer = new Describer(resolver.namespaces, resolver.lastMounts, resolver.procRoot);
    this.lookup = new InodeLookup(resolver, deadline, (text) => this.note(text));
    for (const proc of scan.processes) this.tableOf(proc);
    // Remember where each watched device was mounted, for when the mount goes away.
    for (const proc of scan.processes) {
      const table = this.tableOf(proc);
      if (!table.ok) continue;
      for (const list of watchListsOf(proc)) {
        for (const sdev of devicesOf(list).sdevs) {
          const mounts = table.value.byDev.get(devOf(sdev));
          if (mounts) resolver.lastMounts.set(`${table.value.ns} ${devOf(sdev)}`, widestMount(mounts)!);
        }
      }
    }
  }

  /** Handles decoded, and inodes named by a directory read, so far this refresh. */
  get lookups(): { readonly decoded: number; readonly fromDirectories: number } {
    return this.lookup.counts;
  }

  /** Whether the process is gone since the scan (its mount table is): it is not to be listed. */
  vanished(proc: ScannedProcess): boolean {
    return this.tableOf(proc).vanished === true;
  }

  standing(proc: ScannedProcess, sdev: number): DeviceStanding {
    const table = this.tableOf(proc);
    if (!table.ok) return 'unknown';
    let byDev = this.standings.get(table.value);
    if (!byDev) this.standings.set(table.value, (byDev = new Map()));
    let standing = byDev.get(sdev);
    if (standing === undefined) {
      const dev = devOf(sdev);
      standing = !table.value.byDev.has(dev) ? 'unmounted' : this.r.podDevicesOf(table.value).has(dev) ? 'pod-paths' : 'plain';
      byDev.set(sdev, standing);
    }
    return standing;
  }

  /** How each device the process watches stands in its mount namespace, as one string: it changes when one does. */
  standingsOf(proc: ScannedProcess): string {
    const parts: string[] = [];
    for (const instance of proc.instances) {
      for (const sdev of devicesOf(instance.watches).sdevs) parts.push(`${sdev}:${this.standing(proc, sdev)}`);
    }
    return parts.join(' ');
  }

  /**
   * Resolves the targets of these processes, a batch per device: 'all' of them (a view shows
   * them), or those on filesystems holding pod paths ('pod-paths').
   */
  prepare(procs: readonly ScannedProcess[], which: 'all' | 'pod-paths'): void {
    const batchId = ++this.batches;
    const batch = new Map<string, InodeWork[]>();
    const unmounted = new Set<InodeWork>();
    // Our own namespace's table, read at the first inode to look up.
    let own: MountTable | null | undefined;
    const ownTable = (): MountTable | null => {
      if (own === undefined) {
        const table = this.r.selfNs !== null ? this.r.namespaces.table(this.r.selfNs, process.pid) : null;
        own = table?.ok ? table.value : null;
      }
      return own;
    };
    for (const proc of procs) {
      const table = this.tableOf(proc);
      if (!table.ok) continue;
      for (const list of watchListsOf(proc)) this.collect(proc, list, table.value, ownTable, which, batchId, batch, unmounted);
    }
    // Every work to look up is in the batch (an unmounted one too).
    if (batch.size === 0) return;
    // Filesystems missing from a watcher's namespace: reach them wherever they are still mounted.
    if (unmounted.size > 0) {
      const everywhere = this.r.namespaces.allTables();
      for (const work of unmounted) {
        for (const { table } of everywhere) {
          const mounts = table.byDev.get(work.dev);
          if (mounts) work.viewSet = work.viewSet.with(table, mounts);
        }
      }
    }
    const toWalk: InodeWork[] = [];
    try {
      for (const [dev, devWorks] of batch) {
        const byIno = this.works.byDev.get(dev)!;
        for (const work of devWorks) {
          if (this.deadline !== null && uptimeMs() > this.deadline) {
            this.outOfTime = true;
            return;
          }
          work.done = true;
          if (!this.lookup.establish(work, byIno)) toWalk.push(work);
        }
        // Clones of our own namespace's mounts are held for one device's lookups (a mount not
        // cloned is held by no fd between calls; mounts.ts).
        this.r.mounts.closeAll();
      }
      if (toWalk.length > 0) this.lookup.walk(toWalk);
    } finally {
      this.r.mounts.closeAll();
    }
  }

  /**
   * Lets go of what this refresh looked up and described per inode, once its snapshot is built:
   * kept until the next refresh (for a view that asks for another process), it was a few objects
   * per watch of every target the refresh built. A later prepare() looks its inodes up again, from
   * the resolver's cache.
   */
  forgetInodes(): void {
    this.works.byDev.clear();
    this.described.clear();
  }

  get(proc: ScannedProcess, sdev: number, ino: number): Resolution {
    const table = this.tableOf(proc);
    if (!table.ok) return resolution('unresolved', null, null, null, table.error);
    let byInode = this.described.get(table.value);
    if (!byInode) this.described.set(table.value, (byInode = new InodeMap()));
    const dev = devOf(sdev);
    let described = byInode.get(dev, ino);
    if (!described) {
      const work = this.works.get(dev, ino);
      described = this.describer.describe(dev, ino, work?.done ? work.record : undefined, table.value);
      byInode.set(dev, ino, described);
    }
    return described;
  }

  /** The mount a fanotify mount mark names (mount ids are unique on the node), as its holder sees it. */
  mountById(proc: ScannedProcess, mntId: number): { dev: string | null; resolution: Resolution } {
    const table = this.tableOf(proc);
    if (!table.ok) return { dev: null, resolution: resolution('unresolved', null, null, null, table.error) };
    const own = mountWithId(table.value, mntId);
    if (own) return { dev: own.dev, resolution: resolution('ok', own.mountpoint, own, null, null) };
    // The mark may be on a mount of another namespace.
    for (const { table: other, firstPid } of this.r.namespaces.allTables()) {
      const mount = other.ns !== table.value.ns ? mountWithId(other, mntId) : null;
      if (mount)
        return { dev: mount.dev, resolution: resolution('unmounted', mount.mountpoint, mount, null, null, [this.describer.holder(firstPid, other, mount)]) };
    }
    return { dev: null, resolution: resolution('unmounted', null, null, null, `mount ${mntId} is in no readable mountinfo`) };
  }

  /** A fanotify filesystem mark's device, at its widest mount where the holder lives. */
  filesystem(proc: ScannedProcess, sdev: number): Resolution {
    const table = this.tableOf(proc);
    if (!table.ok) return resolution('unresolved', null, null, null, table.error);
    const mounts = table.value.byDev.get(devOf(sdev));
    if (!mounts) return this.unmountedDevice(proc, sdev);
    return resolution('ok', widestMount(mounts)!.mountpoint, widestMount(mounts)!, null, null);
  }

  /** An unmounted device as a whole (no path of its own): where it is still held, and by whom. */
  unmountedDevice(proc: ScannedProcess, sdev: number): Resolution {
    const table = this.tableOf(proc);
    if (!table.ok) return resolution('unresolved', null, null, null, table.error);
    let byDev = this.unmountedDescribed.get(table.value);
    if (!byDev) this.unmountedDescribed.set(table.value, (byDev = new Map()));
    let described = byDev.get(sdev);
    if (!described) {
      described = this.describer.describeUnmounted(devOf(sdev), table.value, null);
      byDev.set(sdev, described);
    }
    return described;
  }

  private note(text: string): void {
    if (this.noteSet.has(text)) return;
    this.noteSet.add(text);
    this.notes.push(text);
  }

  private tableOf(proc: ScannedProcess): MountTableResult {
    let table = this.tables.get(proc.pid);
    if (!table) {
      const ns = proc.mntns ?? `pid:${proc.pid}`;
      // Our own namespace is read (and its mounts opened) as ourselves, which needs no privilege.
      table = this.r.namespaces.table(ns, ns === this.r.selfNs ? process.pid : proc.pid);
      this.tables.set(proc.pid, table);
    }
    return table;
  }

  private collect(
    proc: ScannedProcess,
    list: WatchList,
    table: MountTable,
    ownTable: () => MountTable | null,
    which: 'all' | 'pod-paths',
    batchId: number,
    batch: Map<string, InodeWork[]>,
    unmounted: Set<InodeWork>,
  ): void {
    const wanted = new Set<number>();
    for (const sdev of devicesOf(list).sdevs) {
      const standing = this.standing(proc, sdev);
      if (which === 'all' || standing === 'pod-paths') wanted.add(sdev);
    }
    if (wanted.size === 0) return;
    for (let i = 0; i < list.length; i++) {
      const sdev = list.sdev[i]!;
      if (!wanted.has(sdev)) continue;
      const dev = devOf(sdev);
      const ino = list.ino[i]!;
      let work = this.works.get(dev, ino);
      if (work?.done) continue;
      if (!work) {
        // Our own namespace's mounts of it come first: they can be cloned (mounts.ts).
        const own = ownTable();
        const ownMounts = own?.byDev.get(dev);
        let viewSet = this.viewSets.get(dev);
        if (!viewSet) this.viewSets.set(dev, (viewSet = new ViewSet()));
        if (ownMounts) viewSet = viewSet.with(own!, ownMounts);
        work = { dev, ino, list, index: i, viewSet, record: undefined, listedPath: null, done: false, batch: 0 };
        this.works.set(dev, ino, work);
      }
      if (work.batch !== batchId) {
        work.batch = batchId;
        let devWorks = batch.get(dev);
        if (!devWorks) batch.set(dev, (devWorks = []));
        devWorks.push(work);
      }
      const mounts = table.byDev.get(dev);
      if (mounts) work.viewSet = work.viewSet.with(table, mounts);
      else unmounted.add(work);
    }
  }
}

function mountWithId(table: MountTable, mntId: number): MountEntry | null {
  for (const mounts of table.byDev.values()) {
    const mount = mounts.find((entry) => entry.mountId === mntId);
    if (mount) return mount;
  }
  return null;
}

/** The watch lists whose targets are inodes: inotify instances' watches, fanotify groups' inode marks. */
function watchListsOf(proc: ScannedProcess): WatchList[] {
  return [...proc.instances.map((instance) => instance.watches), ...proc.fanotifyGroups.map((group) => group.inodeMarks)];
}

/** The mount that holds `path` in a table: the deepest mount point over it, the last listed of equals. */
function deepestMountOver(entries: readonly MountEntry[], path: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const entry of entries) {
    const point = entry.mountpoint;
    const over = point === '/' || path === point || path.startsWith(point + '/');
    if (over && (!best || point.length >= best.mountpoint.length)) best = entry;
  }
  return best;
}

function readNamespace(link: string): string | null {
  try {
    return parseNamespaceLink(readlinkSync(link));
  } catch {
    return null;
  }
}
