// The resolve stage: every (process, dev, ino) target of a scan to a path, a mount and a status.
//
// An inode's place is kept as its path from the root of its filesystem (fsPath), which does not
// depend on any mount namespace; each watcher then sees it through its own mounts. fsPath comes
// from the watch's file handle (open_by_handle_at + readlink) or, failing that, from walking a
// mount. It is cached by (dev, ino, handle) across refreshes and confirmed each refresh by one
// statx of the path (a rename, or the name being reused, shows as another inode or none there),
// which is what keeps a warm refresh cheap.
import { closeSync, constants, openSync, readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { groupBy } from '../common/group.js';
import type { FileHandle, Holder, Resolution, Resolutions, ScanResult, ScannedProcess, TargetStatus } from '../model/types.js';
import { joinRelative, mountContaining, relativeToLink, relativeToMountRoot, widestMount, type MountEntry } from './mountinfo.js';
import { parseNamespaceLink } from '../scan/index.js';
import { MountNamespaces, type MountTable } from './namespaces.js';
import { ERRNO, SELF_FD_DIR, errnoName, loadSyscalls, nodeStatAt, type InodeStat, type Syscalls } from './syscalls.js';
import { walkMount } from './walk.js';

export interface ResolverOptions {
  /** procfs root; anything but /proc is a recorded tree, where nothing can be opened. */
  procRoot: string;
  /** Never decode file handles: find every target by walking its mount. */
  forceWalk?: boolean;
  /** Time all walks of one refresh may take together. */
  walkBudgetMs?: number;
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
const MOUNT_OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** What is known about one inode, kept across refreshes. */
interface InodeRecord {
  /** The handle it was found by: another one on the same (dev, ino) is another inode. */
  handleHex: string;
  /** Path from the root of its filesystem; for a deleted inode, the last one it had. */
  fsPath: string | null;
  deleted: boolean;
  /** Why fsPath is unknown, or what is known about a deletion. */
  reason: string | null;
  /** Refresh in which fsPath was last seen to lead to the inode (-1: not yet). */
  confirmedIn: number;
  /** The directories from the mount root to fsPath's parent, stamped before that confirmation. */
  ancestors: DirStamp[] | null;
  /** Root of the mount the ancestors were seen through. */
  ancestorsRoot: string | null;
  /** performance.now() of a walk that did not find it. */
  walkMissedAt: number | null;
}

/** A directory on the way to cached paths, as last stat'ed. */
interface DirStamp {
  /** Its path from the root of its filesystem. */
  fsDir: string;
  ino: number;
  ctimeSec: number;
  ctimeNsec: number;
  /** Refresh of the last stat. */
  checkedIn: number;
  /** Refresh in which it was seen to change (or first seen, or found unusable). */
  changedIn: number;
}

/** A mount as some process sees it: how to open it. */
interface MountView {
  table: MountTable;
  mount: MountEntry;
}

interface OpenMount {
  fd: number;
  /** readlink of the fd: the prefix of every path decoded through it. */
  link: string;
}

/** One inode to resolve this refresh, with every mount of its filesystem it can be reached through. */
interface InodeWork {
  dev: string;
  ino: number;
  handle: FileHandle | null;
  views: MountView[];
  /** Tables the views came from. */
  viewTables: Set<MountTable>;
  /** Set once establish() has run. */
  record: InodeRecord | undefined;
}

/**
 * dev -> ino -> value. Two-level with number keys, cheaper than a string key per watch at tens
 * of thousands. While watched, an inode's number cannot be reused, so (dev, ino) names it in a
 * scan; across refreshes the handle tells a reused number apart.
 */
class InodeMap<T> {
  readonly byDev = new Map<string, Map<number, T>>();
  get(dev: string, ino: number): T | undefined {
    return this.byDev.get(dev)?.get(ino);
  }
  set(dev: string, ino: number, value: T): void {
    let inner = this.byDev.get(dev);
    if (!inner) this.byDev.set(dev, (inner = new Map()));
    inner.set(ino, value);
  }
  *values(): IterableIterator<T> {
    for (const inner of this.byDev.values()) yield* inner.values();
  }
}

interface Target {
  proc: ScannedProcess;
  dev: string;
  ino: number;
  work: InodeWork;
  /** The watcher's mount table, or why there is none. */
  table: MountTable | string;
}

class ResolutionMap implements Resolutions {
  constructor(
    private readonly byTarget: Map<string, Resolution>,
    readonly notes: string[],
  ) {}
  get(pid: number, dev: string, ino: number): Resolution | undefined {
    return this.byTarget.get(targetKey(pid, dev, ino));
  }
}

function targetKey(pid: number, dev: string, ino: number): string {
  return `${pid} ${dev} ${ino}`;
}

export class Resolver {
  private readonly procRoot: string;
  private readonly forceWalk: boolean;
  private readonly walkBudgetMs: number;
  private readonly namespaces: MountNamespaces;
  private readonly syscalls: Syscalls | string;
  private readonly statAt: (dirFd: number, path: string) => InodeStat | number;
  /** Our own mount namespace, whose mounts are opened by their paths (works without root). */
  private readonly selfNs: string | null;
  private inodes = new InodeMap<InodeRecord>();
  /** dev + NUL + directory path from the filesystem root -> its stamp. */
  private dirStamps = new Map<string, DirStamp>();
  /** (watcher namespace, dev) -> the last mount of dev seen there, for mounts that go away. */
  private readonly lastMounts = new Map<string, MountEntry>();
  /** Mount fds of the current refresh. Not kept longer: an open fd makes umount fail with EBUSY. */
  private openMounts = new Map<MountEntry, OpenMount | string>();
  /** Devices probed this refresh for whether their filesystem decodes handles at all. */
  private decodingDevs = new Map<string, boolean>();
  /** Holder namespace -> Holder.boundFrom, this refresh. */
  private boundPaths = new Map<string, string[]>();
  private refresh = 0;
  private handlesRefused = false;

  constructor(options: ResolverOptions) {
    this.procRoot = options.procRoot.replace(/\/+$/, '') || '/';
    this.forceWalk = options.forceWalk ?? false;
    this.walkBudgetMs = options.walkBudgetMs ?? DEFAULT_WALK_BUDGET_MS;
    this.namespaces = new MountNamespaces(this.procRoot);
    this.syscalls = loadSyscalls();
    this.statAt = typeof this.syscalls === 'string' ? nodeStatAt : this.syscalls.statAt;
    this.selfNs = this.procRoot === '/proc' ? readNamespace('/proc/self/ns/mnt') : null;
  }

  resolve(scan: ScanResult): Resolutions {
    this.refresh++;
    this.decodingDevs = new Map();
    this.boundPaths = new Map();
    const notes = new Set<string>();
    this.namespaces.beginRefresh();
    try {
      const { targets, works } = this.collectTargets(scan);
      const toWalk: InodeWork[] = [];
      for (const devWorks of works.byDev.values()) {
        for (const work of devWorks.values()) if (!this.establish(work, notes)) toWalk.push(work);
        // An open fd on a mount makes umount(2) fail with EBUSY: kubelet tearing down a pod
        // volume must not meet ours for longer than one device's lookups.
        this.closeMounts();
      }
      if (toWalk.length > 0) this.walk(toWalk, notes);
      const byTarget = new Map<string, Resolution>();
      for (const target of targets) byTarget.set(targetKey(target.proc.pid, target.dev, target.ino), this.describe(target));
      this.forgetUnseen(works);
      return new ResolutionMap(byTarget, [...notes]);
    } finally {
      this.closeMounts();
      this.namespaces.endRefresh();
    }
  }

  close(): void {
    this.closeMounts();
    this.inodes = new InodeMap();
  }

  /** Distinct targets per process, with the mounts each inode can be reached through. */
  private collectTargets(scan: ScanResult): { targets: Target[]; works: InodeMap<InodeWork> } {
    const targets: Target[] = [];
    const works = new InodeMap<InodeWork>();
    const watchedDevs = new Map<MountTable, Set<string>>();
    const unmountedWorks = new Set<InodeWork>();
    for (const proc of scan.processes) {
      const ns = proc.mntns ?? `pid:${proc.pid}`;
      const read = this.namespaces.table(ns, this.readerPid(ns, proc.pid));
      const table = 'error' in read ? read.error : read;
      let devs: Set<string> | undefined;
      if (typeof table !== 'string') {
        devs = watchedDevs.get(table);
        if (!devs) watchedDevs.set(table, (devs = new Set()));
      }
      const seen = new Set<InodeWork>();
      for (const instance of proc.instances) {
        for (const watch of instance.watches) {
          let work = works.get(watch.dev, watch.ino);
          if (!work) {
            work = { dev: watch.dev, ino: watch.ino, handle: watch.handle, views: [], viewTables: new Set(), record: undefined };
            works.set(watch.dev, watch.ino, work);
          } else if (seen.has(work)) {
            continue;
          }
          seen.add(work);
          targets.push({ proc, dev: watch.dev, ino: watch.ino, work, table });
          if (typeof table === 'string') continue;
          devs!.add(watch.dev);
          const mounts = table.byDev.get(watch.dev);
          if (!mounts) unmountedWorks.add(work);
          else if (!work.viewTables.has(table)) addViews(work, table, mounts);
        }
      }
    }
    for (const [table, devs] of watchedDevs) {
      for (const dev of devs) {
        const mounts = table.byDev.get(dev);
        if (mounts) this.lastMounts.set(`${table.ns} ${dev}`, widestMount(mounts)!);
      }
    }
    // Filesystems missing from a watcher's namespace: reach them wherever they are still mounted.
    if (unmountedWorks.size > 0) {
      const everywhere = this.namespaces.allTables();
      for (const work of unmountedWorks) {
        for (const { table } of everywhere) {
          const mounts = table.byDev.get(work.dev);
          if (mounts && !work.viewTables.has(table)) addViews(work, table, mounts);
        }
      }
    }
    return { targets, works };
  }

  /** Our own namespace is read (and its mounts opened) as ourselves, which needs no privilege. */
  private readerPid(ns: string, pid: number): number {
    return ns === this.selfNs ? process.pid : pid;
  }

  /** Finds fsPath from the cache or the handle; false when only a walk can tell. */
  private establish(work: InodeWork, notes: Set<string>): boolean {
    const cached = this.inodes.get(work.dev, work.ino);
    const record = cached?.handleHex === (work.handle?.hex ?? '') ? cached : undefined;
    work.record = record;
    if (record && this.stillValid(record, work)) return true;
    if (record && record.walkMissedAt !== null && performance.now() - record.walkMissedAt < WALK_RETRY_MS) return true;
    if (this.forceWalk || !work.handle || work.handle.type === FILEID_INO64_GEN) return false;
    if (typeof this.syscalls === 'string') {
      notes.add(`file handles not usable (${this.syscalls}): resolving by walking mounts`);
      return false;
    }
    if (this.handlesRefused) return false;
    return this.decode(work, this.syscalls, record, notes);
  }

  /**
   * A cached record still holds when a deletion was seen (an inode does not come back) or when its
   * path still leads to that inode. With no mount to look through, it stays as last known.
   */
  private stillValid(record: InodeRecord, work: InodeWork): boolean {
    if (record.deleted) return true;
    if (record.fsPath === null) return false;
    if (record.confirmedIn === this.refresh || work.views.length === 0) return true;
    const view = viewContaining(work.views, record.fsPath);
    if (!view) return false;
    const opened = this.openMount(view);
    if (typeof opened === 'string') return false;
    if (record.ancestors !== null && record.ancestorsRoot === view.mount.root && this.ancestorsUnchangedSince(record, view, opened)) {
      record.confirmedIn = this.refresh;
      return true;
    }
    return this.confirm(record, work, view, opened);
  }

  private ancestorsUnchangedSince(record: InodeRecord, view: MountView, opened: OpenMount): boolean {
    for (const stamp of record.ancestors!) {
      if (stamp.checkedIn !== this.refresh) this.restamp(stamp, view, opened);
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
    const stat = this.statAt(opened.fd, relative);
    if (typeof stat === 'number' || stat.ino !== work.ino || stat.dev !== work.dev || stat.nlink === 0) return false;
    record.confirmedIn = this.refresh;
    record.ancestors = stampable ? ancestors : null;
    record.ancestorsRoot = view.mount.root;
    return true;
  }

  private stampOf(dev: string, fsDir: string, view: MountView, opened: OpenMount): DirStamp {
    const key = `${dev}\0${fsDir}`;
    let stamp = this.dirStamps.get(key);
    if (!stamp) {
      stamp = { fsDir, ino: -1, ctimeSec: 0, ctimeNsec: 0, checkedIn: -1, changedIn: -1 };
      this.dirStamps.set(key, stamp);
    }
    if (stamp.checkedIn !== this.refresh) this.restamp(stamp, view, opened);
    return stamp;
  }

  private restamp(stamp: DirStamp, view: MountView, opened: OpenMount): void {
    stamp.checkedIn = this.refresh;
    const relative = relativeToMountRoot(view.mount.root, stamp.fsDir);
    const stat = relative === null ? -ERRNO.ENOENT : this.statAt(opened.fd, relative);
    const usable = typeof stat !== 'number' && stat.isDirectory && (stat.mountId === null || stat.mountId === view.mount.mountId);
    if (!usable) {
      stamp.ino = -1;
      stamp.changedIn = this.refresh; // never vouches for a path
      return;
    }
    if (stat.ino !== stamp.ino || stat.ctimeSec !== stamp.ctimeSec || stat.ctimeNsec !== stamp.ctimeNsec) {
      stamp.ino = stat.ino;
      stamp.ctimeSec = stat.ctimeSec;
      stamp.ctimeNsec = stat.ctimeNsec;
      stamp.changedIn = this.refresh;
    }
  }

  private decode(work: InodeWork, syscalls: Syscalls, previous: InodeRecord | undefined, notes: Set<string>): boolean {
    const view = widestView(work.views);
    if (!view) {
      this.remember(work, { fsPath: null, deleted: false, reason: `${work.dev} is mounted in no readable mount namespace` });
      return true;
    }
    const opened = this.openMount(view);
    if (typeof opened === 'string') {
      this.remember(work, { fsPath: null, deleted: false, reason: opened });
      return true;
    }
    const fd = syscalls.openByHandle(opened.fd, work.handle!);
    if (fd < 0) {
      const errno = -fd;
      if (errno === ERRNO.ESTALE) {
        // Also what a filesystem that cannot decode handles at all says (overlayfs without
        // nfs_export, for one). Where it can, the watch pins the inode, so a stale handle means the
        // inode was removed (a cgroup directory, for one).
        if (!this.decodesHandles(view, opened, syscalls)) {
          notes.add(`${work.dev} (${view.mount.fstype}) cannot decode file handles: resolving by walking it`);
          return false;
        }
        const reason = 'removed: its file handle is stale (ESTALE)';
        this.remember(work, { fsPath: previous?.fsPath ?? null, deleted: true, reason });
        return true;
      }
      if (errno === ERRNO.EPERM) {
        this.handlesRefused = true;
        notes.add('open_by_handle_at not permitted (needs CAP_DAC_READ_SEARCH): resolving by walking mounts');
      }
      return false;
    }
    let stat: InodeStat | number;
    let link: string;
    try {
      stat = this.statAt(fd, '');
      link = readlinkSync(`${SELF_FD_DIR}/${fd}`);
    } finally {
      syscalls.closeFd(fd);
    }
    if (typeof stat === 'number' || stat.ino !== work.ino || stat.dev !== work.dev) return false;
    const deleted = stat.nlink === 0;
    if (deleted && link.endsWith(DELETED_SUFFIX)) link = link.slice(0, -DELETED_SUFFIX.length);
    const relative = relativeToLink(opened.link, link);
    if (relative === null) {
      if (!deleted) return false; // not connected to the mount's tree: a walk may still find it
      this.remember(work, { fsPath: null, deleted, reason: 'deleted; its last path is outside the mount it was decoded through' });
      return true;
    }
    const record = this.remember(work, { fsPath: joinRelative(view.mount.root, relative), deleted, reason: null });
    // Not every inode comes back connected (a file whose dentry was evicted comes back as a bare
    // name); confirming the path settles it, and a walk looks further when it fails.
    return deleted || this.confirm(record, work, view, opened);
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
  private walk(works: InodeWork[], notes: Set<string>): void {
    const deadline = performance.now() + this.walkBudgetMs;
    for (const [dev, devWorks] of groupBy(works, (work) => work.dev)) {
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
      const opened = this.openMount(view);
      if (typeof opened === 'string') {
        miss(opened);
        continue;
      }
      const result = walkMount(opened.fd, new Set(devWorks.map((work) => work.ino)), deadline, this.statAt);
      const notFound = result.complete
        ? `not found by walking ${view.mount.mountpoint}: deleted, or outside that mount`
        : `walk budget ran out on ${dev}`;
      let missing = 0;
      for (const work of devWorks) {
        const relative = result.found.get(work.ino);
        if (relative !== undefined) {
          const record = this.remember(work, { fsPath: joinRelative(view.mount.root, relative), deleted: false, reason: null });
          this.confirm(record, work, view, opened);
        } else {
          missing++;
          this.remember(work, { fsPath: null, deleted: false, reason: notFound }, performance.now());
        }
      }
      if (!result.complete) notes.add(`walk budget ran out on ${dev} (${missing} target${missing === 1 ? '' : 's'} unresolved)`);
      this.closeMounts();
    }
  }

  private remember(work: InodeWork, found: Pick<InodeRecord, 'fsPath' | 'deleted' | 'reason'>, walkMissedAt: number | null = null): InodeRecord {
    const record: InodeRecord = { handleHex: work.handle?.hex ?? '', ...found, confirmedIn: -1, ancestors: null, ancestorsRoot: null, walkMissedAt };
    this.inodes.set(work.dev, work.ino, record);
    work.record = record;
    return record;
  }

  /** The Resolution of one target, from its inode's record and the watcher's mounts. */
  private describe(target: Target): Resolution {
    const record = target.work.record;
    if (typeof target.table === 'string') return resolution('unresolved', null, null, null, target.table);
    const fsPath = record?.fsPath ?? null;
    const mounts = target.table.byDev.get(target.dev);
    if (!mounts) return this.describeUnmounted(target, target.table, fsPath);

    const mount = (fsPath !== null ? mountContaining(mounts, fsPath) : null) ?? widestMount(mounts)!;
    const relative = fsPath !== null ? relativeToMountRoot(mount.root, fsPath) : null;
    const path = relative !== null ? joinRelative(mount.mountpoint, relative) : null;
    if (record?.deleted) {
      const heldBy = fsPath !== null ? this.deletedRootHolders(target.dev, fsPath) : [];
      return resolution('deleted', path, mount, null, record.reason, heldBy);
    }
    if (fsPath === null) return resolution('unresolved', null, mount, null, record?.reason ?? 'not resolved');
    if (path === null) {
      return resolution('unresolved', null, mount, null, `${fsPath} on ${target.dev} is outside every mount of it in this process's mount namespace`);
    }
    return resolution('ok', path, mount, null, null);
  }

  /** The filesystem is not mounted in the watcher's namespace: who still has it, and where. */
  private describeUnmounted(target: Target, table: MountTable, fsPath: string | null): Resolution {
    const heldBy: Holder[] = [];
    let firstMount: MountEntry | null = null;
    for (const { table: other, firstPid } of this.namespaces.allTables()) {
      const mounts = other.byDev.get(target.dev);
      if (!mounts || other.ns === table.ns) continue;
      const mount = (fsPath !== null ? mountContaining(mounts, fsPath) : null) ?? widestMount(mounts)!;
      heldBy.push(this.holder(firstPid, other, mount));
      firstMount ??= mount;
    }
    const noHolder = `${target.dev} is mounted in no readable mount namespace`;
    const last = this.lastMounts.get(`${table.ns} ${target.dev}`);
    const shown = firstMount ?? last;
    if (!shown) return resolution('unmounted', null, null, null, noHolder);
    const relative = fsPath !== null ? relativeToMountRoot(shown.root, fsPath) : null;
    const path = relative !== null ? joinRelative(shown.mountpoint, relative) : null;
    return firstMount ? resolution('unmounted', path, firstMount, null, null, heldBy) : resolution('unmounted', path, null, last!, noHolder);
  }

  /** Namespaces with a bind mount of this very deleted inode (mountinfo root `PATH//deleted`). */
  private deletedRootHolders(dev: string, fsPath: string): Holder[] {
    const holders: Holder[] = [];
    for (const { table, firstPid } of this.namespaces.allTables()) {
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
    const host = this.namespaces.allTables()[0]?.table;
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

  private comm(pid: number): string {
    try {
      return readFileSync(`${this.procRoot}/${pid}/comm`, 'utf8').trimEnd();
    } catch {
      return '';
    }
  }

  /** Opens a mount's root (once per refresh), checking that the path really leads to that mount. */
  private openMount(view: MountView): OpenMount | string {
    // Entries are per namespace (and kept while its mountinfo is unchanged): a key of their own.
    const key = view.mount;
    let opened = this.openMounts.get(key);
    if (opened !== undefined) return opened;
    const path = view.table.pid === process.pid ? view.mount.mountpoint : `${this.procRoot}/${view.table.pid}/root${view.mount.mountpoint}`;
    opened = openMountAt(path, view.mount, this.statAt);
    this.openMounts.set(key, opened);
    return opened;
  }

  private closeMounts(): void {
    for (const opened of this.openMounts.values()) if (typeof opened !== 'string') closeSync(opened.fd);
    this.openMounts = new Map();
  }

  /** Drops records of inodes no longer watched and stamps no path used this refresh. */
  private forgetUnseen(works: InodeMap<InodeWork>): void {
    const kept = new InodeMap<InodeRecord>();
    for (const work of works.values()) if (work.record) kept.set(work.dev, work.ino, work.record);
    this.inodes = kept;
    for (const [key, stamp] of this.dirStamps) if (stamp.checkedIn !== this.refresh) this.dirStamps.delete(key);
  }
}

function openMountAt(path: string, mount: MountEntry, statAt: (dirFd: number, path: string) => InodeStat | number): OpenMount | string {
  let fd: number;
  try {
    fd = openSync(path, MOUNT_OPEN_FLAGS);
  } catch (error) {
    return `cannot open mount ${mount.mountpoint} (${path}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  let link: string;
  try {
    link = readlinkSync(`${SELF_FD_DIR}/${fd}`);
  } catch (error) {
    closeSync(fd);
    throw error; // our own fd: cannot fail but for a broken /proc
  }
  const stat = statAt(fd, '');
  const problem =
    typeof stat === 'number'
      ? `cannot stat mount ${mount.mountpoint}: ${errnoName(-stat)}`
      : stat.dev !== mount.dev || (stat.mountId !== null && stat.mountId !== mount.mountId)
        ? `mount ${mount.mountpoint} is covered by another mount`
        : null;
  if (problem !== null) {
    closeSync(fd);
    return problem;
  }
  if (mount.rootDeleted && link.endsWith(DELETED_SUFFIX)) link = link.slice(0, -DELETED_SUFFIX.length);
  return { fd, link };
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

function viewContaining(views: readonly MountView[], fsPath: string): MountView | null {
  if (views.length === 1) return relativeToMountRoot(views[0]!.mount.root, fsPath) !== null ? views[0]! : null;
  const mount = mountContaining(
    views.map((view) => view.mount),
    fsPath,
  );
  return mount ? views.find((view) => view.mount === mount)! : null;
}

function widestView(views: readonly MountView[]): MountView | null {
  const mount = widestMount(views.map((view) => view.mount));
  return mount ? views.find((view) => view.mount === mount)! : null;
}

function readNamespace(link: string): string | null {
  try {
    return parseNamespaceLink(readlinkSync(link));
  } catch {
    return null;
  }
}
