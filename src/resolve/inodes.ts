// What is known about watched inodes across refreshes: their place in their filesystem, and the
// stamps of the directories on the way there that vouch for it without a lookup per inode.
import type { WatchList } from '../model/types.js';

/** What is known about one inode, kept across refreshes. */
export interface InodeRecord {
  /**
   * The handle it was found by, as watch `handleIndex` of `handleList` (the list of the last
   * refresh that used it, so that no older scan is kept): another one on the same (dev, ino) is
   * another inode.
   */
  handleList: WatchList;
  handleIndex: number;
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
  /** uptimeMs() of a walk that did not find it. */
  walkMissedAt: number | null;
  /** Refresh in which a watch last named it. */
  usedIn: number;
}

/** A directory on the way to cached paths, as last stat'ed. */
export interface DirStamp {
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

/**
 * dev -> ino -> value. Two-level with number keys, cheaper than a string key per inode at tens of
 * thousands. While watched, an inode's number cannot be reused, so (dev, ino) names it in a scan;
 * across refreshes the handle tells a reused number apart.
 */
export class InodeMap<T> {
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

/** Whether watch i of `a` and watch j of `b` carry the same file handle (or both none). */
export function sameHandle(a: WatchList, i: number, b: WatchList, j: number): boolean {
  if (a === b && i === j) return true;
  if (a.handleType[i] !== b.handleType[j]) return false;
  const aStart = a.handleStart[i]!;
  const bStart = b.handleStart[j]!;
  const length = a.handleStart[i + 1]! - aStart;
  if (length !== b.handleStart[j + 1]! - bStart) return false;
  for (let k = 0; k < length; k++) if (a.handleBytes[aStart + k] !== b.handleBytes[bStart + k]) return false;
  return true;
}

export class InodeCache {
  private records = new InodeMap<InodeRecord>();
  /** dev + NUL + directory path from the filesystem root -> its stamp. */
  private stamps = new Map<string, DirStamp>();

  /** The record of (dev, ino): of this inode only if it has the watch's handle (sameHandle). */
  get(dev: string, ino: number): InodeRecord | undefined {
    return this.records.get(dev, ino);
  }

  remember(dev: string, ino: number, record: InodeRecord): void {
    this.records.set(dev, ino, record);
  }

  stamp(dev: string, fsDir: string): DirStamp {
    const key = `${dev}\0${fsDir}`;
    let stamp = this.stamps.get(key);
    if (!stamp) {
      stamp = { fsDir, ino: -1, ctimeSec: 0, ctimeNsec: 0, checkedIn: -1, changedIn: -1 };
      this.stamps.set(key, stamp);
    }
    return stamp;
  }

  /** Forgets inodes no watch named since refresh `since`, and stamps not checked since then. */
  forgetUnusedSince(since: number): void {
    // In place: a refresh that forgets nothing costs no new map.
    for (const [dev, inner] of this.records.byDev) {
      for (const [ino, record] of inner) if (record.usedIn < since) inner.delete(ino);
      if (inner.size === 0) this.records.byDev.delete(dev);
    }
    for (const [key, stamp] of this.stamps) if (stamp.checkedIn < since) this.stamps.delete(key);
  }

  clear(): void {
    this.records = new InodeMap();
    this.stamps = new Map();
  }
}
