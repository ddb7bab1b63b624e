// Which of many fds, in any processes, are one open file, without comparing them two by two.
// epoll keys what it watches by the file and the fd number it was added under, and refuses the
// same pair twice (EEXIST). A thread puts a duplicate of each fd (pidfd_getfd: src/sys/queues.ts)
// at a number of its own (its slot) and adds it there: EEXIST says exactly that this thread added
// that file before; the file is then added once more under a free number above the slot, beside
// its first add. /proc/self/fdinfo of the epoll instance lists what it holds in its tree's order,
// by file and then fd number: one file's adds come together, the first under the lowest number
// (see FileSet.listing). Ordering the files with kcmp instead takes about log2(n) calls per fd,
// 6–12 µs each in a scan. Nothing is read from or changed in the files: the epoll instance only
// watches them (no one waits on it), until it is closed at the end of the scan.
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { ERRNO } from './errno.js';
import { addressOf, lastErrno, libcBinding } from './libc.js';

const EPOLL_CLOEXEC = 0x80000;
const O_CLOEXEC = 0x80000;
const EPOLL_CTL_ADD = 1;
const F_DUPFD_CLOEXEC = 1030;
const IN_CLOEXEC = 0x80000;
/** struct epoll_event is packed on x86 (12 bytes, its data at 4); elsewhere its data is aligned at 8. */
const EVENT_DATA_AT = arch() === 'x64' || arch() === 'ia32' ? 4 : 8;

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

interface EpollCalls {
  create(): number;
  /** epoll_ctl(ADD) of `fd` with no events, `held` as its data: 0 or -errno. */
  add(epoll: number, fd: number, held: HeldFd): number;
  /** dup3(from, to, O_CLOEXEC): `to`, or -errno. */
  duplicateAt(from: number, to: number): number;
  /** fcntl(F_DUPFD_CLOEXEC): a duplicate of `from` at the lowest free number from `lowest` on, or -errno. */
  duplicateFrom(from: number, lowest: number): number;
  close(fd: number): void;
  /** inotify_init1(IN_CLOEXEC), for the probe: an fd, or -errno. */
  inotify(): number;
}

const epollCalls = libcBinding('epoll', (libc): EpollCalls => {
  const create: (flags: number) => number = libc.func('int epoll_create1(int flags)');
  // Once per fd added: the event goes in memory of our own passed by address (addressOf).
  const ctl: (epoll: number, op: number, fd: number, event: number) => number = libc.func('int epoll_ctl(int epfd, int op, int fd, intptr_t event)');
  const dup3: (from: number, to: number, flags: number) => number = libc.func('int dup3(int oldfd, int newfd, int flags)');
  // Variadic: called only where a file was added before, and once per set.
  const fcntl: (fd: number, command: number, ...typed: unknown[]) => number = libc.func('int fcntl(int fd, int cmd, ...)');
  const close: (fd: number) => number = libc.func('int close(int fd)');
  const inotifyInit: (flags: number) => number = libc.func('int inotify_init1(int flags)');
  const event = new Uint8Array(16);
  const eventView = new DataView(event.buffer);
  const eventAddress = addressOf(libc, event);
  const orErrno = (result: number) => (result < 0 ? -lastErrno() : result);
  return {
    create: () => orErrno(create(EPOLL_CLOEXEC)),
    add(epoll, fd, held) {
      eventView.setUint32(EVENT_DATA_AT, (held.fd | (held.group ? GROUP_BIT : 0)) >>> 0, true);
      eventView.setUint32(EVENT_DATA_AT + 4, held.pid, true);
      return orErrno(ctl(epoll, EPOLL_CTL_ADD, fd, eventAddress));
    },
    duplicateAt: (from, to) => orErrno(dup3(from, to, O_CLOEXEC)),
    duplicateFrom: (from, lowest) => orErrno(fcntl(from, F_DUPFD_CLOEXEC, 'int', lowest)),
    close: (fd) => void close(fd),
    inotify: () => orErrno(inotifyInit(IN_CLOEXEC)),
  };
});

/** The data's low word: the fd (below 2^31), and this bit for a fanotify group. */
const GROUP_BIT = 0x8000_0000;

/**
 * One thread's side of an epoll instance that tells files apart: its slot, and whether every file
 * it was to add is in (`whole`: where one is not, the set cannot tell which files are one).
 */
export class FileSet {
  /** Every fd this thread was given went in (or its holder was gone). */
  whole = true;

  private constructor(
    private readonly calls: EpollCalls,
    /** The epoll instance, shared by the threads of a scan. */
    readonly epoll: number,
    /** This thread's number for its duplicates. */
    readonly slot: number,
    /** The epoll instance is this set's (create), closed with it. */
    private readonly ownsEpoll: boolean,
  ) {}

  /**
   * A new set: an epoll instance and this thread's slot; or why not (no koffi, no fds left, or a
   * kernel whose epoll does not behave as described above: tried on two inotify instances of our own).
   */
  static create(): FileSet | string {
    const calls = epollCalls();
    if (!calls.ok) return calls.error;
    const set = FileSet.open(calls.value, calls.value.create(), true);
    if (typeof set === 'string') return set;
    const fault = set.probe();
    if (fault === null) return set;
    set.close();
    return `epoll: ${fault}`;
  }

  /** The set `epoll` (another thread's FileSet.epoll), with a slot of this thread's own; or why not. */
  static join(epoll: number): FileSet | string {
    const calls = epollCalls();
    return calls.ok ? FileSet.open(calls.value, epoll, false) : calls.error;
  }

  private static open(calls: EpollCalls, epoll: number, ownsEpoll: boolean): FileSet | string {
    if (epoll < 0) return `epoll_create1: errno ${-epoll}`;
    // Any fd of ours will do: each add puts its duplicate there in its place.
    const slot = calls.duplicateFrom(epoll, 0);
    if (slot >= 0) return new FileSet(calls, epoll, slot, ownsEpoll);
    if (ownsEpoll) calls.close(epoll);
    return `fcntl(F_DUPFD): errno ${-slot}`;
  }

  /** Adds the file `copy` (an fd of ours: a duplicate of `held`'s). Where it fails, the set is no longer whole. */
  add(copy: number, held: HeldFd): void {
    const { calls, epoll, slot } = this;
    if (calls.duplicateAt(copy, slot) < 0) {
      this.whole = false;
      return;
    }
    let added = calls.add(epoll, slot, held);
    // Added before by this thread: once more under a free number above the slot (the next of
    // three holders of one file finds that one taken too, and takes the next).
    for (let lowest = slot + 1; added === -ERRNO.EEXIST;) {
      const beside = calls.duplicateFrom(copy, lowest);
      if (beside < 0) break;
      added = calls.add(epoll, beside, held);
      calls.close(beside);
      lowest = beside + 1;
    }
    if (added < 0) this.whole = false;
  }

  /** An fd that could not be duplicated for another reason than its holder's going: the set is no longer whole. */
  missed(): void {
    this.whole = false;
  }

  /**
   * What the set holds, in its tree's order: by file, then by fd number. One file's adds are
   * together, and the first of them is under a slot (those above one came after that slot's).
   * Adds whose file has since been closed by every holder are gone from it.
   */
  listing(): ListedAdd[] {
    const text = readFileSync(`/proc/self/fdinfo/${this.epoll}`, 'latin1');
    const adds: ListedAdd[] = [];
    for (const [, fd, data] of text.matchAll(/^tfd:\s*(\d+)\s+events:\s*[0-9a-f]+\s+data:\s*([0-9a-f]+)/gm)) {
      const low = Number.parseInt(data!.slice(-8), 16);
      const pid = data!.length > 8 ? Number.parseInt(data!.slice(0, -8), 16) : 0;
      adds.push({ fd: Number(fd), held: { pid, fd: (low & ~GROUP_BIT) >>> 0, group: (low & GROUP_BIT) !== 0 } });
    }
    return adds;
  }

  /** Closes this thread's slot, and the epoll instance where it is this set's. */
  close(): void {
    this.calls.close(this.slot);
    if (this.ownsEpoll) this.calls.close(this.epoll);
  }

  /** Two inotify instances of ours, one added twice: null where the listing shows the two adds of that one together, else what went wrong. */
  private probe(): string | null {
    const { calls } = this;
    const first = calls.inotify();
    const second = calls.inotify();
    try {
      if (first < 0 || second < 0) return `inotify_init1: errno ${-Math.min(first, second)}`;
      const own = (fd: number): HeldFd => ({ pid: process.pid, fd, group: false });
      this.add(first, own(first));
      this.add(second, own(second));
      this.add(first, own(first));
      const fds = this.listing()
        .filter((add) => add.held.pid === process.pid)
        .map((add) => add.held.fd);
      const together = fds.length === 3 && fds.indexOf(first) >= 0 && fds.lastIndexOf(first) === fds.indexOf(first) + 1;
      return this.whole && together ? null : `its listing is not by file (${fds.join(' ')})`;
    } finally {
      if (first >= 0) calls.close(first);
      if (second >= 0) calls.close(second);
      // The slot let go of the last one added: both are closed, and gone from the set.
      calls.duplicateAt(this.epoll, this.slot);
    }
  }
}
