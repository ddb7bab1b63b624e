// Which of many fds, in any processes, are one open file, without comparing them two by two.
// epoll keys what it watches by the file and the fd number it was added under, and refuses the
// same pair twice (EEXIST). A duplicate of each fd (pidfd_getfd: src/sys/queues.ts) is put at one
// number of ours (the slot: the same for every thread of a scan, taken in turn under a lock) and
// added there: EEXIST says exactly that the file was added before; it is then added once more
// under a free number above the slot. Where no add met EEXIST, every file is one fd's. Else
// /proc/self/fdinfo of the epoll instance lists what it holds in its tree's order, by file and then
// fd number: each file's adds together, its first under the slot (runsOfListing). Ordering the
// files with kcmp instead takes about log2(n) calls per fd, 6–12 µs each in a scan. Nothing is read
// from or changed in the files: the epoll instance only watches them (no one waits on it) until it
// is closed at the end of the scan, and holds none open.
import { readFileSync } from 'node:fs';
import { ERRNO } from './errno.js';
import { EPOLL_CTL_ADD, epollCalls, epollWithSlot, type EpollCalls } from './epoll.js';

/** What an fd added to a set is known by: its holder's pid and fd, and whether it is a fanotify group (else an inotify instance). */
export interface HeldFd {
  pid: number;
  fd: number;
  group: boolean;
}

/** One add as the set lists it: the number it was added under and what it was added as. */
export interface ListedAdd {
  fd: number;
  held: HeldFd;
}

/** The data's low word: the fd (below 2^31), and this bit for a fanotify group. */
const GROUP_BIT = 0x8000_0000;

/** epoll_ctl(ADD) of `fd` with no events (nothing waits on the set), `held` as its data: 0 or -errno. */
function addHeld(calls: EpollCalls, epoll: number, fd: number, held: HeldFd): number {
  return calls.control(epoll, EPOLL_CTL_ADD, fd, 0, held.fd | (held.group ? GROUP_BIT : 0), held.pid);
}

/** What a thread joining a set is given (FileSet.share): the epoll instance, the slot, and the lock and count of files added twice. */
export interface FileSetShare {
  epoll: number;
  slot: number;
  cells: Int32Array;
}

// The shared cells.
/** 1 while a thread puts a file at the slot and adds it. */
const LOCK = 0;
/** Adds that met EEXIST (a file added before). */
const TWICE = 1;
/** How long a thread waits for the slot before it gives up on the set (the other thread died holding it). */
const LOCK_WAIT_MS = 1000;

/**
 * A scan's set of the files its threads' holders hold (see above), as one thread holds it. `whole`
 * is false once a file it was to add is not in: the set then cannot tell which files are one.
 */
export class FileSet {
  /** Every fd this thread was given went in (or its holder was gone). */
  whole = true;

  private constructor(
    private readonly calls: EpollCalls,
    private readonly shared: FileSetShare,
    /** The set is this thread's (create): its epoll instance and slot are closed with it. */
    private readonly owned: boolean,
  ) {}

  /**
   * A new set; or why not (no koffi, no fds left, or a kernel whose epoll does not behave as
   * described above: tried on two files of our own).
   */
  static create(): FileSet | string {
    const made = epollWithSlot();
    if (typeof made === 'string') return made;
    const { calls, epoll, slot } = made;
    const set = new FileSet(calls, { epoll, slot, cells: new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)) }, true);
    const fault = set.probe();
    if (fault === null) return set;
    set.close();
    return `epoll: ${fault}`;
  }

  /** Another thread's side of the set `share` (FileSet.share); or why not. */
  static join(share: FileSetShare): FileSet | string {
    const calls = epollCalls();
    return calls.ok ? new FileSet(calls.value, share, false) : calls.error;
  }

  /** What another thread joins the set with. */
  get share(): FileSetShare {
    return this.shared;
  }

  /** Adds the file `copy` (an fd of ours: a duplicate of `held`'s). Where it fails, the set is no longer whole. */
  add(copy: number, held: HeldFd): void {
    const { calls } = this;
    const { epoll, slot, cells } = this.shared;
    // A set not whole tells nothing: no more waits for the slot.
    if (!this.whole) return;
    if (!this.lock()) {
      this.whole = false;
      return;
    }
    try {
      if (calls.duplicateAt(copy, slot) < 0) {
        this.whole = false;
        return;
      }
      let added = addHeld(calls, epoll, slot, held);
      if (added === -ERRNO.EEXIST) Atomics.add(cells, TWICE, 1);
      // Added before: once more under a free number above the slot (the next of three holders of
      // one file finds that one taken too, and takes the next).
      for (let lowest = slot + 1; added === -ERRNO.EEXIST;) {
        const beside = calls.duplicateFrom(copy, lowest);
        if (beside < 0) break;
        added = addHeld(calls, epoll, beside, held);
        calls.close(beside);
        lowest = beside + 1;
      }
      if (added < 0) this.whole = false;
    } finally {
      // The slot lets go of the file: our process would hold an instance of another's while a scan reads our fds.
      calls.duplicateAt(epoll, slot);
      Atomics.store(cells, LOCK, 0);
      Atomics.notify(cells, LOCK, 1);
    }
  }

  /** An fd that could not be duplicated for another reason than its holder's going: the set is no longer whole. */
  missed(): void {
    this.whole = false;
  }

  /** The files added more than once (by any thread), each its adds in the set's order: none where no add met EEXIST. */
  sameFiles(): HeldFd[][] {
    return Atomics.load(this.shared.cells, TWICE) === 0 ? [] : runsOfListing(this.listing(), this.shared.slot);
  }

  /** Closes the epoll instance and the slot, where the set is this thread's. */
  close(): void {
    if (!this.owned) return;
    this.calls.close(this.shared.slot);
    this.calls.close(this.shared.epoll);
  }

  /** What the set holds, in its tree's order: by file, then by fd number. Adds whose file every holder has closed since are gone from it. */
  private listing(): ListedAdd[] {
    const text = readFileSync(`/proc/self/fdinfo/${this.shared.epoll}`, 'latin1');
    const adds: ListedAdd[] = [];
    for (const [, fd, data] of text.matchAll(/^tfd:\s*(\d+)\s+events:\s*[0-9a-f]+\s+data:\s*([0-9a-f]+)/gm)) {
      const low = Number.parseInt(data!.slice(-8), 16);
      const pid = data!.length > 8 ? Number.parseInt(data!.slice(0, -8), 16) : 0;
      adds.push({ fd: Number(fd), held: { pid, fd: (low & ~GROUP_BIT) >>> 0, group: (low & GROUP_BIT) !== 0 } });
    }
    return adds;
  }

  /** Takes the slot: false where the other thread has held it for LOCK_WAIT_MS (it died holding it). */
  private lock(): boolean {
    const { cells } = this.shared;
    for (let waitedUntil = 0; Atomics.compareExchange(cells, LOCK, 0, 1) !== 0;) {
      waitedUntil ||= Date.now() + LOCK_WAIT_MS;
      if (Date.now() > waitedUntil) return false;
      Atomics.wait(cells, LOCK, 1, LOCK_WAIT_MS);
    }
    return true;
  }

  /** Two files of ours (eventfds: any file epoll can watch), one added twice: null where the set tells the two adds of that one as one file, else what went wrong. */
  private probe(): string | null {
    const { calls } = this;
    const first = calls.eventfd();
    const second = calls.eventfd();
    try {
      if (first < 0 || second < 0) return `eventfd: errno ${-Math.min(first, second)}`;
      const own = (fd: number): HeldFd => ({ pid: process.pid, fd, group: false });
      this.add(first, own(first));
      this.add(second, own(second));
      this.add(first, own(first));
      const same = this.sameFiles().map((run) => run.map((held) => held.fd).join(' '));
      return this.whole && same.length === 1 && same[0] === `${first} ${first}` ? null : `it told ${same.length} files added twice (${same.join(', ')})`;
    } finally {
      // Both closed, and gone from the set.
      if (first >= 0) calls.close(first);
      if (second >= 0) calls.close(second);
      Atomics.store(this.shared.cells, TWICE, 0);
    }
  }
}

/**
 * The files added more than once, from the set's listing (by file, then by the fd number each add
 * was under; `slot` the number of every file's first add): each file's adds are together, its first
 * under the slot, the others under numbers above it. Runs of two or more adds.
 */
export function runsOfListing(listing: readonly ListedAdd[], slot: number): HeldFd[][] {
  const runs: HeldFd[][] = [];
  let run: ListedAdd[] = [];
  const end = () => {
    if (run.length > 1) runs.push(run.map((add) => add.held));
    run = [];
  };
  for (const add of listing) {
    if (add.fd === slot || add.fd <= (run[run.length - 1]?.fd ?? -1)) end();
    run.push(add);
  }
  end();
  return runs;
}
