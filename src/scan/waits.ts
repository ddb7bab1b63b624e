// Threads waiting for a fanotify permission answer. A group with a permission mark (FAN_OPEN_PERM,
// FAN_ACCESS_PERM, FAN_OPEN_EXEC_PERM, the pre-content FAN_PRE_ACCESS of Linux 6.14) makes every
// matching open, read or exec sleep in the kernel until the group's holder answers: state D
// (TASK_KILLABLE since 4.19, plain uninterruptible before), in fanotify's handler. Where a thread
// sleeps is /proc/TID/wchan: the function that called the scheduler, which is
// fanotify_get_response (2.6.37–3.x: fanotify_get_response_from_access) or, where the compiler
// inlined it (6.18 here), fanotify_handle_event; a clone may carry a suffix (".isra.0"). Some
// kernels print "0" for every wchan (x86 around 5.16): there the stack tells (/proc/TID/stack,
// root only), which passes through fanotify_handle_event.
//
// No process can wait so without a permission group on the node, so the search runs only where the
// scan found one. It reads every thread's stat, bounded by a time budget per refresh (a node of
// 20,000 threads takes some 300 ms here), going on at the next refresh where it stopped; the
// threads found waiting are looked at again first. Everything read is procfs, which takes no
// fanotify marks (Linux 6.3 refuses permission marks on proc): inotop's own reads never wait.
import { readlinkSync } from 'node:fs';
import { arch } from 'node:os';
import { decodePathBytes } from '../model/path-bytes.js';
import { parseStat } from './parse.js';
import { listNumericEntries, readProcTextOrNull } from './procfs.js';
import { uptimeMs } from '../deadline.js';

/** Where the kernel sleeps waiting for a permission answer, by version (see above). */
export const PERMISSION_WAIT_FUNCTIONS: readonly string[] = ['fanotify_handle_event', 'fanotify_get_response', 'fanotify_get_response_from_access'];

/** The most of a refresh spent looking for waiters. */
export const WAIT_SEARCH_BUDGET_MS = 40;

/** What a call that waits can have raised: an open, a read or write of an open file, an exec. */
export type WaitKind = 'open' | 'read' | 'write' | 'exec';

interface SyscallSpec {
  name: string;
  kind: WaitKind;
  /** The argument that is an fd: the file read or written, or the directory of an *at call; null: none. */
  fdArg: number | null;
}

// Syscall numbers of the calls that raise permission events: x86_64's own table, and the generic
// one of arm64 and riscv64 (include/uapi/asm-generic/unistd.h).
const call = (name: string, kind: WaitKind, fdArg: number | null): SyscallSpec => ({ name, kind, fdArg });
const X86_64: Record<number, SyscallSpec> = {
  0: call('read', 'read', 0),
  17: call('pread64', 'read', 0),
  19: call('readv', 'read', 0),
  295: call('preadv', 'read', 0),
  327: call('preadv2', 'read', 0),
  40: call('sendfile', 'read', 1),
  275: call('splice', 'read', 0),
  326: call('copy_file_range', 'read', 0),
  1: call('write', 'write', 0),
  18: call('pwrite64', 'write', 0),
  20: call('writev', 'write', 0),
  296: call('pwritev', 'write', 0),
  328: call('pwritev2', 'write', 0),
  2: call('open', 'open', null),
  85: call('creat', 'open', null),
  257: call('openat', 'open', 0),
  437: call('openat2', 'open', 0),
  304: call('open_by_handle_at', 'open', 0),
  59: call('execve', 'exec', null),
  322: call('execveat', 'exec', 0),
};
const GENERIC: Record<number, SyscallSpec> = {
  63: call('read', 'read', 0),
  67: call('pread64', 'read', 0),
  65: call('readv', 'read', 0),
  69: call('preadv', 'read', 0),
  286: call('preadv2', 'read', 0),
  71: call('sendfile', 'read', 1),
  76: call('splice', 'read', 0),
  285: call('copy_file_range', 'read', 0),
  64: call('write', 'write', 0),
  68: call('pwrite64', 'write', 0),
  66: call('writev', 'write', 0),
  70: call('pwritev', 'write', 0),
  287: call('pwritev2', 'write', 0),
  56: call('openat', 'open', 0),
  437: call('openat2', 'open', 0),
  265: call('open_by_handle_at', 'open', 0),
  221: call('execve', 'exec', null),
  281: call('execveat', 'exec', 0),
};
const SYSCALLS: Record<string, Record<number, SyscallSpec>> = { x64: X86_64, arm64: GENERIC, riscv64: GENERIC };

const AT_FDCWD = -100;

/** A thread found waiting, as read. */
export interface WaitingThread {
  pid: number;
  tid: number;
  /** The process's comm (its main thread's). */
  comm: string;
  /** The thread's start time: with the tid, one thread for good. */
  startTime: number;
  /** Its context switches so far: unchanged while it sleeps on, so a new count is a new wait. */
  switches: number;
  /** The call it sleeps in, null when not told (not in a call: a page fault; or unknown here). */
  syscall: string | null;
  kind: WaitKind | null;
  /** The file its fd argument names (a read's file; an *at call's directory, ending in "/…"), null when none. */
  path: string | null;
  /** The mount of that fd (fdinfo's mnt_id), null when not told. */
  mntId: number | null;
  /** Its cgroup lines, for its pod. */
  cgroups: string[];
}

export interface WaitSearch {
  threads: WaitingThread[];
  /** Why the search did not look at every thread this time, null when it did. */
  incomplete: string | null;
}

/** A wchan (or a stack line's function) of a permission wait: one of the functions, with or without a clone's suffix. */
export function isPermissionWaitFunction(name: string): boolean {
  const base = name
    .trim()
    .replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/, '')
    .replace(/\..*$/, '');
  return PERMISSION_WAIT_FUNCTIONS.includes(base);
}

/** A stack (/proc/TID/stack: "[<0>] fanotify_handle_event+0xbf5/0x1bd0" lines) that passes through the permission wait. */
export function stackWaitsForPermission(stack: string): boolean {
  return stack.split('\n').some((line) => isPermissionWaitFunction(line.replace(/^\[<[0-9a-f]+>\]\s*/, '')));
}

/** /proc/TID/syscall: "NR ARG1 … ARG6 SP PC", "running", or "-1 SP PC" (not in a call). */
export function parseSyscallLine(text: string): { nr: number; args: number[] } | null {
  const fields = text.trim().split(' ');
  const nr = Number(fields[0]);
  if (!Number.isInteger(nr) || nr < 0) return null;
  // Arguments as ints: an fd is an int, AT_FDCWD prints as 0xffffff9c.
  const args = fields.slice(1, 7).map((hex) => Number(BigInt.asIntN(32, BigInt(hex.startsWith('0x') ? hex : `0x${hex}`))));
  return { nr, args };
}

/** voluntary + nonvoluntary context switches of /proc/TID/status; null when missing. */
export function parseSwitches(status: string): number | null {
  const voluntary = /\nvoluntary_ctxt_switches:\s*(\d+)/.exec(status);
  const involuntary = /\nnonvoluntary_ctxt_switches:\s*(\d+)/.exec(status);
  return voluntary && involuntary ? Number(voluntary[1]) + Number(involuntary[1]) : null;
}

/**
 * Finds the threads waiting for a permission answer, across refreshes: each search goes on where
 * the last one ran out of time, and first looks again at the threads found before.
 */
export class PermissionWaitFinder {
  /** The pid the next sweep starts at. */
  private resumeAt = 0;
  /** Threads found waiting last time, "pid/tid". */
  private known: string[] = [];

  constructor(private readonly procRoot: string) {}

  /** Forget everything: the node has no permission group now. */
  reset(): void {
    this.resumeAt = 0;
    this.known = [];
  }

  find(budgetMs = WAIT_SEARCH_BUDGET_MS, deadline: number | null = null): WaitSearch {
    const stopAt = Math.min(uptimeMs() + budgetMs, deadline ?? Infinity);
    const found = new Map<string, WaitingThread>();
    const look = (pid: number, tid: number, comm: string | null): void => {
      const thread = this.waitingThread(pid, tid, comm);
      if (thread) found.set(`${pid}/${tid}`, thread);
    };
    for (const key of this.known) {
      const [pid, tid] = key.split('/').map(Number) as [number, number];
      look(pid, tid, null);
    }
    let pids: number[];
    try {
      pids = listNumericEntries(this.procRoot);
    } catch {
      return { threads: [...found.values()], incomplete: `${this.procRoot} not readable` };
    }
    const start = pids.findIndex((pid) => pid >= this.resumeAt);
    const order = start <= 0 ? pids : [...pids.slice(start), ...pids.slice(0, start)];
    let looked = 0;
    for (const pid of order) {
      if (uptimeMs() > stopAt) break;
      looked++;
      const stat = parseStat(readProcTextOrNull(`${this.procRoot}/${pid}/stat`) ?? '');
      if (!stat) continue;
      if (stat.numThreads <= 1) {
        if (stat.state === 'D' && !found.has(`${pid}/${pid}`)) look(pid, pid, stat.comm);
        continue;
      }
      let tids: number[];
      try {
        tids = listNumericEntries(`${this.procRoot}/${pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        if (found.has(`${pid}/${tid}`)) continue;
        const state = tid === pid ? stat.state : parseStat(readProcTextOrNull(`${this.procRoot}/${pid}/task/${tid}/stat`) ?? '')?.state;
        if (state === 'D') look(pid, tid, stat.comm);
      }
    }
    this.known = [...found.keys()];
    if (looked === order.length) {
      this.resumeAt = 0;
      return { threads: [...found.values()], incomplete: null };
    }
    this.resumeAt = order[looked] ?? 0;
    const why = deadline !== null && stopAt === deadline ? 'by the deadline' : `within this refresh's ${budgetMs} ms for it; the next goes on`;
    return { threads: [...found.values()], incomplete: `${order.length - looked} of ${order.length} processes not yet looked at for permission waits ${why}` };
  }

  /** The thread, when it sleeps waiting for a permission answer; null otherwise (or gone). */
  private waitingThread(pid: number, tid: number, comm: string | null): WaitingThread | null {
    const dir = `${this.procRoot}/${pid}/task/${tid}`;
    const stat = parseStat(readProcTextOrNull(`${dir}/stat`) ?? '');
    if (!stat || stat.state !== 'D') return null;
    const wchan = (readProcTextOrNull(`${dir}/wchan`) ?? '').trim();
    const waits = wchan !== '' && wchan !== '0' ? isPermissionWaitFunction(wchan) : stackWaitsForPermission(readProcTextOrNull(`${dir}/stack`) ?? '');
    if (!waits) return null;
    const switches = parseSwitches(readProcTextOrNull(`${dir}/status`) ?? '') ?? 0;
    const syscall = parseSyscallLine(readProcTextOrNull(`${dir}/syscall`) ?? '');
    const spec = syscall ? SYSCALLS[arch()]?.[syscall.nr] : undefined;
    const fd = spec && spec.fdArg !== null ? syscall!.args[spec.fdArg] : undefined;
    let path: string | null = null;
    let mntId: number | null = null;
    if (fd !== undefined && fd !== AT_FDCWD && fd >= 0) {
      const link = readlinkOrNull(`${this.procRoot}/${pid}/fd/${fd}`);
      path = link === null ? null : spec!.kind === 'read' || spec!.kind === 'write' ? link : `${link.replace(/\/$/, '')}/…`;
      const mount = /(?:^|\n)mnt_id:\s*(\d+)/.exec(readProcTextOrNull(`${this.procRoot}/${pid}/fdinfo/${fd}`) ?? '');
      mntId = mount ? Number(mount[1]) : null;
    }
    const cgroup = readProcTextOrNull(`${this.procRoot}/${pid}/cgroup`) ?? '';
    return {
      pid,
      tid,
      comm: comm ?? parseStat(readProcTextOrNull(`${this.procRoot}/${pid}/stat`) ?? '')?.comm ?? stat.comm,
      startTime: stat.startTime,
      switches,
      syscall: spec?.name ?? (syscall ? `syscall ${syscall.nr}` : null),
      kind: spec?.kind ?? null,
      path,
      mntId,
      cgroups: cgroup.split('\n').filter((line) => line !== ''),
    };
  }
}

/** A link's target, its bytes kept exactly (model/path-bytes.ts); null when unreadable. */
function readlinkOrNull(path: string): string | null {
  try {
    return decodePathBytes(readlinkSync(path, { encoding: 'buffer' }));
  } catch {
    return null;
  }
}
