// Reading procfs cheaply and without throwing on the races that are normal there.
import koffi from 'koffi';
import { closeSync, constants, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';

/** Errors that mean "this process or fd is gone": skipped silently. */
const VANISHED = new Set(['ENOENT', 'ESRCH', 'ENOTDIR']);

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

export function isVanished(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && VANISHED.has(code);
}

export function isPermissionDenied(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EACCES' || code === 'EPERM';
}

// procfs files report size 0, so fs.readFileSync grows a buffer per file. One reused buffer
// (doubled when a big fdinfo needs it) avoids that allocation on every read.
let buffer = Buffer.allocUnsafe(1 << 16);

/**
 * Reads a procfs file into the shared buffer; throws like fs on errors. The bytes returned are
 * valid until the next read. A short read is the end: procfs files (seq files, cmdline) hand out
 * all they have that fits at once, as regular files do, so the read that would return 0 is
 * skipped (a syscall per file).
 */
export function readProcBytes(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const wanted = buffer.length - length;
      const n = readSync(fd, buffer, length, wanted, null);
      length += n;
      if (n < wanted) return buffer.subarray(0, length);
    }
  } finally {
    closeSync(fd);
  }
}

/** A procfs file as text, null when the file is missing or unreadable. */
export function readProcTextOrNull(path: string): string | null {
  try {
    return readProcBytes(path).toString('utf8');
  } catch {
    return null;
  }
}

export function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** Numeric entries of a /proc directory (pids, fds), in ascending order. */
export function listNumericEntries(dir: string): number[] {
  const numbers: number[] = [];
  for (const name of readdirSync(dir)) {
    const code = name.charCodeAt(0);
    if (code >= 48 && code <= 57) numbers.push(Number(name));
  }
  return numbers.sort((a, b) => a - b);
}

type Readlinkat = (dirFd: number, name: string, out: Buffer, size: number) => number;

let readlinkat: Readlinkat | null | undefined;

function loadReadlinkat(): Readlinkat | null {
  if (readlinkat === undefined) {
    try {
      readlinkat = koffi.load('libc.so.6').func('int readlinkat(int dirfd, const char *path, void *buf, size_t size)') as Readlinkat;
    } catch {
      readlinkat = null;
    }
  }
  return readlinkat;
}

const EPERM = 1;
const EACCES = 13;

// Links longer than this are cut; the scanner only looks for short ones ("anon_inode:inotify").
const linkBuffer = Buffer.allocUnsafe(4096);

/**
 * A directory of links (/proc/PID/fd) read relative to an fd of the directory. With tens of
 * thousands of fds, readlinkat(2) (through koffi: Node has no *at calls) costs much less than
 * readlinkSync of full paths: the kernel walks one component instead of four per link. Without
 * koffi, plain readlinkSync.
 */
export class LinkDir {
  private constructor(
    private readonly path: string,
    private readonly fd: number | null,
  ) {}

  /** Throws like fs when the directory cannot be opened. */
  static open(path: string): LinkDir {
    return new LinkDir(path, loadReadlinkat() ? openSync(path, constants.O_RDONLY | constants.O_DIRECTORY) : null);
  }

  /**
   * Set when a link could not be read for lack of permission: listing /proc/PID/fd needs only
   * CAP_DAC_READ_SEARCH, reading its links needs ptrace access (CAP_SYS_PTRACE for others').
   */
  denied = false;

  readlinkOrNull(name: string): string | null {
    if (this.fd === null) {
      try {
        return readlinkSync(`${this.path}/${name}`);
      } catch (error) {
        if (isPermissionDenied(error)) this.denied = true;
        return null;
      }
    }
    const length = readlinkat!(this.fd, name, linkBuffer, linkBuffer.length);
    if (length >= 0) return linkBuffer.toString('utf8', 0, length);
    const errno = koffi.errno();
    if (errno === EACCES || errno === EPERM) this.denied = true;
    return null;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}
