// open, read, close and readlink through koffi, for the small procfs files a scan reads of every
// process that holds an instance (stat, status, cgroup, cmdline, its namespace links). Node's fs
// wrappers (argument checks, a path string made and encoded per call, an error object per failed
// call) cost more than the kernel's work for such a file: here the path is written into one reused
// buffer and a failure is an errno.
import { lastErrno, libcBinding } from './libc.js';

const O_RDONLY = 0;
const O_CLOEXEC = 0x80000;

export interface SmallFileCalls {
  /**
   * Opens the file at `path` (NUL-terminated bytes), reads it from its start with one read into
   * `out`, and closes it: the bytes read, or -errno. A file that fills `out` may hold more.
   */
  readInto(path: Buffer, out: Buffer): number;
  /** readlink of `path` (NUL-terminated bytes) into `out` (a longer link is cut): its length, or -errno. */
  readlink(path: Buffer, out: Buffer): number;
}

/** The calls, bound once; why not when they are unavailable (no glibc, no koffi build). */
export const smallFileCalls = libcBinding('open, read, close, readlink', (libc): SmallFileCalls => {
  const open: (path: Buffer, flags: number) => number = libc.func('int open(const uint8_t *path, int flags)');
  const read: (fd: number, out: Buffer, size: number) => number = libc.func('long read(int fd, _Out_ uint8_t *buf, size_t size)');
  const close: (fd: number) => number = libc.func('int close(int fd)');
  const readlink: (path: Buffer, out: Buffer, size: number) => number = libc.func('long readlink(const uint8_t *path, _Out_ uint8_t *buf, size_t size)');
  return {
    readInto(path, out) {
      const fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) return -lastErrno();
      const length = read(fd, out, out.length);
      const errno = length < 0 ? lastErrno() : 0;
      close(fd);
      return length < 0 ? -errno : length;
    },
    readlink(path, out) {
      const length = readlink(path, out, out.length);
      return length < 0 ? -lastErrno() : length;
    },
  };
});
