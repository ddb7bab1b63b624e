// The file calls the resolve stage needs and Node does not offer, through koffi: open_by_handle_at
// (decode an fdinfo file handle), open_tree (a detached clone of a mount), and statx (stat relative
// to a directory fd, into a reused buffer: cheaper than fs.lstatSync, which matters when tens of
// thousands of cached paths are re-checked per refresh).
import { constants, lstatSync } from 'node:fs';
import type { FileHandle } from '../model/types.js';
import { decodePathBytes, encodePathBytes } from '../model/path-bytes.js';
import { cPath, writeDecimal } from './cstring.js';
import { ERRNO, errnoName, errnoOf } from './errno.js';
import { lastErrno, libcBinding, rawSyscall, type RawSyscall } from './libc.js';

/** statx of a path relative to a directory fd ("" for the fd itself), without following a final symlink: the stat, or -errno. */
export type StatAt = (dirFd: number, path: string) => InodeStat | number;

export interface InodeStat {
  /** "MAJ:MIN". */
  dev: string;
  ino: number;
  nlink: number;
  isDirectory: boolean;
  /** The mount it was reached through (statx STATX_MNT_ID); null when unknown. */
  mountId: number | null;
  /** Status change time: moves, for a directory, whenever an entry is added, removed or renamed. */
  ctimeSec: number;
  ctimeNsec: number;
}

export interface FileCalls {
  /** open_by_handle_at(mountFd, handle, O_PATH): an fd, or -errno. */
  openByHandle(mountFd: number, handle: FileHandle): number;
  /**
   * A detached clone of the mount at `path` (open_tree OPEN_TREE_CLONE), its root opened for
   * reading: an fd, or -errno. The clone is a mount of its own, so holding it never makes an
   * umount of the original fail with EBUSY. Needs CAP_SYS_ADMIN, and a mount of our own mount
   * namespace (others' give EINVAL).
   */
  openDetachedClone(path: string): number;
  /**
   * Whether the filesystem of `mountFd` can decode file handles: encodes its root's and opens it
   * again. null when encoding is refused (EPERM: the runtimes' default seccomp profile allows
   * name_to_handle_at only with CAP_SYS_ADMIN, open_by_handle_at with CAP_DAC_READ_SEARCH).
   */
  decodesHandles(mountFd: number): boolean | null;
  /** Stats `path` relative to `dirFd` ("" for dirFd itself) without following a final symlink; -errno on failure. */
  statAt(dirFd: number, path: string): InodeStat | number;
  /** readlink of /proc/self/fd/N, the bytes decoded reversibly (see fspath.ts). */
  fdLink(fd: number): string;
  /** Opens the directory at `path` (relative to dirFd) for readDirents (dirents.ts): an fd to close with closeFd, or -errno. */
  openDirectory(dirFd: number, path: string): number;
  /**
   * close(2) for fds that open_by_handle_at made: fs.closeSync on an fd Node did not open warns
   * ("closed but not opened in unmanaged mode") in worker threads, where the scan runs.
   */
  closeFd(fd: number): void;
}

// Same values on x86_64 and arm64 (O_DIRECTORY is not: it comes from Node's constants).
const O_PATH = 0x200000;
const O_RDONLY = 0;
const O_CLOEXEC = 0x80000;
/** The dirFd of statAt, openDirectory for an absolute path (nothing held between calls). */
export const AT_FDCWD = -100;
const OPEN_TREE_CLONE = 1;
/** open_tree(2): one number on every architecture (new syscalls share the generic table). */
const SYSCALL_OPEN_TREE = 428;
const MAX_HANDLE_SZ = 128;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
/** Do not make network filesystems revalidate attributes: only the inode identity is wanted. */
const AT_STATX_DONT_SYNC = 0x4000;
const STATX_WANTED = 0x1 /* TYPE */ | 0x2 /* MODE */ | 0x4 /* NLINK */ | 0x80 /* CTIME */ | 0x100 /* INO */ | 0x1000; /* MNT_ID */
const STATX_MNT_ID = 0x1000;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
// Offsets in struct statx (include/uapi/linux/stat.h).
const STX_NLINK = 16;
const STX_MODE = 28;
const STX_INO = 32;
const STX_CTIME = 96;
const STX_DEV_MAJOR = 136;
const STX_MASK = 0;
const STX_DEV_MINOR = 140;
const STX_MNT_ID = 144;
const STATX_SIZE = 256;
const PATH_MAX = 4096;

/** Our own fds are always under the real /proc, whatever procRoot the scan reads. */
export const SELF_FD_DIR = '/proc/self/fd';

/** The file calls, bound once; why not when they are unavailable (no glibc, no koffi build). */
export const fileCalls = libcBinding('file calls', (libc): FileCalls => {
  const syscall = rawSyscall();
  if (!syscall.ok) throw new Error(syscall.error);
  const openSyscall: RawSyscall = syscall.value;
  const openByHandleAt: (mountFd: number, handle: Buffer, flags: number) => number = libc.func('int open_by_handle_at(int mount_fd, void *handle, int flags)');
  const nameToHandleAt: (dirFd: number, path: string, handle: Buffer, mountId: Buffer, flags: number) => number = libc.func(
    'int name_to_handle_at(int dirfd, const char *path, void *handle, void *mount_id, int flags)',
  );
  const statx: (dirFd: number, path: string | Buffer, flags: number, mask: number, buffer: Buffer) => number = libc.func(
    'int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ uint8_t *buf)',
  );
  const close: (fd: number) => number = libc.func('int close(int fd)');
  const openat: (dirFd: number, path: string | Buffer, flags: number) => number = libc.func('int openat(int dirfd, const char *path, int flags)');
  const readlink: (path: Buffer, out: Buffer, size: number) => number = libc.func('long readlink(const uint8_t *path, _Out_ uint8_t *buf, size_t size)');
  const statBuffer = Buffer.alloc(STATX_SIZE);
  const handleBuffer = Buffer.alloc(8 + MAX_HANDLE_SZ);
  const linkBuffer = Buffer.alloc(PATH_MAX);
  // "/proc/self/fd/N\0", N written in place: no string per readlink.
  const fdPathBuffer = Buffer.alloc(SELF_FD_DIR.length + 1 + 12);
  fdPathBuffer.write(`${SELF_FD_DIR}/`, 'latin1');
  return {
    openByHandle(mountFd, handle) {
      if (handle.bytes.length > MAX_HANDLE_SZ) return -ERRNO.EINVAL;
      handleBuffer.writeUInt32LE(handle.bytes.length, 0);
      handleBuffer.writeInt32LE(handle.type, 4);
      handleBuffer.set(handle.bytes, 8);
      const fd = openByHandleAt(mountFd, handleBuffer, O_PATH);
      return fd >= 0 ? fd : -lastErrno();
    },
    openDetachedClone(path) {
      const tree = Number(openSyscall(SYSCALL_OPEN_TREE, 'int', AT_FDCWD, 'str', path, 'uint', OPEN_TREE_CLONE | O_CLOEXEC));
      if (tree < 0) return -lastErrno();
      // open_tree gives an O_PATH fd, which open_by_handle_at refuses (EBADF): open its root.
      const root = openat(tree, '.', O_RDONLY | constants.O_DIRECTORY | O_CLOEXEC);
      const errno = root < 0 ? lastErrno() : 0;
      close(tree);
      return root >= 0 ? root : -errno;
    },
    decodesHandles(mountFd) {
      const raw = Buffer.alloc(8 + MAX_HANDLE_SZ);
      raw.writeUInt32LE(MAX_HANDLE_SZ, 0);
      if (nameToHandleAt(mountFd, '', raw, Buffer.alloc(4), AT_EMPTY_PATH) !== 0) return lastErrno() === ERRNO.EPERM ? null : false;
      const fd = openByHandleAt(mountFd, raw, O_PATH);
      if (fd < 0) return false;
      close(fd);
      return true;
    },
    closeFd(fd) {
      close(fd);
    },
    fdLink(fd) {
      const end = writeDecimal(fdPathBuffer, SELF_FD_DIR.length + 1, fd);
      fdPathBuffer[end] = 0;
      const length = readlink(fdPathBuffer, linkBuffer, linkBuffer.length);
      if (length < 0) throw new Error(`readlink of our own fd ${fd}: ${errnoName(lastErrno())}`);
      return decodePathBytes(linkBuffer.subarray(0, length));
    },
    openDirectory(dirFd, path) {
      const fd = openat(dirFd, cPath(path === '' ? '.' : path), O_RDONLY | constants.O_DIRECTORY | O_CLOEXEC);
      return fd >= 0 ? fd : -lastErrno();
    },
    statAt(dirFd, path) {
      const flags = AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC | (path === '' ? AT_EMPTY_PATH : 0);
      if (statx(dirFd, cPath(path), flags, STATX_WANTED, statBuffer) !== 0) return -lastErrno();
      return {
        dev: `${statBuffer.readUInt32LE(STX_DEV_MAJOR)}:${statBuffer.readUInt32LE(STX_DEV_MINOR)}`,
        ino: statBuffer.readUInt32LE(STX_INO) + statBuffer.readUInt32LE(STX_INO + 4) * 2 ** 32,
        nlink: statBuffer.readUInt32LE(STX_NLINK),
        isDirectory: (statBuffer.readUInt16LE(STX_MODE) & S_IFMT) === S_IFDIR,
        mountId:
          statBuffer.readUInt32LE(STX_MASK) & STATX_MNT_ID ? statBuffer.readUInt32LE(STX_MNT_ID) + statBuffer.readUInt32LE(STX_MNT_ID + 4) * 2 ** 32 : null,
        ctimeSec: statBuffer.readUInt32LE(STX_CTIME) + statBuffer.readInt32LE(STX_CTIME + 4) * 2 ** 32,
        ctimeNsec: statBuffer.readUInt32LE(STX_CTIME + 8),
      };
    },
  };
});

/** fsopen(2), fsconfig(2), fsmount(2): one number each on every architecture (the generic table). */
const SYSCALL_FSOPEN = 430;
const SYSCALL_FSCONFIG = 431;
const SYSCALL_FSMOUNT = 432;
const FSOPEN_CLOEXEC = 1;
const FSCONFIG_CMD_CREATE = 6;
const FSMOUNT_CLOEXEC = 1;

export interface DetachedMounts {
  /**
   * A new mount of the filesystem `type`, attached nowhere (fsopen, fsconfig CREATE, fsmount): an
   * O_PATH fd of its root, or -errno. No mount namespace ever holds it: it ends with its last fd.
   * Needs CAP_SYS_ADMIN and Linux 5.2.
   */
  mount(type: string): number;
  /** close(2) for the fd mount() gave (fs.closeSync warns in worker threads on fds Node did not open). */
  close(fd: number): void;
}

/** Detached mounts; why not when they are unavailable (no koffi build, no syscall(2)). */
export const detachedMounts = libcBinding('detached mounts', (libc): DetachedMounts => {
  const syscall = rawSyscall();
  if (!syscall.ok) throw new Error(syscall.error);
  const call: RawSyscall = syscall.value;
  const close: (fd: number) => number = libc.func('int close(int fd)');
  return {
    mount(type) {
      const context = Number(call(SYSCALL_FSOPEN, 'str', type, 'uint', FSOPEN_CLOEXEC));
      if (context < 0) return -lastErrno();
      let result: number;
      if (Number(call(SYSCALL_FSCONFIG, 'int', context, 'uint', FSCONFIG_CMD_CREATE, 'void *', null, 'void *', null, 'int', 0)) < 0) result = -lastErrno();
      else {
        const mount = Number(call(SYSCALL_FSMOUNT, 'int', context, 'uint', FSMOUNT_CLOEXEC, 'uint', 0));
        result = mount >= 0 ? mount : -lastErrno();
      }
      close(context);
      return result;
    },
    close(fd) {
      close(fd);
    },
  };
});

/** statAt without koffi: lstat through /proc/self/fd/N (slower, same answers). */
export function nodeStatAt(dirFd: number, path: string): InodeStat | number {
  try {
    const at = dirFd === AT_FDCWD ? path : path === '' ? `${SELF_FD_DIR}/${dirFd}` : `${SELF_FD_DIR}/${dirFd}/${path}`;
    const stat = lstatSync(encodePathBytes(at), { bigint: true });
    return {
      dev: userspaceDevToString(Number(stat.dev)),
      ino: Number(stat.ino),
      nlink: Number(stat.nlink),
      isDirectory: stat.isDirectory(),
      mountId: null,
      ctimeSec: Number(stat.ctimeNs / 1_000_000_000n),
      ctimeNsec: Number(stat.ctimeNs % 1_000_000_000n),
    };
  } catch (error) {
    return -(errnoOf(error) ?? ERRNO.EIO);
  }
}

/** glibc's major()/minor() of a userspace dev_t, as "MAJ:MIN". */
export function userspaceDevToString(dev: number): string {
  const high = Math.floor(dev / 2 ** 32);
  const low = dev >>> 0;
  const major = ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0);
  const minor = (low & 0xff) | (((low >>> 12) | (high << 20)) & 0xffffff00);
  return `${major >>> 0}:${minor >>> 0}`;
}
