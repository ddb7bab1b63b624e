// Opening mounts to look inside them, holding as little of them as the kernel allows.
//
// An open fd on a mount makes umount(2) of it fail with EBUSY, and kubelet tearing down a pod's
// volume is exactly such an umount. So a mount of our own namespace is not opened itself where a
// detached clone of it can be (open_tree OPEN_TREE_CLONE, which needs CAP_SYS_ADMIN), a mount of
// its own that shares the filesystem and that no umount of the original waits for; the clone's
// path lookup is the only moment the original is referenced (inside that one syscall). The kernel
// clones no mount of another namespace (EINVAL on 6.18, with CAP_SYS_ADMIN too), nor any without
// CAP_SYS_ADMIN: such a mount is opened once to check it (then closed), and looked into by its
// path (/proc/PID/root<mountpoint> for another namespace): each stat and directory read looks it
// up anew, and withFd opens it for one open_by_handle_at only. Nothing on it is held
// between two calls; an umount in the moment of one fails (without CAP_SYS_ADMIN, umounts the
// moment inotop was seen looking: 2 of 84 walking, 4 of 84 decoding; when a device's lookups or a
// whole walk held it, 48 of 48 and 10 of 48; test/system/unmount-race.test.ts checks both cases).
// In a pod (the DaemonSet) the node's volumes have copies in our own namespace (its kubelet root is
// mounted HostToContainer), and ours are preferred (viewContaining, widestView): the kernel checks
// such a copy for users before it unmounts the node's volume, so the copy is cloned too, never
// opened, where CAP_SYS_ADMIN allows (the DaemonSet has it for this).
import { closeSync, constants, openSync, readlinkSync } from 'node:fs';
import { relativeToMountRoot, type MountEntry } from './mountinfo.js';
import type { MountTable } from './namespaces.js';
import { fail, type Result } from '../common/result.js';
import { ERRNO, errnoName, errnoOf } from '../sys/errno.js';
import { AT_FDCWD, SELF_FD_DIR, type FileCalls, type StatAt } from '../sys/files.js';

/** A mount as some process sees it: how to open it. */
export interface MountView {
  table: MountTable;
  mount: MountEntry;
}

export interface OpenMount {
  /** The clone's root (held until closeAll); -1 for a mount looked into by its path (nothing held). */
  fd: number;
  /** A mount not cloned: its path (/proc/PID/root<mountpoint> for another namespace), looked up anew by each call; null for a clone. */
  path: string | null;
  /** readlink of the fd: the prefix of every path decoded through it ("/" for a detached clone). */
  link: string;
  /** The mount id statx reports for what is reached through fd (a clone has one of its own). */
  mountId: number | null;
  /** A detached clone: its fd came from open_tree, not from Node, and is closed with close(2). */
  clone: boolean;
}

/** Where `relative` (to the mount's root) is, as statAt and openDirectory take it: the clone's fd, or the mount's path. */
export function placeIn(mount: OpenMount, relative: string): [dirFd: number, path: string] {
  if (mount.path === null) return [mount.fd, relative];
  return [AT_FDCWD, relative === '' ? mount.path : `${mount.path}/${relative}`];
}

/** What readlink appends to the path of a deleted file or directory. */
export const DELETED_SUFFIX = ' (deleted)';
const MOUNT_OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

export class MountAccess {
  private opened = new Map<MountEntry, Result<OpenMount>>();
  /** Cleared once the kernel refuses clones altogether (no CAP_SYS_ADMIN, no open_tree). */
  private clonesAllowed: boolean;

  constructor(
    private readonly procRoot: string,
    private readonly calls: FileCalls | null,
    private readonly statAt: StatAt,
  ) {
    this.clonesAllowed = calls !== null;
  }

  /** Opens a mount's root (once until closeAll), checking that the path really leads to that mount. */
  open(view: MountView): Result<OpenMount> {
    // Entries are per namespace (and kept while its mountinfo is unchanged): a key of their own.
    let opened = this.opened.get(view.mount);
    if (opened === undefined) {
      opened = this.openUncached(view);
      this.opened.set(view.mount, opened);
    }
    return opened;
  }

  /** Closes every mount opened: after each device's lookups, and at the end of a refresh. */
  closeAll(): void {
    for (const opened of this.opened.values()) if (opened.ok && opened.value.clone) this.close(opened.value.fd, true);
    this.opened = new Map();
  }

  /** statAt of `relative` in the mount: through the clone's fd, or by the mount's path (held for that one call). */
  statIn(mount: OpenMount, relative: string): ReturnType<StatAt> {
    const [dirFd, path] = placeIn(mount, relative);
    return this.statAt(dirFd, path);
  }

  /**
   * Calls `use` with an fd of the mount's root (for the calls that take no path: open_by_handle_at):
   * the clone's, or the mount opened for that call only, checked to be the same mount still, and
   * closed right after (-errno without calling `use` when it cannot be opened so).
   */
  withFd(mount: OpenMount, use: (fd: number) => number): number {
    if (mount.path === null) return use(mount.fd);
    let fd: number;
    try {
      fd = openSync(mount.path, MOUNT_OPEN_FLAGS);
    } catch (error) {
      return -(errnoOf(error) ?? ERRNO.EIO);
    }
    try {
      const stat = this.statAt(fd, '');
      if (typeof stat === 'number') return stat;
      if (stat.mountId !== mount.mountId) return -ERRNO.ENOENT; // covered, or mounted anew, meanwhile
      return use(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** fs.closeSync of an fd Node did not open warns in worker threads, where scans run. */
  private close(fd: number, clone: boolean): void {
    if (clone) this.calls!.closeFd(fd);
    else closeSync(fd);
  }

  private openUncached(view: MountView): Result<OpenMount> {
    const own = view.table.pid === process.pid;
    const path = own ? view.mount.mountpoint : `${this.procRoot}/${view.table.pid}/root${view.mount.mountpoint}`;
    if (own && this.clonesAllowed) {
      const fd = this.calls!.openDetachedClone(path);
      if (fd >= 0) return this.checked(fd, view.mount, '/', true);
      // EPERM/ENOSYS: clones are not for us; anything else is about this mount, so say so.
      if (fd === -ERRNO.EPERM || fd === -ERRNO.ENOSYS) this.clonesAllowed = false;
      else return fail(`cannot open mount ${view.mount.mountpoint}: ${errnoName(-fd)}`);
    }
    let fd: number;
    try {
      fd = openSync(path, MOUNT_OPEN_FLAGS);
    } catch (error) {
      return fail(`cannot open mount ${view.mount.mountpoint} (${path}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    let link = readlinkSync(`${SELF_FD_DIR}/${fd}`); // our own fd: cannot fail but for a broken /proc
    if (view.mount.rootDeleted && link.endsWith(DELETED_SUFFIX)) link = link.slice(0, -DELETED_SUFFIX.length);
    const checked = this.checked(fd, view.mount, link, false);
    if (!checked.ok) return checked;
    // Not held: each call looks the mount up by its path (withFd for those that need an fd).
    closeSync(fd);
    return { ok: true, value: { ...checked.value, fd: -1, path } };
  }

  private checked(fd: number, mount: MountEntry, link: string, clone: boolean): Result<OpenMount> {
    const stat = this.statAt(fd, '');
    const problem =
      typeof stat === 'number'
        ? `cannot stat mount ${mount.mountpoint}: ${errnoName(-stat)}`
        : stat.dev !== mount.dev || (!clone && stat.mountId !== null && stat.mountId !== mount.mountId)
          ? `mount ${mount.mountpoint} is covered by another mount`
          : null;
    if (problem !== null || typeof stat === 'number') {
      this.close(fd, clone);
      return fail(problem!);
    }
    return { ok: true, value: { fd, path: null, link, mountId: stat.mountId, clone } };
  }
}

/**
 * The mounts an inode can be looked at through: its device's mounts in its watchers' tables.
 * Shared by every inode of the device watched from the same tables, and grown by with(), so that
 * no inode carries a list of its own.
 */
export class ViewSet {
  private readonly grown = new Map<MountTable, ViewSet>();

  constructor(
    readonly tables: readonly MountTable[] = [],
    readonly views: readonly MountView[] = [],
  ) {}

  /** The set with `table`'s mounts of the device (always the same ones within a refresh) added. */
  with(table: MountTable, mounts: readonly MountEntry[]): ViewSet {
    if (this.tables.includes(table)) return this;
    let grown = this.grown.get(table);
    if (!grown) {
      grown = new ViewSet([...this.tables, table], [...this.views, ...mounts.map((mount) => ({ table, mount }))]);
      this.grown.set(table, grown);
    }
    return grown;
  }
}

/** Of the views that contain fsPath, the one to look through: our own namespace's first (clonable). */
export function viewContaining(views: readonly MountView[], fsPath: string): MountView | null {
  let best: MountView | null = null;
  for (const view of views) {
    if (relativeToMountRoot(view.mount.root, fsPath) === null) continue;
    if (!best || betterView(view, best, (v) => v.mount.root.length >= best!.mount.root.length)) best = view;
  }
  return best;
}

/**
 * The view that shows the most of its filesystem (the shortest root), our own namespace's between
 * equal roots; a deleted root last. Ours is not first regardless: in a container on cgroup v1 our
 * own /sys/fs/cgroup/<controller> is a bind of our cgroup's dir, and nothing else's is under it.
 */
export function widestView(views: readonly MountView[]): MountView | null {
  let best: MountView | null = null;
  for (const view of views) {
    if (!best) {
      best = view;
      continue;
    }
    if (best.mount.rootDeleted !== view.mount.rootDeleted) {
      if (best.mount.rootDeleted) best = view;
      continue;
    }
    if (view.mount.root.length !== best.mount.root.length) {
      if (view.mount.root.length < best.mount.root.length) best = view;
      continue;
    }
    if (betterView(view, best, () => false)) best = view;
  }
  return best;
}

/** Our own namespace wins; between views of the same standing, `better` decides. */
function betterView(view: MountView, best: MountView, better: (view: MountView) => boolean): boolean {
  const own = view.table.pid === process.pid;
  const bestOwn = best.table.pid === process.pid;
  if (own !== bestOwn) return own;
  return better(view);
}
