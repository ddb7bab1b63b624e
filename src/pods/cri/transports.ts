// The byte streams the gRPC client (grpc.ts) runs over: one HTTP/2 framing layer, two ways to
// carry it to the runtime's unix socket.
// - Node's net: the event loop waits on the socket. For the screen and the exporter, whose
//   connection lives for the session and is asked every refresh: they never block their loop,
//   and notice the runtime closing an idle connection. Loading net (with stream and the pipe
//   handle machinery) costs 10–15 ms once.
// - System calls through koffi (src/sys/sockets.ts), for a one-shot run: connecting and writing
//   are done at once, so the whole request is with the runtime before the scan starts and it
//   answers while we scan; the answer is read after the scan, waiting in poll(2) in short slices
//   between turns of the event loop (a signal, the call's deadline, the other pod sources keep
//   being served). Nothing of net loads.
import { errnoName, ERRNO } from '../../sys/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, socketCalls, type SocketCalls } from '../../sys/sockets.js';

/** What a transport tells the framing layer. */
export interface TransportEvents {
  data(chunk: Buffer): void;
  /** The connection failed: `errno` names the socket's error (ENOENT...), `what` says it ("connect ENOENT"). */
  error(errno: string | null, what: string): void;
  /** The runtime closed the connection. */
  close(): void;
  /** Whether the framing layer waits for bytes (a call unanswered): a one-shot's transport reads only then. */
  waiting(): boolean;
}

export interface Transport {
  /** Sends `bytes` after what was written before (held until the connection is up). */
  write(bytes: Buffer): void;
  /** Closes once what was written is sent. */
  end(): void;
  /** Closes now. */
  destroy(): void;
  /** Takes in what the runtime sent while no call waited (a GOAWAY, its closing), before a new call: net's event loop already has. */
  catchUp(): void;
  /** Takes in what the runtime has sent by now, without waiting for a turn of the event loop: net's loop hands it on by itself. */
  takeArrived(): void;
  /** Settles once what was written so far is on its way to the runtime, or the connection failed. */
  readonly sent: Promise<void>;
}

export type OpenTransport = (socketPath: string, events: TransportEvents) => Transport;

/** Over Node's net: the event loop waits on the socket. */
export const netTransport: OpenTransport = (socketPath, events) => {
  // node:net loaded here: a run without CRI (--pods none, no runtime socket) need not load it.
  const socket = process.getBuiltinModule('node:net').connect(socketPath);
  const sent = new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  socket.on('data', (chunk: Buffer) => events.data(chunk));
  socket.on('error', (error: NodeJS.ErrnoException) => {
    const errno = error.code ?? null;
    events.error(errno, error.syscall === 'connect' ? `connect ${errno}` : error.message);
  });
  socket.on('close', () => events.close());
  return {
    write: (bytes) => void socket.write(bytes),
    end: () => void socket.end(),
    destroy: () => void socket.destroy(),
    catchUp: () => undefined,
    takeArrived: () => undefined,
    sent,
  };
};

/**
 * The longest the main thread waits in poll(2) at a time: between slices the event loop takes
 * a signal (Ctrl-C), the call's deadline and the other pod sources' answers.
 */
const POLL_SLICE_MS = 5;
const READ_CHUNK = 64 * 1024;

/** Over system calls, for a one-shot run; null when koffi cannot make them here (the caller takes net). */
export function syscallTransport(): OpenTransport | null {
  const calls = socketCalls();
  if (!calls.ok) return null;
  return (socketPath, events) => new SyscallSocket(calls.value, socketPath, events);
}

class SyscallSocket implements Transport {
  private fd: number;
  /** Bytes the socket's buffer did not take yet, in order. */
  private outbound: Buffer[] = [];
  private ending = false;
  private pump: NodeJS.Immediate | null = null;
  readonly sent = Promise.resolve();

  constructor(
    private readonly calls: SocketCalls,
    socketPath: string,
    private readonly events: TransportEvents,
  ) {
    this.fd = calls.connectUnix(socketPath);
    // Told on the next turn: the calls written meanwhile fail with it.
    if (this.fd < 0) this.failed(`connect ${errnoName(-this.fd)}`, -this.fd);
  }

  write(bytes: Buffer): void {
    if (this.fd < 0) return;
    this.outbound.push(bytes);
    // What is written in one go (the preface and both calls of a one-shot) leaves in one send(2),
    // still before the caller's next await: sent() settles after the microtasks queued before it.
    // A promise's reaction, not queueMicrotask: Node 20's makes an async resource (0.2 ms cold).
    if (this.outbound.length === 1) void Promise.resolve().then(() => this.flush() && this.schedule());
  }

  end(): void {
    this.ending = true;
    if (this.outbound.length === 0) this.destroy();
  }

  destroy(): void {
    if (this.pump !== null) clearImmediate(this.pump);
    this.pump = null;
    if (this.fd >= 0) this.calls.close(this.fd);
    this.fd = -1;
    this.outbound = [];
  }

  catchUp(): void {
    // A call written this turn (its send still queued) is being started: nothing to catch up on.
    if (this.fd >= 0 && this.pump === null && this.outbound.length === 0 && this.calls.poll(this.fd, POLLIN, 0) > 0) this.readAll();
  }

  takeArrived(): void {
    if (this.fd < 0 || this.outbound.length > 0) return;
    if (this.calls.poll(this.fd, POLLIN, 0) > 0 && !this.readAll()) return;
    // Nothing left to wait for: the turn scheduled for the answer would only poll an idle socket.
    if (this.pump !== null && !this.events.waiting()) {
      clearImmediate(this.pump);
      this.pump = null;
    }
  }

  /** Writes what the socket's buffer takes now; false after a failure (told, and the socket closed). */
  private flush(): boolean {
    if (this.fd < 0) return false;
    if (this.outbound.length > 1) this.outbound = [joined(this.outbound)];
    while (this.outbound.length > 0) {
      const head = this.outbound[0]!;
      const sent = this.calls.send(this.fd, head);
      if (sent === -ERRNO.EAGAIN) return true;
      if (sent < 0) return this.failed(`write ${errnoName(-sent)}`, -sent);
      if (sent === head.length) this.outbound.shift();
      else this.outbound[0] = head.subarray(sent);
    }
    if (this.ending) this.destroy();
    return true;
  }

  /** One more look at the socket on a later turn, while something is to be written or read. */
  private schedule(): void {
    if (this.pump === null && this.fd >= 0 && (this.outbound.length > 0 || this.events.waiting())) this.pump = setImmediate(() => this.turn());
  }

  private turn(): void {
    this.pump = null;
    if (this.fd < 0) return;
    const ready = this.calls.poll(this.fd, POLLIN | (this.outbound.length > 0 ? POLLOUT : 0), POLL_SLICE_MS);
    // EINTR: a signal came; the next turn of the loop handles it.
    if (ready < 0 && ready !== -ERRNO.EINTR) return void this.failed(`poll ${errnoName(-ready)}`, -ready);
    if (ready > 0 && (ready & POLLOUT) !== 0 && !this.flush()) return;
    if (ready > 0 && (ready & (POLLIN | POLLHUP | POLLERR)) !== 0 && !this.readAll()) return;
    this.schedule();
  }

  /** Hands on everything the socket holds; false once the connection ended (told). */
  private readAll(): boolean {
    while (this.fd >= 0) {
      const chunk = Buffer.allocUnsafe(READ_CHUNK);
      const length = this.calls.read(this.fd, chunk);
      if (length === -ERRNO.EAGAIN) return true;
      if (length < 0) return this.failed(`read ${errnoName(-length)}`, -length);
      if (length === 0) {
        this.destroy();
        this.events.close();
        return false;
      }
      // Handed on as it is: the framing layer keeps pieces of it.
      this.events.data(chunk.subarray(0, length));
    }
    return false;
  }

  /** Closes the socket; the failure is told on the next turn, as net does (never inside the write of a call being started). */
  private failed(what: string, errno: number): false {
    this.destroy();
    setImmediate(() => this.events.error(errnoName(errno), what));
    return false;
  }
}

/** The buffers one after another in one: Buffer.concat's checks are Node's JavaScript, compiled cold at a one-shot's one send. */
function joined(buffers: readonly Buffer[]): Buffer {
  let length = 0;
  for (const buffer of buffers) length += buffer.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const buffer of buffers) {
    out.set(buffer, at);
    at += buffer.length;
  }
  return out;
}
