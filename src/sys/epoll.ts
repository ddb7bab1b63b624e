// epoll and the fd calls its sets are built with: one binding for the scan's FileSet (which fds
// are one file: filesets.ts) and the refreshes' QueueSet (which instances have events:
// queue-set.ts). Both put each file in through one number of ours (the slot), so they need dup3 and
// F_DUPFD_CLOEXEC beside epoll's own calls. Every fd made here is close-on-exec: a command inotop
// runs (crictl, kubectl) inherits none of them.
import { arch } from 'node:os';
import { addressOf, lastErrno, libcBinding } from './libc.js';

const EPOLL_CLOEXEC = 0x80000;
const O_CLOEXEC = 0x80000;
const F_DUPFD_CLOEXEC = 1030;
const EFD_CLOEXEC = 0x80000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x1;
/** struct epoll_event is packed on x86 (12 bytes, its data at 4); elsewhere 16 bytes, its data aligned at 8. */
const PACKED = arch() === 'x64' || arch() === 'ia32';
export const EVENT_SIZE = PACKED ? 12 : 16;
export const EVENT_DATA_AT = PACKED ? 4 : 8;

export interface EpollCalls {
  /** epoll_create1(EPOLL_CLOEXEC): an fd, or -errno. */
  create(): number;
  /** epoll_ctl(`op`) of `fd` for `events`, its 64-bit data `high`:`low`: 0 or -errno. */
  control(epoll: number, op: number, fd: number, events: number, low: number, high: number): number;
  /** epoll_wait(epoll, events at `address`, capacity, 0): how many are ready, or -errno. */
  wait(epoll: number, address: number, capacity: number): number;
  /** dup3(from, to, O_CLOEXEC): `to`, or -errno. */
  duplicateAt(from: number, to: number): number;
  /** fcntl(F_DUPFD_CLOEXEC): a duplicate of `from` at the lowest free number from `lowest` on, or -errno. */
  duplicateFrom(from: number, lowest: number): number;
  close(fd: number): void;
  /**
   * eventfd(0, EFD_CLOEXEC), for FileSet's probe: an fd, or -errno. Not inotify instances: on a
   * node at max_user_instances, two of ours, however briefly, could be what another process is refused.
   */
  eventfd(): number;
  /** The address of memory of ours, for epoll_wait's events. */
  addressOf(memory: Uint8Array): number;
}

export const epollCalls = libcBinding('epoll', (libc): EpollCalls => {
  const create: (flags: number) => number = libc.func('int epoll_create1(int flags)');
  // Once per fd added: the event goes in memory of our own passed by address (addressOf).
  const ctl: (epoll: number, op: number, fd: number, event: number) => number = libc.func('int epoll_ctl(int epfd, int op, int fd, intptr_t event)');
  const wait: (epoll: number, events: number, capacity: number, timeout: number) => number = libc.func(
    'int epoll_wait(int epfd, intptr_t events, int maxevents, int timeout)',
  );
  const dup3: (from: number, to: number, flags: number) => number = libc.func('int dup3(int oldfd, int newfd, int flags)');
  // Variadic: called only where a file was added before, and once per set.
  const fcntl: (fd: number, command: number, ...typed: unknown[]) => number = libc.func('int fcntl(int fd, int cmd, ...)');
  const close: (fd: number) => number = libc.func('int close(int fd)');
  const eventfd: (initial: number, flags: number) => number = libc.func('int eventfd(unsigned int initval, int flags)');
  const event = new Uint8Array(16);
  const eventView = new DataView(event.buffer);
  const eventAddress = addressOf(libc, event);
  const orErrno = (result: number) => (result < 0 ? -lastErrno() : result);
  return {
    create: () => orErrno(create(EPOLL_CLOEXEC)),
    control(epoll, op, fd, events, low, high) {
      eventView.setUint32(0, events, true);
      eventView.setUint32(EVENT_DATA_AT, low >>> 0, true);
      eventView.setUint32(EVENT_DATA_AT + 4, high >>> 0, true);
      return orErrno(ctl(epoll, op, fd, eventAddress));
    },
    wait: (epoll, address, capacity) => orErrno(wait(epoll, address, capacity, 0)),
    duplicateAt: (from, to) => orErrno(dup3(from, to, O_CLOEXEC)),
    duplicateFrom: (from, lowest) => orErrno(fcntl(from, F_DUPFD_CLOEXEC, 'int', lowest)),
    close: (fd) => void close(fd),
    eventfd: () => orErrno(eventfd(0, EFD_CLOEXEC)),
    addressOf: (memory) => addressOf(libc, memory),
  };
});

/**
 * An epoll instance and its slot: the one number of ours where each file goes in through a
 * duplicate put there (any fd of ours will do to start with: the instance's own). Or why not (no
 * koffi, no fds left).
 */
export function epollWithSlot(): { calls: EpollCalls; epoll: number; slot: number } | string {
  const bound = epollCalls();
  if (!bound.ok) return bound.error;
  const calls = bound.value;
  const epoll = calls.create();
  if (epoll < 0) return `epoll_create1: errno ${-epoll}`;
  const slot = calls.duplicateFrom(epoll, 0);
  if (slot < 0) {
    calls.close(epoll);
    return `fcntl(F_DUPFD): errno ${-slot}`;
  }
  return { calls, epoll, slot };
}
