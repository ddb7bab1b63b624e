// Describing targets: a status, the path as the watcher sees it, and who keeps a filesystem or a
// deleted inode alive (holders, one per mount namespace), from an inode's record and the mounts.
import { readFileSync } from 'node:fs';
import type { Holder, Resolution, TargetStatus } from '../model/types.js';
import type { InodeRecord } from './inodes.js';
import { joinRelative, mountContaining, relativeToMountRoot, widestMount, type MountEntry } from './mountinfo.js';
import type { MountNamespaces, MountTable } from './namespaces.js';

/** Describes the targets of one refresh; what it reads of holders (their comm) is read once. */
export class Describer {
  /** Holder namespace -> Holder.boundFrom, this refresh. */
  private readonly boundPaths = new Map<string, string[]>();
  private readonly comms = new Map<number, string>();

  constructor(
    private readonly namespaces: MountNamespaces,
    /** (watcher namespace, dev) -> the last mount of dev seen there, for mounts that go away. */
    private readonly lastMounts: ReadonlyMap<string, MountEntry>,
    private readonly procRoot: string,
  ) {}

  /** The Resolution of one target, from its inode's record and the watcher's mounts. */
  describe(dev: string, ino: number, record: InodeRecord | undefined, table: MountTable): Resolution {
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
  describeUnmounted(dev: string, table: MountTable, fsPath: string | null): Resolution {
    const heldBy: Holder[] = [];
    let firstMount: MountEntry | null = null;
    for (const { table: other, firstPid } of this.namespaces.allTables()) {
      const mounts = other.byDev.get(dev);
      if (!mounts || other.ns === table.ns) continue;
      const mount = (fsPath !== null ? mountContaining(mounts, fsPath) : null) ?? widestMount(mounts)!;
      heldBy.push(this.holder(firstPid, other, mount));
      firstMount ??= mount;
    }
    const noHolder = `${dev} is mounted in no readable mount namespace`;
    const last = this.lastMounts.get(`${table.ns} ${dev}`);
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

  holder(pid: number, table: MountTable, mount: MountEntry): Holder {
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

  /** A holder's comm, read once per refresh however many targets it holds. */
  private comm(pid: number): string {
    let comm = this.comms.get(pid);
    if (comm === undefined) {
      try {
        comm = readFileSync(`${this.procRoot}/${pid}/comm`, 'utf8').trimEnd();
      } catch {
        comm = '';
      }
      this.comms.set(pid, comm);
    }
    return comm;
  }
}

/** A Resolution seen through `mount`, or through `remembered`, a mount that has since gone. */
export function resolution(
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
