// A native module the single executable carries (koffi's), loaded the only way Node loads one:
// from a file. The file is written once, named by its content's hash, into a directory of the
// user's own (mode 0700) whose every ancestor only root or the user can change; it is read back and
// checked against the hash the build recorded when it is written, checked to be that file (ours,
// its size, writable by no one else) when it is opened, and loaded through that same descriptor.
// The first directory that works is used (and the first private one for V8's code of the
// application where the executable carries none V8 takes, kept-code.ts):
//   - /var/cache/inotop as root, else $XDG_CACHE_HOME/inotop (or ~/.cache/inotop);
//   - $XDG_RUNTIME_DIR/inotop (a read-only root file system);
//   - /dev/shm/inotop-UID (read-only, and no runtime dir: a container).
// A directory passed over (read-only, not executable, someone else's) is said in --version.
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { fail, type Result } from '../common/result.js';
import { readPackageFile } from '../package-files.js';
import { buildManifest } from './manifest.js';

export interface LoadedAddon {
  exports: unknown;
  /** The file it was loaded from. */
  path: string;
  /** Directories tried before it, and why each was passed over. */
  passedOver: { directory: string; reason: string }[];
}

/** S_ISVTX: in a directory, only an entry's owner may rename or remove it. */
const STICKY = 0o1000;

const loaded = new Map<string, Result<LoadedAddon>>();

/** The native module the build shipped under `name` (build.json's addons), loaded once per thread. */
export function shippedAddon(name: string): Result<LoadedAddon> {
  let result = loaded.get(name);
  if (result === undefined) {
    result = placeAddon(name, (fd) => loadFrom(fd));
    loaded.set(name, result);
  }
  return result;
}

/**
 * Where shippedAddon loads `name` from, found as it finds it (the file written and checked, in a
 * directory that lets code run) without loading it: what --version says, at no cost of a dlopen.
 */
export function addonPlace(name: string): Result<Omit<LoadedAddon, 'exports'>> {
  return loaded.get(name) ?? placeAddon(name, () => undefined);
}

/** The first directory where the module's file is as written and code can run, and what `use` makes of the file open there. */
function placeAddon(name: string, use: (fd: number) => unknown): Result<LoadedAddon> {
  const addon = buildManifest().addons[name];
  if (addon === undefined) return fail(`the single executable carries no native module ${name}`);
  const passedOver: LoadedAddon['passedOver'] = [];
  for (const directory of privateDirectories(passedOver)) {
    const path = join(directory, `${name}-${addon.sha256}.node`);
    try {
      const fd = placeChecked(path, addon.sha256, readPackageFile(addon.asset));
      try {
        return { ok: true, value: { exports: use(fd), path, passedOver } };
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      passedOver.push({ directory, reason: (error as Error).message });
    }
  }
  return fail(`no directory to load ${name}'s native module from: ${passedOver.map((p) => `${p.directory}: ${p.reason}`).join('; ')}`);
}

/** Where to try, in order. */
export function addonDirectories(env: NodeJS.ProcessEnv = process.env, uid = process.geteuid!()): string[] {
  const absolute = (path: string | undefined) => (path !== undefined && isAbsolute(path) ? path : null);
  const cache = uid === 0 ? '/var/cache' : (absolute(env['XDG_CACHE_HOME']) ?? join(homedir(), '.cache'));
  const runtime = absolute(env['XDG_RUNTIME_DIR']);
  return [join(cache, 'inotop'), ...(runtime !== null ? [join(runtime, 'inotop')] : []), `/dev/shm/inotop-${uid}`];
}

/**
 * The directories of addonDirectories() that are private (made when missing), in order and only as
 * far as asked for; those that cannot be go to `passedOver` with why.
 */
export function* privateDirectories(passedOver: LoadedAddon['passedOver'] = []): Generator<string> {
  for (const directory of addonDirectories()) {
    try {
      privateDirectory(directory);
    } catch (error) {
      passedOver.push({ directory, reason: (error as Error).message });
      continue;
    }
    yield directory;
  }
}

/**
 * The file's hash is checked once, when it is written: read back whole before it is first
 * loaded. A start after that loads it once it is the file written: in a directory no one but root and
 * this user can change (privateDirectory), named by its hash, a regular file of ours with one link
 * that no one else may write, of the content's size (a write is renamed into place whole). Hashing
 * it again at every start would cost more than loading it. Returned open, for loading through that
 * same descriptor; thrown out when code cannot run from its file system.
 */
function placeChecked(path: string, sha256: string, content: Buffer): number {
  let fd = openChecked(path);
  if (fd !== null && fstatSync(fd).size !== content.length) {
    // Not what it should be (someone's hand, or an old build's): written afresh.
    closeSync(fd);
    unlinkSync(path);
    fd = null;
  }
  if (fd === null) {
    writeOnce(path, content, 0o500);
    fd = openChecked(path);
    if (fd === null) throw new Error(`${path} vanished`);
    if (sha256Hex(readAll(fd)) !== sha256) {
      closeSync(fd);
      unlinkSync(path);
      throw new Error(`${path} does not hold what was written`);
    }
  }
  try {
    // A file system mounted noexec (a pod's /dev/shm, often): the kernel says so to access(X_OK) as to a dlopen.
    accessSync(path, constants.X_OK);
  } catch (error) {
    closeSync(fd);
    unlinkSync(path);
    throw new Error(`cannot load it from there: ${errorText(error)} (mounted noexec?)`, { cause: error });
  }
  return fd;
}

/** The module in the file open at `fd` (placeChecked's), loaded: its exports. */
function loadFrom(fd: number): unknown {
  const module = { exports: {} as unknown };
  try {
    // Not /proc/self/fd/N: the loader knows the libraries the launcher preloaded by such names, and
    // would answer a dlopen of one with the library already loaded under it, not read the file.
    process.dlopen(module, `/proc/thread-self/fd/${fd}`);
  } catch (error) {
    throw new Error(`cannot load it from there: ${(error as Error).message}`, { cause: error });
  }
  return module.exports;
}

/** Makes `directory` (mode 0700, the user's) or checks it; throws why it cannot be trusted. */
function privateDirectory(directory: string): void {
  const uid = process.geteuid!();
  const parent = dirname(directory);
  try {
    mkdirSync(parent, { recursive: true, mode: 0o755 });
    mkdirSync(directory, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(errorText(error), { cause: error });
  }
  const stat = lstatSync(directory);
  if (!stat.isDirectory()) throw new Error('not a directory');
  if (stat.uid !== uid) throw new Error(`owned by uid ${stat.uid}, not ${uid}`);
  if ((stat.mode & 0o777) !== 0o700) chmodSync(directory, 0o700);
  trustedPath(directory, uid);
}

/**
 * Throws unless no one but root and `uid` can change what `path` names: every directory on the
 * way (as written and as resolved) is theirs and writable by no one else, or sticky (/tmp,
 * /dev/shm: others may add entries there, never move or remove ours), and every link theirs.
 */
export function trustedPath(path: string, uid: number): void {
  for (const walked of [path, realpathSync(path)]) {
    let at = '';
    for (const part of walked.split(sep).filter(Boolean)) {
      at += `${sep}${part}`;
      const stat = lstatSync(at);
      if (stat.uid !== 0 && stat.uid !== uid) throw new Error(`${at} is owned by uid ${stat.uid}`);
      if (stat.isSymbolicLink()) continue;
      if (!stat.isDirectory()) throw new Error(`${at} is not a directory`);
      if ((stat.mode & 0o022) !== 0 && (stat.mode & STICKY) === 0) throw new Error(`${at} is writable by others (mode ${(stat.mode & 0o7777).toString(8)})`);
    }
  }
  const root = lstatSync(sep);
  if (root.uid !== 0 || (root.mode & 0o022) !== 0) throw new Error('/ is writable by others');
}

/** The file, opened for reading, if it is there as written: a regular file of ours, one link, writable by no one else. */
export function openChecked(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(errorText(error), { cause: error });
  }
  const stat = fstatSync(fd);
  if (!stat.isFile() || stat.uid !== process.geteuid!() || (stat.mode & 0o022) !== 0 || stat.nlink !== 1) {
    closeSync(fd);
    throw new Error(`${path} is not a file inotop wrote (uid ${stat.uid}, mode ${(stat.mode & 0o7777).toString(8)}, ${stat.nlink} links)`);
  }
  return fd;
}

/** Writes beside and renames (over a file of ours there): a reader never sees half a file under the final name. */
export function writeOnce(path: string, content: Buffer, mode: number): void {
  const temporary = `${path}.${process.pid}.${process.getBuiltinModule('node:worker_threads').threadId}.tmp`;
  try {
    const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      for (let done = 0; done < content.length;) done += writeSync(fd, content, done);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // never made
    }
    throw new Error(errorText(error), { cause: error });
  }
}

export function readAll(fd: number): Buffer {
  const chunks: Buffer[] = [];
  for (let position = 0; ;) {
    const chunk = Buffer.allocUnsafe(1 << 20);
    const read = readSync(fd, chunk, 0, chunk.length, position);
    if (read === 0) return Buffer.concat(chunks);
    chunks.push(chunk.subarray(0, read));
    position += read;
  }
}

export function sha256Hex(content: Buffer): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(content).digest('hex');
}

/** "read-only file system" rather than "EROFS: read-only file system, mkdir '/var/cache/inotop'". */
function errorText(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code === undefined ? message : message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}
