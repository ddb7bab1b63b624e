// Which of a process's fds are open on a filesystem, and through which mount: what the umount
// tests look for in inotop at the moment a volume is unmounted.
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

/**
 * The fds of `pid` open on the filesystem of st_dev `dev`: each with the id of the mount it was
 * opened through (fdinfo's mnt_id) and where it leads. Its links are read first and only those that
 * may be a file or a directory stat'ed (not its pipes, sockets, anon inodes, nor the fdinfo files a
 * scanner keeps open).
 */
export function fdsOn(pid: number, dev: number): { fd: string; mountId: number; link: string }[] {
  const found: { fd: string; mountId: number; link: string }[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return found; // gone
  }
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (!link.startsWith('/') || link.startsWith('/proc/') || link.startsWith('/dev/')) continue;
      if (statSync(`/proc/${pid}/fd/${fd}`).dev !== dev) continue;
      const mountId = Number(/^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]);
      found.push({ fd, mountId, link });
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

/** The id of the mount at `path` in the mount namespace of `pid` (the last mounted there), null when none is. */
export function mountIdIn(pid: number, path: string): number | null {
  const line = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter((entry) => entry.split(' ')[4] === path)
    .at(-1);
  return line === undefined ? null : Number(line.split(' ')[0]);
}
