// Directories read without a string per entry: getdents64 and readlinkat through koffi (Node has
// neither). The fd scan lists /proc/PID/fd and reads its links with them; the resolver reads the
// directory of a decoded path for its neighbours.
import { ERRNO } from './errno.js';
import type { Result } from '../common/result.js';
import { addressOf, lastErrno, libcBinding } from './libc.js';

/** The longest link readNumberedLinks reads; longer ones are cut (only short ones, such as "anon_inode:inotify", are looked for). */
const LINK_BYTES_MAX = 256;

export type DirentCalls = typeof direntCalls extends () => Result<infer T> ? T : never;

/**
 * The links readNumberedLinks looks for: ASCII, no two of one length, so that a link's length tells
 * which one it can be before a byte of it is compared (most fds' links differ in length from all).
 */
export class LinkSet {
  /** For each length, the index of the link of that length; -1 for none. */
  readonly byLength = new Int8Array(LINK_BYTES_MAX + 1).fill(-1);
  readonly bytes: readonly Uint8Array[];

  constructor(readonly links: readonly string[]) {
    this.bytes = links.map((link) => Buffer.from(link, 'latin1'));
    links.forEach((link, index) => {
      if (link.length > LINK_BYTES_MAX || this.byLength[link.length] !== -1) throw new Error(`cannot look for ${JSON.stringify(link)} by its length`);
      this.byLength[link.length] = index;
    });
  }
}

/**
 * Told of an entry of readNumberedLinks' directory (its name as a number) whose link is one of the
 * set's (`link`: its index), or whose link could not be read (`link` -1, `errno` why). It must not
 * read a directory.
 */
export type NumberedLinkVisitor = (entry: number, link: number, errno: number) => void;

export const direntCalls = libcBinding('getdents64, readlinkat, lseek', (libc) => {
  // readlinkat runs once per fd of every process, the bulk of a busy node's scan: its name and its
  // link go in memory of our own passed by address, as plain numbers (addressOf): `inotop --json`
  // at 315,000 fds took 1,590 ms with Buffer arguments, 1,490 this way (medians of 7 side by side).
  const readlinkat = libc.func('int readlinkat(int dirfd, intptr_t path, intptr_t buf, size_t size)') as (
    dirFd: number,
    name: number,
    out: number,
    size: number,
  ) => number;
  const getdents64 = libc.func('long getdents64(int fd, intptr_t dirp, size_t count)') as (dirFd: number, out: number, size: number) => number;
  const lseek = libc.func('int64_t lseek(int fd, int64_t offset, int whence)') as (fd: number, offset: number, whence: number) => number;
  const link = new Uint8Array(new ArrayBuffer(LINK_BYTES_MAX));
  const linkAddress = addressOf(libc, link);
  const direntAddress = addressOf(libc, direntBuffer);
  return {
    /** Puts an open directory back at its start, for a listing from its first entry: 0, or -errno. */
    rewind(dirFd: number): number {
      return lseek(dirFd, 0, SEEK_SET) < 0 ? -lastErrno() : 0;
    },
    /** getdents64 into the shared buffer (direntBuffer): the bytes read, or -1 (errno). */
    readEntries(dirFd: number): number {
      return getdents64(dirFd, direntAddress, direntBuffer.length);
    },
    /**
     * Lists the open directory `dirFd` (a /proc/PID/fd) and reads the link of each entry named by
     * a number with readlinkat, naming it by the bytes the listing left in the buffer: no number
     * written, no array and no string per fd (it is the scan's hottest loop, run in V8's
     * interpreter on an idle node). `visit` is told of each whose link is one of `links` and of
     * each whose link could not be read, in the directory's order, but for a denial: the first
     * EACCES or EPERM is the whole directory's (procfs asks for ptrace access to the process at
     * each link, any other directory for search permission on itself), so the entries after it
     * are counted and their links not asked for. Entries `skip` names are counted, their links
     * not asked for either (the scanner's own kept files, where it lists its own fds). The entries
     * named by a number, or -errno when the directory cannot be listed.
     */
    readNumberedLinks(dirFd: number, links: LinkSet, visit: NumberedLinkVisitor, skip: ReadonlySet<number> | null = null): number {
      const { byLength, bytes } = links;
      let entries = 0;
      let denied = false;
      for (;;) {
        const length = getdents64(dirFd, direntAddress, direntBuffer.length);
        if (length <= 0) return length < 0 ? -lastErrno() : entries;
        for (let record = 0; record < length; record += direntFields.getUint16(record + DIRENT_RECLEN, true)) {
          const name = record + DIRENT_NAME;
          const first = direntBuffer[name]!;
          if (first < 0x30 || first > 0x39) continue;
          entries++;
          if (denied || (skip !== null && skip.has(decimalAt(direntBuffer, name)))) continue;
          const linkLength = readlinkat(dirFd, direntAddress + name, linkAddress, LINK_BYTES_MAX);
          if (linkLength < 0) {
            const errno = lastErrno();
            denied = errno === ERRNO.EACCES || errno === ERRNO.EPERM;
            visit(decimalAt(direntBuffer, name), -1, errno);
            continue;
          }
          const which = byLength[linkLength]!;
          if (which >= 0 && bytesEqual(link, bytes[which]!)) visit(decimalAt(direntBuffer, name), which, 0);
        }
      }
    },
    /**
     * Lists the open directory `dirFd` again and reads the links of only the entries among `entries`
     * (readNumberedLinks' entries whose link read as gone): `visit` is told of each one listed, with
     * its link's index in `links` (-1 with errno 0: another file's now), or -1 and why it could not
     * be read. One not told of is not listed: closed. 0, or -errno when the directory cannot be listed.
     */
    relistLinks(dirFd: number, entries: ReadonlySet<number>, links: LinkSet, visit: NumberedLinkVisitor): number {
      const { byLength, bytes } = links;
      for (;;) {
        const length = getdents64(dirFd, direntAddress, direntBuffer.length);
        if (length <= 0) return length < 0 ? -lastErrno() : 0;
        for (let record = 0; record < length; record += direntFields.getUint16(record + DIRENT_RECLEN, true)) {
          const name = record + DIRENT_NAME;
          const first = direntBuffer[name]!;
          if (first < 0x30 || first > 0x39) continue;
          const entry = decimalAt(direntBuffer, name);
          if (!entries.has(entry)) continue;
          const linkLength = readlinkat(dirFd, direntAddress + name, linkAddress, LINK_BYTES_MAX);
          if (linkLength < 0) {
            visit(entry, -1, lastErrno());
            continue;
          }
          const which = byLength[linkLength]!;
          visit(entry, which >= 0 && bytesEqual(link, bytes[which]!) ? which : -1, 0);
        }
      }
    },
  };
});

const SEEK_SET = 0;

/** Whether `bytes` begins with all of `prefix`. */
function bytesEqual(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** The decimal number whose digits begin at `at`. */
function decimalAt(bytes: Uint8Array, at: number): number {
  let value = 0;
  for (let c = bytes[at]!; c >= 0x30 && c <= 0x39; c = bytes[++at]!) value = value * 10 + c - 0x30;
  return value;
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
  for (;;) {
    const length = calls.value.readEntries(dirFd);
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
