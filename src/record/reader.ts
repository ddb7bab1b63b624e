// `--replay FILE`: reads a recording back, line by line, never as one string: a long recording
// of a big node is gigabytes. Every line is checked against the schema (validate.ts) before
// anything else sees it. A line that is damaged (a crash mid-write, a flipped byte, an edit) is
// reported with its line number and skipped; the replay goes on with the next good one. In a
// .gz recording each line is a gzip member of its own: a damaged member costs that member only,
// as reading resumes at the next member header. A file that is not a recording is an error.
import { closeSync, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Snapshot } from '../model/types.js';
import type { PackageFile } from '../package-files.js';
import { isGzipPath, parseHeader, RecordingError, type RecordingHeader } from './format.js';
import { SchemaError, validateSnapshot } from './validate.js';

const CHUNK_BYTES = 1 << 20;
/** 1f 8b, deflate: how every gzip member starts. */
const MEMBER_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
/** A member is at least its 10-byte header, an empty deflate block and its 8-byte trailer. */
const SHORTEST_MEMBER = 20;
/** A member header candidate that splits a good member in two (the magic bytes inside deflate data) is skipped; tried this many further. */
const MAX_FALSE_HEADERS = 8;

/** One line of the file: its text, or why it could not be read. */
type Line = { number: number; text: string } | { number: number; damage: string };

/** A recording's path, or one inotop ships (the demo). */
export type RecordingSource = string | PackageFile;

export interface RecordingStream {
  header: RecordingHeader;
  /** The good snapshots in order; `warn` has been told of every line skipped. */
  snapshots: Iterable<Snapshot>;
}

/** Opens a recording: reads and checks its header now, the snapshots as they are iterated. */
export function openRecording(source: RecordingSource, warn: (message: string) => void): RecordingStream {
  const path = String(source);
  const lines = readLines(source);
  const first = lines.next();
  if (first.done) throw new RecordingError(`${path} is not an inotop recording (it is empty)`);
  if ('damage' in first.value) throw new RecordingError(`${path} is not an inotop recording (${first.value.damage})`);
  const header = parseHeader(first.value.text, path);
  function* snapshots(): Generator<Snapshot> {
    for (const line of { [Symbol.iterator]: () => lines }) {
      if ('damage' in line) {
        warn(`${path}: line ${line.number}: ${line.damage}: skipped`);
        continue;
      }
      const snapshot = parseSnapshotLine(line.text);
      if (typeof snapshot === 'string') warn(`${path}: line ${line.number}: ${snapshot}: skipped`);
      else yield snapshot;
    }
  }
  return { header, snapshots: snapshots() };
}

export interface Recording {
  header: RecordingHeader;
  snapshots: Snapshot[];
  /** One per line skipped. */
  warnings: string[];
}

/** The whole recording in memory (the screen steps back and forth through it). */
export function readRecording(source: RecordingSource): Recording {
  const path = String(source);
  const warnings: string[] = [];
  const stream = openRecording(source, (message) => warnings.push(message));
  const snapshots = [...stream.snapshots];
  if (snapshots.length === 0) throw new RecordingError(`${path} holds no snapshot${warnings.length > 0 ? ` (${warnings[0]})` : ''}`);
  return { header: stream.header, snapshots, warnings };
}

/** A snapshot, or why the line is not one. */
function parseSnapshotLine(text: string): Snapshot | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON (cut short?)';
  }
  try {
    return validateSnapshot(value);
  } catch (error) {
    if (error instanceof SchemaError) return `not a snapshot: ${error.message}`;
    throw error;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits bytes into lines as they come, numbering them; a damaged piece of input counts as one line. */
class LineSplitter {
  private carried: Buffer[] = [];
  private number = 0;

  *push(bytes: Buffer): Generator<Line> {
    let start = 0;
    for (let end = bytes.indexOf(0x0a); end >= 0; end = bytes.indexOf(0x0a, start)) {
      const line = this.carried.length > 0 ? Buffer.concat([...this.carried, bytes.subarray(start, end)]) : bytes.subarray(start, end);
      this.carried = [];
      start = end + 1;
      yield* this.emit(line);
    }
    if (start < bytes.length) this.carried.push(Buffer.from(bytes.subarray(start)));
  }

  /** Input lost here: the line it was part of is gone too. */
  damaged(damage: string): Line {
    this.carried = [];
    return { number: ++this.number, damage };
  }

  /** The end of the file: a last line without its newline still counts. */
  *end(): Generator<Line> {
    if (this.carried.length > 0) yield* this.emit(Buffer.concat(this.carried));
    this.carried = [];
  }

  private *emit(line: Buffer): Generator<Line> {
    this.number++;
    if (line.length === 0) return;
    let text: string;
    try {
      text = utf8.decode(line);
    } catch {
      yield { number: this.number, damage: 'not UTF-8 text' };
      return;
    }
    yield { number: this.number, text };
  }
}

/** The file's chunks, read as they are needed (a shipped one is small: read whole). */
function* chunks(source: RecordingSource): Generator<Buffer> {
  if (typeof source !== 'string') {
    yield source.read();
    return;
  }
  const path = source;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new RecordingError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (read === 0) return;
      yield chunk.subarray(0, read);
    }
  } catch (error) {
    if (error instanceof RecordingError) throw error;
    throw new RecordingError(`cannot read ${path}: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

function* readLines(source: RecordingSource): Generator<Line> {
  const path = String(source);
  const input = chunks(source);
  const first = input.next();
  if (first.done) return;
  const gzipped = first.value.length >= 2 && first.value[0] === 0x1f && first.value[1] === 0x8b;
  if (!gzipped && isGzipPath(path)) throw new RecordingError(`${path} is not gzip data`);
  const splitter = new LineSplitter();
  if (!gzipped) {
    yield* splitter.push(first.value);
    for (const chunk of input) yield* splitter.push(chunk);
  } else {
    yield* gzipLines(first.value, input, splitter);
  }
  yield* splitter.end();
}

/** Where the next member header may start in `bytes`, from `from` on; -1 when none. */
function nextMemberHeader(bytes: Buffer, from: number): number {
  for (let at = bytes.indexOf(MEMBER_MAGIC, from); at >= 0; at = bytes.indexOf(MEMBER_MAGIC, at + 1)) {
    // The flag byte's top three bits are reserved (zero); the header is 10 bytes.
    if (at + 3 >= bytes.length || (bytes[at + 3]! & 0xe0) === 0) return at;
  }
  return -1;
}

/**
 * Gzip members one by one. `pending` starts at a member header; a member ends where the next
 * header starts (or at the end of the file). A member that does not decompress is damaged:
 * reading resumes at the next header, so one flipped byte costs one line.
 */
function* gzipLines(firstChunk: Buffer, input: Iterator<Buffer>, splitter: LineSplitter): Generator<Line> {
  let pending = firstChunk;
  /** Bytes of the file before `pending`. */
  let offset = 0;
  let eof = false;
  const readMore = (): boolean => {
    if (eof) return false;
    const next = input.next();
    if (next.done) {
      eof = true;
      return false;
    }
    pending = Buffer.concat([pending, next.value]);
    return true;
  };
  /** The next header at or after `from` (reading on as needed), else the end of the file. */
  const endFrom = (from: number): number => {
    for (;;) {
      const at = nextMemberHeader(pending, from);
      if (at >= 0 && at + 4 <= pending.length) return at;
      if (!readMore()) return pending.length;
    }
  };
  const gunzip = (end: number): Buffer | string => {
    try {
      return gunzipSync(pending.subarray(0, end));
    } catch (error) {
      return (error as Error).message;
    }
  };
  while (pending.length > 0 || readMore()) {
    const first = endFrom(SHORTEST_MEMBER);
    let end = first;
    let result = gunzip(end);
    const failure = result;
    // The magic bytes can occur inside deflate data: a member cut there is whole up to a later header.
    for (let tries = 0; typeof result === 'string' && end < pending.length && tries < MAX_FALSE_HEADERS; tries++) {
      end = endFrom(end + 1);
      result = gunzip(end);
    }
    if (typeof result === 'string') {
      const cut = first === pending.length && eof;
      yield splitter.damaged(`gzip member at byte ${offset} ${cut ? 'is cut short (truncated recording?)' : `is damaged (${failure as string})`}`);
      end = first;
    } else {
      yield* splitter.push(result);
    }
    offset += end;
    pending = pending.subarray(end);
  }
}
