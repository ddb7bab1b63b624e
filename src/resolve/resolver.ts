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
import { readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { DeviceStanding, FileHandle, Holder, Resolution, Resolutions, ScanResult, ScannedProcess, TargetStatus, WatchList } from '../model/types.js';
import { devicesOf, devOf, handleAt } from '../model/watches.js';
import { parseNamespaceLink } from '../scan/parse.js';
import { handleKey, InodeCache, InodeMap, type DirStamp, type InodeRecord } from './inodes.js';
import { joinRelative, mountContaining, relativeToLink, relativeToMountRoot, widestMount, type MountEntry } from './mountinfo.js';
import { MountAccess, viewContaining, widestView, type MountView, type OpenMount } from './mounts.js';
import { MountNamespaces, type MountTable, type MountTableResult } from './namespaces.js';
import { ERRNO, loadSyscalls, nodeStatAt, type InodeStat, type Syscalls } from './syscalls.js';
import { walkMount } from './walk.js';

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
/** An inode a walk did not find is not looked for again before this long. */
const WALK_RETRY_MS = 60_000;
/** The type the kernel gives handles of filesystems without export operations: never decodable. */
const FILEID_INO64_GEN = 0x81;
const DELETED_SUFFIX = ' (deleted)';
/**
 * kernfs (cgroupfs, sysfs) never moves a directory's ctime when entries come and go: unchanged
 * ancestors vouch for nothing there, so paths on it are stat'ed themselves every refresh.
 */
const CTIME_BLIND_FSTYPES: ReadonlySet<string> = new Set(['cgroup', 'cgroup2', 'sysfs']);
/** Pod cgroups are pod paths wherever the hierarchy is mounted. */
const POD_PATH_FSTYPES: ReadonlySet<string> = new Set(['cgroup', 'cgroup2']);

/** One inode to resolve this refresh, with every mount of its filesystem it can be reached through. */
interface InodeWork {
  dev: string;
  ino: number;
  handle: FileHandle | null;
  views: MountView[];
  /** Tables the views came from. */
  viewTables: Set<MountTable>;
  record: InodeRecord | undefined;
}

export class Resolver {
  readonly procRoot: string;
  readonly forceWalk: boolean;
  readonly walkBudgetMs: number;
  readonly namespaces: MountNamespaces;
  readonly syscalls: Syscalls | string;
  readonly statAt: (dirFd: number, path: string) => InodeStat | number;
  readonly mounts: MountAccess;
  readonly inodes = new InodeCache();
  /** Our own mount namespace, whose mounts are opened by their paths (and cloned: see mounts.ts). */
  readonly selfNs: string | null;
  readonly podRoots: readonly string[];
  readonly isPodPath: (path: string) => boolean;
  /** (watcher namespace, dev) -> the last mount of dev seen there, for mounts that go away. */
  readonly lastMounts = new Map<string, MountEntry>();
  /** Mount tables (by their parse) -> devices that hold pod paths. */
  readonly podDevices = new WeakMap<Map<string, MountEntry[]>, Set<string>>();
  handlesRefused = false;
  refresh = 0;

  constructor(options: ResolverOptions) {
    this.procRoot = options.procRoot.replace(/\/+$/, '') || '/';
    this.forceWalk = options.forceWalk ?? false;
    this.walkBudgetMs = options.walkBudgetMs ?? DEFAULT_WALK_BUDGET_MS;
    this.namespaces = new MountNamespaces(this.procRoot);
    this.syscalls = loadSyscalls();
    this.statAt = typeof this.syscalls === 'string' ? nodeStatAt : this.syscalls.statAt;
    this.mounts = new MountAccess(this.procRoot, typeof this.syscalls === 'string' ? null : this.syscalls, this.statAt);
    this.selfNs = this.procRoot === '/proc' ? readNamespace('/proc/self/ns/mnt') : null;
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
    const refresh = new RefreshResolutions(this, scan, deadline);
    refresh.prepare(scan.processes, 'pod-paths');
    this.namespaces.endRefresh();
    return refresh;
  }

  close(): void {
    this.mounts.closeAll();
    this.inodes.clear();
  }

  /** Devices of a table that hold pod paths: mounted at a pod path, or holding a pod root there. */
  podDevicesOf(table: MountTable): Set<string> {
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
  /** Inodes established this refresh (found, or known to need nothing more). */
  private readonly established = new InodeMap<InodeWork>();
  private readonly described = new Map<MountTable, InodeMap<Resolution>>();
  private readonly unmountedDescribed = new Map<MountTable, Map<number, Resolution>>();
  /** Holder namespace -> Holder.boundFrom, this refresh. */
  private readonly boundPaths = new Map<string, string[]>();
  private readonly comms = new Map<number, string>();
  /** Devices probed this refresh for whether their filesystem decodes handles at all. */
  private readonly decodingDevs = new Map<string, boolean>();
  private readonly r: Resolver;

  constructor(
    resolver: Resolver,
    scan: ScanResult,
    private readonly deadline: number | null,
  ) {
    this.r = resolver;
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

  /**
   * Resolves the targets of these processes, a batch per device: 'all' of them (a view shows
   * them), or those on filesystems holding pod paths ('pod-paths').
   */
  prepare(procs: readonly ScannedProcess[], which: 'all' | 'pod-paths'): void {
    const works = new InodeMap<InodeWork>();
    const unmounted = new Set<InodeWork>();
    for (const proc of procs) {
      const table = this.tableOf(proc);
      if (!table.ok) continue;
      for (const list of watchListsOf(proc)) this.collect(proc, list, table.value, which, works, unmounted);
    }
    // Filesystems missing from a watcher's namespace: reach them wherever they are still mounted.
    if (unmounted.size > 0) {
      const everywhere = this.r.namespaces.allTables();
      for (const work of unmounted) {
        for (const { table } of everywhere) {
          const mounts = table.byDev.get(work.dev);
          if (mounts && !work.viewTables.has(table)) addViews(work, table, mounts);
        }
      }
    }
    const toWalk: InodeWork[] = [];
    try {
      for (const devWorks of works.byDev.values()) {
        for (const work of devWorks.values()) {
          if (this.deadline !== null && performance.now() > this.deadline) {
            this.outOfTime = true;
            return;
          }
          if (!this.establish(work)) toWalk.push(work);
        }
        // An open fd on a mount of another namespace makes umount(2) there fail with EBUSY: it is
        // held for one device's lookups only (our own namespace's mounts are clones; mounts.ts).
        this.r.mounts.closeAll();
      }
      if (toWalk.length > 0) this.walk(toWalk);
    } finally {
      this.r.mounts.closeAll();
    }
  }

  get(proc: ScannedProcess, sdev: number, ino: number): Resolution {
    const table = this.tableOf(proc);
    if (!table.ok) return resolution('unresolved', null, null, null, table.error);
    let byInode = this.described.get(table.value);
    if (!byInode) this.described.set(table.value, (byInode = new InodeMap()));
    const dev = devOf(sdev);
    let described = byInode.get(dev, ino);
    if (!described) {
      const work = this.established.get(dev, ino);
      described = this.describe(dev, ino, work?.record, table.value);
      byInode.set(dev, ino, described);
    }
    return described;
  }

  mountById(proc: ScannedProcess, mntId: number): { dev: string | null; resolution: Resolution } {
    const table = this.tableOf(proc);
    if (!table.ok) return { dev: null, resolution: resolution('unresolved', null, null, null, table.error) };
    const own = mountWithId(table.value, mntId);
    if (own) return { dev: own.dev, resolution: resolution('ok', own.mountpoint, own, null, null) };
    // Mount ids are unique on the node: the mark may be on a mount of another namespace.
    for (const { table: other, firstPid } of this.r.namespaces.allTables()) {
      const mount = other.ns !== table.value.ns ? mountWithId(other, mntId) : null;
      if (mount) return { dev: mount.dev, resolution: resolution('unmounted', mount.mountpoint, mount, null, null, [this.holder(firstPid, other, mount)]) };
    }
    return { dev: null, resolution: resolution('unmounted', null, null, null, `mount ${mntId} is in no readable mountinfo`) };
  }

  filesystem(proc: ScannedProcess, sdev: number): Resolution {
    const table = this.tableOf(proc);
    if (!table.ok) return resolution('unresolved', null, null, null, table.error);
    const mounts = table.value.byDev.get(devOf(sdev));
    if (!mounts) return this.unmountedDevice(proc, sdev);
    const mount = widestMount(mounts)!;
    return resolution('ok', mount.mountpoint, mount, null, null);
  }

  /** An unmounted device as a whole (no path of its own): where it is still held, and by whom. */
  unmountedDevice(proc: ScannedProcess, sdev: number): Resolution {
    const table = this.tableOf(proc);
    if (!table.ok) return resolution('unresolved', null, null, null, table.error);
    let byDev = this.unmountedDescribed.get(table.value);
    if (!byDev) this.unmountedDescribed.set(table.value, (byDev = new Map()));
    let described = byDev.get(sdev);
    if (!described) {
      described = this.describeUnmounted(devOf(sdev), table.value, null);
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
    which: 'all' | 'pod-paths',
    works: InodeMap<InodeWork>,
    unmounted: Set<InodeWork>,
  ): void {
    const wanted = new Set<number>();
    for (const sdev of devicesOf(list).sdevs) {
      const standing = this.standing(proc, sdev);
      if (which === 'all' || standing === 'pod-paths') wanted.add(sdev);
    }
    if (wanted.size === 0) return;
    const own = this.r.selfNs !== null ? this.r.namespaces.table(this.r.selfNs, process.pid) : null;
    for (let i = 0; i < list.length; i++) {
      const sdev = list.sdev[i]!;
      if (!wanted.has(sdev)) continue;
      const dev = devOf(sdev);
      const ino = list.ino[i]!;
      if (this.established.get(dev, ino)) continue;
      let work = works.get(dev, ino);
      if (!work) {
        work = { dev, ino, handle: handleAt(list, i), views: [], viewTables: new Set(), record: undefined };
        works.set(dev, ino, work);
        // Our own namespace's mounts of it come first: they can be cloned (mounts.ts).
        const ownMounts = own?.ok ? own.value.byDev.get(dev) : undefined;
        if (own?.ok && ownMounts) addViews(work, own.value, ownMounts);
      }
      if (work.viewTables.has(table)) continue;
      const mounts = table.byDev.get(dev);
      if (mounts) addViews(work, table, mounts);
      else unmounted.add(work);
    }
  }

  /** Finds fsPath from the cache or the handle; false when only a walk can tell. */
  private establish(work: InodeWork): boolean {
    this.established.set(work.dev, work.ino, work);
    const key = handleKey(work.handle?.bytes ?? null);
    const record = this.r.inodes.get(work.dev, work.ino, key);
    work.record = record;
    if (record) record.usedIn = this.r.refresh;
    if (record && this.stillValid(record, work)) return true;
    if (record && record.walkMissedAt !== null && performance.now() - record.walkMissedAt < WALK_RETRY_MS) return true;
    if (this.r.forceWalk || !work.handle || work.handle.type === FILEID_INO64_GEN) return false;
    if (typeof this.r.syscalls === 'string') {
      this.note(`file handles not usable (${this.r.syscalls}): resolving by walking mounts`);
      return false;
    }
    if (this.r.handlesRefused) return false;
    return this.decode(work, this.r.syscalls, record);
  }

  /**
   * A cached record still holds when a deletion was seen (an inode does not come back) or when its
   * path still leads to that inode. With no mount to look through, it stays as last known.
   */
  private stillValid(record: InodeRecord, work: InodeWork): boolean {
    if (record.deleted) return true;
    if (record.fsPath === null) return false;
    if (record.confirmedIn === this.r.refresh || work.views.length === 0) return true;
    const view = viewContaining(work.views, record.fsPath);
    if (!view) return false;
    const opened = this.r.mounts.open(view);
    if (!opened.ok) return false;
    if (record.ancestors !== null && record.ancestorsRoot === view.mount.root && this.ancestorsUnchangedSince(record, view, opened.value)) {
      record.confirmedIn = this.r.refresh;
      return true;
    }
    return this.confirm(record, work, view, opened.value);
  }

  private ancestorsUnchangedSince(record: InodeRecord, view: MountView, opened: OpenMount): boolean {
    for (const stamp of record.ancestors!) {
      if (stamp.checkedIn !== this.r.refresh) this.restamp(stamp, view, opened);
      if (stamp.changedIn > record.confirmedIn) return false;
    }
    return true;
  }

  /**
   * Stamps the directories on the way to record.fsPath, then checks that the path leads to the
   * inode: in that order, so that a rename after the check shows as a change next refresh.
   */
  private confirm(record: InodeRecord, work: InodeWork, view: MountView, opened: OpenMount): boolean {
    const relative = relativeToMountRoot(view.mount.root, record.fsPath!)!;
    const stampable = !CTIME_BLIND_FSTYPES.has(view.mount.fstype);
    // Every directory from the mount root down to the path's parent (none for the root itself).
    const ancestors: DirStamp[] = [];
    if (relative !== '' && stampable) {
      ancestors.push(this.stampOf(work.dev, view.mount.root, view, opened));
      for (let slash = relative.indexOf('/'); slash !== -1; slash = relative.indexOf('/', slash + 1)) {
        ancestors.push(this.stampOf(work.dev, joinRelative(view.mount.root, relative.slice(0, slash)), view, opened));
      }
    }
    const stat = this.r.statAt(opened.fd, relative);
    if (typeof stat === 'number' || stat.ino !== work.ino || stat.dev !== work.dev || stat.nlink === 0) return false;
    record.confirmedIn = this.r.refresh;
    record.ancestors = stampable ? ancestors : null;
    record.ancestorsRoot = view.mount.root;
    return true;
  }

  private stampOf(dev: string, fsDir: string, view: MountView, opened: OpenMount): DirStamp {
    const stamp = this.r.inodes.stamp(dev, fsDir);
    if (stamp.checkedIn !== this.r.refresh) this.restamp(stamp, view, opened);
    return stamp;
  }

  private restamp(stamp: DirStamp, view: MountView, opened: OpenMount): void {
    stamp.checkedIn = this.r.refresh;
    const relative = relativeToMountRoot(view.mount.root, stamp.fsDir);
    const stat = relative === null ? -ERRNO.ENOENT : this.r.statAt(opened.fd, relative);
    const usable = typeof stat !== 'number' && stat.isDirectory && (stat.mountId === null || stat.mountId === opened.mountId);
    if (!usable) {
      stamp.ino = -1;
      stamp.changedIn = this.r.refresh; // never vouches for a path
      return;
    }
    if (stat.ino !== stamp.ino || stat.ctimeSec !== stamp.ctimeSec || stat.ctimeNsec !== stamp.ctimeNsec) {
      stamp.ino = stat.ino;
      stamp.ctimeSec = stat.ctimeSec;
      stamp.ctimeNsec = stat.ctimeNsec;
      stamp.changedIn = this.r.refresh;
    }
  }

  private decode(work: InodeWork, syscalls: Syscalls, previous: InodeRecord | undefined): boolean {
    const view = widestView(work.views);
    if (!view) {
      this.remember(work, { fsPath: null, deleted: false, reason: `${work.dev} is mounted in no readable mount namespace` });
      return true;
    }
    const opened = this.r.mounts.open(view);
    if (!opened.ok) {
      this.remember(work, { fsPath: null, deleted: false, reason: opened.error });
      return true;
    }
    const mount = opened.value;
    const fd = syscalls.openByHandle(mount.fd, work.handle!);
    if (fd < 0) {
      const errno = -fd;
      if (errno === ERRNO.ESTALE) {
        // Also what a filesystem that cannot decode handles at all says (overlayfs without
        // nfs_export, for one). Where it can, the watch pins the inode, so a stale handle means the
        // inode was removed (a cgroup directory, for one).
        if (!this.decodesHandles(view, mount, syscalls)) {
          this.note(`${work.dev} (${view.mount.fstype}) cannot decode file handles: resolving by walking it`);
          return false;
        }
        const reason = 'removed: its file handle is stale (ESTALE)';
        this.remember(work, { fsPath: previous?.fsPath ?? null, deleted: true, reason });
        return true;
      }
      if (errno === ERRNO.EPERM) {
        this.r.handlesRefused = true;
        this.note('open_by_handle_at not permitted (needs CAP_DAC_READ_SEARCH): resolving by walking mounts');
      }
      return false;
    }
    let stat: InodeStat | number;
    let link: string;
    try {
      stat = this.r.statAt(fd, '');
      link = syscalls.fdLink(fd);
    } finally {
      syscalls.closeFd(fd);
    }
    if (typeof stat === 'number' || stat.ino !== work.ino || stat.dev !== work.dev) return false;
    const deleted = stat.nlink === 0;
    if (deleted && link.endsWith(DELETED_SUFFIX)) link = link.slice(0, -DELETED_SUFFIX.length);
    const relative = relativeToLink(mount.link, link);
    if (relative === null) {
      if (!deleted) return false; // not connected to the mount's tree: a walk may still find it
      this.remember(work, { fsPath: null, deleted, reason: 'deleted; its last path is outside the mount it was decoded through' });
      return true;
    }
    const record = this.remember(work, { fsPath: joinRelative(view.mount.root, relative), deleted, reason: null });
    // Not every inode comes back connected (a file whose dentry was evicted comes back as a bare
    // name); confirming the path settles it, and a walk looks further when it fails.
    return deleted || this.confirm(record, work, view, mount);
  }

  private decodesHandles(view: MountView, opened: OpenMount, syscalls: Syscalls): boolean {
    let decodes = this.decodingDevs.get(view.mount.dev);
    if (decodes === undefined) {
      decodes = syscalls.decodesHandles(opened.fd);
      this.decodingDevs.set(view.mount.dev, decodes);
    }
    return decodes;
  }

  /** Walks each device's widest reachable mount once for all its inodes still unknown. */
  private walk(works: InodeWork[]): void {
    const budgetEnd = performance.now() + this.r.walkBudgetMs;
    const deadline = this.deadline === null ? budgetEnd : Math.min(budgetEnd, this.deadline);
    const byDev = new Map<string, InodeWork[]>();
    for (const work of works) {
      const list = byDev.get(work.dev);
      if (list) list.push(work);
      else byDev.set(work.dev, [work]);
    }
    for (const [dev, devWorks] of byDev) {
      const view = widestView(devWorks.flatMap((work) => work.views));
      const miss = (reason: string): void => {
        for (const work of devWorks) this.remember(work, { fsPath: null, deleted: false, reason }, performance.now());
      };
      if (!view) {
        miss(`${dev} is mounted in no readable mount namespace`);
        continue;
      }
      if (view.mount.fstype === 'proc') {
        miss('procfs cannot decode handles and is not walked');
        continue;
      }
      const opened = this.r.mounts.open(view);
      if (!opened.ok) {
        miss(opened.error);
        continue;
      }
      const result = walkMount(opened.value.fd, new Set(devWorks.map((work) => work.ino)), deadline, this.r.statAt);
      const notFound = result.complete
        ? `not found by walking ${view.mount.mountpoint}: deleted, or outside that mount`
        : `walk budget ran out on ${dev}`;
      let missing = 0;
      for (const work of devWorks) {
        const relative = result.found.get(work.ino);
        if (relative !== undefined) {
          const record = this.remember(work, { fsPath: joinRelative(view.mount.root, relative), deleted: false, reason: null });
          this.confirm(record, work, view, opened.value);
        } else {
          missing++;
          this.remember(work, { fsPath: null, deleted: false, reason: notFound }, performance.now());
        }
      }
      if (!result.complete) this.note(`walk budget ran out on ${dev} (${missing} target${missing === 1 ? '' : 's'} unresolved)`);
      this.r.mounts.closeAll();
    }
  }

  private remember(work: InodeWork, found: Pick<InodeRecord, 'fsPath' | 'deleted' | 'reason'>, walkMissedAt: number | null = null): InodeRecord {
    const record: InodeRecord = {
      handleKey: handleKey(work.handle?.bytes ?? null),
      ...found,
      confirmedIn: -1,
      ancestors: null,
      ancestorsRoot: null,
      walkMissedAt,
      usedIn: this.r.refresh,
    };
    this.r.inodes.remember(work.dev, work.ino, record);
    work.record = record;
    return record;
  }

  /** The Resolution of one target, from its inode's record and the watcher's mounts. */
  private describe(dev: string, ino: number, record: InodeRecord | undefined, table: MountTable): Resolution {
    const fsPath = record?.fsPath ?? null;
    const mounts = table.byDev.get(dev);
    if (!mounts) return this.describeUnmounted(dev, table, fsPath);
    const mount = (fsPath !== null ? mountContaining(mounts, fsPath) : null) ?? widestMount(mounts)!;
    const relative = fsPath !== null ? relativeToMountRoot(mount.root, fsPath) : null;
    const path = relative !== null ? joinRelative(mount.mountpoint, relative) : null;
    if (record?.deleted) {
      const heldBy = fsPath !== null ? this.deletedRootHolders(dev, fsPath) : [];
      return resolution('deleted', path, mount, null, record.reason, heldBy);
    }
    if (!record) return resolution('unresolved', null, mount, null, `ino ${ino} not looked up`);
    if (fsPath === null) return resolution('unresolved', null, mount, null, record.reason ?? 'not resolved');
    if (path === null) return resolution('unresolved', null, mount, null, `${fsPath} on ${dev} is outside every mount of it in this process's mount namespace`);
    return resolution('ok', path, mount, null, null);
  }

  /** The filesystem is not mounted in the watcher's namespace: who still has it, and where. */
  private describeUnmounted(dev: string, table: MountTable, fsPath: string | null): Resolution {
    const heldBy: Holder[] = [];
    let firstMount: MountEntry | null = null;
    for (const { table: other, firstPid } of this.r.namespaces.allTables()) {
      const mounts = other.byDev.get(dev);
      if (!mounts || other.ns === table.ns) continue;
      const mount = (fsPath !== null ? mountContaining(mounts, fsPath) : null) ?? widestMount(mounts)!;
      heldBy.push(this.holder(firstPid, other, mount));
      firstMount ??= mount;
    }
    const noHolder = `${dev} is mounted in no readable mount namespace`;
    const last = this.r.lastMounts.get(`${table.ns} ${dev}`);
    const shown = firstMount ?? last;
    if (!shown) return resolution('unmounted', null, null, null, noHolder);
    const relative = fsPath !== null ? relativeToMountRoot(shown.root, fsPath) : null;
    const path = relative !== null ? joinRelative(shown.mountpoint, relative) : null;
    return firstMount ? resolution('unmounted', path, firstMount, null, null, heldBy) : resolution('unmounted', path, null, last!, noHolder);
  }

  /** Namespaces with a bind mount of this very deleted inode (mountinfo root `PATH//deleted`). */
  private deletedRootHolders(dev: string, fsPath: string): Holder[] {
    const holders: Holder[] = [];
    for (const { table, firstPid } of this.r.namespaces.allTables()) {
      const mount = table.byDev.get(dev)?.find((entry) => entry.rootDeleted && entry.root === fsPath);
      if (mount) holders.push(this.holder(firstPid, table, mount));
    }
    return holders;
  }

  private holder(pid: number, table: MountTable, mount: MountEntry): Holder {
    return { pid, comm: this.comm(pid), mountpoint: mount.mountpoint, boundFrom: this.boundFrom(table) };
  }

  /**
   * The host paths of the mounts of `table` that show part of a filesystem (bind mounts of files
   * and directories), through the mounts of the namespace of the lowest pid: the host's. Bind
   * mounts the host has too (a copy of the host's namespace has them all) say nothing about
   * whose namespace it is.
   */
  private boundFrom(table: MountTable): string[] {
    let paths = this.boundPaths.get(table.ns);
    if (paths !== undefined) return paths;
    const host = this.r.namespaces.allTables()[0]?.table;
    const found = new Set<string>();
    for (const [dev, mounts] of host !== undefined && host !== table ? table.byDev : []) {
      const hostMounts = host!.byDev.get(dev);
      if (!hostMounts) continue;
      for (const mount of mounts) {
        if (mount.root === '/' || hostMounts.some((hostMount) => hostMount.root === mount.root)) continue;
        const hostMount = mountContaining(hostMounts, mount.root);
        if (hostMount) found.add(joinRelative(hostMount.mountpoint, relativeToMountRoot(hostMount.root, mount.root)!));
      }
    }
    paths = [...found];
    this.boundPaths.set(table.ns, paths);
    return paths;
  }

  /** A holder's comm, read once per refresh however many targets it holds. */
  private comm(pid: number): string {
    let comm = this.comms.get(pid);
    if (comm === undefined) {
      try {
        comm = readFileSync(`${this.r.procRoot}/${pid}/comm`, 'utf8').trimEnd();
      } catch {
        comm = '';
      }
      this.comms.set(pid, comm);
    }
    return comm;
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

/** A Resolution seen through `mount`, or through `remembered`, a mount that has since gone. */
function resolution(
  status: TargetStatus,
  path: string | null,
  mount: MountEntry | null,
  remembered: MountEntry | null,
  reason: string | null,
  heldBy: Holder[] = [],
): Resolution {
  const shown = mount ?? remembered;
  return {
    path,
    mountpoint: shown?.mountpoint ?? null,
    mountpointRemembered: remembered !== null && mount === null,
    fstype: shown?.fstype ?? null,
    status,
    reason,
    heldBy,
  };
}

function addViews(work: InodeWork, table: MountTable, mounts: readonly MountEntry[]): void {
  work.viewTables.add(table);
  for (const mount of mounts) work.views.push({ table, mount });
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
