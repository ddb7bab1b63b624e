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

/** EMFILE (our RLIMIT_NOFILE) or ENFILE (the system's file table). */
export function isOutOfFds(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EMFILE' || code === 'ENFILE';
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
 * valid until the next read. Only for files of one record (fdinfo, stat, status, cgroup): a
 * file of many (mountinfo) comes a page of records per read, so its first read is short.
 */
export function readProcBytes(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    return readWhole(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an open file from its start into the shared buffer. A short read is the end: procfs
 * files (seq files, cmdline) hand out all they have that fits at once, as regular files do, so
 * the read that would return 0 is skipped (a syscall per file).
 */
function readWhole(fd: number): Buffer {
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    const wanted = buffer.length - length;
    const n = readSync(fd, buffer, length, wanted, length);
    length += n;
    if (n < wanted) return buffer.subarray(0, length);
  }
}

/**
 * At most this many fdinfo files are kept open (and at most a quarter of our RLIMIT_NOFILE, so that
 * the rest of the work always has fds), and kernel buffers of at most this many bytes.
 */
const HELD_FILES_MAX = Math.min(4096, Math.floor(openFilesLimit() / 4));
const HELD_BYTES_MAX = 16 << 20;
const PAGE_SIZE = 4096;

/**
 * The fdinfo files of inotify instances and fanotify groups, kept open from one scan to the next (real procfs only).
 * Read again from offset 0, such a file is printed afresh (the kernel looks the process and fd
 * up at each read), into the buffer the kernel grew for it the first time. Opened anew, the
 * kernel starts from one page and prints the whole file again at each doubling: twice the work
 * at a hundred watches, the bulk of a scan; and the open and close are saved too. What is held
 * is bounded: fds, and the kernel's buffers (the size read, rounded up to a power of two).
 */
export class FdinfoFiles {
  private readonly held = new Map<string, { fd: number; bytes: number; scan: number }>();
  private heldBytes = 0;
  private scan = 0;

  /** Like readProcBytes. */
  read(path: string): Buffer {
    const kept = this.held.get(path);
    if (kept) {
      try {
        const bytes = readWhole(kept.fd);
        kept.scan = this.scan;
        this.heldBytes += kernelBuffer(bytes.length) - kept.bytes;
        kept.bytes = kernelBuffer(bytes.length);
        return bytes;
      } catch {
        // The process or fd is gone; the path may name a new process with the same pid now.
        this.release(path);
      }
    }
    const fd = openSync(path, 'r');
    let bytes: Buffer;
    try {
      bytes = readWhole(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    const size = kernelBuffer(bytes.length);
    if (this.held.size < HELD_FILES_MAX && this.heldBytes + size <= HELD_BYTES_MAX) {
      this.held.set(path, { fd, bytes: size, scan: this.scan });
      this.heldBytes += size;
    } else {
      closeSync(fd);
    }
    return bytes;
  }

  /** Closes what the scan now ending did not read: processes and fds gone, instances closed. */
  endScan(): void {
    for (const [path, kept] of this.held) if (kept.scan !== this.scan) this.release(path);
    this.scan++;
  }

  heldCount(): number {
    return this.held.size;
  }

  closeAll(): void {
    for (const path of [...this.held.keys()]) this.release(path);
  }

  private release(path: string): void {
    const kept = this.held.get(path)!;
    closeSync(kept.fd);
    this.heldBytes -= kept.bytes;
    this.held.delete(path);
  }
}

/** Our soft RLIMIT_NOFILE ("Max open files" of /proc/self/limits); 1024 when unreadable. */
function openFilesLimit(): number {
  const match = /^Max open files\s+(\d+)/m.exec(readProcTextOrNull('/proc/self/limits') ?? '');
  return match ? Number(match[1]) : 1024;
}

function kernelBuffer(bytes: number): number {
  return Math.max(PAGE_SIZE, 2 ** Math.ceil(Math.log2(bytes + 1)));
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

type Getdents64 = (dirFd: number, out: Buffer, size: number) => number;
type Readlinkat = (dirFd: number, name: Buffer, out: Buffer, size: number) => number;

let atCalls: { getdents64: Getdents64; readlinkat: Readlinkat } | null | undefined;

function loadAtCalls(): typeof atCalls {
  if (atCalls === undefined) {
    try {
      const libc = koffi.load('libc.so.6');
      atCalls = {
        getdents64: libc.func('long getdents64(int fd, void *dirp, size_t count)') as Getdents64,
        readlinkat: libc.func('int readlinkat(int dirfd, void *path, void *buf, size_t size)') as Readlinkat,
      };
    } catch {
      atCalls = null;
    }
  }
  return atCalls;
}

const EPERM = 1;
const EACCES = 13;
const ENFILE = 23;
const EMFILE = 24;
const ENOSYS = 38;

// Reused by every directory read (readDirents): one is read at a time.
const direntBuffer = Buffer.allocUnsafe(1 << 16);
const nameBuffer = Buffer.alloc(24);
// Links longer than this are cut: only short ones ("anon_inode:inotify") are looked for.
const linkBuffer = Buffer.allocUnsafe(256);

// struct linux_dirent64: d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated, padded to d_reclen).
const DIRENT_RECLEN = 16;
const DIRENT_NAME = 19;

/** A directory entry: its inode number and its name's bytes, buffer[start..end), valid during the call only. False stops the read. */
export type DirentVisitor = (ino: number, buffer: Buffer, start: number, end: number) => boolean;

/**
 * Reads an open directory with getdents64 (through koffi: Node has none), without a stat or a
 * string per entry. 0 at its end or when `visit` stops, else -errno (-ENOSYS without koffi). One
 * buffer serves every read: `visit` must not read another directory.
 */
export function readDirents(dirFd: number, visit: DirentVisitor): number {
  const calls = loadAtCalls();
  if (!calls) return -ENOSYS;
  for (;;) {
    const length = calls.getdents64(dirFd, direntBuffer, direntBuffer.length);
    if (length < 0) return -koffi.errno();
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
  }
}

/**
 * One process's fd directory (/proc/PID/fd), opened once, listed with getdents64 and its links
 * read with readlinkat on that fd, through koffi (Node has neither). At tens of thousands of fds
 * this is much of a scan's time: the kernel walks one path component per link instead of four,
 * and no string is made of a name or of a link that is not wanted. Without koffi: readdirSync and
 * readlinkSync of full paths.
 */
export class FdDir {
  /** Numeric entries, in ascending order. */
  readonly fds: number[];

  /**
   * Set when a link could not be read for lack of permission: listing /proc/PID/fd needs only
   * CAP_DAC_READ_SEARCH, reading its links needs ptrace access (CAP_SYS_PTRACE for others').
   */
  denied = false;

  private constructor(
    private readonly path: string,
    private readonly fd: number | null,
  ) {
    this.fds = fd === null ? listNumericEntries(path) : listNumericDirents(fd);
  }

  /** Throws like fs when the directory cannot be opened or listed. */
  static open(path: string): FdDir {
    if (!loadAtCalls()) return new FdDir(path, null);
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      return new FdDir(path, fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Which of `links` (ASCII) the link of `fd` is; -1 for none, or when it is gone or unreadable. */
  linkIndexIn(fd: number, links: readonly string[]): number {
    if (this.fd === null) {
      let link: string;
      try {
        link = readlinkSync(`${this.path}/${fd}`);
      } catch (error) {
        if (isPermissionDenied(error)) this.denied = true;
        return -1;
      }
      return links.indexOf(link);
    }
    nameBuffer[writeDecimal(nameBuffer, 0, fd)] = 0;
    const length = atCalls!.readlinkat(this.fd, nameBuffer, linkBuffer, linkBuffer.length);
    if (length < 0) {
      const errno = koffi.errno();
      if (errno === EACCES || errno === EPERM) this.denied = true;
      return -1;
    }
    for (let i = 0; i < links.length; i++) if (links[i]!.length === length && asciiEquals(linkBuffer, links[i]!)) return i;
    return -1;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}

/** Entries of an open directory whose names are all digits, as numbers in ascending order. */
function listNumericDirents(dirFd: number): number[] {
  const numbers: number[] = [];
  const result = readDirents(dirFd, (_ino, buffer, start, end) => {
    let value = 0;
    let at = start;
    for (let c = buffer[at]!; at < end && c >= 0x30 && c <= 0x39; c = buffer[++at]!) value = value * 10 + c - 0x30;
    if (at > start && at === end) numbers.push(value);
    return true;
  });
  if (result < 0) throw Object.assign(new Error(`getdents64: errno ${-result}`), { code: errnoCode(-result) });
  return numbers.sort((a, b) => a - b);
}

/** The fs error code the scanner tells apart: permission denied, or gone (anything else, as readdirSync errors were). */
function errnoCode(errno: number): string {
  return errno === EACCES ? 'EACCES' : errno === EPERM ? 'EPERM' : errno === EMFILE ? 'EMFILE' : errno === ENFILE ? 'ENFILE' : 'ENOENT';
}

/** Writes `value` (≥ 0) in decimal at `at`, no NUL after it; returns the offset after its last digit. */
export function writeDecimal(buffer: Buffer, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  for (let i = digits - 1, rest = value; i >= 0; i--, rest = Math.floor(rest / 10)) buffer[at + i] = 0x30 + (rest % 10);
  return at + digits;
}

function asciiEquals(bytes: Buffer, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}
