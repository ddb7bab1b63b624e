// open, read, close and readlink through koffi, for the small procfs files a scan reads: of every
// process that holds an instance (stat, status, cgroup, cmdline, its namespace links) and each
// instance's fdinfo. Node's fs wrappers (argument checks, a path string made and encoded per call,
// an error object per failed call) cost more than the kernel's work for such a file: an fdinfo
// file's open, read and close took some 60,000 instructions from cold code through them, 15,000
// this way. A failure is an errno.
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
  /** Opens `path` (a string, or NUL-terminated bytes) with O_RDONLY, O_CLOEXEC and `flags`: an fd, or -errno. */
  open(path: string | Buffer, flags: number): number;
  /** pread(2) of as many bytes as `out` holds, from `position`: the bytes read, or -errno. */
  readAt(fd: number, out: Uint8Array, position: number): number;
  /** close(2) of an fd open() gave. */
  close(fd: number): void;
}

/** The calls, bound once; why not when they are unavailable (no glibc, no koffi build). */
export const smallFileCalls = libcBinding('open, read, close, readlink', (libc): SmallFileCalls => {
  const open: (path: string | Buffer, flags: number) => number = libc.func('int open(const char *path, int flags)');
  const read: (fd: number, out: Buffer, size: number) => number = libc.func('long read(int fd, _Out_ uint8_t *buf, size_t size)');
  const pread: (fd: number, out: Uint8Array, size: number, position: number) => number = libc.func(
    'long pread(int fd, _Out_ uint8_t *buf, size_t size, int64_t offset)',
  );
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
    open(path, flags) {
      const fd = open(path, O_RDONLY | O_CLOEXEC | flags);
      return fd < 0 ? -lastErrno() : fd;
    },
    readAt(fd, out, position) {
      const length = pread(fd, out, out.length, position);
      return length < 0 ? -lastErrno() : length;
    },
    close(fd) {
      close(fd);
    },
  };
});
