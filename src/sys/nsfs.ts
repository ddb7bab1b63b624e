// The nsfs ioctls on a user namespace's fd (/proc/PID/ns/user), for who the kernel charges above a
// namespace: NS_GET_OWNER_UID (the uid that made it, as our own user namespace sees it) and
// NS_GET_PARENT (an fd of its parent). Numbers from linux/nsfs.h (NSIO 0xb7), the same on every
// architecture: _IO(0xb7, 0x2) and _IO(0xb7, 0x4).
import { fstatSync } from 'node:fs';
import { ERRNO, errnoOf } from './errno.js';
import { lastErrno, libcBinding } from './libc.js';

const NS_GET_PARENT = 0xb702;
const NS_GET_OWNER_UID = 0xb704;
const O_RDONLY = 0;
const O_CLOEXEC = 0x80000;

export interface NamespaceCalls {
  /** Opens a namespace file (/proc/PID/ns/user): an fd, or -errno. */
  open(path: string): number;
  /** The namespace's inode number (what /proc/PID/ns/user's link names), or -errno. */
  inode(fd: number): number;
  /** NS_GET_OWNER_UID: the uid that made the namespace, or -errno. */
  ownerUid(fd: number): number;
  /**
   * NS_GET_PARENT: an fd of the parent namespace, or -errno (EPERM for the initial namespace, and
   * for a parent outside our own user namespace).
   */
  parent(fd: number): number;
  close(fd: number): void;
}

/** The calls, bound once; why not when they are unavailable. */
export const namespaceCalls = libcBinding('nsfs ioctls', (libc): NamespaceCalls => {
  const open: (path: string, flags: number) => number = libc.func('int open(const char *path, int flags)');
  const close: (fd: number) => number = libc.func('int close(int fd)');
  const ioctl: (fd: number, request: number, ...typedArguments: unknown[]) => number = libc.func('int ioctl(int fd, unsigned long request, ...)');
  const uid = Buffer.alloc(4);
  return {
    open(path) {
      const fd = open(path, O_RDONLY | O_CLOEXEC);
      return fd >= 0 ? fd : -lastErrno();
    },
    inode(fd) {
      try {
        return Number(fstatSync(fd).ino);
      } catch (error) {
        return -(errnoOf(error) ?? ERRNO.EIO);
      }
    },
    ownerUid(fd) {
      return ioctl(fd, NS_GET_OWNER_UID, 'void *', uid) === 0 ? uid.readUInt32LE(0) : -lastErrno();
    },
    parent(fd) {
      const parent = ioctl(fd, NS_GET_PARENT);
      return parent >= 0 ? parent : -lastErrno();
    },
    close(fd) {
      close(fd);
    },
  };
});
