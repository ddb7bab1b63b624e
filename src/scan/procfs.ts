// Reading procfs cheaply and without throwing on the races that are normal there.
import { closeSync, constants, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { cPath } from '../sys/cstring.js';
import { Stopped } from '../common/thread-stop.js';
import { direntCalls, readDirents, type DirentCalls, type LinkSet } from '../sys/dirents.js';
import { smallFileCalls } from '../sys/smallfiles.js';
import { ERRNO, errnoError, errnoName, errorCode, isPermissionDenied, isVanished } from '../sys/errno.js';

// procfs files report size 0, so fs.readFileSync grows a buffer per file. One reused buffer
// holds a file that fits it, as nearly every one does; a bigger one (an instance of 500,000
// watches prints 60 MB) comes in chunks of a pool, never one buffer doubled and copied (which
// cost more than the kernel's printing, in copies, page faults and the collector's work).
/** What the first read of a file asks for (the shared buffer's size): a file that fills it is a big one. */
export const FIRST_READ_BYTES = 1 << 16;
const buffer = Buffer.allocUnsafe(FIRST_READ_BYTES);
const CHUNK_BYTES = 1 << 20;
const chunkPool: Buffer[] = [];
/** Chunks kept for the next big file; more are let go after each. */
const POOL_KEPT = 4;

/**
 * Opens a file for reading (and `flags`: O_DIRECTORY), throwing as fs does: through koffi where it
 * is there (src/sys/smallfiles.ts says what Node's fs calls cost for procfs's small files), else
 * Node's fs. Only readAt and closeFile take the fd.
 */
function openFile(path: string, flags = 0): number {
  const calls = smallFileCalls();
  if (!calls.ok) return openSync(path, constants.O_RDONLY | flags);
  const fd = calls.value.open(cPath(path), flags);
  if (fd < 0) throw errnoError(`${errnoName(-fd)}: cannot open ${path}`, -fd);
  return fd;
}

/** pread of as many bytes as `out` holds from an fd of openFile, throwing as fs does: the bytes read. */
function readAt(fd: number, out: Uint8Array, position: number): number {
  const calls = smallFileCalls();
  if (!calls.ok) return readSync(fd, out, 0, out.length, position);
  const length = calls.value.readAt(fd, out, position);
  if (length < 0) throw errnoError(`${errnoName(-length)}: cannot read fd ${fd}`, -length);
  return length;
}

function closeFile(fd: number): void {
  const calls = smallFileCalls();
  if (calls.ok) calls.value.close(fd);
  else closeSync(fd);
}

/**
 * Reads a procfs file into the shared buffer; throws like fs on errors. The bytes returned are
 * valid until the next read. Only for files of one record (stat, status, cgroup): a file of
 * many (mountinfo) comes a page of records per read, so its first read is short.
 */
export function readProcBytes(path: string): Buffer {
  const fd = openFile(path);
  try {
    const chunks = readWhole(fd);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  } finally {
    closeFile(fd);
  }
}

/**
 * Reads a procfs file as readProcBytes does, but a big one (it fills the shared buffer) is not
 * kept: its bytes go to `take` as they are read, the shared buffer's first, then one reused chunk
 * at a time (each valid only during the call), and null is returned. Throws like fs on errors.
 */
export function readProcBytesOrStream(path: string, take: (bytes: Buffer) => void): Buffer | null {
  const fd = openFile(path);
  try {
    let position = readAt(fd, buffer, 0);
    if (position < buffer.length) return buffer.subarray(0, position);
    take(buffer);
    const chunk = (chunkPool[0] ??= Buffer.allocUnsafe(CHUNK_BYTES));
    // As readWhole: a short read is the end.
    for (let n = CHUNK_BYTES; n === CHUNK_BYTES; position += n) {
      n = readAt(fd, chunk, position);
      if (n > 0) take(n < CHUNK_BYTES ? chunk.subarray(0, n) : chunk);
    }
    return null;
  } finally {
    closeFile(fd);
  }
}

const noCheck = (): void => undefined;

/**
 * Reads an open file from its start: the shared buffer's bytes when it fits, else that and
 * pooled chunks, in order (valid until the next read). A short read is the end: procfs files (seq
 * files, cmdline) hand out all they have that fits at once, as regular files do, so the read
 * that would return 0 is skipped (a syscall per file).
 */
function readWhole(fd: number, betweenChunks: () => void = noCheck): Buffer[] {
  const first = readAt(fd, buffer, 0);
  if (first < buffer.length) return [buffer.subarray(0, first)];
  if (chunkPool.length > POOL_KEPT) chunkPool.length = POOL_KEPT;
  const chunks: Buffer[] = [buffer];
  let position = first;
  for (let used = 0; ; used++) {
    betweenChunks();
    const chunk = (chunkPool[used] ??= Buffer.allocUnsafe(CHUNK_BYTES));
    const n = readAt(fd, chunk, position);
    position += n;
    if (n > 0) chunks.push(n < CHUNK_BYTES ? chunk.subarray(0, n) : chunk);
    if (n < CHUNK_BYTES) return chunks;
  }
}

/**
 * At most this many fdinfo files are kept open (and at most a quarter of our RLIMIT_NOFILE, so that
 * the rest of the work always has fds: heldFilesMax), and kernel buffers of at most this many bytes.
 */
const HELD_FILES_CAP = 4096;
const HELD_BYTES_MAX = 16 << 20;
const PAGE_SIZE = 4096;
let heldFiles: number | undefined;

/** The most fdinfo files kept open, found at the first one kept, not as the module loads: a one-shot with kcmp reads its inotify lists as they come and keeps none. */
function heldFilesMax(): number {
  heldFiles ??= Math.min(HELD_FILES_CAP, Math.floor(openFilesLimit() / 4));
  return heldFiles;
}

/**
 * Files kept open from one scan to the next, by key (a path, a pid): a scan marks each entry it
 * uses (`used`), and its end closes the rest, of processes gone and fds closed. The fdinfo files,
 * the fd directories and the holders' files each keep theirs so.
 */
export abstract class KeptFiles<K, E extends { scan: number }> {
  protected readonly held = new Map<K, E>();
  private scan = 0;

  /** Calls `visit` with each fd of one entry. */
  protected abstract eachFd(entry: E, visit: (fd: number) => void): void;

  /** Called as an entry is let go, before its fds are closed. */
  protected dropped(_entry: E): void {}

  /** A new entry, of the scan now under way. */
  protected add(key: K, entry: Omit<E, 'scan'>): E {
    const kept = { ...entry, scan: this.scan } as E;
    this.held.set(key, kept);
    return kept;
  }

  /** Marks `entry` as used by the scan now under way. */
  protected used(entry: E): void {
    entry.scan = this.scan;
  }

  release(key: K): void {
    const entry = this.held.get(key);
    if (!entry) return;
    this.dropped(entry);
    this.eachFd(entry, closeFile);
    this.held.delete(key);
  }

  /** Closes what the scan now ending did not use: processes and fds gone, instances closed. */
  endScan(): void {
    for (const [key, entry] of this.held) if (entry.scan !== this.scan) this.release(key);
    this.scan++;
  }

  heldCount(): number {
    return this.held.size;
  }

  /** Adds the fds kept open to `fds`. */
  addFds(fds: Set<number>): void {
    const add = (fd: number) => fds.add(fd);
    for (const entry of this.held.values()) this.eachFd(entry, add);
  }

  closeAll(): void {
    for (const key of [...this.held.keys()]) this.release(key);
  }
}

/**
 * The fdinfo files of inotify instances and fanotify groups, kept open from one scan to the next (real procfs only).
 * Read again from offset 0, such a file is printed afresh (the kernel looks the process and fd
 * up at each read), into the buffer the kernel grew for it the first time. Opened anew, the
 * kernel starts from one page and prints the whole file again at each doubling: twice the work
 * at a hundred watches, the bulk of a scan; and the open and close are saved too. What is held
 * is bounded: fds, and the kernel's buffers (the size read, rounded up to a power of two).
 */
export class FdinfoFiles extends KeptFiles<string, { fd: number; bytes: number; scan: number }> {
  private heldBytes = 0;

  /** `betweenChunks`: called between the 1 MB reads of a big file (ScanOptions.checkpoint: one of 500,000 watches is some 50). */
  constructor(private readonly betweenChunks: () => void = noCheck) {
    super();
  }

  /** Like readProcBytes, as chunks in order (one for all but big files). */
  read(path: string): Buffer[] {
    const kept = this.held.get(path);
    if (kept) {
      try {
        const chunks = readWhole(kept.fd, this.betweenChunks);
        this.used(kept);
        const size = kernelBuffer(byteLength(chunks));
        this.heldBytes += size - kept.bytes;
        kept.bytes = size;
        return chunks;
      } catch (error) {
        if (error instanceof Stopped) throw error;
        // The process or fd is gone; the path may name a new process with the same pid now.
        this.release(path);
      }
    }
    // Asked before the read: the limit's first reading reads /proc/self/limits into the shared
    // buffer that the chunks are views of.
    const roomForOneMore = this.held.size < heldFilesMax();
    const fd = openFile(path);
    let chunks: Buffer[];
    try {
      chunks = readWhole(fd, this.betweenChunks);
    } catch (error) {
      closeFile(fd);
      throw error;
    }
    const size = kernelBuffer(byteLength(chunks));
    if (roomForOneMore && this.heldBytes + size <= HELD_BYTES_MAX) {
      this.add(path, { fd, bytes: size });
      this.heldBytes += size;
    } else {
      closeFile(fd);
    }
    return chunks;
  }

  protected override eachFd(kept: { fd: number }, visit: (fd: number) => void): void {
    visit(kept.fd);
  }

  protected override dropped(kept: { bytes: number }): void {
    this.heldBytes -= kept.bytes;
  }
}

let openFiles: number | undefined;

/** Our soft RLIMIT_NOFILE ("Max open files" of /proc/self/limits, read once); 1024 when unreadable. */
function openFilesLimit(): number {
  if (openFiles === undefined) {
    const match = /^Max open files\s+(\d+)/m.exec(readProcTextOrNull('/proc/self/limits') ?? '');
    openFiles = match ? Number(match[1]) : 1024;
  }
  return openFiles;
}

/**
 * The most fds one kind of file kept between scans may take besides the fdinfo files (fd
 * directories, holders' files): `cap`, and a sixteenth of our RLIMIT_NOFILE, so that with the
 * fdinfo files' quarter all kept files leave more than half of it to the rest of the work.
 */
export function keptFdsMax(cap: number): number {
  return Math.min(cap, Math.floor(openFilesLimit() / 16));
}

/** The most /proc/PID/fd directories kept (FdDirs): a busy node's 3,000 processes, where RLIMIT_NOFILE allows (48,000 and more). */
const FD_DIRS_CAP = 8192;

function byteLength(chunks: readonly Buffer[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
}

function kernelBuffer(bytes: number): number {
  return Math.max(PAGE_SIZE, 2 ** Math.ceil(Math.log2(bytes + 1)));
}

/** A procfs file as text, null when it is gone (its process exited); throws on any other error. */
export function readProcText(path: string): string | null {
  try {
    return readProcBytes(path).toString('utf8');
  } catch (error) {
    if (isVanished(error)) return null;
    throw error;
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

/** An fd whose link is one of a LinkSet's, and which (its index). */
export interface FoundLink {
  fd: number;
  link: number;
}

/** A link that could not be read: the fd, and why. */
export interface MissedLink {
  fd: number;
  cause: string;
  /** Denied (EACCES, EPERM): the whole directory's. */
  permission: boolean;
}

/** The errnos the kernel gives for an fd, or a process, that is gone: its fd closed, or it exited. */
function isGoneErrno(errno: number): boolean {
  return errno === ERRNO.ENOENT || errno === ERRNO.ESRCH;
}

/**
 * The fds of one process (/proc/PID/fd) whose links are among `links`, read at once: the
 * directory opened once, listed with getdents64 and each link read with readlinkat on that fd by
 * the name's bytes as listed (src/sys: Node has neither). At tens of thousands of fds this is
 * much of a scan's time: the kernel walks one path component per link instead of four, and no
 * string, number or array is made of a name or of a link that is not wanted. Without koffi:
 * readdirSync and readlinkSync of full paths.
 *
 * A link that reads as gone (ENOENT: the kernel's word for an fd closed, or a process exited,
 * since the listing) is not taken on that word alone: the directory is listed again (fdsNow), and
 * an fd still listed whose link still cannot be read is a miss, not a close. Else one failing
 * readlinkat would read as every later fd closed, and a check that saw nothing would say ok.
 */
export class FdLinks {
  /** How many fds the directory lists. */
  count = 0;
  /** The fds whose link is one of the set's, in ascending order, with which. */
  readonly found: FoundLink[] = [];
  /**
   * The first link that could not be read (the lowest fd), and why (its fd is gone: not this).
   * Lack of permission is the usual one: listing /proc/PID/fd needs only CAP_DAC_READ_SEARCH,
   * reading its links needs ptrace access (CAP_SYS_PTRACE for others').
   */
  missed: MissedLink | null = null;
  /** Listed, but their links read as gone: asked again once the listing is done (fdsNow). */
  private gone: number[] | null = null;

  private constructor() {}

  /**
   * Throws like fs when the directory cannot be opened or listed. With `kept` (a live /proc's
   * FdDirs, and the process's pid), the directory kept open from the scan before is listed again,
   * and one opened now is kept for the next. The links of the fds `skip` names are not read (the
   * scanner's own kept files, in its own directory: none is an instance or a group).
   */
  static read(path: string, links: LinkSet, kept: { dirs: FdDirs; pid: number } | null = null, skip: ReadonlySet<number> | null = null): FdLinks {
    const calls = direntCalls();
    let read: FdLinks | null = null;
    if (!calls.ok) {
      read = new FdLinks();
      read.gone = read.readEach(path, links.links);
    } else {
      if (kept) {
        const fd = kept.dirs.rewound(kept.pid);
        if (fd >= 0) {
          const listed = FdLinks.list(calls.value, fd, links, skip);
          if (listed.count >= 0) read = listed;
          // Its process is gone (ENOENT): the pid's directory now, if any, is another process's.
          else kept.dirs.release(kept.pid);
        }
      }
      if (read === null) {
        const fd = openFile(path, constants.O_DIRECTORY);
        let keep = false;
        try {
          const listed = FdLinks.list(calls.value, fd, links, skip);
          if (listed.count < 0) throw errnoError(`getdents64: ${errnoName(-listed.count)}`, -listed.count);
          keep = kept?.dirs.keep(kept.pid, fd) ?? false;
          read = listed;
        } finally {
          if (!keep) closeFile(fd);
        }
      }
    }
    if (read.gone !== null) {
      const now = fdsNow(path, read.gone, links);
      read.found.push(...now.found);
      for (const { fd, cause, permission } of now.missed) read.miss(fd, cause, permission);
      read.gone = null;
    }
    // procfs lists fds in ascending order; a recorded tree's directory, in its own; fds asked again come last.
    if (read.found.some(({ fd }, at) => at > 0 && fd < read.found[at - 1]!.fd)) read.found.sort((a, b) => a.fd - b.fd);
    return read;
  }

  /** Lists an open directory from where it is (its start): `count` is -errno when it cannot be listed. */
  private static list(calls: DirentCalls, fd: number, links: LinkSet, skip: ReadonlySet<number> | null): FdLinks {
    const read = new FdLinks();
    read.count = calls.readNumberedLinks(
      fd,
      links,
      (entry, link, errno) => {
        if (link >= 0) read.found.push({ fd: entry, link });
        else if (isGoneErrno(errno)) (read.gone ??= []).push(entry);
        else read.miss(entry, errnoName(errno), errno === ERRNO.EACCES || errno === ERRNO.EPERM);
      },
      skip,
    );
    return read;
  }

  /** Without koffi: each fd's link by its full path. The fds whose links read as gone, null when none. */
  private readEach(path: string, links: readonly string[]): number[] | null {
    const fds = listNumericEntries(path);
    this.count = fds.length;
    let gone: number[] | null = null;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${path}/${fd}`);
      } catch (error) {
        if (isVanished(error)) {
          (gone ??= []).push(fd);
          continue;
        }
        this.miss(fd, errorCode(error) ?? 'EIO', isPermissionDenied(error));
        // A denial is the whole directory's, as readNumberedLinks takes it.
        if (isPermissionDenied(error)) return gone;
        continue;
      }
      const index = links.indexOf(link);
      if (index >= 0) this.found.push({ fd, link: index });
    }
    return gone;
  }

  private miss(fd: number, cause: string, permission: boolean): void {
    if (this.missed === null || fd < this.missed.fd) this.missed = { fd, cause, permission };
  }
}

/**
 * What became of `fds`, fds of the directory `path` (a /proc/PID/fd) whose link or fdinfo read as
 * gone: the directory listed afresh, and the links of those of them still listed read again.
 * `found`: those listed with a link among `links` (open: their word "gone" was not the kernel's,
 * or the fd was opened anew); `missed`: those listed whose link still cannot be read, and why
 * (a figure not read, never a close). The rest are closed: not listed, another file's now, or the
 * directory itself gone (the process exited). Off the common path: only after a read said gone.
 */
export function fdsNow(path: string, fds: readonly number[], links: LinkSet): { found: FoundLink[]; missed: MissedLink[] } {
  const found: FoundLink[] = [];
  const missed: MissedLink[] = [];
  const asked = new Set(fds);
  const calls = direntCalls();
  try {
    if (!calls.ok) {
      for (const fd of listNumericEntries(path)) {
        if (!asked.has(fd)) continue;
        try {
          const index = links.links.indexOf(readlinkSync(`${path}/${fd}`));
          if (index >= 0) found.push({ fd, link: index });
        } catch (error) {
          missed.push({ fd, cause: errorCode(error) ?? 'EIO', permission: isPermissionDenied(error) });
        }
      }
    } else {
      const dirFd = openFile(path, constants.O_DIRECTORY);
      try {
        const result = calls.value.relistLinks(dirFd, asked, links, (fd, link, errno) => {
          if (link >= 0) found.push({ fd, link });
          else if (errno !== 0) missed.push({ fd, cause: errnoName(errno), permission: errno === ERRNO.EACCES || errno === ERRNO.EPERM });
        });
        if (result < 0) throw errnoError(`getdents64: ${errnoName(-result)}`, -result);
      } finally {
        closeFile(dirFd);
      }
    }
  } catch (error) {
    // The directory gone: the process exited, and its fds with it.
    if (isVanished(error)) return { found: [], missed: [] };
    return { found: [], missed: fds.map((fd) => ({ fd, cause: errorCode(error) ?? 'EIO', permission: isPermissionDenied(error) })) };
  }
  return { found, missed };
}

/**
 * The /proc/PID/fd directories of a live /proc, kept open from one scan to the next (FdLinks.read):
 * listed again from their start (lseek), a process's costs one call where opening and closing it
 * cost two, the open a walk of three path components (2.7 of 4.4 µs on this project's machine).
 * On a node of few fds per process that is a sixth of a refresh's calls and kernel time: some
 * 110 processes hold 900 fds on an idle one. A kept directory is its process's, not its pid's: once
 * that process is gone its listing fails (ENOENT), and the pid is opened again by its path, as
 * a new process that took the pid is listed as itself. A scan ends by closing those of processes
 * it did not list (gone). At most FD_DIRS_CAP are kept, and a sixteenth of RLIMIT_NOFILE (keptFdsMax).
 */
export class FdDirs extends KeptFiles<number, { fd: number; scan: number }> {
  /** The kept directory of `pid`'s fds, put back at its start; -1 when none is kept (or it cannot be rewound: then it is let go). */
  rewound(pid: number): number {
    const kept = this.held.get(pid);
    if (!kept) return -1;
    const calls = direntCalls();
    if (!calls.ok || calls.value.rewind(kept.fd) < 0) {
      this.release(pid);
      return -1;
    }
    this.used(kept);
    return kept.fd;
  }

  /** Keeps `fd`, the directory of `pid`'s fds just listed, while there is room: whether it is kept (else the caller closes it). */
  keep(pid: number, fd: number): boolean {
    if (this.held.has(pid) || this.held.size >= keptFdsMax(FD_DIRS_CAP)) return false;
    this.add(pid, { fd });
    return true;
  }

  protected override eachFd(kept: { fd: number }, visit: (fd: number) => void): void {
    visit(kept.fd);
  }
}

/** The fds a process has open (its /proc/PID/fd's entries), in ascending order; throws like fs when they cannot be listed. */
export function listFds(path: string): number[] {
  if (!direntCalls().ok) return listNumericEntries(path);
  const fd = openFile(path, constants.O_DIRECTORY);
  try {
    return listNumericDirents(fd);
  } finally {
    closeFile(fd);
  }
}

/**
 * The pids under `procRoot`, in ascending order, and for the live procfs the inode number of each
 * /proc/PID as its entry gives it (`inodes`): the same number a stat of the directory gives, as
 * procfs lists a pid by looking up (or making) its dentry. One getdents64 listing, no string per
 * entry and no stat per process; a recorded tree is listed the same way, so that the build's warm
 * runs over one (scripts/code-cache.mjs) compile what a live scan runs. Without koffi: readdirSync,
 * and `inodes` is left empty.
 */
export function listPids(procRoot: string, inodes: Map<number, number> | null): number[] {
  if (!direntCalls().ok) return listNumericEntries(procRoot);
  const fd = openFile(procRoot, constants.O_DIRECTORY);
  try {
    return listNumericDirents(fd, inodes ?? undefined);
  } finally {
    closeFile(fd);
  }
}

/**
 * Entries of an open directory whose names are all digits, as numbers in ascending order. `inodes`,
 * when given, is told each one's inode number.
 */
function listNumericDirents(dirFd: number, inodes?: Map<number, number>): number[] {
  const numbers: number[] = [];
  const result = readDirents(dirFd, (ino, buffer, start, end) => {
    let value = 0;
    let at = start;
    for (let c = buffer[at]!; at < end && c >= 0x30 && c <= 0x39; c = buffer[++at]!) value = value * 10 + c - 0x30;
    if (at > start && at === end) {
      numbers.push(value);
      // procfs lists a pid whose dentry it could not make with inode number 1 (proc_fill_cache):
      // no identity, so a stat tells it.
      if (ino > 1) inodes?.set(value, ino);
    }
    return true;
  });
  if (result < 0) throw errnoError(`getdents64: ${errnoName(-result)}`, -result);
  return numbers.sort((a, b) => a - b);
}
