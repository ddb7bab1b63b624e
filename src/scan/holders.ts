// What a scan reads of each process that holds an instance or group: its stat, status, cgroup and
// cmdline, and the links of its user and mount namespaces. Six files per holder, read through
// koffi (src/sys/smallfiles.ts) into one reused buffer where it is there: Node's fs calls made
// these some twice the kernel's own cost. Without koffi, through Node's fs.
import type { FanotifyGroup, InotifyInstance, ScannedProcess } from '../model/types.js';
import { errnoError, errnoName, isVanished } from '../sys/errno.js';
import { smallFileCalls, type SmallFileCalls } from '../sys/smallfiles.js';
import { writeDecimal } from '../sys/cstring.js';
import { parseCmdline, parseEffectiveUid, parseNamespaceLink, parseStat } from './parse.js';
import { KeptFiles, keptFdsMax, readlinkOrNull, readProcText, readProcTextOrNull } from './procfs.js';

/**
 * A holder's process, or null when it is gone (its stat or status vanished). Throws, as fs does,
 * when its stat or status cannot be read for another reason; its other files are left out
 * (cmdline '', cgroups [], namespaces null) when they cannot be read. `thread`: the directory of
 * the live thread its fds were read through (/proc/PID/task/TID), where its main thread has exited
 * (Scanner's threadFds): the process's stat and status are still the main thread's (its pid,
 * start time, parent, name, user), but what went with that thread's exit (its mm: cmdline reads
 * empty; its namespaces: the links cannot be read) comes from the live one, which shares them.
 */
export function readHolder(
  base: string,
  pid: number,
  users: ReadonlyMap<number, string>,
  instances: InotifyInstance[],
  fanotifyGroups: FanotifyGroup[],
  kept: KeptHolderFiles | null = null,
  thread: string | null = null,
): ScannedProcess | null {
  const files = holderFiles(base, pid, kept);
  const statText = files.text('stat', false);
  // Only its Uid line is wanted: the rest (some 1.4 KB) is never made a string.
  const status = files.text('status', false, '\nUid:');
  const stat = parseStat(statText ?? '');
  if (!stat || status === null) return null; // gone mid-scan
  const uid = parseEffectiveUid(status) ?? -1;
  let cgroup = files.text('cgroup', true);
  let cmdline = parseCmdline(files.text('cmdline', true) ?? '');
  let userns = parseNamespaceLink(files.link('ns/user') ?? '');
  let mntns = parseNamespaceLink(files.link('ns/mnt') ?? '');
  if (thread !== null) {
    const live = fsFiles(thread);
    if (!cgroup) cgroup = live.text('cgroup', true);
    if (cmdline === '') cmdline = parseCmdline(live.text('cmdline', true) ?? '');
    userns ??= parseNamespaceLink(live.link('ns/user') ?? '');
    mntns ??= parseNamespaceLink(live.link('ns/mnt') ?? '');
  }
  return {
    pid,
    ppid: stat.ppid,
    startTime: stat.startTime,
    uid,
    user: users.get(uid) ?? String(uid),
    comm: stat.comm,
    cmdline,
    userns,
    mntns,
    cgroups: cgroup ? cgroup.split('\n').filter((line) => line !== '') : [],
    instances,
    fanotifyGroups,
  };
}

/** The files of one process directory, by name. */
interface HolderFiles {
  /**
   * As text; null when gone (vanished), or, with `orNull`, when it cannot be read at all. Throws
   * like fs otherwise. With `line`, at least the line that begins with it ('' when none does).
   */
  text(name: string, orNull: boolean, line?: string): string | null;
  /** A link's target; null when it cannot be read. */
  link(name: string): string | null;
}

let reader: ProcDirReader | undefined;

function holderFiles(base: string, pid: number, kept: KeptHolderFiles | null): HolderFiles {
  const calls = smallFileCalls();
  if (!calls.ok) return fsFiles(base);
  reader ??= new ProcDirReader(calls.value);
  return reader.at(base, pid, kept) ? reader : fsFiles(base);
}

/** The files of a holder that KeptHolderFiles keeps open, by their index there. */
const KEPT_NAMES = ['stat', 'status', 'cgroup', 'cmdline'];
/**
 * The most fds of holders' files kept: 4 a holder, and the kernel's buffer of a page for each of
 * its 3 seq files (512 holders, 6 MB at most), within a sixteenth of RLIMIT_NOFILE (keptFdsMax).
 */
const KEPT_FDS_CAP = 2048;

/**
 * The stat, status, cgroup and cmdline files of the holders of a live /proc, kept open from one
 * scan to the next (a scanner that a next scan follows): read again from offset 0, such a file
 * prints its process as it is now, in one call where opening, reading and closing it took three
 * (some 19 of 36 µs a holder on this project's machine, with its two namespace links). A kept file
 * is its process's, not its pid's: once the process is gone its read fails (ESRCH), and the pid's
 * files are opened again by their paths (a new process that took the pid is read as itself). A
 * scan of every process ends by closing those of holders it did not read (endScan).
 */
export class KeptHolderFiles extends KeptFiles<number, { fds: Int32Array; scan: number }> {
  /**
   * `pid`'s file `index` (of KEPT_NAMES) read from its start into `out`, through the kept fd or one
   * opened now at `path` (and kept while there is room): the bytes read, or -errno.
   */
  read(calls: SmallFileCalls, pid: number, index: number, path: () => Buffer, out: Buffer): number {
    let entry = this.held.get(pid);
    if (entry) {
      this.used(entry);
      const fd = entry.fds[index]!;
      if (fd >= 0) {
        const length = calls.readAt(fd, out, 0);
        if (length >= 0) return length;
        // Its process is gone: what the pid names now is read by path, as another process.
        this.release(pid);
        entry = undefined;
      }
    }
    const fd = calls.open(path(), 0);
    if (fd < 0) return fd;
    const length = calls.readAt(fd, out, 0);
    if (length < 0 || (!entry && (this.held.size + 1) * KEPT_NAMES.length > keptFdsMax(KEPT_FDS_CAP))) {
      calls.close(fd);
      return length;
    }
    entry ??= this.add(pid, { fds: new Int32Array(KEPT_NAMES.length).fill(-1) });
    entry.fds[index] = fd;
    return length;
  }

  protected override eachFd(entry: { fds: Int32Array }, visit: (fd: number) => void): void {
    for (const fd of entry.fds) if (fd >= 0) visit(fd);
  }
}

/** Holder files are small; a bigger one (a long cmdline) is read again whole through fs. */
const FILE_BYTES = 1 << 16;
const PATH_BYTES = 4096;

/**
 * Reads the files of one process directory after another through koffi, into one reused buffer.
 * The path is built in place, without a string: the procfs root's bytes once, then each holder's
 * pid and each file's name.
 */
class ProcDirReader implements HolderFiles {
  private readonly file = Buffer.allocUnsafe(FILE_BYTES);
  private readonly path = Buffer.allocUnsafe(PATH_BYTES);
  private readonly names = new Map<string, Buffer>();
  /** The directory the pids are in (the procfs root), as written at the path's start. */
  private root: string | null = null;
  private rootEnd = 0;
  private nameAt = 0;
  private base = '';
  private pid = 0;
  private kept: KeptHolderFiles | null = null;

  constructor(private readonly calls: SmallFileCalls) {}

  /**
   * Reads `base` (the procfs root's directory of `pid`) from now on, through `kept` files where
   * given; false when its path cannot be written (escaped bytes, too long).
   */
  at(base: string, pid: number, kept: KeptHolderFiles | null): boolean {
    this.pid = pid;
    this.kept = kept;
    const root = base.slice(0, base.length - String(pid).length);
    if (root !== this.root) {
      // A path with escaped bytes (model/path-bytes.ts) or too long for the buffer goes through fs.
      if (/[\udc80-\udcff]/.test(root) || Buffer.byteLength(root) > PATH_BYTES - 64 || !base.endsWith(`/${pid}`)) return false;
      this.rootEnd = this.path.write(root, 0, 'utf8');
      this.root = root;
    }
    this.nameAt = writeDecimal(this.path, this.rootEnd, pid) + 1;
    this.path[this.nameAt - 1] = 0x2f; // '/'
    this.base = base;
    return true;
  }

  text(name: string, orNull: boolean, line?: string): string | null {
    const { file } = this;
    const index = this.kept ? KEPT_NAMES.indexOf(name) : -1;
    const length = index >= 0 ? this.kept!.read(this.calls, this.pid, index, () => this.pathOf(name), file) : this.calls.readInto(this.pathOf(name), file);
    if (length === file.length) return fsFiles(this.base).text(name, orNull);
    if (length >= 0) {
      if (line === undefined) return file.toString('utf8', 0, length);
      // A stale copy past `length` of the line is never taken for it.
      const start = file.indexOf(line, 0, 'latin1');
      if (start < 0 || start + line.length > length) return '';
      const end = file.indexOf(0x0a, start + 1);
      return file.toString('latin1', start, end < 0 || end > length ? length : end);
    }
    if (orNull) return null;
    const error = errnoError(`${errnoName(-length)}: cannot read ${this.base}/${name}`, -length);
    if (isVanished(error)) return null;
    throw error;
  }

  link(name: string): string | null {
    const length = this.calls.readlink(this.pathOf(name), this.file);
    return length < 0 ? null : this.file.toString('latin1', 0, length);
  }

  /** The path of `name` in the directory, NUL-terminated. */
  private pathOf(name: string): Buffer {
    let bytes = this.names.get(name);
    if (!bytes) this.names.set(name, (bytes = Buffer.from(`${name}\0`, 'latin1')));
    this.path.set(bytes, this.nameAt);
    return this.path;
  }
}

function fsFiles(base: string): HolderFiles {
  return {
    text: (name, orNull) => (orNull ? readProcTextOrNull(`${base}/${name}`) : readProcText(`${base}/${name}`)),
    link: (name) => readlinkOrNull(`${base}/${name}`),
  };
}
