// kcmp(2) KCMP_FILE tells exactly whether two fds (in any two processes) are the same open file:
// the only way to tell that an inotify instance is shared, since every instance has the same
// anon inode. Node has no binding, so koffi calls syscall(2) directly.
import koffi from 'koffi';
import { closeSync, openSync } from 'node:fs';
import { arch } from 'node:os';

const KCMP_FILE = 0;
const SYSCALL_KCMP: Record<string, number> = { x64: 312, arm64: 272, ia32: 349, arm: 378, riscv64: 272, ppc64: 354, s390x: 343 };

/** Compares two fds: <0, 0, >0 like a sort comparator (the kernel orders the file pointers). */
export type FileComparator = (pid1: number, fd1: number, pid2: number, fd2: number) => number;

let cached: FileComparator | null | undefined;

/** The kcmp comparator, or null when the syscall is unavailable (no koffi, seccomp, old kernel). */
export function kcmpComparator(): FileComparator | null {
  if (cached !== undefined) return cached;
  cached = null;
  const number = SYSCALL_KCMP[arch()];
  if (number === undefined) return null;
  try {
    const libc = koffi.load('libc.so.6');
    const syscall = libc.func('long syscall(long, ...)');
    const compare: FileComparator = (pid1, fd1, pid2, fd2) => {
      const result = Number(syscall(number, 'int', pid1, 'int', pid2, 'int', KCMP_FILE, 'long', fd1, 'long', fd2));
      if (result === 0) return 0;
      if (result === 1) return -1;
      if (result === 2) return 1;
      throw new KcmpError(result === -1 ? koffi.errno() : 0);
    };
    // Probe on ourselves: an fd compared with itself must be equal.
    const probe = openSync('/dev/null', 'r');
    try {
      if (compare(process.pid, probe, process.pid, probe) !== 0) return null;
    } finally {
      closeSync(probe);
    }
    cached = compare;
  } catch {
    cached = null;
  }
  return cached;
}

export class KcmpError extends Error {
  constructor(readonly errno: number) {
    super(`kcmp failed (errno ${errno})`);
  }
}
