// A one-shot scan of a big node, read by two threads. The machine has cores to spare (a node
// that runs pods has two at least) and a scan is syscalls, each thread's its own: on a big node
// the main thread and a worker thread each read a share of the pids. Where the node holds many
// open files (/proc/sys/fs/file-nr, one read), the worker is started as the scanner is made,
// before the scan: Node takes some 100 ms to start a thread, which then overlaps the main thread's
// own start and first reading, and the worker waits for the scan's pid list. Elsewhere the main
// thread starts alone, at once, and starts the worker only once the scan shows it is big: an idle
// node's one-shot never pays a thread's start (some 60 ms of CPU). Both take chunks of the pid list from
// a shared counter, so the worker's start-up delay balances itself: the main thread reads on
// meanwhile. Until it has decided, the main thread takes chunks from both ends of the pid list in
// turn, so that the pace it measures is neither the kernel threads' alone (the lowest pids, with no
// fds: a big node looked small for tens of ms) nor the newest processes' alone (an idle node's few
// busy holders, read with the code still cold: its 90 light pids looked like 150 ms more); then it
// reads on from the top, and the worker from the bottom, past the main thread's. At the end the
// main thread takes the worker's processes (its watch lists moved, not copied), synchronously
// (Atomics.wait and receiveMessageOnPort: no turn of the event loop); a worker that cannot start or
// dies leaves its chunks to the main thread, after a bounded wait. Shared instances are told apart
// by a FileSet both threads add their holders' fds to as they read their queues (ShareInit.fileSet:
// the main thread reads it once both are done); without one (no pidfd_getfd), each thread orders
// its own instances by kcmp before the join (sharedOrder), the main thread, done reading, sends the
// worker its order, and the worker merges the two (kcmp calls: 5–15 ms at 1,000 instances) while
// the main thread takes its processes in, then sends the runs of instances that are one file (SharedRuns).
import type { MessagePort, Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ScannedProcess, WatchList } from '../model/types.js';
import { startWorker } from '../package-files.js';
import { errorText } from '../common/error-text.js';
import { uptimeMs } from '../deadline.js';
import { awaitWhileAlive, STALL_MS } from '../common/thread-stop.js';
import type { MissList } from './coverage.js';
import type { FileSetShare } from '../sys/filesets.js';
import { releaseOptimizer } from '../sys/optimizer.js';
import { parseSysctlNumber } from './parse.js';
import { readProcTextOrNull } from './procfs.js';

export interface SecondThreadTuning {
  /**
   * The worker is started as the scanner is made (ScanThread.early) where the node holds at least
   * this many open files (file handles allocated: /proc/sys/fs/file-nr), when a core looks free;
   * elsewhere, and where that could not start it, as follows.
   */
  earlyOpenFiles: number;
  /** The main thread reads alone for at least this long, and a chunk at each end of the pid list at least... */
  afterMs: number;
  /** ...and starts the worker only once the pids left would take it at least this long more, at its pace so far (workerPays). */
  leftMs: number;
  /**
   * ...and only while a core looks free: fewer tasks runnable now than cores (ourselves counted:
   * /proc/loadavg), or at most this share (%) of the last 10 s with some task waiting for a CPU
   * (/proc/pressure/cpu's "some avg10": an average, which stays high for 10–20 s after a burst of
   * work has ended). Where every core is busy, a second thread would take turns with the first and
   * with the node's work: more CPU, no sooner done.
   */
  maxCpuPressure: number;
  /** Pids per chunk claimed. */
  chunkPids: number;
  /**
   * The main thread, done with its share, waits for the worker's as long as the worker shows a
   * sign of life (a process or fd read) at least this often; past that it reads the worker's
   * chunks itself.
   */
  stallMs: number;
  /** Tests: the main thread waits for the worker to be running before it reads on, so that both read however slowly a thread starts (under tsx). */
  awaitStart?: boolean;
  /** Tests: the worker dies (an uncaught error) when it claims more than this many pids, before it sends any. */
  dieAfterPids?: number;
}

/**
 * Measured on the project's machine (2 cores; README, "One-shots on two threads"): a worker
 * thread runs its first line some 60 ms after it is asked for (150–250 ms when the cores are
 * busy), with as much CPU, while the main thread reads on. One started with L ms of reading left
 * takes about (L − 60) / 2 off the scan: at 150 ms left, some 45 ms at least for its CPU. The
 * first 15 ms tell the pace; an idle node's whole scan (some 100 processes) takes 20–30 ms, with
 * a few ms left at 15. Chunks of 2 pids keep the two threads' ends close: the thread done first
 * waits for the other's last chunk, half a chunk on average, and at `shared` a holder (two
 * instances of 100 watches, 50 other fds) is 1–2 ms of reading (8 pids a chunk: the main thread
 * waited 1–17 ms for the worker's last in profiles, 9 on average); a claim is one atomic add. 20,000 open files are 100 ms of reading at the least (a
 * `readlinkat` of 4–5 µs for each fd that holds one), before any process's other files and any
 * watch: a thread started before the scan then pays (the bench's idle node holds some 2,000, its
 * `shared` node 27,000; a node that holds 20,000 and scans fast costs the worker's start on the
 * other core, and the 3–10 ms of the main thread's asking for it). Files shared by forked processes
 * count once there, however many fds hold them: such a node is left to the decision as it reads.
 */
export const SECOND_THREAD: SecondThreadTuning = { earlyOpenFiles: 20_000, afterMs: 15, leftMs: 150, maxCpuPressure: 20, chunkPids: 2, stallMs: STALL_MS };

/** A share of the pid list: pids[start, end). */
export interface PidRange {
  start: number;
  end: number;
}

/** What the worker read, as plain data: a scan's processes and what it missed of them. */
export interface ScanPart {
  processes: ScannedProcess[];
  misses: MissList;
  /** Processes whose fds were off limits (permission), and why. */
  denied: [number, string][];
  outOfFds: boolean;
  parsedInstances: string[];
  /** Its instances and groups in the kernel's order, when asked (ShareInit.orderShared). */
  sharedOrder: SharedOrder | null;
  /** Its holders' queues by "pid:fd" (ScanResult.queued), when asked (ShareInit.readQueues) and it could read them. */
  queued: [string, number][] | null;
  /** Its side of the scan's FileSet (ShareInit.fileSet): whether every holder's fds went in; null where it did not join the set. */
  files: { whole: boolean } | null;
}

/**
 * A thread's instances (and fanotify groups), by list key, in the kernel's order of their files,
 * those that are one file together: each a list of groups of instance ids ("pid:fd"), as
 * EqualGroups makes them with kcmp.
 */
export interface SharedOrder {
  instances: Map<string, string[][]>;
  groups: Map<string, string[][]>;
  /** The processes whose fds kcmp names by another of their threads (ScannedProcess.fdThread): pid → that thread; absent where none. */
  threads?: Map<number, number>;
}

/**
 * Instances (and fanotify groups) that are one file, each run the ids ("pid:fd") of two or more:
 * the merge of both threads' orders (SharedOrder), made by the worker.
 */
export interface SharedRuns {
  instances: string[][];
  groups: string[][];
}

/** How a scan used a second thread. */
export interface ThreadUse {
  /**
   * 'none': the scan was small, or no core was free; 'idle': started, but the main thread
   * had read every pid before it claimed any; 'helped': it read `secondPids` of them; 'failed': it
   * could not start or died (`failure` says why), and the main thread read its share.
   */
  second: 'none' | 'idle' | 'helped' | 'failed';
  /** It was started before the scan (SecondThreadTuning.earlyOpenFiles). */
  early: boolean;
  /** Processes the worker read and handed over. */
  secondPids: number;
  failure: string | null;
}

/** The worker's first message: its part, and how many pids it claimed and read; or why it failed. Then, where it sent an order, the merged runs. */
type PartSent = { part: ScanPart; pidsRead: number } | { failed: string };
type RunsSent = { runs: SharedRuns };

/** The main thread's message once done reading, where the worker sent its order (ScanPart.sharedOrder): its own order, null where it has none. */
type OrderSent = { order: SharedOrder | null };

/** What the worker is given as it starts (workerData): it then waits on its port for the scan's share. */
export interface ThreadInit {
  control: Int32Array;
  port: MessagePort;
}

/** The scan's share, sent to the worker once the main thread has listed the pids. */
export interface ShareInit {
  pids: Int32Array;
  chunkPids: number;
  procRoot: string;
  users: ReadonlyMap<number, string>;
  keyByLength: boolean;
  /** The worker orders its instances by kcmp (SharedOrder): the main thread tells shared ones apart with it. */
  orderShared: boolean;
  /** The worker reads its holders' queues as it reads them (ScanOptions.readQueues). */
  readQueues: boolean;
  /** The scan's FileSet, which the worker adds its holders' fds to as it reads their queues (no order is made then); null: none. */
  fileSet: FileSetShare | null;
  /** The lowest chunk left to the worker: those below it the main thread read before it decided. */
  firstChunk: number;
  dieAfterPids: number | null;
}

/** What the main thread has read when it decides about the worker. */
export interface ReadSoFar {
  elapsedMs: number;
  /** Pids read from the top of the pid list down, and from the bottom up. */
  topPids: number;
  bottomPids: number;
  totalPids: number;
}

/**
 * Whether a worker started now pays: the pids left would take the main thread alone at least
 * `leftMs` more at its pace so far. The pace is measured on a sample of both ends of the pid list:
 * the pids between are taken to cost what the sample's average pid cost, where one end alone
 * tells the lightest or the heaviest processes' cost.
 */
export function workerPays(read: ReadSoFar, tuning: Pick<SecondThreadTuning, 'afterMs' | 'leftMs'>): boolean {
  const { elapsedMs, topPids, bottomPids, totalPids } = read;
  if (elapsedMs < tuning.afterMs || topPids === 0 || bottomPids === 0) return false;
  const readPids = topPids + bottomPids;
  return ((totalPids - readPids) * elapsedMs) / readPids >= tuning.leftMs;
}

// The control array's cells.
/** Chunks claimed by either thread: each maps its own claims to chunks, the main thread's from both ends, then the top; the worker's from the bottom up, from ShareInit.firstChunk. */
const CLAIMED = 0;
/** The worker's state: STARTING, READING, SENT, MERGED or GONE. */
const STATE = 1;
/** The worker's signs of life, counted. */
const BEAT = 2;
/** What the main thread last asked of the worker: NOTHING, SHARE, ORDER or END, each past the one before. */
const ASKED = 3;
const CONTROL_CELLS = 4;

const NOTHING = 0;
/** Its share is in its port. */
const SHARE = 1;
/** The main thread's order is in its port too (OrderSent). */
const ORDER = 2;
/** It is to read no further chunk and wait for nothing more: it sends what it read and ends (ScanThread.stop). */
const END = 3;

const STARTING = 0;
const READING = 1;
/** Its part is in the port. */
const SENT = 2;
/** Its merged runs are in the port too. */
const MERGED = 3;
/** It ended: what it sent before is in the port (an uncaught error, process.exit, or its work done); or, not begun, it is being terminated (ScanThread.stop). */
const GONE = 4;

/** The worker, as the main thread holds it: started, its share sent to it (share) once the scan has its pids. */
export class ScanThread {
  /** Why it died (an error thrown in it, told to the main thread), once it has. */
  failure: string | null = null;

  private constructor(
    readonly thread: Worker,
    readonly port: MessagePort,
    readonly control: Int32Array,
    /** Started before the scan (SecondThreadTuning.earlyOpenFiles). */
    readonly early: boolean,
  ) {
    // Its errors are told here, and taken as failures: never thrown at the main thread.
    thread.on('error', (error) => (this.failure ??= errorText(error)));
  }

  /**
   * The worker for a one-shot scan of the live /proc, started now where the node holds at least
   * `tuning.earlyOpenFiles` open files and a core looks free; null otherwise, or where it could not
   * start (the scan then decides as it reads, and tells that failure when it tries again).
   */
  static early(tuning: SecondThreadTuning): ScanThread | null {
    if ((openFiles() ?? 0) < tuning.earlyOpenFiles || !coreFree(tuning)) return null;
    const started = ScanThread.start(true);
    return typeof started === 'string' ? null : started;
  }

  /**
   * A worker started now, or why none could be. The optimizer held back while the scan looked small
   * is released first (src/sys/optimizer.ts): the scan is big, and V8 takes the build's code of the
   * worker's script (bin/worker.cjs) only under the flags it was made with.
   */
  static start(early: boolean): ScanThread | string {
    releaseOptimizer();
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_CELLS * Int32Array.BYTES_PER_ELEMENT));
    const { port1, port2 } = new MessageChannel();
    let thread: Worker;
    try {
      // Its stdout and stderr not piped to ours: Node would open process.stdout and process.stderr
      // for that (streams and net's sockets, which a one-shot's output does without). It prints nothing.
      thread = startWorker('scan/worker', { workerData: { control, port: port2 } satisfies ThreadInit, transferList: [port2], stdout: true, stderr: true });
    } catch (error) {
      // No thread to be had (EAGAIN: the pids cgroup's limit), or no worker's code.
      port1.close();
      return `cannot start: ${errorText(error)}`;
    }
    // Never what keeps the process running.
    thread.unref();
    return new ScanThread(thread, port1, control, early);
  }

  /** Sends the worker its share of the scan: it reads from then on. */
  share(init: ShareInit): void {
    this.port.postMessage(init);
    this.ask(SHARE);
  }

  /** Sends the worker the main thread's order, for it to merge with its own (ShareInit.orderShared). */
  sendOrder(order: SharedOrder | null): void {
    this.port.postMessage({ order } satisfies OrderSent);
    this.ask(ORDER);
  }

  /**
   * Ends the worker (one not used, or given up on); its port is closed. One that has not begun to
   * read is terminated: it is in Node's start of a thread, its script's load or the wait for its
   * share, never in koffi. One that has may be inside koffi (its load, a call), where a thread
   * terminated aborts the whole process (node-addon-api cannot throw in an isolate being
   * terminated), as Node terminates those left when the process exits: it is asked to end instead,
   * which it does at its next chunk or wait, and the process, should it exit before, waits for that
   * as it does (awaitStopped).
   */
  stop(): void {
    this.port.close();
    // Taken from the worker's own step to READING (serveShare), so that it never begins.
    if (Atomics.compareExchange(this.control, STATE, STARTING, GONE) === STARTING) {
      void this.thread.terminate();
      return;
    }
    this.ask(END);
    if (!process.listeners('exit').includes(awaitStopped)) process.on('exit', awaitStopped);
    stopping.add(this);
    this.thread.once('exit', () => stopping.delete(this));
  }

  private ask(word: typeof SHARE | typeof ORDER | typeof END): void {
    Atomics.store(this.control, ASKED, word);
    Atomics.notify(this.control, ASKED);
  }
}

/** Workers asked to end (ScanThread.stop), until they have. */
const stopping = new Set<ScanThread>();

/**
 * At the process's exit (any: its end, process.exit, a signal's), before Node terminates its
 * threads: waits until every worker asked to end is past its last koffi call (what is left of
 * koffi's load or of a chunk: some ms), for each while it shows signs of life at least every
 * SECOND_THREAD.stallMs (a read stuck in the kernel longer is not waited for).
 */
function awaitStopped(): void {
  for (const { control } of stopping) awaitWhileAlive(control, STATE, (state) => state >= MERGED, BEAT, SECOND_THREAD.stallMs);
}

/** The main thread's side: hands out chunks, starts the worker when the scan turns out big (unless it came started), and takes its part. */
export class PidShares {
  private readonly pids: Int32Array;
  private readonly chunks: number;
  /** The main thread's chunks: the first `fromBottom` and the last `fromTop`; the worker's are those between. */
  private fromTop = 0;
  private fromBottom = 0;
  private readonly startedAt = uptimeMs();
  /** The chunks claimed by either thread: the worker's control array, or one of this scan's own until a worker starts. */
  private control: Int32Array = new Int32Array(new SharedArrayBuffer(CONTROL_CELLS * Int32Array.BYTES_PER_ELEMENT));
  /** Whether starting the worker was tried (at most once), and whether it started. */
  private tried = false;
  /** The worker while it has a part to give (finish takes it), and the one started, to tell how it fared. */
  private worker: ScanThread | null = null;
  /** The worker once its part is taken, while its merged runs are to come (sharedRuns takes them). */
  private merging: ScanThread | null = null;
  private started: ScanThread | null = null;
  private failure: string | null = null;
  private secondPids = 0;

  constructor(
    pids: readonly number[],
    private readonly tuning: SecondThreadTuning,
    private readonly scan: Pick<ShareInit, 'procRoot' | 'users' | 'keyByLength' | 'orderShared' | 'readQueues' | 'fileSet'>,
    /** A worker started before the scan (ScanThread.early): it is given its share at once. */
    early: ScanThread | null = null,
  ) {
    this.pids = new Int32Array(new SharedArrayBuffer(pids.length * Int32Array.BYTES_PER_ELEMENT));
    this.pids.set(pids);
    this.chunks = Math.ceil(pids.length / tuning.chunkPids);
    if (early) this.adopt(early);
  }

  /**
   * The main thread's next chunk: until it has decided about the worker, from the top and the
   * bottom of the pid list in turn, then from the top down; null when every chunk is claimed.
   */
  claim(): PidRange | null {
    if (Atomics.add(this.control, CLAIMED, 1) >= this.chunks) return null;
    if (!this.tried && this.pays()) this.start();
    const top = this.tried || this.fromTop <= this.fromBottom;
    const chunk = top ? this.chunks - 1 - this.fromTop++ : this.fromBottom++;
    return rangeOf(chunk, this.tuning.chunkPids, this.pids.length);
  }

  /**
   * The worker's part, once the main thread has claimed its last chunk and read it: waited for
   * while the worker shows signs of life (see SecondThreadTuning.stallMs). `notRead`: the pids of
   * the chunks it claimed but did not hand over, for the main thread to read. `order`: the main
   * thread's, given to a worker that orders its own (ShareInit.orderShared) to merge the two
   * (sharedRuns) as its part is taken in here.
   */
  finish(order: () => SharedOrder | null): { part: ScanPart | null; notRead: number[] } {
    if (!this.worker) return { part: null, notRead: [] };
    const worker = this.worker;
    this.worker = null;
    const theirs = this.theirPids();
    if (theirs.start < theirs.end && this.scan.orderShared) worker.sendOrder(order());
    const sent = theirs.start < theirs.end ? this.receive(worker.port, SENT) : null;
    // One that read nothing is not waited for: still starting, or stalled, or dead.
    if (sent?.part.sharedOrder) this.merging = worker;
    else if (sent) worker.port.close();
    else worker.stop();
    if (sent || theirs.start === theirs.end) {
      this.secondPids = sent?.pidsRead ?? 0;
      return { part: sent?.part ?? null, notRead: [] };
    }
    return { part: null, notRead: Array.from(this.pids.subarray(theirs.start, theirs.end)) };
  }

  /**
   * Both threads' instances that are one file, as the worker merged their orders (once finish gave
   * it a part with an order); null where it did not (it had no order, or died or stalled first:
   * the main thread then merges them itself).
   */
  sharedRuns(): SharedRuns | null {
    const worker = this.merging;
    if (!worker) return null;
    this.merging = null;
    const sent = this.receive(worker.port, MERGED);
    // Stalled in its merge, it may be inside koffi (kcmp).
    if (sent) worker.port.close();
    else worker.stop();
    return sent && 'runs' in sent ? sent.runs : null;
  }

  /** How the scan used the worker, once finished. */
  use(): ThreadUse {
    const failure = this.failure ?? this.started?.failure ?? null;
    const second = failure ? 'failed' : !this.started ? 'none' : this.secondPids > 0 ? 'helped' : 'idle';
    return { second, early: this.started?.early ?? false, secondPids: this.secondPids, failure };
  }

  /** The pids between the main thread's chunks: unread while it reads alone, the worker's once it has one. */
  private theirPids(): PidRange {
    const { chunkPids } = this.tuning;
    const end = Math.min((this.chunks - this.fromTop) * chunkPids, this.pids.length);
    return { start: Math.min(this.fromBottom * chunkPids, end), end };
  }

  /** Whether a worker would pay (workerPays). Alone so far: every chunk claimed before this one is the main thread's, read. */
  private pays(): boolean {
    const { start, end } = this.theirPids();
    const totalPids = this.pids.length;
    return workerPays({ elapsedMs: uptimeMs() - this.startedAt, topPids: totalPids - end, bottomPids: start, totalPids }, this.tuning);
  }

  private start(): void {
    this.tried = true;
    // One core, or none free: the two threads would take turns.
    if (!coreFree(this.tuning)) return;
    const started = ScanThread.start(false);
    if (typeof started === 'string') this.failure = started;
    else this.adopt(started);
  }

  /** Takes the worker on: its control array from now on, with the chunks claimed so far, and its share sent. */
  private adopt(worker: ScanThread): void {
    this.tried = true;
    this.started = worker;
    this.worker = worker;
    Atomics.store(worker.control, CLAIMED, Atomics.load(this.control, CLAIMED));
    this.control = worker.control;
    worker.share({
      pids: this.pids,
      chunkPids: this.tuning.chunkPids,
      ...this.scan,
      firstChunk: this.fromBottom,
      dieAfterPids: this.tuning.dieAfterPids ?? null,
    });
    if (this.tuning.awaitStart) Atomics.wait(this.control, STATE, STARTING, this.tuning.stallMs);
  }

  /**
   * Waits, while the worker shows signs of life, for its next message: its part (`until` SENT) or
   * its merged runs (MERGED); null when it died or stalled first. Blocking, even where a CRI
   * answer waits in its socket: the wait is 0.1–4.5 ms of a scan of 400 ms or more (README, "the
   * CRI answer and the scan's second thread"), and one through the event loop would let the calls'
   * deadline timers start (unless the answer were taken in first), put the socket's 5 ms poll
   * slices before the worker's word, and let a signal end the process with the worker mid-call. An
   * idle node's scan, where the CRI goal is judged, never starts a worker: it has no such wait.
   */
  private receive(port: MessagePort, until: typeof SENT): { part: ScanPart; pidsRead: number } | null;
  private receive(port: MessagePort, until: typeof MERGED): RunsSent | null;
  private receive(port: MessagePort, until: typeof SENT | typeof MERGED): { part: ScanPart; pidsRead: number } | RunsSent | null {
    const { receiveMessageOnPort } = process.getBuiltinModule('node:worker_threads');
    // Woken when the state changes; else a look at its beats a few times per stallMs.
    if (!awaitWhileAlive(this.control, STATE, (state) => state >= until, BEAT, this.tuning.stallMs)) {
      this.failure = `no sign of life for ${this.tuning.stallMs} ms`;
      return null;
    }
    const sent = receiveMessageOnPort(port)?.message as PartSent | RunsSent | undefined;
    if (sent && ('part' in sent || 'runs' in sent)) return sent;
    // Its runs not sent: the main thread merges (no failure of the scan's).
    if (until === MERGED) return null;
    this.failure = sent ? `died: ${sent.failed}` : 'it ended before sending its processes';
    return null;
  }
}

/** Whether a second thread would have a core to itself: two cores at least, and one looks free (maxCpuPressure). */
function coreFree(tuning: SecondThreadTuning): boolean {
  const cores = availableParallelism();
  return cores >= 2 && (runnableNow() < cores || cpuPressure() <= tuning.maxCpuPressure);
}

/** The tasks runnable on the node now, ourselves among them (/proc/loadavg's fourth field: running/all); Infinity where it cannot be read. */
function runnableNow(): number {
  const running = /^\S+ \S+ \S+ (\d+)\//.exec(readProcTextOrNull('/proc/loadavg') ?? '');
  return running ? Number(running[1]) : Number.POSITIVE_INFINITY;
}

/** File handles allocated on the node (/proc/sys/fs/file-nr's first figure); null where it cannot be read. */
function openFiles(): number | null {
  return parseSysctlNumber(readProcTextOrNull('/proc/sys/fs/file-nr')?.split('\t', 1)[0] ?? null);
}

/**
 * The share (%) of the last 10 s in which some task waited for a CPU (PSI, Linux 4.20+); 0 where
 * the kernel keeps no such figure (older, or booted with psi=0): the cores alone then decide.
 */
function cpuPressure(): number {
  const some = /^some avg10=([\d.]+)/m.exec(readProcTextOrNull('/proc/pressure/cpu') ?? '');
  return some ? Number(some[1]) : 0;
}

/** The pids of a chunk. */
function rangeOf(chunk: number, chunkPids: number, pids: number): PidRange {
  return { start: chunk * chunkPids, end: Math.min((chunk + 1) * chunkPids, pids) };
}

/**
 * The worker's side: waits for its share of the scan, claims chunks until none is left, reads them
 * with `read` (given the share, the claim and the sign of life to give), and sends the part, its
 * watch lists' arrays moved; then, where the part holds an order, waits for the main thread's and
 * sends the two merged by `merge` (ours, theirs). A worker never given its share waits until it is
 * terminated; one asked to end (ScanThread.stop) claims no further chunk, sends what it read and
 * returns, at whichever of those steps it is.
 */
export function serveShare(
  { control, port }: ThreadInit,
  read: (share: ShareInit, claim: () => PidRange | null, beat: () => void) => ScanPart,
  merge: (ours: SharedOrder, theirs: SharedOrder | null) => SharedRuns,
): void {
  // An uncaught error, process.exit() or its end: the main thread stops waiting at once.
  process.on('exit', () => {
    if (Atomics.load(control, STATE) !== MERGED) {
      Atomics.store(control, STATE, GONE);
      Atomics.notify(control, STATE);
    }
  });
  const { receiveMessageOnPort } = process.getBuiltinModule('node:worker_threads');
  Atomics.wait(control, ASKED, NOTHING);
  // Not where the main thread has ended it meanwhile (ScanThread.stop): it is being terminated.
  if (Atomics.compareExchange(control, STATE, STARTING, READING) !== STARTING) return;
  Atomics.notify(control, STATE);
  const share = receiveMessageOnPort(port)!.message as ShareInit;
  const { chunkPids, firstChunk, dieAfterPids } = share;
  const total = share.pids.length;
  let claimed = 0;
  const chunks = Math.ceil(total / chunkPids);
  /** The next chunk to take, from the bottom of the pid list up, past the main thread's: its others come from the top down. */
  let taken = firstChunk;
  const claim = (): PidRange | null => {
    if (Atomics.load(control, ASKED) === END || Atomics.add(control, CLAIMED, 1) >= chunks) return null;
    const range = rangeOf(taken++, chunkPids, total);
    claimed += range.end - range.start;
    if (dieAfterPids !== null && claimed > dieAfterPids) throw new Error(`the scan's second thread dies after ${dieAfterPids} pids, as a test asked`);
    return range;
  };
  let part: ScanPart;
  try {
    part = read(share, claim, () => void Atomics.add(control, BEAT, 1));
  } catch (error) {
    // Said before it ends the thread (the exit handler's GONE wakes the main thread).
    port.postMessage({ failed: errorText(error) } satisfies PartSent);
    throw error;
  }
  port.postMessage({ part, pidsRead: claimed } satisfies PartSent, listBuffers(part));
  Atomics.store(control, STATE, SENT);
  Atomics.notify(control, STATE);
  if (!part.sharedOrder) return;
  Atomics.wait(control, ASKED, SHARE);
  if (Atomics.load(control, ASKED) === END) return;
  const { order } = receiveMessageOnPort(port)!.message as OrderSent;
  port.postMessage({ runs: merge(part.sharedOrder, order) } satisfies RunsSent);
  Atomics.store(control, STATE, MERGED);
  Atomics.notify(control, STATE);
}

/**
 * The buffers of the part's watch lists, each once: moved to the main thread, not copied (a
 * list read as it came has room past its end, which a copy would write in full).
 */
function listBuffers(part: ScanPart): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (list: WatchList) => {
    for (const array of [list.wd, list.ino, list.sdev, list.mask, list.handleType, list.handleStart, list.handleBytes])
      buffers.add(array.buffer as ArrayBuffer);
  };
  for (const proc of part.processes) {
    for (const instance of proc.instances) add(instance.watches);
    for (const group of proc.fanotifyGroups) add(group.inodeMarks);
  }
  return [...buffers];
}
