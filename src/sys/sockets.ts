// A unix stream socket through koffi: socket, connect, send, read and poll. A one-shot run asks the
// container runtime over one (src/pods/cri/transports.ts): node:net would load net, stream and the
// pipe handle machinery on its main thread, 10–15 ms of a run that lasts 150.
import { ERRNO } from './errno.js';
import { lastErrno, libcBinding } from './libc.js';

// The same numbers on x86_64 and arm64.
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
/** send(2): a peer gone gives EPIPE, never SIGPIPE. */
const MSG_NOSIGNAL = 0x4000;
/** struct sockaddr_un: sa_family_t, then sun_path[108]. */
const SUN_PATH = 2;
const SUN_PATH_SIZE = 108;

export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;

export interface SocketCalls {
  /** A non-blocking unix stream socket connected to `path`: its fd, or -errno (ENOENT, ECONNREFUSED, EAGAIN: the listener's backlog is full). */
  connectUnix(path: string): number;
  /** send(2) of `bytes` without blocking: how many went, or -errno (EAGAIN: the socket's buffer is full). */
  send(fd: number, bytes: Uint8Array): number;
  /** read(2) into `out` without blocking: the bytes read (0: the peer closed), or -errno (EAGAIN: nothing yet). */
  read(fd: number, out: Buffer): number;
  /** poll(2) of one fd for `events` for at most `timeoutMs`: the events that came (0: none), or -errno (EINTR: a signal came). */
  poll(fd: number, events: number, timeoutMs: number): number;
  close(fd: number): void;
}

/** The calls, bound once; why not when they are unavailable (no glibc, no koffi build). */
export const socketCalls = libcBinding('socket, connect, send, read, poll', (libc): SocketCalls => {
  const socket: (domain: number, type: number, protocol: number) => number = libc.func('int socket(int domain, int type, int protocol)');
  const connect: (fd: number, address: Buffer, length: number) => number = libc.func('int connect(int fd, void *addr, uint32_t len)');
  const send: (fd: number, bytes: Uint8Array, length: number, flags: number) => number = libc.func('long send(int fd, void *buf, size_t len, int flags)');
  const read: (fd: number, out: Buffer, size: number) => number = libc.func('long read(int fd, void *buf, size_t size)');
  const poll: (fds: Buffer, count: number, timeoutMs: number) => number = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
  const close: (fd: number) => number = libc.func('int close(int fd)');
  // struct pollfd { int fd; short events; short revents; }, reused. Its fields through a DataView,
  // whose accessors are V8's own: Buffer's are Node's JavaScript, compiled cold at the first poll.
  const pollFd = Buffer.alloc(8);
  const pollFields = new DataView(pollFd.buffer, pollFd.byteOffset, pollFd.length);
  return {
    connectUnix(path) {
      const address = Buffer.alloc(SUN_PATH + SUN_PATH_SIZE);
      new DataView(address.buffer, address.byteOffset, address.length).setUint16(0, AF_UNIX, true);
      // sun_path holds the path and its NUL.
      if (address.write(path, SUN_PATH, 'utf8') !== Buffer.byteLength(path) || Buffer.byteLength(path) >= SUN_PATH_SIZE) return -ERRNO.ENAMETOOLONG;
      const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return -lastErrno();
      if (connect(fd, address, address.length) < 0) {
        const errno = lastErrno();
        close(fd);
        return -errno;
      }
      return fd;
    },
    send(fd, bytes) {
      const sent = send(fd, bytes, bytes.length, MSG_NOSIGNAL);
      return sent < 0 ? -lastErrno() : sent;
    },
    read(fd, out) {
      const length = read(fd, out, out.length);
      return length < 0 ? -lastErrno() : length;
    },
    poll(fd, events, timeoutMs) {
      pollFields.setInt32(0, fd, true);
      pollFields.setInt16(4, events, true);
      pollFields.setInt16(6, 0, true);
      const ready = poll(pollFd, 1, timeoutMs);
      return ready < 0 ? -lastErrno() : ready === 0 ? 0 : pollFields.getUint16(6, true);
    },
    close(fd) {
      close(fd);
    },
  };
});
