// Directories read without a string per entry: getdents64 and readlinkat through koffi (Node has
// neither). The fd scan lists /proc/PID/fd and reads its links with them; the resolver reads the
// directory of a decoded path for its neighbours.
import { writeDecimal } from './cstring.js';
import { ERRNO } from './errno.js';
import type { Result } from '../common/result.js';
import { addressOf, lastErrno, libcBinding } from './libc.js';

/** The longest link findNumberedLink reads; longer ones are cut (only short ones, such as "anon_inode:inotify", are looked for). */
const LINK_BYTES_MAX = 256;

export type DirentCalls = typeof direntCalls extends () => Result<infer T> ? T : never;

export const direntCalls = libcBinding('getdents64, readlinkat', (libc) => {
  // readlinkat runs once per fd of every process, the bulk of a busy node's scan: its name and its
  // link go in memory of our own passed by address, as plain numbers (addressOf): `inotop --json`
  // at 315,000 fds took 1,590 ms with Buffer arguments, 1,490 this way (medians of 7 side by side).
  const readlinkat = libc.func('int readlinkat(int dirfd, intptr_t path, intptr_t buf, size_t size)') as (
    dirFd: number,
    name: number,
    out: number,
    size: number,
  ) => number;
  // A decimal name and its NUL, then the link (longer ones are cut: only short ones are looked for).
  const memory = new Uint8Array(new ArrayBuffer(32 + LINK_BYTES_MAX));
  const name = memory.subarray(0, 32);
  const link = memory.subarray(32);
  const nameAddress = addressOf(libc, name);
  const linkAddress = addressOf(libc, link);
  return {
    getdents64: libc.func('long getdents64(int fd, void *dirp, size_t count)') as (dirFd: number, out: Buffer, size: number) => number,
    /**
     * The first of `entries` (fds of /proc/PID/fd, by number) from position `from` on whose link,
     * read with readlinkat in the open directory `dirFd`, is one of `links` (ASCII), or whose link
     * cannot be read: its position (`found` says which link, or the errno), or -1 past the last.
     * One loop for all the fds of a process: it is the scan's hottest, and a function this small
     * is optimised after a few hundred fds.
     */
    findNumberedLink(dirFd: number, entries: readonly number[], from: number, links: readonly string[], found: FoundLink): number {
      for (let at = from; at < entries.length; at++) {
        name[writeDecimal(name, 0, entries[at]!)] = 0;
        const length = readlinkat(dirFd, nameAddress, linkAddress, LINK_BYTES_MAX);
        if (length < 0) {
          found.link = -1;
          found.errno = lastErrno();
          return at;
        }
        for (let i = 0; i < links.length; i++) {
          if (links[i]!.length === length && asciiEquals(link, links[i]!)) {
            found.link = i;
            return at;
          }
        }
      }
      return -1;
    },
  };
});

/** What findNumberedLink found: which of the links (-1 when the link could not be read: then errno says why). */
export interface FoundLink {
  link: number;
  errno: number;
}

function asciiEquals(bytes: Uint8Array, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

// Reused by every directory read (readDirents): one is read at a time.
const direntBuffer = Buffer.allocUnsafe(1 << 16);
// Its fields read through a DataView: Buffer's readUInt16LE and readUInt32LE check their offset
// through Node's error wrappers, which allocate an array per call (some 190 KB and 2-3 ms of a cold
// one-shot's 1,100 fds on an idle node).
const direntFields = new DataView(direntBuffer.buffer, direntBuffer.byteOffset, direntBuffer.length);

// struct linux_dirent64: d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated, padded to d_reclen).
const DIRENT_RECLEN = 16;
const DIRENT_NAME = 19;

/** A directory entry: its inode number and its name's bytes, buffer[start..end), valid during the call only. False stops the read. */
export type DirentVisitor = (ino: number, buffer: Buffer, start: number, end: number) => boolean;

/**
 * Reads an open directory with getdents64, without a stat or a string per entry. 0 at its end or
 * when `visit` stops, else -errno (-ENOSYS without koffi). One buffer serves every read: `visit`
 * must not read another directory. Only a read that returns nothing is the end: the kernel ends a
 * read early, short of what fits, where a signal waits for the thread (filldir64). Taking a short
 * read for the end (once a syscall saved per directory) cut most listings of /proc short under a
 * CPU profile's sampling signals, and any listing that met a signal.
 */
export function readDirents(dirFd: number, visit: DirentVisitor): number {
  const calls = direntCalls();
  if (!calls.ok) return -ERRNO.ENOSYS;
  const getdents64 = calls.value.getdents64;
  for (;;) {
    const length = getdents64(dirFd, direntBuffer, direntBuffer.length);
    if (length < 0) return -lastErrno();
    if (length === 0) return 0;
    for (let record = 0; record < length;) {
      const reclen = direntFields.getUint16(record + DIRENT_RECLEN, true);
      const ino = direntFields.getUint32(record, true) + direntFields.getUint32(record + 4, true) * 2 ** 32;
      // The name ends at its NUL: the padding after it up to d_reclen is not cleared.
      const name = record + DIRENT_NAME;
      let end = name;
      while (end < record + reclen && direntBuffer[end] !== 0) end++;
      if (!visit(ino, direntBuffer, name, end)) return 0;
      record += reclen;
    }
  }
}
