// The bytes queued unread on every inotify instance and fanotify group, at each refresh: per
// process a pidfd, kept for the next refreshes while the process holds instances (half of the
// calls were opening and closing it again), per instance a duplicate of its fd and FIONREAD, the
// duplicates closed together, up to 64 at a time (src/sys/queues.ts: queuedBytesHeld). A kept
// pidfd names its process for good: once that process is gone it answers ESRCH, even where a new
// process has taken the pid, and a new one is opened.
// From the second reading on, each instance read goes into an epoll set of ours as it is read
// (src/sys/queue-set.ts), and each pidfd kept: a refresh then asks the set which instances have
// events, which processes exited and which instances are still in it (an entry leaves the set when
// all holders have closed its file), and makes the calls only for those with events, the new, those
// gone from the set, those of an exited process and those whose holders changed; the others are
// answered 0 without a call, as their own FIONREAD would (an empty queue). The set holds no
// instance: one closed is freed. What it cannot tell: an fd of a live process that now holds another
// file, or none, while its old instance is still open elsewhere (dup2 over it, or closed after a
// fork): the key is answered from the old instance until a scan lists its holders anew.
// Nothing is read from a queue. The work grows with the instances (a few hundred on a node), never
// with the watches, and is bounded by a time budget: past it the rest wait for the next refresh,
// which reads them first, and a note says how many.
import type { ScannedProcess } from '../model/types.js';
import { ERRNO, errnoName } from '../sys/errno.js';
import { queueCalls, type QueueCalls } from '../sys/queues.js';
import type { FileSet } from '../sys/filesets.js';
import { QueueSet, type SetLook } from '../sys/queue-set.js';
import { uptimeMs } from '../deadline.js';

/** The most of a refresh spent reading queues: about 2,000 instances on a slow machine (10 µs each). */
export const QUEUE_READ_BUDGET_MS = 20;

/** A refresh's readings: bytes per instance key (null: not read), and what the notes say of those not read. */
export interface QueueReadings {
  bytes: Map<string, number | null>;
  notes: string[];
  /** How many were answered by the set without a call of theirs (0 queued: no events). */
  fromSet: number;
}

/** An instance (or group) as the history knows it: its id, and the start time of the process that names it. */
export function queueKey(instanceId: string, processes: ReadonlyMap<number, ScannedProcess>): string {
  const pid = Number(instanceId.slice(0, instanceId.indexOf(':')));
  return `${instanceId}@${processes.get(pid)?.startTime ?? '?'}`;
}

/** What a refresh's reading found so far: bytes by key, the keys read, those refused, and refusals by an unexpected errno. */
interface HolderReadings {
  bytes: Map<string, number | null>;
  read: Set<string>;
  denied: Set<string>;
  odd: Set<string>;
  /** Answered by the set. */
  fromSet: number;
}

/** A refresh's look at the set, and each key's holders ("pid:fd ...") as this refresh lists them. */
interface SetReading extends SetLook {
  holders: Map<string, string>;
}

/** A key's entry in the set: its token, and the holders it was read through when it went in; token -1: its file cannot go in (read by its calls at every refresh). */
interface Registration {
  token: number;
  holders: string;
}

export class QueueReader {
  /** Where the last refresh's reading stopped for lack of time (a pid): the next one goes on from there. */
  private resumeAt = 0;
  /** Keys whose last reading was not empty: read first, since their judgement needs readings in a row. */
  private busy = new Set<string>();
  /** The pidfds opened, by pid, kept while their process holds instances or groups. */
  private pidfds = new Map<number, number>();
  /** The pids whose kept pidfd is one thread's (ScannedProcess.fdThread), and which. */
  private threads = new Map<number, number>();
  /** The set (made at the second reading: a one-shot reads once), or why it could not be made; null before. */
  private set: QueueSet | string | null = null;
  private readings = 0;
  /** The pids whose pidfd is in the set: their exit is told. */
  private watched = new Set<number>();
  /** The keys in the set. */
  private registrations = new Map<string, Registration>();
  private nextToken = 0;

  /** `useSet` false: every instance read by its calls at every refresh (the bench's comparison). */
  constructor(
    private readonly live: boolean,
    private readonly useSet = true,
  ) {}

  /**
   * The queued bytes of every instance and group of these processes (a shared one read once).
   * The budget is looked at every 8 processes, past the first 8: 0 reads those 8. `readAlready`:
   * the answers the scan read as it read each holder (ScanResult.queued), taken in place of the calls.
   */
  read(processes: readonly ScannedProcess[], budgetMs = QUEUE_READ_BUDGET_MS, readAlready: ReadonlyMap<string, number> | null = null): QueueReadings {
    const byPid = new Map(processes.map((proc) => [proc.pid, proc]));
    const bytes = new Map<string, number | null>();
    const holders = processes.map((proc) => ({
      proc,
      items: [...proc.instances, ...proc.fanotifyGroups].map((item) => ({ fd: item.fd, key: queueKey(item.instanceId, byPid) })),
    }));
    for (const { items } of holders) for (const { key } of items) bytes.set(key, null);
    if (bytes.size === 0) return { bytes, notes: [], fromSet: 0 };
    if (!this.live) return { bytes, notes: ['event queues not read: a recorded /proc tree has none'], fromSet: 0 };
    const calls = queueCalls();
    if (!calls.ok) return { bytes, notes: [`event queues not read (queuedBytes null): ${calls.error}`], fromSet: 0 };
    const { closeFd } = calls.value;
    const look = readAlready ? null : this.lookAtSet(holders);

    // The processes holding a queue that was not empty go first; the rest from where the last refresh stopped.
    const start = Math.max(
      0,
      holders.findIndex(({ proc }) => proc.pid >= this.resumeAt),
    );
    const rotated = [...holders.slice(start), ...holders.slice(0, start)];
    const wasBusy = ({ items }: (typeof holders)[number]) => items.some(({ key }) => this.busy.has(key));
    const order = [...rotated.filter(wasBusy), ...rotated.filter((holder) => !wasBusy(holder))];
    const deadline = uptimeMs() + budgetMs;
    const read = new Set<string>();
    const denied = new Set<string>();
    const odd = new Set<string>();
    const found: HolderReadings = { bytes, read, denied, odd, fromSet: 0 };
    let stoppedAt: number | null = null;
    try {
      for (let p = 0; p < order.length; p++) {
        if (p > 0 && p % 8 === 0 && uptimeMs() > deadline) {
          stoppedAt = p;
          break;
        }
        const { proc, items } = order[p]!;
        if (readAlready) takeReadAlready(readAlready, proc.pid, items, found);
        else this.readHolder(calls.value, proc, items, found, look);
      }
    } finally {
      calls.value.closeCopies();
      if (this.set instanceof QueueSet) this.set.letGo();
    }
    // Keys no longer listed are forgotten (an entry whose file is still open stays in the set, under a token no key has).
    for (const key of this.registrations.keys()) if (!bytes.has(key)) this.registrations.delete(key);
    // Those no longer holding anything (gone, or their last instance closed) are let go.
    for (const pid of [...this.pidfds.keys()]) if (!byPid.has(pid)) this.forget(pid, closeFd);
    const notes: string[] = [];
    if (denied.size > 0) {
      const also = odd.size > 0 ? ` (also ${[...odd].join(', ')})` : '';
      notes.push(
        `event queues of ${denied.size} instance${denied.size === 1 ? '' : 's'} not readable (queuedBytes null): pidfd_getfd needs ptrace permission (root or CAP_SYS_PTRACE)${also}`,
      );
    }
    if (stoppedAt !== null) {
      const skipped = [...bytes.keys()].filter((key) => !read.has(key) && !denied.has(key)).length;
      this.resumeAt = order[stoppedAt]!.proc.pid;
      notes.push(
        `event queues of ${skipped} instance${skipped === 1 ? '' : 's'} not read at this refresh (queuedBytes null): past its ${budgetMs} ms budget for them; the next refresh goes on from there`,
      );
    } else {
      this.resumeAt = 0;
    }
    this.busy = new Set([...bytes].filter(([, value]) => value !== null && value > 0).map(([key]) => key));
    return { bytes, notes, fromSet: found.fromSet };
  }

  /**
   * The queues of one holder's instances not read yet at this refresh, into `found`. A method of
   * its own, called per holder: inlined in read()'s loop, V8 compiled read() on the stack (OSR)
   * and threw that code away again and again (15 times in 30 reads at 1,000 instances), compiling
   * it again each time on another thread.
   */
  private readHolder(
    calls: QueueCalls,
    proc: ScannedProcess,
    items: readonly { fd: number; key: string }[],
    found: HolderReadings,
    look: SetReading | null,
  ): void {
    const { read } = found;
    const { pid, fdThread } = proc;
    let wanted = items.filter(({ key }) => !read.has(key));
    if (wanted.length === 0) return;
    if (look && this.watched.has(pid) && !look.exited.has(pid)) {
      wanted = wanted.filter(({ key }) => !this.answeredBySet(key, look, found));
      if (wanted.length === 0) return;
    }
    // A pidfd kept of another thread than the one its fds are read through now (or of the process) is let go.
    if (this.pidfds.has(pid) && this.threads.get(pid) !== fdThread) this.forget(pid, calls.closeFd);
    let pidfd = this.pidfds.get(pid) ?? this.openPid(calls, pid, fdThread);
    if (pidfd < 0) return; // gone: another holder of a shared one may still answer
    for (let i = 0; i < wanted.length; i++) {
      const { fd, key } = wanted[i]!;
      let answer = calls.queuedBytesHeld(pidfd, fd);
      if (answer === -ERRNO.ESRCH && i === 0) {
        // The process the kept pidfd names is gone; the pid may name a new one.
        this.forget(pid, calls.closeFd);
        pidfd = this.openPid(calls, pid, fdThread);
        if (pidfd < 0) break;
        answer = calls.queuedBytesHeld(pidfd, fd);
      }
      takeAnswer(key, answer, found);
      if (look && answer >= 0) this.register(key, calls.lastHeld(), look);
    }
  }

  /**
   * Whether the set answers `key` (0 queued): it is in the set under the holders this refresh lists
   * for it, its file is still open, and it has no events. Those with events, new or changed, are
   * read by their calls.
   */
  private answeredBySet(key: string, look: SetReading, found: HolderReadings): boolean {
    const registration = this.registrations.get(key);
    if (!registration || registration.token < 0 || registration.holders !== look.holders.get(key)) return false;
    if (!look.present.has(registration.token) || look.ready.has(registration.token)) return false;
    takeAnswer(key, 0, found);
    found.fromSet++;
    return true;
  }

  /** Puts the file just read for `key` (the duplicate `copy`) in the set, where it is not in under this refresh's holders. */
  private register(key: string, copy: number, look: SetReading): void {
    const holders = look.holders.get(key) ?? '';
    const known = this.registrations.get(key);
    if (known && known.holders === holders && (known.token < 0 || look.present.has(known.token))) return;
    const set = this.set as QueueSet;
    const token = this.nextToken;
    this.nextToken = (this.nextToken + 1) >>> 0;
    this.registrations.set(key, { token: copy >= 0 && set.add(copy, token) === 0 ? token : -1, holders });
  }

  /**
   * The set's look for this refresh (the set made at the second reading, the pidfds kept put in),
   * and each key's holders; null at the first reading, or where no set can be made or read.
   */
  private lookAtSet(holders: readonly { proc: ScannedProcess; items: readonly { fd: number; key: string }[] }[]): SetReading | null {
    if (this.readings++ === 0 || !this.useSet) return null;
    if (this.set === null) {
      this.set = QueueSet.create();
      if (this.set instanceof QueueSet) for (const [pid, pidfd] of this.pidfds) this.watch(pid, pidfd);
    }
    if (!(this.set instanceof QueueSet)) return null;
    const look = this.set.look();
    if (look === null) return null;
    const byKey = new Map<string, string>();
    for (const { proc, items } of holders) for (const { fd, key } of items) byKey.set(key, `${byKey.get(key) ?? ''}${proc.pid}:${fd} `);
    return { ...look, holders: byKey };
  }

  /** Puts a kept pidfd in the set: the exit of its process is then told. */
  private watch(pid: number, pidfd: number): void {
    if (this.set instanceof QueueSet && this.set.addPidfd(pidfd, pid) === 0) this.watched.add(pid);
  }

  /** Closes the pidfds kept, and the set. */
  close(): void {
    const calls = queueCalls();
    if (calls.ok) for (const pid of [...this.pidfds.keys()]) this.forget(pid, calls.value.closeFd);
    if (this.set instanceof QueueSet) this.set.close();
    this.set = null;
    this.readings = 0;
    this.registrations.clear();
  }

  /**
   * A new pidfd of `pid`, kept; of its thread `thread` where its fds are that thread's
   * (ScannedProcess.fdThread); -errno when it cannot be opened. Out of fds, the kept ones are given back first.
   */
  private openPid(calls: QueueCalls, pid: number, thread: number | undefined): number {
    const open = () => (thread === undefined ? calls.openPid(pid) : calls.openThread(thread));
    let pidfd = open();
    if ((pidfd === -ERRNO.EMFILE || pidfd === -ERRNO.ENFILE) && this.pidfds.size > 0) {
      for (const held of [...this.pidfds.keys()]) this.forget(held, calls.closeFd);
      pidfd = open();
    }
    if (pidfd >= 0) {
      this.pidfds.set(pid, pidfd);
      if (thread !== undefined) this.threads.set(pid, thread);
      this.watch(pid, pidfd);
    }
    return pidfd;
  }

  private forget(pid: number, closeFd: (fd: number) => void): void {
    const pidfd = this.pidfds.get(pid);
    if (pidfd === undefined) return;
    // Closed, it leaves the set.
    closeFd(pidfd);
    this.pidfds.delete(pid);
    this.threads.delete(pid);
    this.watched.delete(pid);
  }
}

/** What an answer of queuedBytes says of the instance or group `key`, into `found`. */
function takeAnswer(key: string, answer: number, found: HolderReadings): void {
  if (answer >= 0) {
    found.bytes.set(key, answer);
    found.read.add(key);
    found.denied.delete(key);
  } else if (answer === -ERRNO.EPERM || answer === -ERRNO.EACCES) {
    found.denied.add(key);
  } else if (answer !== -ERRNO.EBADF && answer !== -ERRNO.ESRCH) {
    // Not a gone process or a closed fd: said by its errno.
    found.denied.add(key);
    found.odd.add(errnoName(-answer));
  }
}

/** As QueueReader's readHolder, with the answers the scan read (readQueuesOf); a holder whose pidfd it could not open has none. */
function takeReadAlready(readAlready: ReadonlyMap<string, number>, pid: number, items: readonly { fd: number; key: string }[], found: HolderReadings): void {
  for (const { fd, key } of items) {
    if (found.read.has(key)) continue;
    const answer = readAlready.get(`${pid}:${fd}`);
    if (answer !== undefined) takeAnswer(key, answer, found);
  }
}

/**
 * The queued bytes of a holder's instances and groups, or -errno (as queuedBytes answers), by
 * "pid:fd", into `into`: read as the scan reads the holder (ScanOptions.readQueues), its pidfd
 * opened and closed at once (no refresh follows to keep it for). Nothing where the pidfd cannot be
 * opened (gone, or out of fds): QueueReader then reads nothing of it either. With `files`, each
 * duplicate is added to that set on its way (the scan tells shared instances by it): one not made
 * but for a holder gone or an fd closed leaves the set not whole.
 */
export function readQueuesOf(calls: QueueCalls, proc: ScannedProcess, into: Map<string, number>, files: FileSet | null = null): void {
  // A process whose main thread has exited: its fds are taken from the thread they were read through.
  const pidfd = proc.fdThread === undefined ? calls.openPid(proc.pid) : calls.openThread(proc.fdThread);
  if (pidfd < 0) {
    if (pidfd !== -ERRNO.ESRCH) files?.missed();
    return;
  }
  const { pid } = proc;
  const read = (fd: number, group: boolean) => {
    let added = false;
    const add = (copy: number) => {
      files!.add(copy, { pid, fd, group });
      added = true;
    };
    const answer = calls.queuedBytes(pidfd, fd, files ? add : undefined);
    into.set(`${pid}:${fd}`, answer);
    // Not duplicated: where the fd is closed or its holder gone, there is nothing to tell apart.
    if (files && !added && answer !== -ERRNO.EBADF && answer !== -ERRNO.ESRCH) files.missed();
  };
  try {
    for (const { fd } of proc.instances) read(fd, false);
    for (const { fd } of proc.fanotifyGroups) read(fd, true);
  } finally {
    calls.closeFd(pidfd);
  }
}
