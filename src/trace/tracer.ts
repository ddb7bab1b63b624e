// The tracer of the collection stage: a trace instance of our own (inotop-<pid>) with only the
// exits of the inotify syscalls enabled, filtered in the kernel to the calls that failed for
// want of a resource, and another one (inotop-<pid>-churn) for the watches added and removed:
// a burst of those must not push failures out of a full buffer. The second also has the other
// successful calls that change a process's instances or groups (inotify_init*, fanotify_*): which
// processes made any tells a refresh between full scans what to read again. Each refresh reads
// what came in without blocking and counts it per process. The instances go on every exit path: stop(),
// process exit and, on the main thread, SIGINT, SIGTERM and SIGHUP; those left by a SIGKILL are
// removed by the next inotop to start.
import { NO_TRACE_REASON, type PodRef, type SyscallFailure, type TraceStatus, type WatchChurn } from '../model/types.js';
import { parseEffectiveUid, parseNamespaceLink, parsePasswd } from '../scan/parse.js';
import { listFds, readlinkOrNull, readProcTextOrNull } from '../scan/procfs.js';
import { ChurnCounter } from './churn.js';
import { FailureLog, RESOURCE_ERRNOS, type FailingProcess, type LimitContext } from './failures.js';
import { errnoNumber, isPermissionDenied } from '../sys/errno.js';
import { CHANGING_SYSCALLS, FAILING_SYSCALLS, parseMaxOpenFiles, parseTgid, parseTraceLine, type SyscallExit } from './parse.js';
import { openTracefs, removeStaleInstances, removeStaleInstancesWhereMounted, TraceInstance, TracefsRoot, type EventSpec } from './tracefs.js';

export interface TracerOptions {
  enabled: boolean;
  /** Why it is not enabled, as the snapshot's trace.reason says (default NO_TRACE_REASON). */
  offReason?: string;
  /** Only the live /proc can be traced. */
  procRoot: string;
  /**
   * Whether the churn instance is made too (default true). check reads failures only: a second
   * instance would cost it a mkdir and an rmdir in tracefs, the dearest part of its run.
   */
  churn?: boolean;
}

export interface TakeContext extends LimitContext {
  /** The pod of a process from its /proc/PID/cgroup lines. */
  podOf?: (pid: number, cgroups: string[]) => PodRef | null;
}

export interface TraceTake {
  failures: SyscallFailure[];
  /** Since the previous take; [] when tracing is off. */
  churn: WatchChurn[];
  status: TraceStatus;
  /** Said once: why tracing is off, how many failures were lost. */
  notes: string[];
}

const KERNEL_FILTER = RESOURCE_ERRNOS.map((name) => `ret == -${errnoNumber(name)}`).join(' || ');
const FAILURE_EVENTS: readonly EventSpec[] = FAILING_SYSCALLS.map((syscall) => ({ event: `syscalls/sys_exit_${syscall}`, filter: KERNEL_FILTER }));
const CHURN_EVENTS: readonly EventSpec[] = [
  { event: 'syscalls/sys_exit_inotify_add_watch', filter: 'ret >= 0' },
  { event: 'syscalls/sys_exit_inotify_rm_watch', filter: 'ret == 0' },
  ...CHANGING_SYSCALLS.map((syscall) => ({ event: `syscalls/sys_exit_${syscall}`, filter: 'ret >= 0' })),
];
const SETTINGS = {
  // The clock of process.hrtime(), so that times convert to the wall clock exactly.
  trace_clock: 'mono',
  // Names the process of a thread; without it, /proc/TID/status tells while the thread lives.
  'options/record-tgid': '1',
  // Per CPU: thousands of failures between two refreshes; a SIGKILLed inotop leaves little behind.
  buffer_size_kb: '512',
};
/** Read per refresh at most: a storm of failures must not stall the refresh. */
const MAX_READ_BYTES = 8 << 20;
const EXIT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class Tracer {
  private status: TraceStatus;
  private root: TracefsRoot | null = null;
  private failureInstance: TraceInstance | null = null;
  private churnInstance: TraceInstance | null = null;
  private readonly log = new FailureLog();
  private readonly churn = new ChurnCounter();
  /** Processes that made a traced successful call since takeChanged() last answered. */
  private changed = new Set<number>();
  /** Whether `changed` is all there is: every changing event enabled and none lost since. */
  private changedComplete = false;
  /** process.hrtime() of the previous take (or of the start), in ms. */
  private lastTakeMs = 0;
  private notes: string[] = [];
  private hostUserns: string | null = null;
  private userNames: Map<number, string> | null = null;
  private readonly onExit = () => this.stop();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.stop();
    // Ours was the only handler: die of the signal as if there had been none.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  constructor(private readonly options: TracerOptions) {
    this.status = { state: 'off', reason: options.enabled ? 'not started' : (options.offReason ?? NO_TRACE_REASON) };
  }

  /**
   * Makes the trace instances; every inotop of the live node, tracing or not, first removes those
   * a killed inotop left (tracing: through the tracefs it uses; not: where one is mounted already).
   */
  async start(): Promise<void> {
    if (this.options.procRoot !== '/proc') {
      if (this.options.enabled) this.off(`tracing needs the live /proc, not ${this.options.procRoot}`, false);
      return;
    }
    if (!this.options.enabled) {
      removeStaleInstancesWhereMounted(process.env.INOTOP_TRACEFS);
      return;
    }
    const root = await openTracefs(process.env.INOTOP_TRACEFS);
    if (typeof root === 'string') return this.off(root, true);
    this.root = root;
    // Before the instance exists: a signal with no listener kills at once, one with a listener
    // waits for this synchronous code to end.
    process.on('exit', this.onExit);
    // node:worker_threads is loaded here, once tracing starts, not by every one-shot run.
    if (process.getBuiltinModule('node:worker_threads').isMainThread) for (const signal of EXIT_SIGNALS) process.on(signal, this.onSignal);
    try {
      removeStaleInstances(root);
      this.failureInstance = TraceInstance.create(root, `inotop-${process.pid}`, FAILURE_EVENTS, SETTINGS);
      if (this.options.churn !== false) this.churnInstance = TraceInstance.create(root, `inotop-${process.pid}-churn`, CHURN_EVENTS, SETTINGS);
    } catch (error) {
      const why = isPermissionDenied(error) ? 'creating a trace instance needs root' : (error as Error).message;
      this.stop();
      return this.off(why, true);
    }
    this.changedComplete = this.tellsChanges();
    this.hostUserns = parseNamespaceLink(readlinkOrNull('/proc/1/ns/user') ?? readlinkOrNull('/proc/self/ns/user') ?? '');
    this.status = { state: 'on', reason: null };
    this.lastTakeMs = hrtimeMs();
  }

  /** The failures so far, with what came in since the previous take; `context` is this refresh's scan. */
  take(context: TakeContext): TraceTake {
    const now = hrtimeMs();
    // trace_clock mono is process.hrtime()'s clock.
    const wallOffsetMs = Date.now() - now;
    if (this.failureInstance) this.readFailures(this.failureInstance, context, wallOffsetMs);
    if (this.churnInstance) this.readChurn(this.churnInstance);
    const churn = this.churnInstance ? this.churn.take((now - this.lastTakeMs) / 1000) : [];
    this.lastTakeMs = now;
    const notes = this.notes;
    this.notes = [];
    return { failures: this.log.take(context), churn, status: this.status, notes };
  }

  /**
   * The processes whose inotify instances or fanotify groups may have changed by a call of theirs
   * since the previous takeChanged(); null when the trace cannot tell (off, events missing from
   * this kernel, or lost to a full buffer). Changes without a call (a watched inode deleted, an
   * unmount, a closed or inherited fd) are not in it: full scans find those.
   */
  takeChanged(): ReadonlySet<number> | null {
    if (this.churnInstance) this.readChurn(this.churnInstance);
    const changed = this.changedComplete ? this.changed : null;
    this.changed = new Set();
    this.changedComplete = this.tellsChanges();
    return changed;
  }

  stop(): void {
    process.off('exit', this.onExit);
    for (const signal of EXIT_SIGNALS) process.off(signal, this.onSignal);
    const instances = [this.failureInstance, this.churnInstance].filter((i) => i !== null);
    this.failureInstance = this.churnInstance = null;
    for (const instance of instances) {
      try {
        instance.remove();
      } catch {
        // Nothing more can be done here; the next inotop removes it (removeStaleInstances).
      }
    }
    if (instances.length > 0) this.status = { state: 'off', reason: 'stopped' };
    this.closeRoot();
  }

  private off(reason: string, say: boolean): void {
    this.status = { state: 'off', reason };
    if (say) this.notes.push(`failed inotify calls not traced: ${reason}`);
  }

  private closeRoot(): void {
    this.root?.close();
    this.root = null;
  }

  private readFailures(instance: TraceInstance, context: TakeContext, wallOffsetMs: number): void {
    const processes = new Map<number, FailingProcess>();
    for (const exit of this.readExits(instance, 'failed inotify calls').exits) {
      const pid = pidOf(exit);
      let failing = processes.get(pid);
      if (!failing) {
        failing = this.readProcess(pid, exit, context);
        processes.set(pid, failing);
      }
      this.log.record(failing, exit.syscall, -exit.ret, exit.seconds * 1000 + wallOffsetMs);
    }
  }

  /** Whether the churn instance has every event after which a process's instances may differ. */
  tellsChanges(): boolean {
    return this.churnInstance !== null && this.churnInstance.events.length === CHURN_EVENTS.length;
  }

  private readChurn(instance: TraceInstance): void {
    const comms = new Map<number, string>();
    const { exits, lost } = this.readExits(instance, 'watch adds and removes');
    if (lost) this.changedComplete = false;
    for (const exit of exits) {
      const pid = pidOf(exit);
      this.changed.add(pid);
      if (exit.syscall !== 'inotify_add_watch' && exit.syscall !== 'inotify_rm_watch') continue;
      let comm = comms.get(pid);
      if (comm === undefined) {
        comm = readProcTextOrNull(`/proc/${pid}/comm`)?.trimEnd() ?? exit.comm;
        comms.set(pid, comm);
      }
      this.churn.add(pid, comm, exit.syscall === 'inotify_rm_watch' ? 'remove' : 'add');
    }
  }

  /** The syscall exits that came in; a note says how many of `what` a full buffer lost. */
  private readExits(instance: TraceInstance, what: string): { exits: SyscallExit[]; lost: boolean } {
    const exits: SyscallExit[] = [];
    let lost = 0;
    for (const line of instance.readLines(MAX_READ_BYTES)) {
      const parsed = parseTraceLine(line);
      if (parsed?.kind === 'lost') lost += parsed.events;
      else if (parsed) exits.push(parsed.exit);
    }
    if (lost > 0) this.notes.push(`the trace buffer overran: ${lost} ${what} not counted`);
    return { exits, lost: lost > 0 };
  }

  /** The process as it is now; what the trace line says when it is gone. */
  private readProcess(pid: number, exit: SyscallExit, context: TakeContext): FailingProcess {
    const status = readProcTextOrNull(`/proc/${pid}/status`);
    const uid = status === null ? null : parseEffectiveUid(status);
    if (status === null || uid === null) return { pid, comm: exit.comm, uid: null, user: null, userns: null, pod: null, fdLimit: null, openFds: null };
    const userns = parseNamespaceLink(readlinkOrNull(`/proc/${pid}/ns/user`) ?? '');
    const namespaced = userns !== null && userns !== this.hostUserns ? userns : null;
    const cgroups = (readProcTextOrNull(`/proc/${pid}/cgroup`) ?? '').split('\n').filter(Boolean);
    return {
      pid,
      comm: /^Name:\t(.*)$/m.exec(status)?.[1] ?? exit.comm,
      uid,
      user: context.users.find((u) => u.uid === uid && u.userns === namespaced)?.name ?? this.userName(uid),
      userns: namespaced,
      pod: context.podOf?.(pid, cgroups) ?? null,
      fdLimit: parseMaxOpenFiles(readProcTextOrNull(`/proc/${pid}/limits`) ?? ''),
      openFds: openFdCount(pid),
    };
  }

  private userName(uid: number): string {
    this.userNames ??= parsePasswd(readProcTextOrNull('/etc/passwd') ?? '');
    return this.userNames.get(uid) ?? String(uid);
  }
}

/** CLOCK_MONOTONIC in ms: the trace's clock (trace_clock mono), not the process's uptime. */
function hrtimeMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** How many fds a process has open now (one getdents64 listing); null when it cannot be read. */
function openFdCount(pid: number): number | null {
  try {
    return listFds(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** The process of the thread that made the call. */
function pidOf(exit: SyscallExit): number {
  return exit.tgid ?? parseTgid(readProcTextOrNull(`/proc/${exit.tid}/status`) ?? '') ?? exit.tid;
}
