// Pure parsers for the tracer: lines of a trace instance's trace_pipe, and the few procfs fields
// the tracer needs that the scan does not read (a process's start time, its fd limit, its tgid).

/** The syscalls whose failures are traced, by the names their exit events print. */
export const FAILING_SYSCALLS = ['inotify_add_watch', 'inotify_init1', 'inotify_init'] as const;
/** And those whose successes make the churn. */
export const CHURN_SYSCALLS = ['inotify_add_watch', 'inotify_rm_watch'] as const;
/**
 * The successful calls besides the churn after which a process's instances or groups are not
 * what they were: between full scans, only the processes that made one are read again.
 */
export const CHANGING_SYSCALLS = ['inotify_init1', 'inotify_init', 'fanotify_init', 'fanotify_mark'] as const;
const TRACED_SYSCALLS: readonly string[] = [...FAILING_SYSCALLS, ...CHURN_SYSCALLS, ...CHANGING_SYSCALLS];
export type TracedSyscall = (typeof FAILING_SYSCALLS)[number] | (typeof CHURN_SYSCALLS)[number] | (typeof CHANGING_SYSCALLS)[number];

/** One syscall exit as trace_pipe prints it (inotify_rm_watch returns 0: "-> 0x0"). */
export interface SyscallExit {
  /** The thread's name as the kernel saved it ("<...>" when it did not). */
  comm: string;
  /** Thread id. */
  tid: number;
  /** Thread group id (the pid) from options/record-tgid; null when the kernel did not record it. */
  tgid: number | null;
  /** Seconds on the instance's trace_clock. */
  seconds: number;
  syscall: TracedSyscall;
  /** The return value, negative: -errno. */
  ret: number;
}

export type TraceLine = { kind: 'exit'; exit: SyscallExit } | { kind: 'lost'; events: number };

// "  fluent-bit-4242    (   4242) [001] .....   490.587393: sys_inotify_add_watch -> 0xffffffffffffffe4"
// comm may hold spaces and dashes: the tid is the last "-NUMBER" before the tgid's parentheses.
const EXIT_LINE = /^\s*(.*)-(\d+)\s+\(\s*(\d+|-+)\)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): sys_(\w+) -> (0x[0-9a-f]+)\s*$/;
// A CPU's buffer overran between reads: "CPU:1 [LOST 1234 EVENTS]".
const LOST_LINE = /^CPU:\d+ \[LOST (\d+) EVENTS\]/;

export function parseTraceLine(line: string): TraceLine | null {
  const lost = LOST_LINE.exec(line);
  if (lost) return { kind: 'lost', events: Number(lost[1]) };
  const match = EXIT_LINE.exec(line);
  if (!match) return null;
  const [, comm, tid, tgid, seconds, name, ret] = match as unknown as [string, string, string, string, string, string, string];
  if (!TRACED_SYSCALLS.includes(name)) return null;
  return {
    kind: 'exit',
    exit: {
      comm,
      tid: Number(tid),
      tgid: /^\d+$/.test(tgid) ? Number(tgid) : null,
      seconds: Number(seconds),
      syscall: name as TracedSyscall,
      ret: signed64(ret),
    },
  };
}

/** The kernel prints a syscall's long return value as 64-bit hex: 0xffffffffffffffe4 is -28. */
function signed64(hex: string): number {
  const value = BigInt(hex);
  return Number(value >= 1n << 63n ? value - (1n << 64n) : value);
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
export function parseStartTicks(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close === -1) return null;
  // After ") " come fields 3 (state) onwards.
  const ticks = Number(stat.slice(close + 2).split(' ')[19]);
  return Number.isInteger(ticks) ? ticks : null;
}

/** /proc/stat's btime: the boot time in seconds since the epoch. */
export function parseBootTime(stat: string): number | null {
  const match = /^btime (\d+)$/m.exec(stat);
  return match ? Number(match[1]) : null;
}

/** The soft limit of "Max open files" in /proc/PID/limits; null when unlimited or missing. */
export function parseMaxOpenFiles(limits: string): number | null {
  const match = /^Max open files\s+(\d+)/m.exec(limits);
  return match ? Number(match[1]) : null;
}

/** "Tgid:" of /proc/TID/status: the process a thread belongs to. */
export function parseTgid(status: string): number | null {
  const match = /^Tgid:\s*(\d+)$/m.exec(status);
  return match ? Number(match[1]) : null;
}

/** The pid in a trace instance's name made by inotop ("inotop-4242", "inotop-4242-churn-2"); null for others. */
export function instanceOwner(name: string): number | null {
  const match = /^inotop-(\d+)(?:-[a-z0-9-]+)?$/.exec(name);
  return match ? Number(match[1]) : null;
}
