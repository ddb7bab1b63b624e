// What a scan reads of each process that holds an instance or group: its stat, status, cgroup and
// cmdline, and the links of its user and mount namespaces. Six files per holder, read through
// koffi (src/sys/smallfiles.ts) into one reused buffer where it is there: Node's fs calls made
// these some twice the kernel's own cost. Without koffi, through Node's fs.
import type { FanotifyGroup, InotifyInstance, ScannedProcess } from '../model/types.js';
import { errnoName, isVanished } from '../sys/errno.js';
import { smallFileCalls, type SmallFileCalls } from '../sys/smallfiles.js';
import { parseCmdline, parseEffectiveUid, parseNamespaceLink, parseStat } from './parse.js';
import { readlinkOrNull, readProcText, readProcTextOrNull } from './procfs.js';

/**
 * A holder's process, or null when it is gone (its stat or status vanished). Throws, as fs does,
 * when its stat or status cannot be read for another reason; its other files are left out
 * (cmdline '', cgroups [], namespaces null) when they cannot be read.
 */
export function readHolder(
  base: string,
  pid: number,
  users: ReadonlyMap<number, string>,
  instances: InotifyInstance[],
  fanotifyGroups: FanotifyGroup[],
): ScannedProcess | null {
  const files = holderFiles(base);
  const statText = files.text('stat', false);
  const status = files.text('status', false);
  const stat = parseStat(statText ?? '');
  if (!stat || status === null) return null; // gone mid-scan
  const uid = parseEffectiveUid(status) ?? -1;
  const cgroup = files.text('cgroup', true);
  return {
    pid,
    ppid: stat.ppid,
    startTime: stat.startTime,
    uid,
    user: users.get(uid) ?? String(uid),
    comm: stat.comm,
    cmdline: parseCmdline(files.text('cmdline', true) ?? ''),
    userns: parseNamespaceLink(files.link('ns/user') ?? ''),
    mntns: parseNamespaceLink(files.link('ns/mnt') ?? ''),
    cgroups: cgroup ? cgroup.split('\n').filter((line) => line !== '') : [],
    instances,
    fanotifyGroups,
  };
}

/** The files of one process directory, by name. */
interface HolderFiles {
  /** As text; null when gone (vanished), or, with `orNull`, when it cannot be read at all. Throws like fs otherwise. */
  text(name: string, orNull: boolean): string | null;
  /** A link's target; null when it cannot be read. */
  link(name: string): string | null;
}

/** Holder files are small; a bigger one (a long cmdline) is read again whole through fs. */
const FILE_BYTES = 1 << 16;
const PATH_BYTES = 4096;
let buffers: { file: Buffer; path: Buffer } | undefined;

function holderFiles(base: string): HolderFiles {
  const calls = smallFileCalls();
  // A path with escaped bytes (model/path-bytes.ts) or too long for the buffer goes through fs.
  if (!calls.ok || /[\udc80-\udcff]/.test(base) || Buffer.byteLength(base) > PATH_BYTES - 64) return FS_FILES(base);
  buffers ??= { file: Buffer.allocUnsafe(FILE_BYTES), path: Buffer.allocUnsafe(PATH_BYTES) };
  const { file, path } = buffers;
  const prefix = path.write(`${base}/`, 0, 'utf8');
  const pathOf = (name: string): Buffer => {
    path[prefix + path.write(name, prefix, 'latin1')] = 0;
    return path;
  };
  return koffiFiles(calls.value, base, file, pathOf);
}

function koffiFiles(calls: SmallFileCalls, base: string, file: Buffer, pathOf: (name: string) => Buffer): HolderFiles {
  return {
    text(name, orNull) {
      const length = calls.readInto(pathOf(name), file);
      if (length === file.length) return orNull ? readProcTextOrNull(`${base}/${name}`) : readProcText(`${base}/${name}`);
      if (length >= 0) return file.toString('utf8', 0, length);
      if (orNull) return null;
      const error = Object.assign(new Error(`${errnoName(-length)}: cannot read ${base}/${name}`), { code: errnoName(-length) });
      if (isVanished(error)) return null;
      throw error;
    },
    link(name) {
      const length = calls.readlink(pathOf(name), file);
      return length < 0 ? null : file.toString('latin1', 0, length);
    },
  };
}

const FS_FILES = (base: string): HolderFiles => ({
  text: (name, orNull) => (orNull ? readProcTextOrNull(`${base}/${name}`) : readProcText(`${base}/${name}`)),
  link: (name) => readlinkOrNull(`${base}/${name}`),
});
