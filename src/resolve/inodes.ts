// What is known about watched inodes across refreshes: their place in their filesystem, and the
// stamps of the directories on the way there that vouch for it without a lookup per inode.

/** What is known about one inode, kept across refreshes. */
export interface InodeRecord {
  /** The handle it was found by ('' for none): another one on the same (dev, ino) is another inode. */
  handleKey: string;
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

/** The key a handle's bytes are compared by. */
export function handleKey(bytes: Uint8Array | null): string {
  return bytes === null ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

export class InodeCache {
  private records = new InodeMap<InodeRecord>();
  /** dev + NUL + directory path from the filesystem root -> its stamp. */
  private stamps = new Map<string, DirStamp>();

  /** The record of (dev, ino) if it was made for the same handle. */
  get(dev: string, ino: number, handle: string): InodeRecord | undefined {
    const record = this.records.get(dev, ino);
    return record?.handleKey === handle ? record : undefined;
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
    const kept = new InodeMap<InodeRecord>();
    for (const [dev, inner] of this.records.byDev) {
      for (const [ino, record] of inner) if (record.usedIn >= since) kept.set(dev, ino, record);
    }
    this.records = kept;
    for (const [key, stamp] of this.stamps) if (stamp.checkedIn < since) this.stamps.delete(key);
  }

  clear(): void {
    this.records = new InodeMap();
    this.stamps = new Map();
  }
}
