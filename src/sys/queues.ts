// How many bytes wait unread in another process's inotify instance or fanotify group: fdinfo has
// no such figure, but ioctl(FIONREAD) on the instance's file gives it without reading an event.
// pidfd_open + pidfd_getfd make a duplicate of the other process's fd in ours (it needs ptrace
// attach permission: root, or CAP_SYS_PTRACE; it stops and attaches to nothing), FIONREAD reads
// the count, and the duplicate is closed at once, or at a refresh with up to 63 others
// (queuedBytesHeld): it keeps the instance alive only for those microseconds, never across
// refreshes (held there, an instance its process closed would live on, its watches and its place
// under max_user_instances with it, until the next refresh). Nothing is read from the queue.
// glibc wraps neither pidfd call before 2.36: both go through syscall(2), whose numbers are one
// on every architecture (the shared table of new calls).
import { arch } from 'node:os';
import { ERRNO } from './errno.js';
import { addressOf, integerSyscall, lastErrno, libcBinding } from './libc.js';

export interface QueueCalls {
  /** pidfd_open(pid, 0): a pidfd to close with closeFd, or -errno (-ESRCH: gone). */
  openPid(pid: number): number;
  /**
   * pidfd_open(tid, PIDFD_THREAD): a pidfd of one thread, whose fd table pidfd_getfd then takes the
   * fds from (a process whose main thread has exited has none of its own: ScannedProcess.fdThread);
   * -errno (-ESRCH: gone; -EINVAL: Linux before 6.9, which has no such pidfd).
   */
  openThread(tid: number): number;
  /**
   * The bytes queued on `fd` of the process behind `pidfd`: pidfd_getfd, ioctl(FIONREAD), close.
   * -errno when it cannot be told: -EPERM (no ptrace permission, or a seccomp profile), -EBADF (the
   * fd is closed), -ESRCH (the process is gone), -ENOTTY (not a file that counts its queue).
   * `withCopy` is given the duplicate before it is closed (FileSet.add).
   */
  queuedBytes(pidfd: number, fd: number, withCopy?: (copy: number) => void): number;
  /**
   * As queuedBytes, but the duplicate is left open, up to COPIES_HELD of them, and closed with the
   * others by closeCopies (or by this call, when that many are open): one close_range per run of
   * numbers in place of one close per fd, a third of the calls per instance at a refresh.
   */
  queuedBytesHeld(pidfd: number, fd: number): number;
  /** The duplicate the last queuedBytesHeld that answered left open (until the next one, or closeCopies); -1 when none is. */
  lastHeld(): number;
  /** Closes the duplicates queuedBytesHeld left open. */
  closeCopies(): void;
  closeFd(fd: number): void;
}

const SYSCALL_PIDFD_OPEN = 434;
const SYSCALL_PIDFD_GETFD = 438;
const SYSCALL_CLOSE_RANGE = 436;
/**
 * The most duplicates queuedBytesHeld leaves open: each keeps its instance alive until closed, a
 * refresh's worth of microseconds (about 64 × 4 µs here) instead of a few.
 */
export const COPIES_HELD = 64;
/** PIDFD_THREAD is O_EXCL: asm-generic's 0o200, but for the architectures with open flags of their own. */
const PIDFD_THREAD: Record<string, number> = { mips: 0x400, mipsel: 0x400 };
const PIDFD_THREAD_GENERIC = 0o200;
/** FIONREAD: asm-generic's 0x541B, but for the architectures with ioctl numbers of their own. */
const FIONREAD: Record<string, number> = { ppc64: 0x4004667f, mips: 0x467f, mipsel: 0x467f };
const FIONREAD_GENERIC = 0x541b;

/**
 * The calls, bound once, and probed on ourselves: a duplicate of one of our own fds needs no
 * permission but the syscall's, so a refusal here is a seccomp profile (the runtimes' default
 * allows pidfd_getfd only with CAP_SYS_PTRACE), an old kernel (ENOSYS before 5.6) or a sandbox.
 */
export const queueCalls = libcBinding('pidfd_getfd and FIONREAD', (libc): QueueCalls => {
  const pidfdOpen = integerSyscall(libc, ['int', 'uint']);
  const pidfdGetfd = integerSyscall(libc, ['int', 'int', 'uint']);
  const close: (fd: number) => number = libc.func('int close(int fd)');
  const closeRange = integerSyscall(libc, ['uint', 'uint', 'uint']);
  // close_range came in Linux 5.9, pidfd_getfd in 5.6: between them, one close per duplicate.
  let rangesClose = true;
  const held = new Int32Array(COPIES_HELD);
  let heldCount = 0;
  const closeHeld = (): void => {
    const n = heldCount;
    heldCount = 0;
    if (n === 0) return;
    // Numbers come lowest-free first, so mostly in order; a run of consecutive ones is all ours.
    const copies = n === 1 ? held.subarray(0, 1) : held.subarray(0, n).sort();
    let first = 0;
    for (let i = 1; i <= n; i++) {
      if (i < n && copies[i] === copies[i - 1]! + 1) continue;
      const low = copies[first]!;
      const high = copies[i - 1]!;
      if (low === high || !rangesClose || Number(closeRange(SYSCALL_CLOSE_RANGE, low, high, 0)) < 0) {
        if (low !== high && rangesClose && lastErrno() === ERRNO.ENOSYS) rangesClose = false;
        for (let copy = low; copy <= high; copy++) close(copy);
      }
      first = i;
    }
  };
  // Once per instance at every refresh: the count goes in memory of our own passed by address (addressOf).
  const ioctl: (fd: number, request: number, value: number) => number = libc.func('int ioctl(int fd, unsigned long request, intptr_t value)');
  const fionread = FIONREAD[arch()] ?? FIONREAD_GENERIC;
  const countMemory = new ArrayBuffer(4);
  const count = new Int32Array(countMemory);
  const countAddress = addressOf(libc, new Uint8Array(countMemory));
  const calls: QueueCalls = {
    openPid(pid) {
      const fd = Number(pidfdOpen(SYSCALL_PIDFD_OPEN, pid, 0));
      return fd >= 0 ? fd : -lastErrno();
    },
    openThread(tid) {
      const fd = Number(pidfdOpen(SYSCALL_PIDFD_OPEN, tid, PIDFD_THREAD[arch()] ?? PIDFD_THREAD_GENERIC));
      return fd >= 0 ? fd : -lastErrno();
    },
    queuedBytes(pidfd, fd, withCopy) {
      const copy = Number(pidfdGetfd(SYSCALL_PIDFD_GETFD, pidfd, fd, 0));
      if (copy < 0) return -lastErrno();
      const result = ioctl(copy, fionread, countAddress);
      const errno = result < 0 ? lastErrno() : 0;
      withCopy?.(copy);
      close(copy);
      return result < 0 ? -errno : count[0]!;
    },
    queuedBytesHeld(pidfd, fd) {
      if (heldCount === COPIES_HELD) closeHeld();
      let copy = Number(pidfdGetfd(SYSCALL_PIDFD_GETFD, pidfd, fd, 0));
      if (copy < 0) {
        const errno = lastErrno();
        if ((errno !== ERRNO.EMFILE && errno !== ERRNO.ENFILE) || heldCount === 0) return -errno;
        // Out of fds: those held are given back first.
        closeHeld();
        copy = Number(pidfdGetfd(SYSCALL_PIDFD_GETFD, pidfd, fd, 0));
        if (copy < 0) return -lastErrno();
      }
      held[heldCount++] = copy;
      const result = ioctl(copy, fionread, countAddress);
      return result < 0 ? -lastErrno() : count[0]!;
    },
    lastHeld: () => (heldCount > 0 ? held[heldCount - 1]! : -1),
    closeCopies: closeHeld,
    closeFd(fd) {
      close(fd);
    },
  };
  const self = calls.openPid(process.pid);
  if (self < 0) throw new Error(`pidfd_open refused: ${errnoText(-self)}`);
  try {
    // Our pidfd itself is an fd of ours: its duplicate answers FIONREAD with ENOTTY, which is fine.
    const probe = calls.queuedBytes(self, self);
    if (probe === -ERRNO.EPERM || probe === -ERRNO.ENOSYS || probe === -ERRNO.EACCES) throw new Error(`pidfd_getfd refused: ${errnoText(-probe)}`);
  } finally {
    close(self);
  }
  return calls;
});

function errnoText(errno: number): string {
  if (errno === ERRNO.ENOSYS) return 'ENOSYS (Linux before 5.6, or a seccomp profile)';
  if (errno === ERRNO.EPERM || errno === ERRNO.EACCES) return `${errno === ERRNO.EPERM ? 'EPERM' : 'EACCES'} (a seccomp profile or an LSM)`;
  return `errno ${errno}`;
}
