// gRPC unary calls over HTTP/2 on a unix socket (RFC 7540, and gRPC's PROTOCOL-HTTP2.md): as much
// of both as CRI's two list calls need. node:http2 alone takes 20–35 ms to load, more than a
// one-shot's whole scan on an idle node, and @grpc/grpc-js with its descriptor several times that;
// what a client of two unary calls needs is a few frames each way.
//
// One connection, opened at the first call and kept for the next (a screen asks every 5 s), opened
// again after the runtime closed it. Every call has a deadline (and tells the runtime: grpc-timeout);
// a call past it is cancelled (RST_STREAM) and fails with DEADLINE_EXCEEDED. The bytes go over a
// transport (transports.ts): Node's net, or system calls for a one-shot run.
import { timeoutFromNextTurn } from '../../deadline.js';
import { encodeHeaders, HeaderDecoder, HpackError } from './hpack.js';
import { netTransport, type OpenTransport, type Transport } from './transports.js';

/** gRPC status codes (the ones this client gives or names). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** "UNIMPLEMENTED" for 12; the number for a code gRPC does not define. */
export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? String(code);
}

export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    /** The socket's error code (ENOENT, ECONNREFUSED...) when the connection itself failed. */
    readonly errno: string | null = null,
  ) {
    super(`${statusName(code)}: ${details}`);
  }
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER = 9;
/** RFC 7540's default SETTINGS_MAX_FRAME_SIZE: we announce no other, so no frame to us is larger. */
const MAX_FRAME = 16_384;

const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PUSH_PROMISE = 0x5;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;

const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY_FLAG = 0x20;

const SETTINGS_ENABLE_PUSH = 0x2;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
/** RST_STREAM's CANCEL. */
const CANCEL = 0x8;

export interface ChannelOptions {
  /** The largest answer taken (kubelet and crictl take 16 MiB); a larger one fails RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
  /** Sent as user-agent. */
  userAgent: string;
  /** How the bytes go to the runtime's socket; default Node's net (transports.ts). */
  transport?: OpenTransport;
}

interface Call {
  /** Called once, with the answer's message or why there is none. */
  settle: (error: GrpcError | null, message?: Buffer) => void;
  /** The response headers came (a second HEADERS block is the trailers). */
  headersSeen: boolean;
  httpStatus: string | null;
  data: Buffer[];
  dataBytes: number;
}

// Big-endian integers are written and read byte by byte, here: Buffer's own writers and readers
// are Node's JavaScript, which a one-shot run would compile cold for its request and its answer
// alone (0.03–0.15 ms each under Node 20), where this is in V8's code from the build.

/** `value` as a big-endian unsigned integer of `bytes` bytes, written into `out` at `at`. */
function putUint(out: Uint8Array, at: number, bytes: number, value: number): void {
  for (let i = at + bytes - 1; i >= at; i--) {
    out[i] = value % 256;
    value = Math.floor(value / 256);
  }
}

/** The big-endian unsigned integer of `bytes` bytes at `at`. */
function uintAt(bytes: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) value = value * 256 + bytes[i]!;
  return value;
}

/** An HTTP/2 frame, ready to write. */
function frame(type: number, flags: number, stream: number, payload: Uint8Array = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, stream);
  out.set(payload, FRAME_HEADER);
  return out;
}

const EMPTY = new Uint8Array(0);

/** A frame's 9 bytes of header, written into `out` at `at`. */
function writeFrameHeader(out: Buffer, at: number, length: number, type: number, flags: number, stream: number): void {
  putUint(out, at, 3, length);
  out[at + 3] = type;
  out[at + 4] = flags;
  putUint(out, at + 5, 4, stream);
}

function uint32Payload(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  putUint(out, 0, 4, value);
  return out;
}

/** gRPC's mapping of an HTTP status without grpc-status (PROTOCOL-HTTP2.md, "HTTP to gRPC Status Code Mapping"). */
function statusOfHttp(httpStatus: string): number {
  switch (httpStatus) {
    case '400':
      return GrpcStatus.INTERNAL;
    case '401':
      return GrpcStatus.UNAUTHENTICATED;
    case '403':
      return GrpcStatus.PERMISSION_DENIED;
    case '404':
      return GrpcStatus.UNIMPLEMENTED;
    case '429':
    case '502':
    case '503':
    case '504':
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** RST_STREAM's error codes as gRPC says to read them. */
function statusOfReset(errorCode: number): number {
  if (errorCode === 0x7 /* REFUSED_STREAM */) return GrpcStatus.UNAVAILABLE;
  if (errorCode === CANCEL) return GrpcStatus.CANCELLED;
  if (errorCode === 0xb /* ENHANCE_YOUR_CALM */) return GrpcStatus.RESOURCE_EXHAUSTED;
  if (errorCode === 0xc /* INADEQUATE_SECURITY */) return GrpcStatus.PERMISSION_DENIED;
  return GrpcStatus.INTERNAL;
}

/** grpc-message is percent-encoded UTF-8; a malformed escape stays as it is. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One HTTP/2 connection and its calls. */
class Connection {
  private readonly socket: Transport;
  private readonly decoder = new HeaderDecoder();
  private readonly calls = new Map<number, Call>();
  private nextStream = 1;
  private inbound: Buffer = Buffer.alloc(0);
  /** A header block still coming in CONTINUATION frames: its stream, flags and fragments. */
  private pendingHeaders: { stream: number; flags: number; fragments: Buffer[] } | null = null;
  /** Connection-level flow control: DATA bytes taken since the last WINDOW_UPDATE. */
  private unacknowledged = 0;
  /** No new call: the runtime said GOAWAY, or the socket failed or closed. */
  closed = false;

  constructor(
    path: string,
    private readonly options: ChannelOptions,
  ) {
    this.socket = (options.transport ?? netTransport)(path, {
      data: (chunk) => this.receive(chunk),
      error: (errno, what) => this.fail(new GrpcError(GrpcStatus.UNAVAILABLE, what, errno)),
      close: () => this.fail(new GrpcError(GrpcStatus.UNAVAILABLE, 'the runtime closed the connection')),
      waiting: () => this.calls.size > 0,
    });
    // Writes wait for the connection; the preface, our settings and the connection's receive
    // window go first. Answers up to the largest message fit the windows without a round trip.
    const window = options.maxMessageBytes + MAX_FRAME;
    const opening = Buffer.allocUnsafe(PREFACE.length + FRAME_HEADER + 12 + FRAME_HEADER + 4);
    opening.set(PREFACE, 0);
    let at = PREFACE.length;
    writeFrameHeader(opening, at, 12, SETTINGS, 0, 0);
    at += FRAME_HEADER;
    putUint(opening, at, 2, SETTINGS_ENABLE_PUSH);
    putUint(opening, at + 2, 4, 0);
    putUint(opening, at + 6, 2, SETTINGS_INITIAL_WINDOW_SIZE);
    putUint(opening, at + 8, 4, window);
    at += 12;
    writeFrameHeader(opening, at, 4, WINDOW_UPDATE, 0, 0);
    putUint(opening, at + FRAME_HEADER, 4, window);
    this.socket.write(opening);
  }

  /** Settles when what was written so far is on its way to the runtime, or the connection failed. */
  get sent(): Promise<void> {
    return this.socket.sent;
  }

  /** Starts a call; `settle` is called once. */
  start(path: string, message: Uint8Array, timeoutMs: number, settle: Call['settle']): () => void {
    const stream = this.nextStream;
    this.nextStream += 2;
    const call: Call = { settle, headersSeen: false, httpStatus: null, data: [], dataBytes: 0 };
    this.calls.set(stream, call);
    const headers = encodeHeaders([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', path],
      [':authority', 'localhost'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['grpc-timeout', `${Math.max(1, Math.ceil(timeoutMs))}m`],
      ['user-agent', this.options.userAgent],
    ]);
    // HEADERS, then DATA with the one message: [not compressed, length (4 bytes), message], in one buffer.
    const request = Buffer.allocUnsafe(FRAME_HEADER + headers.length + FRAME_HEADER + 5 + message.length);
    writeFrameHeader(request, 0, headers.length, HEADERS, END_HEADERS, stream);
    request.set(headers, FRAME_HEADER);
    const data = FRAME_HEADER + headers.length;
    writeFrameHeader(request, data, 5 + message.length, DATA, END_STREAM, stream);
    request[data + FRAME_HEADER] = 0;
    putUint(request, data + FRAME_HEADER + 1, 4, message.length);
    request.set(message, data + FRAME_HEADER + 5);
    this.socket.write(request);
    // Cancels the call (its deadline passed, or the client closes).
    return () => {
      if (!this.calls.delete(stream)) return;
      if (!this.closed) this.socket.write(frame(RST_STREAM, 0, stream, uint32Payload(CANCEL)));
    };
  }

  /** Takes in what came while no call waited: a connection the runtime closed meanwhile is `closed` after it. */
  catchUp(): void {
    if (!this.closed) this.socket.catchUp();
  }

  takeArrived(): void {
    if (!this.closed) this.socket.takeArrived();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Fails every call still waiting; the connection takes no new ones. */
  private fail(error: GrpcError): void {
    this.closed = true;
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.settle(error);
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.inbound = this.inbound.length === 0 ? chunk : Buffer.concat([this.inbound, chunk]);
    try {
      while (this.inbound.length >= FRAME_HEADER) {
        const length = uintAt(this.inbound, 0, 3);
        if (length > MAX_FRAME) throw new GrpcError(GrpcStatus.INTERNAL, `a frame of ${length} bytes (at most ${MAX_FRAME} allowed)`);
        if (this.inbound.length < FRAME_HEADER + length) return;
        const type = this.inbound[3]!;
        const flags = this.inbound[4]!;
        const stream = uintAt(this.inbound, 5, 4) & 0x7fffffff;
        const payload = this.inbound.subarray(FRAME_HEADER, FRAME_HEADER + length);
        this.inbound = this.inbound.subarray(FRAME_HEADER + length);
        this.frame(type, flags, stream, payload);
      }
    } catch (error) {
      const grpc = error instanceof GrpcError ? error : new GrpcError(GrpcStatus.INTERNAL, `bad HTTP/2 from the runtime: ${(error as Error).message}`);
      this.fail(grpc);
    }
  }

  private frame(type: number, flags: number, stream: number, payload: Buffer): void {
    if (this.pendingHeaders && type !== CONTINUATION) throw new HpackError('a header block cut by another frame');
    switch (type) {
      case SETTINGS:
        if (!(flags & ACK)) this.socket.write(frame(SETTINGS, ACK, 0));
        return;
      case PING:
        if (!(flags & ACK)) this.socket.write(frame(PING, ACK, 0, payload));
        return;
      case GOAWAY: {
        // Calls the runtime will not answer fail; the others may still finish. No new call here.
        this.closed = true;
        const last = uintAt(payload, 0, 4) & 0x7fffffff;
        for (const [id, call] of this.calls) {
          if (id <= last) continue;
          this.calls.delete(id);
          call.settle(new GrpcError(GrpcStatus.UNAVAILABLE, 'the runtime is closing the connection (GOAWAY)'));
        }
        if (this.calls.size === 0) this.socket.end();
        return;
      }
      case RST_STREAM: {
        const call = this.take(stream);
        const errorCode = uintAt(payload, 0, 4);
        call?.settle(new GrpcError(statusOfReset(errorCode), `stream reset by the runtime (HTTP/2 error ${errorCode})`));
        return;
      }
      case HEADERS: {
        let fragment = unpadded(payload, flags);
        if (flags & PRIORITY_FLAG) fragment = fragment.subarray(5);
        this.pendingHeaders = { stream, flags, fragments: [fragment] };
        if (flags & END_HEADERS) this.headerBlock();
        return;
      }
      case CONTINUATION:
        if (!this.pendingHeaders || this.pendingHeaders.stream !== stream) throw new HpackError('CONTINUATION without its HEADERS');
        this.pendingHeaders.fragments.push(payload);
        if (flags & END_HEADERS) this.headerBlock();
        return;
      case DATA:
        this.data(stream, flags, payload);
        return;
      case PUSH_PROMISE:
        throw new GrpcError(GrpcStatus.INTERNAL, 'PUSH_PROMISE, though push was refused');
      case WINDOW_UPDATE:
      default:
        // Our frames are tiny: the runtime's windows never hold them up. Unknown types are ignored.
        return;
    }
  }

  /** A whole header block: decoded even for a call already given up on (the dynamic table must follow). */
  private headerBlock(): void {
    const { stream, flags, fragments } = this.pendingHeaders!;
    this.pendingHeaders = null;
    const headers = this.decoder.decode(fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments));
    const call = this.calls.get(stream);
    if (!call) return;
    const field = (name: string): string | null => headers.find(([key]) => key === name)?.[1] ?? null;
    if (!call.headersSeen) {
      call.headersSeen = true;
      call.httpStatus = field(':status');
    }
    if (!(flags & END_STREAM)) return;
    this.take(stream);
    const grpcStatus = field('grpc-status');
    if (grpcStatus === null) {
      const http = call.httpStatus ?? 'none';
      return call.settle(new GrpcError(http === '200' ? GrpcStatus.INTERNAL : statusOfHttp(http), `no grpc-status (HTTP status ${http})`));
    }
    const code = Number(grpcStatus);
    if (code !== GrpcStatus.OK)
      return call.settle(new GrpcError(Number.isInteger(code) ? code : GrpcStatus.UNKNOWN, percentDecoded(field('grpc-message') ?? '')));
    const [error, answer] = unaryMessage(call);
    if (error) call.settle(error);
    else call.settle(null, answer);
  }

  private data(stream: number, flags: number, payload: Buffer): void {
    // Flow control counts the whole payload, padding included; given back in large steps.
    this.unacknowledged += payload.length;
    if (this.unacknowledged >= this.options.maxMessageBytes / 4) {
      this.socket.write(frame(WINDOW_UPDATE, 0, 0, uint32Payload(this.unacknowledged)));
      this.unacknowledged = 0;
    }
    const call = this.calls.get(stream);
    if (!call) return;
    const bytes = unpadded(payload, flags);
    call.data.push(bytes);
    call.dataBytes += bytes.length;
    if (call.dataBytes > this.options.maxMessageBytes + 5) {
      this.take(stream);
      this.socket.write(frame(RST_STREAM, 0, stream, uint32Payload(CANCEL)));
      return call.settle(new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, `an answer larger than ${this.options.maxMessageBytes} bytes`));
    }
    if (flags & END_STREAM) {
      this.take(stream);
      call.settle(new GrpcError(GrpcStatus.INTERNAL, 'the answer ended without trailers'));
    }
  }

  private take(stream: number): Call | undefined {
    const call = this.calls.get(stream);
    this.calls.delete(stream);
    if (this.closed && this.calls.size === 0) this.socket.end();
    return call;
  }
}

/** A DATA or HEADERS payload without its padding (PADDED: a length byte first, that many bytes last). */
function unpadded(payload: Buffer, flags: number): Buffer {
  if (!(flags & PADDED)) return payload;
  const padding = payload[0] ?? 0;
  if (padding >= payload.length) throw new HpackError('padding longer than the frame');
  return payload.subarray(1, payload.length - padding);
}

/** The one message of a unary answer: [compressed flag, length (4 bytes), message]. */
function unaryMessage(call: Call): [GrpcError] | [null, Buffer] {
  const body = call.data.length === 1 ? call.data[0]! : Buffer.concat(call.data);
  if (body.length < 5) return [new GrpcError(GrpcStatus.INTERNAL, 'an answer without its message')];
  if (body[0] !== 0) return [new GrpcError(GrpcStatus.INTERNAL, 'a compressed answer, though none was asked for')];
  const length = uintAt(body, 1, 4);
  if (body.length !== 5 + length) return [new GrpcError(GrpcStatus.INTERNAL, `an answer of ${body.length - 5} bytes announced as ${length}`)];
  return [null, body.subarray(5)];
}

/** Unary calls to one unix socket. Connects at the first call, never in the constructor. */
export class GrpcChannel {
  private connection: Connection | null = null;
  private readonly cancels = new Set<() => void>();

  constructor(
    private readonly socketPath: string,
    private readonly options: ChannelOptions,
  ) {}

  /** The answer's message bytes, or a GrpcError (DEADLINE_EXCEEDED past `timeoutMs`). */
  unary(path: string, message: Uint8Array, timeoutMs: number): Promise<Buffer> {
    this.connection?.catchUp();
    if (this.connection === null || this.connection.closed) this.connection = new Connection(this.socketPath, this.options);
    const connection = this.connection;
    return new Promise((resolve, reject) => {
      let cancelDeadline = (): void => undefined;
      const settle = (error: GrpcError | null, answer?: Buffer): void => {
        cancelDeadline();
        this.cancels.delete(cancel);
        if (error) reject(error);
        else resolve(answer!);
      };
      const cancelStream = connection.start(path, message, timeoutMs, settle);
      const cancel = (): void => {
        cancelStream();
        settle(new GrpcError(GrpcStatus.CANCELLED, 'cancelled: the client closed'));
      };
      this.cancels.add(cancel);
      // Its timer started only at the next turn of the event loop: a one-shot takes its answers in
      // right after its scan, before that turn, and sets none.
      cancelDeadline = timeoutFromNextTurn(() => {
        cancelStream();
        settle(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /** Settles once the calls made so far are on their way to the runtime (or the connection failed). */
  sent(): Promise<void> {
    return this.connection?.sent ?? Promise.resolve();
  }

  /** Takes in the answers the runtime has sent by now, without waiting for a turn of the event loop. */
  takeArrived(): void {
    this.connection?.takeArrived();
  }

  /** Cancels the calls still waiting and closes the connection: nothing of the channel outlives it. */
  close(): void {
    for (const cancel of [...this.cancels]) cancel();
    this.connection?.destroy();
    this.connection = null;
  }
}
