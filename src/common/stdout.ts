// Text to stdout, one piece at a time, and the standard output streams opened only where needed.
// Node sets process.stdout and process.stderr up when first asked for them: for a pipe, its
// streams, net and the pipe's handle, 5–7 ms of a one-shot run's start under Node 20. Output to a
// pipe or a file is written straight to fd 1 instead, and waits for it as the stream did: a pipe
// is asynchronous in Node on Linux, so what the reader had not taken yet stayed queued in our
// memory; a write to fd 1 returns once the kernel took it, so one piece is ever in flight. A
// terminal, a pipe some other process made non-blocking, and a series over time get the stream.
import { fstatSync, writeSync } from 'node:fs';

type ErrorHandler = (error: NodeJS.ErrnoException) => void;

const STDOUT_FD = 1;

let onError: ErrorHandler | undefined;
let terminal: boolean | undefined;
/** Whether some piece went to the stream: the pieces after it follow it there, in order. */
let streamed = false;

/**
 * What an error of the output does (src/cli/program.ts): given to process.stdout and process.stderr
 * when, if ever, Node opens them, and called for a failed write straight to fd 1.
 */
export function whenOutputFails(handler: ErrorHandler): void {
  onError = handler;
  for (const name of ['stdout', 'stderr'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(process, name);
    const open = descriptor?.get;
    if (descriptor === undefined || open === undefined || descriptor.configurable !== true) {
      process[name].on('error', handler);
      continue;
    }
    // Node's own getter opens the stream once and keeps it: put back, it answers every later ask.
    Object.defineProperty(process, name, {
      ...descriptor,
      get(): NodeJS.WriteStream {
        const stream = open.call(process) as NodeJS.WriteStream;
        Object.defineProperty(process, name, descriptor);
        stream.on('error', handler);
        return stream;
      },
    });
  }
}

/**
 * Whether stdout is a terminal, without opening the stream where it cannot be one: only a
 * character device can be a terminal (/dev/null is one too: the stream tells them apart).
 */
export function stdoutIsTerminal(): boolean {
  if (terminal === undefined) {
    let characterDevice = true;
    try {
      characterDevice = fstatSync(STDOUT_FD).isCharacterDevice();
    } catch {
      // fd 1 closed or not statable: the stream says what it is
    }
    terminal = characterDevice && process.stdout.isTTY === true;
  }
  return terminal;
}

/**
 * A series of snapshots over time (-n N) goes through the stream, which waits for a slow reader on
 * the event loop: a signal then ends us at once, its trace instance removed. A write straight to
 * fd 1 holds a signal until the reader takes the piece, which may be never (`| less` unread).
 */
export function writeSeriesThroughStream(): void {
  streamed = true;
}

/**
 * Bytes encoded per write straight to fd 1, into one buffer made once: a Buffer of the whole text
 * would be that much more memory, every page of it a fault (at `shared`, 450 KB of JSON: 1.4 ms
 * against 0.75 ms in pieces), and at `huge` a copy of its whole output.
 */
const PIECE_BYTES = 64 * 1024;
let piece: Uint8Array | undefined;
let encoder: InstanceType<typeof TextEncoder> | undefined;

/** Waits for stdout to take the text, so a pipe closing early (head) ends us quietly. */
export function writeStdout(text: string): Promise<void> {
  if (streamed || stdoutIsTerminal()) return writeStream(text);
  piece ??= new Uint8Array(PIECE_BYTES);
  encoder ??= new TextEncoder();
  // UTF-16 units of the text encoded so far, and of those bytes the ones written.
  let taken = 0;
  let encoded = 0;
  let written = 0;
  try {
    while (taken < text.length) {
      // A piece ends before a character that would not fit whole (a surrogate pair is never split).
      const { read, written: bytes } = encoder.encodeInto(taken === 0 ? text : text.slice(taken), piece);
      taken += read;
      encoded = bytes;
      written = 0;
      while (written < encoded) written += writeSync(STDOUT_FD, piece, written, encoded - written);
    }
  } catch (error) {
    // Non-blocking (a parent set it on the pipe it gave us): the stream waits for the reader.
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN')
      return writeStream(Buffer.concat([piece.subarray(written, encoded), Buffer.from(text.slice(taken))]));
    // As the stream's 'error' does: the handler ends us (a closed pipe quietly), else the caller hears it.
    onError?.(error as NodeJS.ErrnoException);
    return Promise.reject(error as Error);
  }
  return Promise.resolve();
}

function writeStream(text: string | Uint8Array): Promise<void> {
  streamed = true;
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
