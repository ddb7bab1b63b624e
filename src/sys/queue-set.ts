// Which inotify instances and fanotify groups of other processes have events queued, told at once
// for all of them by one epoll set of ours, so that a refresh duplicates and asks FIONREAD of those
// only. What the kernel does (fs/eventpoll.c, Linux 5.x to 6.18, checked on 6.18 by
// test/system/queue-set-kernel.test.ts):
// - An entry of the set is keyed by (file, fd number it was added under) and holds no reference to
//   the file: closing the fd it was added through leaves it (no EPOLL_CTL_DEL is made), and it goes
//   on telling the file's readiness (ep_item_poll takes the file for the poll only, epi_fget).
// - When the file's last reference goes (every holder closed it, or exited), __fput calls
//   eventpoll_release_file, which removes the entry from every set: the set keeps no instance
//   alive, nor its watches, nor its place under max_user_instances.
// - Level-triggered, an entry is ready while its file's poll says EPOLLIN: inotify_poll and
//   fanotify_poll say it exactly when the notification list is not empty, the list FIONREAD sums.
// Each file goes in through a duplicate (pidfd_getfd: src/sys/queues.ts) put at one number of ours
// (the slot), so that a file is in the set once: adding it again fails with EEXIST, and it is then
// given the new token in place of its old one (EPOLL_CTL_MOD). The slot holds the last file added
// until letGo() (the end of a refresh), as a held duplicate does. Which entries are still in the set
// (their file still open somewhere) is read from /proc/self/fdinfo of the set (ep_show_fdinfo: one
// line per entry, its data among them), kept open. pidfds go in too, under their own numbers: a pidfd is
// readable once its process has exited.
import { closeSync, openSync, readSync } from 'node:fs';
import { ERRNO } from './errno.js';
import { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLLIN, EVENT_DATA_AT, EVENT_SIZE, epollWithSlot, type EpollCalls } from './epoll.js';

/** The high word of a pidfd's data (its low word the pid); an instance's is 0 (its low word its token). */
const PIDFD_TAG = 1;

/** What a look at the set tells: tokens of instances with events queued, pids whose process exited, and tokens still in the set. */
export interface SetLook {
  ready: Set<number>;
  exited: Set<number>;
  present: Set<number>;
}

/** The set (see above), held by one thread: QueueReader's. */
export class QueueSet {
  private events = new Uint8Array(0);
  private eventsView = new DataView(this.events.buffer);
  private eventsAddress = 0;
  /** Entries added (instances, each file once, and pidfds): what epoll_wait's buffer is sized by. */
  private entries = 0;
  /** The slot holds a file added (not the set itself): letGo() puts the set back there. */
  private holding = false;
  /** The set's fdinfo, kept open: read again from 0, the kernel keeps its buffer at the size the last reading grew it to. */
  private listing: number | null = null;
  private listed = Buffer.alloc(16384);

  private constructor(
    private readonly calls: EpollCalls,
    private readonly epoll: number,
    private readonly slot: number,
  ) {}

  /** A new set; or why not (no koffi, no fds left). */
  static create(): QueueSet | string {
    const made = epollWithSlot();
    if (typeof made === 'string') return made;
    const { calls, epoll, slot } = made;
    return new QueueSet(calls, epoll, slot);
  }

  /**
   * Puts the file of `copy` (our duplicate of an instance's or group's fd) in the set under
   * `token` (below 2^32): 0, or -errno (EPERM: a file that cannot be polled). A file in the set
   * already is given `token` in place of its old one.
   */
  add(copy: number, token: number): number {
    const { calls, epoll, slot } = this;
    const at = calls.duplicateAt(copy, slot);
    if (at < 0) return at;
    this.holding = true;
    let added = calls.control(epoll, EPOLL_CTL_ADD, slot, EPOLLIN, token, 0);
    if (added === 0) this.entries++;
    else if (added === -ERRNO.EEXIST) added = calls.control(epoll, EPOLL_CTL_MOD, slot, EPOLLIN, token, 0);
    return added;
  }

  /** Puts a pidfd of ours in the set, so that its process's exit is told (ready): 0 or -errno. Closing it takes it out. */
  addPidfd(pidfd: number, pid: number): number {
    const added = this.calls.control(this.epoll, EPOLL_CTL_ADD, pidfd, EPOLLIN, pid, PIDFD_TAG);
    if (added === 0) this.entries++;
    return added;
  }

  /** The slot lets go of the last file added: until then it keeps that instance alive, as a held duplicate does. */
  letGo(): void {
    if (!this.holding) return;
    this.calls.duplicateAt(this.epoll, this.slot);
    this.holding = false;
  }

  /** What is ready now, and what is still in the set; null where the set cannot be read (then nothing is answered from it). */
  look(): SetLook | null {
    const ready = new Set<number>();
    const exited = new Set<number>();
    // Level-triggered: every entry ready now is told, whatever was told before. A full buffer is asked again, larger.
    for (let capacity = Math.max(64, this.entries + 16); ; capacity *= 2) {
      this.ensureCapacity(capacity);
      const count = this.calls.wait(this.epoll, this.eventsAddress, capacity);
      if (count < 0) {
        if (count === -ERRNO.EINTR) continue;
        return null;
      }
      const view = this.eventsView;
      for (let i = 0; i < count; i++) {
        const at = i * EVENT_SIZE + EVENT_DATA_AT;
        const low = view.getUint32(at, true);
        if (view.getUint32(at + 4, true) === PIDFD_TAG) exited.add(low);
        else ready.add(low);
      }
      if (count < capacity) break;
    }
    const present = this.present();
    if (present === null) return null;
    this.entries = present.entries;
    return { ready, exited, present: present.tokens };
  }

  close(): void {
    if (this.listing !== null) closeSync(this.listing);
    this.listing = null;
    this.calls.close(this.slot);
    this.calls.close(this.epoll);
  }

  /**
   * The instances' tokens the set holds (their files are open somewhere), from its fdinfo: a line
   * per entry, "tfd: N events: E data: HEX ...". The kernel prints the whole listing at each read
   * from 0, into a buffer it doubles from one page until the listing fits, printing it again at each
   * doubling (some 0.7 ms a read at 1,000 entries here); kept open, the file keeps that buffer
   * (fs/seq_file.c: seq_read_iter grows m->size, only seq_release frees m->buf), and the listing is
   * printed once a read.
   */
  private present(): { tokens: Set<number>; entries: number } | null {
    let length: number;
    try {
      this.listing ??= openSync(`/proc/self/fdinfo/${this.epoll}`, 'r');
      for (;;) {
        length = readSync(this.listing, this.listed, 0, this.listed.length, 0);
        // Read whole: a read from 0 gives the whole listing where the buffer holds it.
        if (length < this.listed.length) break;
        this.listed = Buffer.alloc(this.listed.length * 2);
      }
    } catch {
      return null;
    }
    const text = this.listed.toString('latin1', 0, length);
    const tokens = new Set<number>();
    let entries = 0;
    for (let at = text.indexOf('data:'); at >= 0; at = text.indexOf('data:', at)) {
      at += 5;
      while (text.charCodeAt(at) === 32) at++;
      let end = at;
      while (end < text.length && text.charCodeAt(end) !== 32 && text.charCodeAt(end) !== 10) end++;
      entries++;
      // Data above 32 bits is a pidfd's.
      if (end - at <= 8) tokens.add(Number.parseInt(text.slice(at, end), 16));
      at = end;
    }
    return { tokens, entries };
  }

  private ensureCapacity(capacity: number): void {
    if (this.events.length >= capacity * EVENT_SIZE) return;
    this.events = new Uint8Array(capacity * EVENT_SIZE);
    this.eventsView = new DataView(this.events.buffer);
    this.eventsAddress = this.calls.addressOf(this.events);
  }
}
