// Where tracefs is, and inotop's trace instances in it. tracefs is one superblock: an instance
// made through any mount of it is seen through every other. Everything under the root goes
// through a directory fd (/proc/self/fd/N/...), so a root reached through a helper's private
// mount namespace keeps working after the helper is gone, from any thread of this process.
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { readlinkOrNull, readProcTextOrNull } from '../scan/procfs.js';
import { errorCode } from '../sys/errno.js';
import { detachedMounts } from '../sys/files.js';
import { instanceOwner, parseBootTime, parseStartTicks } from './parse.js';

/** Where tracefs mounts itself when asked to; exists (empty) whenever the kernel has tracefs. */
const STANDARD_MOUNTPOINT = '/sys/kernel/tracing';
const HELPER_TIMEOUT_MS = 3000;
/** Linux's USER_HZ, the unit of /proc/PID/stat's start time, is 100 on every architecture. */
const TICKS_PER_SECOND = 100;
/** /proc/stat's boot time has whole seconds: start times compare within this much. */
const START_TIME_SLACK_MS = 2000;

export class TracefsRoot {
  private constructor(
    private readonly fd: number,
    /** Where it was found, for messages. */
    readonly source: string,
  ) {}

  static open(dir: string, source: string): TracefsRoot {
    return new TracefsRoot(openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY), source);
  }

  path(relative: string): string {
    return `/proc/self/fd/${this.fd}/${relative}`;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * The tracefs root, or why there is none: $INOTOP_TRACEFS when set, else a mount of this mount
 * namespace, else a detached mount of our own (root only), else a private mount made by a helper
 * in a mount namespace of its own (root only), which ends with the helper. Either ends with the
 * fd we hold: nothing is left mounted on the node.
 */
export async function openTracefs(override: string | undefined): Promise<TracefsRoot | string> {
  if (override !== undefined) {
    return existsSync(`${override}/instances`) ? TracefsRoot.open(override, override) : `no tracefs at ${override} (INOTOP_TRACEFS)`;
  }
  const mounted = tracefsMountpoints(mountinfoText()).find((dir) => existsSync(`${dir}/instances`));
  if (mounted) return TracefsRoot.open(mounted, mounted);
  return detachedMount() ?? privateMount();
}

/**
 * tracefs mounted nowhere (fsopen, fsmount), its root opened; null when the kernel or koffi cannot
 * (then the helper tries). No process to start (unshare, sh, mount) nor node:child_process to load.
 */
function detachedMount(): TracefsRoot | null {
  const mounts = detachedMounts();
  if (!mounts.ok) return null;
  const fd = mounts.value.mount('tracefs');
  if (fd < 0) return null;
  try {
    return TracefsRoot.open(`/proc/self/fd/${fd}`, 'a detached mount');
  } catch {
    return null;
  } finally {
    mounts.value.close(fd);
  }
}

/** Our mountinfo, whole: it comes a page of mounts per read (readProcBytes would stop at the first). */
function mountinfoText(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}

/** Mount points of tracefs in a mountinfo text. */
export function tracefsMountpoints(mountinfo: string): string[] {
  const points: string[] = [];
  // Most nodes mount none: every one-shot asks (Tracer.start), and the text then says so at once.
  if (!mountinfo.includes(' - tracefs ')) return points;
  for (const line of mountinfo.split('\n')) {
    const [mount, fs] = line.split(' - ');
    if (fs?.split(' ')[0] !== 'tracefs') continue;
    const mountpoint = mount!.split(' ')[4];
    if (mountpoint) points.push(mountpoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}

/** A helper mounts tracefs in its own mount namespace; we open its root there, then let it end. */
function privateMount(): Promise<TracefsRoot | string> {
  const script = `mount -t tracefs tracefs ${STANDARD_MOUNTPOINT} && echo ready && read _`;
  return new Promise((resolve) => {
    // node:child_process (and the net and dgram it loads) only when a mount is needed: some 7 ms
    // of start-up otherwise.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const helper = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let settled = false;
    const settle = (result: TracefsRoot | string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      helper.stdin.end();
      resolve(result);
    };
    const timer = setTimeout(() => {
      helper.kill('SIGKILL');
      settle('no tracefs mounted, and the helper that mounts one privately did not answer');
    }, HELPER_TIMEOUT_MS);
    helper.stdin.on('error', () => undefined);
    helper.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    helper.stdout.once('data', () => {
      try {
        settle(TracefsRoot.open(`/proc/${helper.pid}/root${STANDARD_MOUNTPOINT}`, 'a private mount'));
      } catch (error) {
        settle(`cannot open the private tracefs mount: ${(error as Error).message}`);
      }
    });
    helper.once('error', (error) => settle(`no tracefs mounted, and no unshare to mount one privately (${error.message})`));
    helper.once('exit', () => {
      const why = stderr.trim().split('\n').pop() || 'it failed';
      settle(`no tracefs mounted, and a private mount needs root (${why})`);
    });
  });
}

/** Whether this process has looked already (check starts two tracers that do not trace: its own and its collector's). */
let lookedWhereMounted = false;

/**
 * For an inotop that does not trace (a one-shot run, --no-trace): the stale instances of killed
 * inotops removed where tracefs is mounted already ($INOTOP_TRACEFS, else this mount namespace's
 * mount), nothing mounted for it, once a process. Names of what was removed.
 */
export function removeStaleInstancesWhereMounted(override: string | undefined): string[] {
  if (lookedWhereMounted) return [];
  lookedWhereMounted = true;
  const mounted = override ?? tracefsMountpoints(mountinfoText()).find((dir) => existsSync(`${dir}/instances`));
  if (mounted === undefined) return [];
  let root: TracefsRoot;
  try {
    root = TracefsRoot.open(mounted, mounted);
  } catch {
    return [];
  }
  try {
    return removeStaleInstances(root);
  } finally {
    root.close();
  }
}

/**
 * Removes instances of inotop processes that no longer run: the pid is gone, or started after
 * the instance was made (so it is not the one that made it). An instance still open by its
 * inotop cannot be removed anyway (EBUSY).
 */
export function removeStaleInstances(root: TracefsRoot): string[] {
  const bootTime = parseBootTime(readProcTextOrNull('/proc/stat') ?? '');
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(root.path('instances'));
  } catch {
    return removed;
  }
  for (const name of names) {
    const owner = instanceOwner(name);
    if (owner === null) continue;
    const dir = root.path(`instances/${name}`);
    let madeAt: number;
    try {
      madeAt = statSync(dir).ctimeMs;
    } catch {
      continue;
    }
    const ticks = parseStartTicks(readProcTextOrNull(`/proc/${owner}/stat`) ?? '');
    const startedAt = ticks === null || bootTime === null ? null : (bootTime + ticks / TICKS_PER_SECOND) * 1000;
    if (ticks !== null && (startedAt === null || startedAt <= madeAt + START_TIME_SLACK_MS)) continue;
    try {
      rmdirSync(dir);
      removed.push(name);
    } catch {
      // In use (an inotop in another pid namespace with this pid) or removed by another inotop.
    }
  }
  return removed;
}

/** What an instance enables: an event and the kernel filter that keeps only what we count. */
export interface EventSpec {
  /** Under events/, e.g. "syscalls/sys_exit_inotify_add_watch". */
  event: string;
  filter: string;
}

/** A trace instance of our own: its own buffer and events, read through trace_pipe without blocking. */
export class TraceInstance {
  private readonly pipe: number;
  private readonly chunk = Buffer.allocUnsafe(1 << 16);
  private partial = '';

  private constructor(
    private readonly root: TracefsRoot,
    readonly name: string,
    /** The events enabled: those of the asked ones that this kernel has. */
    readonly events: readonly string[],
  ) {
    this.pipe = openSync(root.path(`instances/${name}/trace_pipe`), constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /**
   * Makes `<prefix>`, or `<prefix>-2`... when this process has one already, with only `events`
   * enabled; events missing from this kernel are skipped, but one must exist.
   */
  static create(root: TracefsRoot, prefix: string, events: readonly EventSpec[], settings: Readonly<Record<string, string>>): TraceInstance {
    let name = prefix;
    for (let n = 2; ; n++) {
      try {
        mkdirSync(root.path(`instances/${name}`));
        break;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
        name = `${prefix}-${n}`;
      }
    }
    const dir = root.path(`instances/${name}`);
    try {
      for (const [file, value] of Object.entries(settings)) if (existsSync(`${dir}/${file}`)) writeFileSync(`${dir}/${file}`, value);
      const present = events.filter((spec) => existsSync(`${dir}/events/${spec.event}`));
      if (present.length === 0) throw new Error('this kernel has no inotify syscall tracepoints (CONFIG_FTRACE_SYSCALLS)');
      for (const spec of present) {
        writeFileSync(`${dir}/events/${spec.event}/filter`, spec.filter);
        writeFileSync(`${dir}/events/${spec.event}/enable`, '1');
      }
      return new TraceInstance(
        root,
        name,
        present.map((spec) => spec.event),
      );
    } catch (error) {
      rmdirSync(dir);
      throw error;
    }
  }

  /** The whole lines traced since the last read, at most about `maxBytes` of them. */
  readLines(maxBytes: number): string[] {
    let text = this.partial;
    for (let total = 0; total < maxBytes;) {
      let n: number;
      try {
        n = readSync(this.pipe, this.chunk, 0, this.chunk.length, null);
      } catch (error) {
        if (errorCode(error) === 'EAGAIN') break;
        throw error;
      }
      if (n === 0) break;
      text += this.chunk.toString('utf8', 0, n);
      total += n;
    }
    const end = text.lastIndexOf('\n');
    this.partial = text.slice(end + 1);
    return end === -1 ? [] : text.slice(0, end).split('\n');
  }

  /** Closes the pipe (an open file keeps the instance busy) and removes the instance. */
  remove(): void {
    try {
      closeSync(this.pipe);
    } catch {
      // Closed for us: the process is ending under this thread (removeOpenInstances).
    }
    rmdirSync(this.root.path(`instances/${this.name}`));
  }
}

/**
 * Removes this process's instances through its open files, from any thread: for a collector
 * thread that will run no more code (about to be terminated in the middle of a long scan, or the
 * process exiting under it). Its trace_pipe files are closed (open, they keep an instance busy),
 * then the instances removed through the tracefs root it holds open. Blocks up to `waitMs` for
 * a thread that closes them itself.
 */
export function removeOpenInstances(waitMs: number): void {
  // A thread that is stopping may be removing them right now: give it the time to.
  const deadline = Date.now() + waitMs;
  while (openPipes().length > 0 && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  for (const fd of openPipes()) closeSync(fd);
  for (const fd of readdirSync('/proc/self/fd')) {
    // Our own handle: the thread may close its root meanwhile.
    let instances: number;
    try {
      instances = openSync(`/proc/self/fd/${fd}/instances`, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch {
      continue; // not a tracefs root
    }
    for (const name of readdirSync(`/proc/self/fd/${instances}`)) {
      if (instanceOwner(name) !== process.pid) continue;
      try {
        rmdirSync(`/proc/self/fd/${instances}/${name}`);
      } catch {
        // Removed by the thread meanwhile, or by the next inotop to start (removeStaleInstances).
      }
    }
    closeSync(instances);
  }
}

/** This process's open trace_pipe files of its own instances. */
function openPipes(): number[] {
  const pipe = new RegExp(`/instances/inotop-${process.pid}(?:-[a-z0-9-]+)?/trace_pipe$`);
  return readdirSync('/proc/self/fd')
    .filter((fd) => pipe.test(readlinkOrNull(`/proc/self/fd/${fd}`) ?? ''))
    .map(Number);
}
