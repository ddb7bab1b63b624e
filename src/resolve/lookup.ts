// Finding an inode's place in its filesystem (fsPath): confirmed from the cache through the stamps
// of its directories, decoded from its file handle, or found by walking a mount.
import { performance } from 'node:perf_hooks';
import type { FileHandle } from '../model/types.js';
import { groupBy } from '../common/group.js';
import { handleKey, type DirStamp, type InodeRecord } from './inodes.js';
import { joinRelative, relativeToLink, relativeToMountRoot } from './mountinfo.js';
import { DELETED_SUFFIX, viewContaining, widestView, type MountView, type OpenMount } from './mounts.js';
import type { MountTable } from './namespaces.js';
import type { Resolver } from './resolver.js';
import { ERRNO, type InodeStat, type Syscalls } from './syscalls.js';
import { walkMount } from './walk.js';

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

/** One inode to resolve this refresh, with every mount of its filesystem it can be reached through. */
export interface InodeWork {
  dev: string;
  ino: number;
  handle: FileHandle | null;
  views: MountView[];
  /** Tables the views came from. */
  viewTables: Set<MountTable>;
  record: InodeRecord | undefined;
}

/** The lookups of one refresh. */
export class InodeLookup {
  /** Devices probed this refresh for whether their filesystem decodes handles at all (null: the probe was refused). */
  private readonly decodingDevs = new Map<string, boolean | null>();
  /** Devices of which a handle decoded this refresh: their filesystem decodes handles. */
  private readonly decodedDevs = new Set<string>();
  /** Stale handles on devices whose probe was refused: removed, if a walk does not find them. */
  private readonly staleUnprobed = new Set<InodeWork>();

  constructor(
    private readonly r: Resolver,
    /** performance.now() past which walks stop; null: only the walk budget. */
    private readonly deadline: number | null,
    private readonly note: (text: string) => void,
  ) {}

  /** Finds fsPath from the cache or the handle; false when only a walk can tell. */
  establish(work: InodeWork): boolean {
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
        const decodes = this.decodesHandles(view, mount, syscalls);
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
        this.remember(work, { fsPath: previous?.fsPath ?? null, deleted: true, reason: STALE_REASON });
        return true;
      }
      if (errno === ERRNO.EPERM) {
        this.r.handlesRefused = true;
        this.note('open_by_handle_at not permitted (needs CAP_DAC_READ_SEARCH): resolving by walking mounts');
      }
      return false;
    }
    this.decodedDevs.add(work.dev);
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

  private decodesHandles(view: MountView, opened: OpenMount, syscalls: Syscalls): boolean | null {
    let decodes = this.decodingDevs.get(view.mount.dev);
    if (decodes === undefined) {
      decodes = syscalls.decodesHandles(opened.fd);
      this.decodingDevs.set(view.mount.dev, decodes);
    }
    return decodes;
  }

  /** Walks each device's widest reachable mount once for all its inodes still unknown. */
  walk(works: InodeWork[]): void {
    const budgetEnd = performance.now() + this.r.walkBudgetMs;
    const deadline = this.deadline === null ? budgetEnd : Math.min(budgetEnd, this.deadline);
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
      const opened = this.r.mounts.open(view);
      if (!opened.ok) {
        miss(opened.error);
        continue;
      }
      const result = walkMount(opened.value.fd, new Set(devWorks.map((work) => work.ino)), deadline, this.r.statAt);
      const notFound = result.complete ? `not found by walking ${view.mount.mountpoint}: deleted, or outside that mount` : `walk budget ran out on ${dev}`;
      let missing = 0;
      for (const work of devWorks) {
        const relative = result.found.get(work.ino);
        if (relative !== undefined) {
          const record = this.remember(work, { fsPath: joinRelative(view.mount.root, relative), deleted: false, reason: null });
          this.confirm(record, work, view, opened.value);
        } else if (result.complete && this.staleUnprobed.has(work) && this.decodedDevs.has(dev)) {
          this.remember(work, { fsPath: work.record?.fsPath ?? null, deleted: true, reason: STALE_REASON });
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
}
