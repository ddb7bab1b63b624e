// The fallback: find inodes by walking one mount, for watches whose handle is missing or cannot be
// decoded (or when handles are not allowed). One walk serves every wanted inode of the device.
import { readdirSync } from 'node:fs';
import { decodePathBytes, encodePathBytes } from '../model/path-bytes.js';
import { SELF_FD_DIR, type InodeStat, type StatAt } from '../sys/files.js';
import { placeIn, type OpenMount } from './mounts.js';
import { uptimeMs } from '../deadline.js';

export interface WalkResult {
  /** ino -> path relative to the mount's root ("" for the root itself). */
  found: Map<number, string>;
  /** False when the deadline came first; whatever was not found may still be there. */
  complete: boolean;
}

/** How many entries to visit between two looks at the clock. */
const CLOCK_EVERY = 256;

/**
 * Walks `mount` (its clone's fd, or its path: then each call looks it up anew and nothing on it is
 * held longer than one directory's read), depth first, without following symlinks or crossing
 * into other mounts (statx's mount id when known, else the device), until every wanted inode is
 * found or `deadline` (uptimeMs() time) passes.
 */
export function walkMount(mount: OpenMount, wanted: ReadonlySet<number>, deadline: number, statAt: StatAt): WalkResult {
  const found = new Map<number, string>();
  const root = statAt(...placeIn(mount, ''));
  if (typeof root === 'number') return { found, complete: true };
  const stillWanted = new Set(wanted);
  const take = (ino: number, path: string): void => {
    if (stillWanted.delete(ino)) found.set(ino, path);
  };
  take(root.ino, '');
  const sameMount = (stat: InodeStat): boolean => stat.dev === root.dev && (root.mountId === null || stat.mountId === null || stat.mountId === root.mountId);

  const pending: string[] = root.isDirectory ? [''] : [];
  let entries = 0;
  while (pending.length > 0 && stillWanted.size > 0) {
    const dir = pending.pop()!;
    let names: Buffer[];
    try {
      const [dirFd, path] = placeIn(mount, dir);
      names = readdirSync(encodePathBytes(mount.path !== null ? path : dir === '' ? `${SELF_FD_DIR}/${dirFd}` : `${SELF_FD_DIR}/${dirFd}/${dir}`), {
        encoding: 'buffer',
      });
    } catch {
      continue; // gone meanwhile, or not readable: the rest of the walk still counts
    }
    for (const nameBytes of names) {
      const name = decodePathBytes(nameBytes);
      const path = dir === '' ? name : `${dir}/${name}`;
      const stat = statAt(...placeIn(mount, path));
      if (typeof stat === 'number' || !sameMount(stat)) continue;
      take(stat.ino, path);
      if (stat.isDirectory) pending.push(path);
      if (++entries % CLOCK_EVERY === 0 && uptimeMs() > deadline) {
        return { found, complete: false };
      }
    }
  }
  return { found, complete: true };
}
