// kcmp(2) KCMP_FILE tells exactly whether two fds (in any two processes) are the same open file:
// the only way to tell that an inotify instance is shared, since every instance has the same
// anon inode. glibc has no wrapper: it is called through syscall(2).
import { closeSync, openSync } from 'node:fs';
import { arch } from 'node:os';
import { integerSyscall, lastErrno, libcBinding } from './libc.js';

const KCMP_FILE = 0;
const SYSCALL_KCMP: Record<string, number> = { x64: 312, arm64: 272, ia32: 349, arm: 378, riscv64: 272, ppc64: 354, s390x: 343 };

/** Compares two fds: <0, 0, >0 like a sort comparator (the kernel orders the file pointers). Throws KcmpError. */
export type FileComparator = (pid1: number, fd1: number, pid2: number, fd2: number) => number;

/** The kcmp comparator; why not when the call is unavailable (no koffi, seccomp, old kernel, an architecture without its number here). */
export const kcmpComparator = libcBinding('kcmp', (libc): FileComparator => {
  const number = SYSCALL_KCMP[arch()];
  if (number === undefined) throw new Error(`no syscall number known on ${arch()}`);
  const kcmp = integerSyscall(libc, ['int', 'int', 'int', 'long', 'long']);
  const compare: FileComparator = (pid1, fd1, pid2, fd2) => {
    const result = Number(kcmp(number, pid1, pid2, KCMP_FILE, fd1, fd2));
    if (result === 0) return 0;
    if (result === 1) return -1;
    if (result === 2) return 1;
    throw new KcmpError(result === -1 ? lastErrno() : 0);
  };
  // Probe on ourselves: an fd compared with itself must be equal.
  const probe = openSync('/dev/null', 'r');
  try {
    if (compare(process.pid, probe, process.pid, probe) !== 0) throw new Error('an fd compared with itself is not the same file');
  } finally {
    closeSync(probe);
  }
  return compare;
});

export class KcmpError extends Error {
  constructor(readonly errno: number) {
    super(`kcmp failed (errno ${errno})`);
  }
}
