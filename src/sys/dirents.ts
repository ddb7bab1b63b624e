// Directories read without a string per entry: getdents64 and readlinkat through koffi (Node has
// neither). The fd scan lists /proc/PID/fd and reads its links with them; the resolver reads the
// directory of a decoded path for its neighbours.
import { writeDecimal } from './cstring.js';
import { ERRNO } from './errno.js';
import { lastErrno, libcBinding } from './libc.js';

export const direntCalls = libcBinding('getdents64, readlinkat', (libc) => ({
  getdents64: libc.func('long getdents64(int fd, void *dirp, size_t count)') as (dirFd: number, out: Buffer, size: number) => number,
  readlinkat: libc.func('int readlinkat(int dirfd, void *path, void *buf, size_t size)') as (dirFd: number, name: Buffer, out: Buffer, size: number) => number,
}));

// Reused by every directory read (readDirents): one is read at a time.
const direntBuffer = Buffer.allocUnsafe(1 << 16);
// A decimal name and its NUL (readLinkAt).
const nameBuffer = Buffer.alloc(24);

// struct linux_dirent64: d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated, padded to d_reclen).
const DIRENT_RECLEN = 16;
const DIRENT_NAME = 19;

/** A directory entry: its inode number and its name's bytes, buffer[start..end), valid during the call only. False stops the read. */
export type DirentVisitor = (ino: number, buffer: Buffer, start: number, end: number) => boolean;

/** Room for the longest entry (a 255-byte name): a read of procfs that left this much free was its last. */
const LONGEST_DIRENT = 280;

/**
 * Reads an open directory with getdents64, without a stat or a string per entry. 0 at its end or
 * when `visit` stops, else -errno (-ENOSYS without koffi). One buffer serves every read: `visit`
 * must not read another directory. `fillsEachRead`: the directory hands out all the entries that
 * fit in each read, as procfs's do (not every filesystem promises it), so a read that left room for
 * another entry was the last: the read that would return 0 is skipped (a syscall per process).
 */
export function readDirents(dirFd: number, visit: DirentVisitor, fillsEachRead = false): number {
  const calls = direntCalls();
  if (!calls.ok) return -ERRNO.ENOSYS;
  const getdents64 = calls.value.getdents64;
  for (;;) {
    const length = getdents64(dirFd, direntBuffer, direntBuffer.length);
    if (length < 0) return -lastErrno();
    if (length === 0) return 0;
    for (let record = 0; record < length;) {
      const reclen = direntBuffer.readUInt16LE(record + DIRENT_RECLEN);
      const ino = direntBuffer.readUInt32LE(record) + direntBuffer.readUInt32LE(record + 4) * 2 ** 32;
      // The name ends at its NUL: the padding after it up to d_reclen is not cleared.
      const name = record + DIRENT_NAME;
      let end = name;
      while (end < record + reclen && direntBuffer[end] !== 0) end++;
      if (!visit(ino, direntBuffer, name, end)) return 0;
      record += reclen;
    }
    if (fillsEachRead && length <= direntBuffer.length - LONGEST_DIRENT) return 0;
  }
}

/**
 * readlinkat of the entry named by the number `entry` (an fd of /proc/PID/fd) in the open
 * directory `dirFd`, into `out` (a longer link is cut): its length, or -errno (-ENOSYS without koffi).
 */
export function readNumberedLinkAt(dirFd: number, entry: number, out: Buffer): number {
  const calls = direntCalls();
  if (!calls.ok) return -ERRNO.ENOSYS;
  nameBuffer[writeDecimal(nameBuffer, 0, entry)] = 0;
  const length = calls.value.readlinkat(dirFd, nameBuffer, out, out.length);
  return length < 0 ? -lastErrno() : length;
}
