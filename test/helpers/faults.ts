// Fault injection: runs the compiled CLI under strace's syscall tampering (`-e inject=SYSCALL:
// error=ERRNO:when=N+`: from the Nth call of that syscall on, in each thread, the call fails with
// ERRNO and is not made), and judges what came out. A run may fail, say it cannot tell, or give
// counts with a note that some were not read; it may not print a stack trace, hang, or exit 0 with
// counts that differ from the truth and nothing said.
import { spawnSync } from 'node:child_process';
import { inotopBin } from './build.js';
import { FAULT_OUTCOMES } from './fault-outcomes.js';

export const FAULT_SYSCALLS = [
  'openat',
  'read',
  'pread64',
  'getdents64',
  'readlinkat',
  'ioctl',
  'open_by_handle_at',
  'name_to_handle_at',
  'open_tree',
  'statx',
  'write',
] as const;
/**
 * ENOENT and ESRCH are the kernel's words for "gone" (an fd closed, a process exited): the scan
 * takes them for that, so they are the faults that could pass for the truth (a figure read as 0).
 */
export const FAULT_ERRNOS = ['EIO', 'ENOMEM', 'EMFILE', 'EINTR', 'EACCES', 'ENOENT', 'ESRCH'] as const;
/** strace's `when`: "50+" is the 50th call and every later one; "50" the 50th only. */
export const FAULT_WHENS = ['1+', '50+', '500+'] as const;

export interface Fault {
  syscall: string;
  errno: string;
  when: string;
}

export function faultName(fault: Fault): string {
  return `${fault.syscall}:${fault.errno}:${fault.when}`;
}

/** Every syscall × errno × when. */
export function fullMatrix(): Fault[] {
  return FAULT_SYSCALLS.flatMap((syscall) => FAULT_ERRNOS.flatMap((errno) => FAULT_WHENS.map((when) => ({ syscall, errno, when }))));
}

/**
 * What CI runs (a minute or two): the faults the second reliability review found wrong answers
 * and crashes with, the "gone" errnos a scan could once take for the truth, and one of each other
 * syscall where inotop handles it itself.
 */
export function ciSubset(): Fault[] {
  const list: [string, string, string][] = [
    ['readlinkat', 'EACCES', '50+'],
    // A "gone" that is a lie (every process here lives): once read as every later fd closed, and check said ok.
    ['readlinkat', 'ENOENT', '50+'],
    ['readlinkat', 'ESRCH', '1+'],
    ['openat', 'ENOENT', '50+'],
    ['getdents64', 'ESRCH', '50+'],
    ['getdents64', 'EIO', '1+'],
    ['getdents64', 'ENOMEM', '50+'],
    ['getdents64', 'EINTR', '50+'],
    ['pread64', 'EIO', '50+'],
    ['pread64', 'ENOMEM', '50'],
    ['pread64', 'EINTR', '1+'],
    ['pread64', 'EACCES', '50+'],
    ['openat', 'EMFILE', '50+'],
    ['openat', 'EACCES', '500+'],
    ['read', 'ENOMEM', '50+'],
    ['statx', 'EIO', '50+'],
    ['open_by_handle_at', 'EIO', '1+'],
    ['ioctl', 'EIO', '1+'],
    ['write', 'EIO', '1+'],
  ];
  return list.map(([syscall, errno, when]) => ({ syscall, errno, when }));
}

export interface FaultRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * The environment of a run: ours without NODE_EXTRA_CA_CERTS, which has Node open and read a file
 * at start-up, before inotop's code runs, and so moves every later openat and read by some calls:
 * the matrix's outcomes are the same wherever it runs.
 */
function runEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

/** Runs `inotop ARGS` with the fault injected (or none), within `timeoutMs`. */
export function runInotop(args: string[], fault: Fault | null, timeoutMs = 30_000, env: NodeJS.ProcessEnv = runEnv()): FaultRun {
  // --seccomp-bpf stops only at the traced syscall: the run takes about its own time.
  const strace = fault
    ? [
        'strace',
        '-f',
        '--seccomp-bpf',
        '-qq',
        '-o',
        '/dev/null',
        '-e',
        `trace=${fault.syscall}`,
        '-e',
        `inject=${fault.syscall}:error=${fault.errno}:when=${fault.when}`,
      ]
    : [];
  // coreutils' timeout runs strace in a process group of its own and kills the whole group: a
  // SIGKILL to strace alone would leave the traced inotop running, detached.
  const deadline = ['timeout', '-s', 'KILL', `${timeoutMs / 1000}`];
  const [command, ...rest] = [...deadline, ...strace, process.execPath, inotopBin, ...args];
  const result = spawnSync(command!, rest, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    timedOut: result.signal === 'SIGKILL' || result.status === 124 || result.status === 128 + 9,
  };
}

/** JavaScript stack frames ("    at f (file:1:2)"). */
const STACK_FRAME = /^\s+at .*(?:\(.*:\d+:\d+\)|:\d+:\d+)$/gm;
/** A frame of Node's own code: a failure there before inotop's code runs (its entry point not found) is Node's. */
const NODE_FRAME = /\((?:node:|<anonymous>)|at node:/;

/** What is wrong with a run whatever its mode, or null. Exiting non-zero is allowed: a failure said, or the runtime aborting. */
export function generalProblem(run: FaultRun): string | null {
  if (run.timedOut) return 'hung (killed after the timeout)';
  const frames = run.stderr.match(STACK_FRAME) ?? [];
  if (frames.some((frame) => !NODE_FRAME.test(frame))) return `stack trace on stderr: ${run.stderr.slice(0, 600)}`;
  if (run.status === 0 && run.stderr.split('\n').filter(Boolean).length > 20) return 'exit 0 with a flood on stderr';
  return null;
}

/** Node itself failed before inotop's code ran (its dynamic libraries, its entry point, libuv's own aborts): not inotop's to say. */
export function runtimeFailure(run: FaultRun): boolean {
  return run.signal === 'SIGABRT' || run.status === 134 || run.status === 127 || ((run.stderr.match(STACK_FRAME) ?? []).length > 0 && !generalProblem(run));
}

/**
 * What a run came to. exact: the truth (json, -b: every row right; check: exit 1, the problem
 * named); said: json and -b exit 0 with rows wrong and "not read whole" said, check exit 2
 * ("cannot tell"); failed: a non-zero exit with a message (check: neither 1 nor 2); runtime: Node
 * itself failed before inotop's code ran; hung: killed at the timeout, allowed only where the
 * matrix expects it (a call failing EINTR at every try, which libuv and Node retry without end).
 */
export type Outcome = 'exact' | 'said' | 'failed' | 'runtime' | 'hung';
export type FaultMode = 'json' | 'batch' | 'check';

/** The outcomes the matrix expects of `fault` in `mode` (FAULT_OUTCOMES), undefined for a fault it does not hold. */
export function expectedOutcomes(fault: Fault, mode: FaultMode): readonly Outcome[] | undefined {
  const row = FAULT_OUTCOMES.get(faultName(fault));
  return row?.[mode];
}
