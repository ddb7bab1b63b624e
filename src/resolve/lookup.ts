// Finding an inode's place in its filesystem (fsPath): confirmed from the cache through the stamps
// of its directories, read from a directory a neighbour was decoded in, decoded from its file
// handle, or found by walking a mount.
import type { WatchList } from '../model/types.js';
import { handleAt } from '../model/watches.js';
import { groupBy } from '../common/group.js';
import { decodePathBytes } from '../model/path-bytes.js';
import { sameHandle, type DirStamp, type InodeRecord } from './inodes.js';
import { joinRelative, relativeToLink, relativeToMountRoot } from './mountinfo.js';
import { DELETED_SUFFIX, placeIn, viewContaining, widestView, type MountView, type OpenMount, type ViewSet } from './mounts.js';
import { ERRNO } from '../sys/errno.js';
import type { FileCalls, StatAt } from '../sys/files.js';
import type { Result } from '../common/result.js';
import type { InodeCache } from './inodes.js';
import type { MountAccess } from './mounts.js';
import { walkMount } from './walk.js';
import { readDirents } from '../sys/dirents.js';
import { uptimeMs } from '../deadline.js';

/** An inode a walk did not find is not looked for again before this long. */
const WALK_RETRY_MS = 60_000;
/** The type the kernel gives handles of filesystems without export operations: never decodable. */
const FILEID_INO64_GEN = 0x81;
const STALE_REASON = 'removed: its file handle is stale (ESTALE)';
/**
 * kernfs (cgroupfs, sysfs) never moves a directory's ctime when entries come and go: unchanged
 * ancestors vouch for nothing there, so paths on it are stat'ed themselves every refresh.
 */
const CTIME_BLIND_FSTYPES: ReadonlySet<string> = new Set(['cgroup', 'cgroup2', 'sysfs']);

/** A directory read for neighbours stops past this many entries plus so many per watched one found. */
const READ_BASE_ENTRIES = 256;
const READ_ENTRIES_PER_FIND = 16;
const DOT = 0x2e;
/**
 * Filesystems whose directory entries carry the inode number stat gives (overlayfs, for one, may
 * not; network and FUSE filesystems report what their server says).
 */
const D_INO_IS_ST_INO: ReadonlySet<string> = new Set(['tmpfs', 'devtmpfs', 'ramfs', 'ext2', 'ext3', 'ext4', 'xfs']);

/** A directory entry's name: plain ASCII as it is, anything else decoded reversibly (path-bytes.ts). */
function nameAt(buffer: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) if (buffer[i]! >= 0x80) return decodePathBytes(buffer.subarray(start, end));
  return buffer.toString('latin1', start, end);
}

/** One inode to resolve this refresh, with every mount of its filesystem it can be reached through. */
export interface InodeWork {
  dev: string;
  ino: number;
  /** Where its handle is: watch `index` of `list`. */
  list: WatchList;
  index: number;
  viewSet: ViewSet;
  record: InodeRecord | undefined;
  /** Its path read from a directory this refresh (readNeighbours), to try before a decode. */
  listedPath: string | null;
  /** Looked up this refresh (or left to the walk). */
  done: boolean;
  /** The last batch (prepare call) that collected it. */
  batch: number;
}

/**
 * Decoding file handles, across refreshes: the calls (or why there are none here), and whether
 * the kernel refused them once (EPERM: no CAP_DAC_READ_SEARCH), after which none is tried.
 */
export class HandleDecoding {
  private refused = false;

  constructor(private readonly calls: Result<FileCalls>) {}

  /** The calls, while handles can be decoded; null when the kernel refused them. */
  usable(): Result<FileCalls> | null {
    return this.refused ? null : this.calls;
  }

  refusedByKernel(): void {
    this.refused = true;
  }
}

/** What the lookups of a refresh use of the resolver: its caches and means, which live across refreshes. */
export interface LookupContext {
  /** The refresh the lookups are for: records and stamps carry it. */
  readonly refresh: number;
  readonly inodes: InodeCache;
  readonly mounts: MountAccess;
  readonly statAt: StatAt;
  /** Time all walks of one refresh may take together. */
  readonly walkBudgetMs: number;
  /** null: handles are never decoded (--force-walk). */
  readonly handles: HandleDecoding | null;
}

/** The lookups of one refresh. */
export class InodeLookup {
  /** Devices probed this refresh for whether their filesystem decodes handles at all (null: the probe was refused). */
  private readonly decodingDevs = new Map<string, boolean | null>();
  /** Devices of which a handle decoded this refresh: their filesystem decodes handles. */
  private readonly decodedDevs = new Set<string>();
  /** Stale handles on devices whose probe was refused: removed, if a walk does not find them. */
  private readonly staleUnprobed = new Set<InodeWork>();
  /** Directories read this refresh: dev NUL fsPath. */
  private readonly readDirs = new Set<string>();
  /** Handles decoded, and inodes named by a directory read, this refresh (for tests and the bench). */
  readonly counts = { decoded: 0, fromDirectories: 0 };

  constructor(
    private readonly r: LookupContext,
    /** uptimeMs() past which walks stop; null: only the walk budget. */
    private readonly deadline: number | null,
    private readonly note: (text: string) => void,
  ) {}

  /**
   * Finds fsPath from the cache, a directory read for a neighbour, or the handle; false when only a
   * walk can tell. `devWorks` are this refresh's inodes of the same device (by ino).
   */
  establish(work: InodeWork, devWorks: ReadonlyMap<number, InodeWork>): boolean {
    const cached = this.r.inodes.get(work.dev, work.ino);
    const record = cached !== undefined && sameHandle(cached.handleList, cached.handleIndex, work.list, work.index) ? cached : undefined;
    work.record = record;
    if (record) {
      record.usedIn = this.r.refresh;
      record.handleList = work.list;
      record.handleIndex = work.index;
    }
    if (record && this.stillValid(record, work)) return true;
    if (record && record.walkMissedAt !== null && uptimeMs() - record.walkMissedAt < WALK_RETRY_MS) return true;
    const listed = work.viewSet.views.length > 0 ? work.listedPath : null;
    if (listed !== null && this.stillValid(this.remember(work, listed, false, null), work)) {
      this.counts.fromDirectories++;
      return true;
    }
    const handleType = work.list.handleType[work.index]!;
    const calls = handleType < 0 || handleType === FILEID_INO64_GEN ? null : (this.r.handles?.usable() ?? null);
    if (calls === null) return false;
    if (!calls.ok) {
      this.note(`file handles not usable (${calls.error}): resolving by walking mounts`);
      return false;
    }
    return this.decode(work, calls.value, record, devWorks);
  }

  /**
   * A cached record still holds when a deletion was seen (an inode does not come back) or when its
   * path still leads to that inode. With no mount to look through, it stays as last known.
   */
  private stillValid(record: InodeRecord, work: InodeWork): boolean {
    if (record.deleted) return true;
    if (record.fsPath === null) return false;
    if (record.confirmedIn === this.r.refresh || work.viewSet.views.length === 0) return true;
    const view = viewContaining(work.viewSet.views, record.fsPath);
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
    const stat = this.r.mounts.statIn(opened, relative);
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
    const stat = relative === null ? -ERRNO.ENOENT : this.r.mounts.statIn(opened, relative);
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

  private decode(work: InodeWork, calls: FileCalls, previous: InodeRecord | undefined, devWorks: ReadonlyMap<number, InodeWork>): boolean {
    const view = widestView(work.viewSet.views);
    if (!view) {
      this.remember(work, null, false, `${work.dev} is mounted in no readable mount namespace`);
      return true;
    }
    const opened = this.r.mounts.open(view);
    if (!opened.ok) {
      this.remember(work, null, false, opened.error);
      return true;
    }
    const mount = opened.value;
    this.counts.decoded++;
    // A mount not cloned is opened for this one call; the fd it gives is closed right after its readlink.
    const handle = handleAt(work.list, work.index)!;
    const fd = this.r.mounts.withFd(mount, (mountFd) => calls.openByHandle(mountFd, handle));
    if (fd < 0) {
      const errno = -fd;
      if (errno === ERRNO.ESTALE) {
        // Also what a filesystem that cannot decode handles at all says (overlayfs without
        // nfs_export, for one). Where it can, the watch pins the inode, so a stale handle means the
        // inode was removed (a cgroup directory, for one).
        const decodes = this.decodesHandles(view, mount, calls);
        if (decodes === null) {
          // Told apart after the walks: removed if another handle of the device decoded and the
          // walk does not find it.
          this.staleUnprobed.add(work);
          return false;
        }
        if (!decodes) {
          this.note(`${work.dev} (${view.mount.fstype}) cannot decode file handles: resolving by walking it`);
          return false;
        }
        this.remember(work, previous?.fsPath ?? null, true, STALE_REASON);
        return true;
      }
      if (errno === ERRNO.EPERM) {
        this.r.handles?.refusedByKernel();
        this.note('open_by_handle_at not permitted (needs CAP_DAC_READ_SEARCH): resolving by walking mounts');
      }
      return false;
    }
    this.decodedDevs.add(work.dev);
    let link: string;
    let deleted = false;
    try {
      link = calls.fdLink(fd);
      // Only an unhashed dentry reads as deleted, and only then is nlink wanted: a path that does
      // not say so is confirmed below, which checks the inode and its links.
      if (link.endsWith(DELETED_SUFFIX)) {
        const stat = this.r.statAt(fd, '');
        if (typeof stat === 'number' || stat.ino !== work.ino || stat.dev !== work.dev) return false;
        deleted = stat.nlink === 0;
      }
    } finally {
      calls.closeFd(fd);
    }
    if (deleted) link = link.slice(0, -DELETED_SUFFIX.length);
    const relative = relativeToLink(mount.link, link);
    if (relative === null) {
      if (!deleted) return false; // not connected to the mount's tree: a walk may still find it
      this.remember(work, null, deleted, 'deleted; its last path is outside the mount it was decoded through');
      return true;
    }
    const fsPath = joinRelative(view.mount.root, relative);
    const record = this.remember(work, fsPath, deleted, null);
    if (deleted) return true;
    // Not every inode comes back connected (a file whose dentry was evicted comes back as a bare
    // name); confirming the path settles it, and a walk looks further when it fails.
    if (!this.confirm(record, work, view, mount)) return false;
    this.readNeighbours(record, view, mount, devWorks, calls);
    return true;
  }

  /**
   * Watched inodes share directories (a watcher of a tree watches its files or its directories):
   * one read of the directory of a decoded path names every watched inode in it, without a decode
   * each. Where an entry's inode number is the inode's own (D_INO_IS_ST_INO), the directory's
   * stamp, taken before the read, vouches for what it lists as a stat of each would; elsewhere
   * what it finds is tried like a cached path. Reading stops early in a directory that holds few
   * of them, and no directory is read twice in a refresh.
   */
  private readNeighbours(decoded: InodeRecord, view: MountView, opened: OpenMount, devWorks: ReadonlyMap<number, InodeWork>, calls: FileCalls): void {
    const fsPath = decoded.fsPath!;
    if (devWorks.size < 2 || fsPath === '/') return;
    const slash = fsPath.lastIndexOf('/');
    const dir = slash <= 0 ? '/' : fsPath.slice(0, slash);
    const relative = relativeToMountRoot(view.mount.root, dir);
    const readKey = `${view.mount.dev}\0${dir}`;
    if (relative === null || this.readDirs.has(readKey)) return;
    this.readDirs.add(readKey);
    const fd = calls.openDirectory(...placeIn(opened, relative));
    if (fd < 0) return;
    const chain = decoded.ancestorsRoot === view.mount.root ? decoded.ancestors : null;
    /** Vouched entries found: work, path, work, path, ... */
    const listed: (InodeWork | string)[] = [];
    try {
      const dirStamp = chain !== null && chain.length > 0 ? chain[chain.length - 1]! : null;
      let vouched = false;
      if (dirStamp !== null && D_INO_IS_ST_INO.has(view.mount.fstype)) {
        const stat = this.r.statAt(fd, '');
        vouched =
          typeof stat !== 'number' && stat.ino === dirStamp.ino && stat.dev === view.mount.dev && (stat.mountId === null || stat.mountId === opened.mountId);
      }
      let entries = 0;
      let found = 0;
      readDirents(fd, (ino, buffer, start, end) => {
        entries++;
        const work = devWorks.get(ino);
        if (work === undefined || work.done) return true;
        const dots = buffer[start] === DOT && (end === start + 1 || (end === start + 2 && buffer[start + 1] === DOT)) ? end - start : 0;
        if (dots === 0) {
          const path = joinRelative(dir, nameAt(buffer, start, end));
          if (vouched) {
            listed.push(work, path); // remembered once the directory is closed: it is held for the read only
          } else {
            work.listedPath = path;
          }
          found++;
        } else if (dots === 1) {
          work.listedPath = dir; // its stamps are its parent's: confirmed the usual way
          found++;
        }
        return entries < READ_BASE_ENTRIES + READ_ENTRIES_PER_FIND * found;
      });
    } finally {
      calls.closeFd(fd);
    }
    for (let i = 0; i < listed.length; i += 2) {
      const record = this.remember(listed[i] as InodeWork, listed[i + 1] as string, false, null);
      record.confirmedIn = this.r.refresh;
      record.ancestors = chain;
      record.ancestorsRoot = view.mount.root;
      this.counts.fromDirectories++;
    }
  }

  private decodesHandles(view: MountView, opened: OpenMount, calls: FileCalls): boolean | null {
    let decodes = this.decodingDevs.get(view.mount.dev);
    if (decodes === undefined) {
      let answer: boolean | null = null; // the mount could not be opened again: told apart after the walks
      this.r.mounts.withFd(opened, (fd) => {
        answer = calls.decodesHandles(fd);
        return 0;
      });
      decodes = answer;
      this.decodingDevs.set(view.mount.dev, decodes);
    }
    return decodes;
  }

  /** Walks each device's widest reachable mount once for all its inodes still unknown. */
  walk(works: InodeWork[]): void {
    const budgetEnd = uptimeMs() + this.r.walkBudgetMs;
    const deadline = this.deadline === null ? budgetEnd : Math.min(budgetEnd, this.deadline);
    for (const [dev, devWorks] of groupBy(works, (work) => work.dev)) {
      const view = widestView(devWorks.flatMap((work) => work.viewSet.views));
      const miss = (reason: string): void => {
        for (const work of devWorks) this.remember(work, null, false, reason, uptimeMs());
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
      const result = walkMount(opened.value, new Set(devWorks.map((work) => work.ino)), deadline, this.r.statAt);
      const notFound = result.complete ? `not found by walking ${view.mount.mountpoint}: deleted, or outside that mount` : `walk budget ran out on ${dev}`;
      let missing = 0;
      for (const work of devWorks) {
        const relative = result.found.get(work.ino);
        if (relative !== undefined) {
          const record = this.remember(work, joinRelative(view.mount.root, relative), false, null);
          this.confirm(record, work, view, opened.value);
        } else if (result.complete && this.staleUnprobed.has(work) && this.decodedDevs.has(dev)) {
          this.remember(work, work.record?.fsPath ?? null, true, STALE_REASON);
        } else {
          missing++;
          this.remember(work, null, false, notFound, uptimeMs());
        }
      }
      if (!result.complete) this.note(`walk budget ran out on ${dev} (${missing} target${missing === 1 ? '' : 's'} unresolved)`);
      this.r.mounts.closeAll();
    }
  }

  private remember(work: InodeWork, fsPath: string | null, deleted: boolean, reason: string | null, walkMissedAt: number | null = null): InodeRecord {
    const record: InodeRecord = {
      handleList: work.list,
      handleIndex: work.index,
      fsPath,
      deleted,
      reason,
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
}
