// Pure parsers for the /proc files the scanner reads. No I/O here: fixtures and tests feed text.
import type { FanotifyFilesystemMark, FanotifyMountMark, WatchList } from '../model/types.js';

/** The readlink of /proc/PID/fd/N of an inotify instance (older kernels print plain "inotify"). */
export const INOTIFY_LINKS: readonly string[] = ['anon_inode:inotify', 'inotify'];
/** The readlink of /proc/PID/fd/N of a fanotify group. */
export const FANOTIFY_LINK = 'anon_inode:[fanotify]';

const NEWLINE = 0x0a;
const SPACE = 0x20;
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const WATCH_PREFIX = ascii('inotify ');
// The fields of a watch line, in the order the kernel prints them.
const FIELD_KEYS = ['wd:', 'ino:', 'sdev:', 'mask:', 'ignored_mask:', 'fhandle-bytes:', 'fhandle-type:', 'f_handle:'].map(ascii);
const WD = 0;
const INO = 1;
const SDEV = 2;
const MASK = 3;
const HANDLE_BYTES = 5;
const HANDLE_TYPE = 6;
const HANDLE = 7;

/** Where the first watch line of an inotify fdinfo begins; -1 when it has none. */
export function firstWatchLine(bytes: Uint8Array): number {
  if (startsWith(bytes, 0, bytes.length, WATCH_PREFIX)) return 0;
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf('\ninotify ');
  return at === -1 ? -1 : at + 1;
}

/**
 * Scratch space for one parse, grown as needed; the WatchList gets exact-size copies (a big one
 * arrays of its own: parseInotifyFdinfo, WatchListReader). A class, not an object literal: each
 * field then keeps the one map of its array type, where a literal made a second time (the first
 * big list's arrays) generalizes its fields' types, and V8 threw away the optimized parser it was
 * compiling on the other core at that moment (some 12–35 ms of compiling, redone while the parse
 * ran on in slower code).
 */
class Scratch {
  readonly wd: Int32Array;
  readonly ino: Float64Array;
  readonly sdev: Uint32Array;
  readonly mask: Uint32Array;
  readonly handleType: Int32Array;
  readonly handleStart: Uint32Array;
  readonly handleBytes: Uint8Array;

  constructor(
    /** Room for this many watches. */
    readonly watches: number,
    /** How many times the room it grows by when full (see READ_LIST_GROWTH). */
    readonly growth: number,
    /** Room for this many bytes of handles: at least 16 a watch. */
    handleBytes = watches * 16,
  ) {
    this.wd = new Int32Array(watches);
    this.ino = new Float64Array(watches);
    this.sdev = new Uint32Array(watches);
    this.mask = new Uint32Array(watches);
    this.handleType = new Int32Array(watches);
    this.handleStart = new Uint32Array(watches + 1);
    this.handleBytes = new Uint8Array(Math.max(handleBytes, watches * 16));
  }
}

let scratch = allocateScratch(1024, 2);

function allocateScratch(watches: number, growth: number): Scratch {
  return new Scratch(watches, growth);
}

/**
 * Makes room in the scratch for `watches` watches and `handleBytes` bytes of handles, keeping its
 * first `used` watches (only those are copied: a page never written is never touched).
 */
function growScratch(used: number, watches: number, handleBytes: number): void {
  const { growth } = scratch;
  const room = watches <= scratch.watches ? scratch.watches : Math.max(watches, scratch.watches * growth);
  const handleRoom = handleBytes <= scratch.handleBytes.length ? scratch.handleBytes.length : Math.max(handleBytes, scratch.handleBytes.length * growth);
  if (room === scratch.watches && handleRoom === scratch.handleBytes.length) return;
  scratch = copyScratch(scratch, used, room, handleRoom, growth);
}

/** The first `used` watches of `from` in new arrays with room for `watches` watches and `handleBytes` bytes of handles (at least 16 a watch). */
function copyScratch(from: Scratch, used: number, watches: number, handleBytes: number, growth: number): Scratch {
  const to = new Scratch(watches, growth, handleBytes);
  to.wd.set(from.wd.subarray(0, used));
  to.ino.set(from.ino.subarray(0, used));
  to.sdev.set(from.sdev.subarray(0, used));
  to.mask.set(from.mask.subarray(0, used));
  to.handleType.set(from.handleType.subarray(0, used));
  to.handleStart.set(from.handleStart.subarray(0, used + 1));
  const handleEnd = from.handleStart[used]!;
  to.handleBytes.set(from.handleBytes.subarray(0, handleEnd));
  return to;
}

/**
 * Parses the watch lines of an inotify fdinfo as read: one buffer, or a big file's chunks in
 * order (a line may span two). Only lines beginning with "inotify " are watches; header lines
 * (pos, flags, mnt_id, ino of the anon inode) are skipped. Every number is hex, wd included,
 * whatever proc(5) says. Unknown fields are ignored; a line without wd, ino or sdev is malformed
 * and skipped. No string is made per watch. `checkpoint` is called at every STEP_BYTES or so of a
 * big list (between its chunks, or between steps of one big buffer): a collector's thread asked
 * to stop throws there (ScanOptions.checkpoint), and the parse of 500,000 watches (60 MB, hundreds
 * of ms) ends within its next megabyte, not at its end.
 */
export function parseInotifyFdinfo(bytes: Uint8Array | readonly Uint8Array[], checkpoint: () => void = noCheck): WatchList {
  const chunks = bytes instanceof Uint8Array ? [bytes] : bytes;
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  if (total < OWN_ARRAYS_BYTES) return takeScratch(parseChunks(chunks, checkpoint));
  // A big list gets arrays of its own, sized from its bytes, and keeps them: no growing of the
  // shared scratch by doubling, and no copy of megabytes at the end.
  const shared = scratch;
  scratch = allocateScratch(Math.ceil(total / KERNEL_LINE_BYTES), 2);
  try {
    return handOver(parseChunks(chunks, checkpoint));
  } finally {
    scratch = shared;
  }
}

/** A watch line exactly as the kernel prints it (show_fdinfo: every field in order, one space apart), its device `sdev`. */
const kernelWatchLine = (sdev: string) =>
  `inotify wd:[0-9a-f]{1,13} ino:[0-9a-f]{1,13} sdev:${sdev} mask:[0-9a-f]{1,13} ignored_mask:[0-9a-f]{1,13}(?: fhandle-bytes:[0-9a-f]{1,13} fhandle-type:[0-9a-f]{1,13} f_handle:[0-9a-f]*)?`;
/**
 * Watch lines all as the kernel prints them and all on one device (group 1): a list that matches
 * is one parseInotifyFdinfo takes line by line with that device, each as parseKernelLine does
 * or, where a handle's length disagrees with fhandle-bytes, as the tolerant parse does (without
 * the handle).
 */
const ONE_DEVICE_LIST = new RegExp(`^${kernelWatchLine('([0-9a-f]{1,8})')}(?:\\n${kernelWatchLine('\\1')})*\\n?$`);
const NEWLINES = /\n/g;

/**
 * The watch lines of an inotify fdinfo (from its first watch line on, in one buffer) as a one-shot
 * without targets uses them: how many and their device now, their other fields when first read
 * (DeferredWatchList). One regular expression tells a list whose watches are all on one device,
 * in native code (from its second use), where parseInotifyFdinfo's loops run in V8's interpreter
 * on a node too idle for V8 to compile them (some 3 µs a line); nothing is made per line, as the
 * young generation's collections are what a one-shot's start pays for what it allocates. Any
 * other list is parsed at once.
 */
export function parseWatchDevices(lines: Uint8Array): WatchList {
  const text = Buffer.from(lines.buffer, lines.byteOffset, lines.length).toString('latin1');
  const oneDevice = ONE_DEVICE_LIST.exec(text);
  if (oneDevice === null) return parseInotifyFdinfo(lines);
  const count = (text.match(NEWLINES)?.length ?? 0) + (text.endsWith('\n') ? 0 : 1);
  // The devices and a copy of the lines (the bytes read are the reader's to reuse) in one buffer.
  const memory = new ArrayBuffer(4 * count + lines.length);
  const copy = new Uint8Array(memory, 4 * count);
  copy.set(lines);
  return new DeferredWatchList(copy, new Uint32Array(memory, 0, count).fill(parseInt(oneDevice[1]!, 16)));
}

/** The copy of its lines a list of parseWatchDevices keeps until its other fields are read; null for any other list. */
export function unparsedLines(list: WatchList): Uint8Array | null {
  return list instanceof DeferredWatchList ? list.unparsed : null;
}

/**
 * A list whose length and devices are known (parseWatchDevices) and whose other fields are parsed
 * from its lines when one is first read.
 */
class DeferredWatchList implements WatchList {
  readonly length: number;
  private lines: Uint8Array | null;
  private list: WatchList | null = null;

  constructor(
    lines: Uint8Array,
    readonly sdev: Uint32Array,
  ) {
    this.length = sdev.length;
    this.lines = lines;
  }

  get wd(): Int32Array {
    return this.parsed().wd;
  }

  get ino(): Float64Array {
    return this.parsed().ino;
  }

  get mask(): Uint32Array {
    return this.parsed().mask;
  }

  get handleType(): Int32Array {
    return this.parsed().handleType;
  }

  get handleStart(): Uint32Array {
    return this.parsed().handleStart;
  }

  get handleBytes(): Uint8Array {
    return this.parsed().handleBytes;
  }

  /** The lines it keeps to parse its other fields from, until it parses them. */
  get unparsed(): Uint8Array | null {
    return this.lines;
  }

  private parsed(): WatchList {
    if (this.list === null) {
      this.list = parseInotifyFdinfo(this.lines!);
      this.lines = null;
    }
    return this.list;
  }
}

/** Lists printed in more bytes than this are parsed into arrays of their own (some 10,000 watches). */
const OWN_ARRAYS_BYTES = 1 << 20;
/**
 * How many times its room a list read as it comes (WatchListReader) grows by, its length unknown
 * until its end. What costs is not the room but the pages written: the kernel gives a page at its
 * first write, a fault that takes some 12 µs on this project's machine (a paravirtualised guest),
 * against a microsecond to parse a line; and a grown list is copied into new pages. Doubling
 * copies as much as the list holds on the way (500,000 watches: 22 MB of arrays, and 22 MB more
 * written into new pages), growing eightfold at most a seventh of it. The list keeps its arrays as they are (handOver): the
 * room never written takes address space, not memory.
 */
const READ_LIST_GROWTH = 8;
/** A watch line as the kernel prints it with an 8-byte handle: the usual, and the shortest with a handle. */
const KERNEL_LINE_BYTES = 104;

/**
 * A list's own arrays (scratch) as the list itself: views, but for arrays sized from a list's
 * bytes (growth 2) that are mostly unused, which are copied to size. The handles are a view too:
 * the bytes past their end were never written, so they take no memory (the kernel maps a page at
 * its first write), and a copy would write them all again into new pages.
 */
function handOver(count: number): WatchList {
  if (scratch.growth === 2 && count < scratch.watches * 0.75) return takeScratch(count);
  const handleEnd = scratch.handleStart[count]!;
  return {
    length: count,
    wd: scratch.wd.subarray(0, count),
    ino: scratch.ino.subarray(0, count),
    sdev: scratch.sdev.subarray(0, count),
    mask: scratch.mask.subarray(0, count),
    handleType: scratch.handleType.subarray(0, count),
    handleStart: scratch.handleStart.subarray(0, count + 1),
    handleBytes: scratch.handleBytes.subarray(0, handleEnd),
  };
}

/**
 * How many bytes of a list are parsed between two calls of parseInotifyFdinfo's checkpoint: a big
 * file's chunk (procfs.ts reads 1 MB at a time), some 10,000 lines, a few ms.
 */
const STEP_BYTES = 1 << 20;
const noCheck = (): void => undefined;

/** The watch lines of chunks in order into the scratch arrays: their count; `checkpoint` called between chunks. */
function parseChunks(chunks: readonly Uint8Array[], checkpoint: () => void): number {
  if (chunks.length === 1) {
    const bytes = plainBytes(chunks[0]!);
    return bytes.length <= STEP_BYTES ? parseWatchLines(bytes, 0, bytes.length, 0) : parseInSteps(bytes, checkpoint);
  }
  const lines = new LineJoiner();
  for (let at = 0; at < chunks.length; at++) {
    if (at > 0) checkpoint();
    lines.add(chunks[at]!);
  }
  return lines.end();
}

/** The watch lines of one big buffer (a recorded tree's file is read whole) a step at a time, each ending at a line's end, `checkpoint` called between them. */
function parseInSteps(bytes: Uint8Array, checkpoint: () => void): number {
  let count = 0;
  for (let start = 0; start < bytes.length;) {
    const newline = start + STEP_BYTES < bytes.length ? bytes.indexOf(NEWLINE, start + STEP_BYTES) : -1;
    const end = newline === -1 ? bytes.length : newline + 1;
    if (start > 0) checkpoint();
    count = parseWatchLines(bytes, start, end, count);
    start = end;
  }
  return count;
}

/**
 * Watch lines handed over a chunk at a time, a line that spans two chunks joined, parsed into the
 * scratch arrays as whole lines come. A chunk may be reused once add() returns: what is carried is
 * a copy.
 */
class LineJoiner {
  count = 0;
  /** The start of a line the chunk before ended in. */
  private carried: Uint8Array | null = null;

  add(chunk: Uint8Array): void {
    const bytes = plainBytes(chunk);
    let start = 0;
    if (this.carried) {
      const newline = bytes.indexOf(NEWLINE);
      const head = bytes.subarray(0, newline === -1 ? bytes.length : newline + 1);
      const joined = joinBytes(this.carried, head);
      if (newline === -1) {
        this.carried = joined;
        return;
      }
      this.count = parseWatchLines(joined, 0, joined.length, this.count);
      this.carried = null;
      start = newline + 1;
    }
    const end = bytes.lastIndexOf(NEWLINE) + 1;
    if (end > start) this.count = parseWatchLines(bytes, start, end, this.count);
    if (Math.max(end, start) < bytes.length) this.carried = bytes.slice(Math.max(end, start));
  }

  /** The count of all the lines, the last one's too. */
  end(): number {
    if (this.carried) this.count = parseWatchLines(this.carried, 0, this.carried.length, this.count);
    this.carried = null;
    return this.count;
  }
}

/**
 * An inotify fdinfo parsed as it is read, a chunk at a time (each may be reused after add()), for
 * a file too big to hold whole: 500,000 watches print 60 MB, and parsing each chunk as it comes
 * reads it from the cache the kernel just wrote it through, with no megabytes of chunks to fault
 * in and keep. The same watches as parseInotifyFdinfo of the bytes from the first watch line on;
 * a list past OWN_ARRAYS_BYTES gets arrays of its own, grown as it comes.
 */
export class WatchListReader {
  /** Bytes from the first watch line on; -1 until it comes. */
  private listBytes = -1;
  /** Before the first watch line: the last line begun, which may be it (a copy). */
  private header: Uint8Array = new Uint8Array(0);
  /** Its arrays, once it is past OWN_ARRAYS_BYTES. */
  private own: Scratch | null = null;
  private readonly lines = new LineJoiner();

  add(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.listBytes < 0) {
      // The chunk itself where no line is carried (nearly always: the first one): a copy of it
      // would be a first read's 64 KB per long list, garbage that holds its memory until the
      // next collection, which a scan that allocates little else may not see for a second.
      // (As a plain Uint8Array: its slice below is a copy, where a Buffer's is a view.)
      const joined = this.header.length === 0 ? plainBytes(chunk) : joinBytes(this.header, chunk);
      const at = firstWatchLine(joined);
      if (at < 0) {
        // "\ninotify " may begin in the line this one ends in.
        this.header = joined.slice(Math.max(0, joined.lastIndexOf(NEWLINE)));
        return;
      }
      this.header = new Uint8Array(0);
      this.listBytes = 0;
      bytes = joined.subarray(at);
    }
    this.listBytes += bytes.length;
    if (this.own) {
      const shared = scratch;
      scratch = this.own;
      try {
        this.lines.add(bytes);
      } finally {
        this.own = scratch;
        scratch = shared;
      }
      return;
    }
    // Up to OWN_ARRAYS_BYTES in the shared scratch, as parseInotifyFdinfo parses such a list.
    this.lines.add(bytes);
    if (this.listBytes >= OWN_ARRAYS_BYTES) {
      // Past it, the watches so far move to arrays of their own, grown as the rest comes: the
      // shared scratch stays small.
      const count = this.lines.count;
      this.own = copyScratch(scratch, count, count * READ_LIST_GROWTH, scratch.handleStart[count]!, READ_LIST_GROWTH);
    }
  }

  /** The watches and the bytes of their lines; null when the file has no watch line. */
  end(): { watches: WatchList; bytes: number } | null {
    if (this.listBytes < 0) return null;
    if (!this.own) return { watches: takeScratch(this.lines.end()), bytes: this.listBytes };
    const shared = scratch;
    scratch = this.own;
    try {
      return { watches: handOver(this.lines.end()), bytes: this.listBytes };
    } finally {
      scratch = shared;
    }
  }
}

/** head then tail, in a new array. */
function joinBytes(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const joined = new Uint8Array(head.length + tail.length);
  joined.set(head);
  joined.set(tail, head.length);
  return joined;
}

/** A Buffer as a plain Uint8Array: the parsers' loops then see one kind of array (a Buffer and a Uint8Array make them slower). */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The watch lines of bytes[start, length) into the scratch arrays from slot `count` on; the count after them. */
function parseWatchLines(bytes: Uint8Array, start: number, length: number, count: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  while (start < length) {
    if (count >= scratch.watches || scratch.handleStart[count]! + MAX_HANDLE_BYTES > scratch.handleBytes.length) {
      growScratch(count, count + 1, scratch.handleStart[count]! + MAX_HANDLE_BYTES);
    }
    // Lines as the kernel prints them take the fast path; anything else the tolerant one.
    const next = bytes[start] === WATCH_PREFIX[0] ? parseKernelLine(bytes, view, start, length, count) : -1;
    if (next >= 0) {
      count++;
      start = next;
      continue;
    }
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1 || end > length) end = length;
    if (startsWith(bytes, start, end, WATCH_PREFIX)) {
      growScratch(count, count + 1, scratch.handleStart[count]! + (end - start) / 2);
      if (parseWatchLine(bytes, start + WATCH_PREFIX.length, end, count)) count++;
    }
    start = end + 1;
  }
  return count;
}

/**
 * The first `count` watches of the scratch arrays as a WatchList of their own: its seven arrays
 * views of one buffer (the 8-byte inode numbers first, aligned), one allocation where seven
 * buffers each cost an allocation, a backing store to set up and to sweep (a scan of 1,000 lists
 * made 7,000 of them).
 */
function takeScratch(count: number): WatchList {
  const handleEnd = scratch.handleStart[count]!;
  const memory = new ArrayBuffer(28 * count + 4 + handleEnd);
  const ino = new Float64Array(memory, 0, count);
  const wd = new Int32Array(memory, 8 * count, count);
  const sdev = new Uint32Array(memory, 12 * count, count);
  const mask = new Uint32Array(memory, 16 * count, count);
  const handleType = new Int32Array(memory, 20 * count, count);
  const handleStart = new Uint32Array(memory, 24 * count, count + 1);
  const handleBytes = new Uint8Array(memory, 28 * count + 4, handleEnd);
  ino.set(scratch.ino.subarray(0, count));
  wd.set(scratch.wd.subarray(0, count));
  sdev.set(scratch.sdev.subarray(0, count));
  mask.set(scratch.mask.subarray(0, count));
  handleType.set(scratch.handleType.subarray(0, count));
  handleStart.set(scratch.handleStart.subarray(0, count + 1));
  handleBytes.set(scratch.handleBytes.subarray(0, handleEnd));
  return { length: count, wd, ino, sdev, mask, handleType, handleStart, handleBytes };
}

/** MAX_HANDLE_SZ: the kernel encodes no longer handle. */
const MAX_HANDLE_BYTES = 128;
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let c = 0; c < 256; c++) HEX_VALUE[c] = hexDigit(c);
// The keys of a watch line in the kernel's order, each with the space before it.
const LINE_KEYS = ['inotify wd:', ' ino:', ' sdev:', ' mask:', ' ignored_mask:', ' fhandle-bytes:', ' fhandle-type:', ' f_handle:'].map(ascii);
/** Key `key` of LINE_KEYS as the little-endian 32-bit word at its byte `at`. */
const keyWord = (key: number, at: number): number => new DataView(LINE_KEYS[key]!.buffer).getInt32(at, true);
// The keys a word at a time, each word at the byte its name ends in (the last word of a key
// overlaps the one before where its length is not a multiple of 4): 24 loads where bytes took 81.
const WD_0 = keyWord(0, 0); // "inot"
const WD_4 = keyWord(0, 4); // "ify "
const WD_7 = keyWord(0, 7); // " wd:"
const INO_0 = keyWord(1, 0); // " ino"
const INO_1 = keyWord(1, 1); // "ino:"
const SDEV_0 = keyWord(2, 0); // " sde"
const SDEV_2 = keyWord(2, 2); // "dev:"
const MASK_0 = keyWord(3, 0); // " mas"
const MASK_2 = keyWord(3, 2); // "ask:"
const IGNORED_0 = keyWord(4, 0); // " ign"
const IGNORED_4 = keyWord(4, 4); // "ored"
const IGNORED_8 = keyWord(4, 8); // "_mas"
const IGNORED_10 = keyWord(4, 10); // "ask:"
const BYTES_0 = keyWord(5, 0); // " fha"
const BYTES_4 = keyWord(5, 4); // "ndle"
const BYTES_8 = keyWord(5, 8); // "-byt"
const BYTES_11 = keyWord(5, 11); // "tes:"
const TYPE_0 = keyWord(6, 0); // " fha"
const TYPE_4 = keyWord(6, 4); // "ndle"
const TYPE_8 = keyWord(6, 8); // "-typ"
const TYPE_10 = keyWord(6, 10); // "ype:"
const HANDLE_0 = keyWord(7, 0); // " f_h"
const HANDLE_4 = keyWord(7, 4); // "andl"
const HANDLE_6 = keyWord(7, 6); // "dle:"

/** Where the hex number hexAt read last ends. */
let hexEnd = 0;

/**
 * The hex number at bytes[pos] (a double holds it exactly: at most EXACT_HEX_DIGITS digits), where
 * it ends in hexEnd; -1 when none begins there or it is longer.
 */
function hexAt(bytes: Uint8Array, pos: number, length: number): number {
  const digitsStart = pos;
  let value = 0;
  for (let digit: number; pos < length && (digit = HEX_VALUE[bytes[pos]!]!) >= 0; pos++) value = value * 16 + digit;
  hexEnd = pos;
  return pos === digitsStart || pos - digitsStart > EXACT_HEX_DIGITS ? -1 : value;
}

/**
 * A watch line exactly as the kernel prints it (show_fdinfo: every field, in order, one space
 * apart), parsed into slot `slot` without looking anything up: the path a million lines take.
 * Returns where the next line begins, or -1 when the line is not of that form (nothing written).
 * Each field in turn, unrolled: its key's words compared with constants, its digits read, the
 * numbers kept in locals (no array, so nothing boxed in V8's interpreter either).
 */
function parseKernelLine(bytes: Uint8Array, view: DataView, start: number, length: number, slot: number): number {
  let pos = start + 11;
  if (pos > length || view.getInt32(start, true) !== WD_0 || view.getInt32(start + 4, true) !== WD_4 || view.getInt32(start + 7, true) !== WD_7) return -1;
  const wd = hexAt(bytes, pos, length);
  pos = hexEnd + 5;
  if (wd < 0 || pos > length || view.getInt32(pos - 5, true) !== INO_0 || view.getInt32(pos - 4, true) !== INO_1) return -1;
  const ino = hexAt(bytes, pos, length);
  pos = hexEnd + 6;
  if (ino < 0 || pos > length || view.getInt32(pos - 6, true) !== SDEV_0 || view.getInt32(pos - 4, true) !== SDEV_2) return -1;
  const sdev = hexAt(bytes, pos, length);
  pos = hexEnd + 6;
  if (sdev < 0 || pos > length || view.getInt32(pos - 6, true) !== MASK_0 || view.getInt32(pos - 4, true) !== MASK_2) return -1;
  const mask = hexAt(bytes, pos, length);
  pos = hexEnd + 14;
  if (mask < 0 || pos > length) return -1;
  if (view.getInt32(pos - 14, true) !== IGNORED_0 || view.getInt32(pos - 10, true) !== IGNORED_4) return -1;
  if (view.getInt32(pos - 6, true) !== IGNORED_8 || view.getInt32(pos - 4, true) !== IGNORED_10) return -1;
  if (hexAt(bytes, pos, length) < 0) return -1;
  pos = hexEnd;
  const from = scratch.handleStart[slot]!;
  let to = from;
  let handleType = -1;
  if (pos < length && bytes[pos] !== NEWLINE) {
    pos += 15;
    if (pos > length || view.getInt32(pos - 15, true) !== BYTES_0 || view.getInt32(pos - 11, true) !== BYTES_4) return -1;
    if (view.getInt32(pos - 7, true) !== BYTES_8 || view.getInt32(pos - 4, true) !== BYTES_11) return -1;
    const handleBytes = hexAt(bytes, pos, length);
    pos = hexEnd + 14;
    if (handleBytes < 0 || pos > length || view.getInt32(pos - 14, true) !== TYPE_0 || view.getInt32(pos - 10, true) !== TYPE_4) return -1;
    if (view.getInt32(pos - 6, true) !== TYPE_8 || view.getInt32(pos - 4, true) !== TYPE_10) return -1;
    handleType = hexAt(bytes, pos, length);
    pos = hexEnd + 10;
    if (handleType < 0 || pos > length || view.getInt32(pos - 10, true) !== HANDLE_0 || view.getInt32(pos - 6, true) !== HANDLE_4) return -1;
    if (view.getInt32(pos - 4, true) !== HANDLE_6) return -1;
    if (handleBytes > MAX_HANDLE_BYTES || pos + handleBytes * 2 > length) return -1;
    const out = scratch.handleBytes;
    for (let i = 0; i < handleBytes; i++, pos += 2) {
      const high = HEX_VALUE[bytes[pos]!]!;
      const low = HEX_VALUE[bytes[pos + 1]!]!;
      if (high < 0 || low < 0) return -1;
      out[to++] = high * 16 + low;
    }
  }
  if (pos < length && bytes[pos] !== NEWLINE) return -1;
  scratch.wd[slot] = wd;
  scratch.ino[slot] = ino;
  scratch.sdev[slot] = sdev;
  scratch.mask[slot] = mask;
  scratch.handleType[slot] = handleType;
  scratch.handleStart[slot + 1] = to;
  return pos + 1;
}

function startsWith(bytes: Uint8Array, at: number, end: number, expected: Uint8Array): boolean {
  if (at + expected.length > end) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** The field whose key begins at `at`, trying the kernel's order from `expected` first; -1 for an unknown key. */
function fieldAt(bytes: Uint8Array, at: number, end: number, expected: number): number {
  for (let i = 0; i < FIELD_KEYS.length; i++) {
    const field = (expected + i) % FIELD_KEYS.length;
    if (startsWith(bytes, at, end, FIELD_KEYS[field]!)) return field;
  }
  return -1;
}

/** Digits beyond this many may not fit a double exactly: parseInt rounds those right. */
const EXACT_HEX_DIGITS = 13;

function hexDigit(c: number): number {
  return c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
}

/**
 * Parses one watch line (or a fanotify inode mark's, which has no wd: `wdRequired` false) into
 * slot `slot` of the scratch arrays; false when it is malformed.
 */
function parseWatchLine(bytes: Uint8Array, start: number, end: number, slot: number, wdRequired = true): boolean {
  let wd = -1;
  let ino = -1;
  let sdev = -1;
  let mask = 0;
  let handleLength = -1;
  let handleType = -1;
  let handleAtByte = -1;
  let handleEndByte = -1;
  let expected = WD;
  let pos = start;
  while (pos < end) {
    const field = fieldAt(bytes, pos, end, expected);
    if (field === -1) {
      const space = bytes.indexOf(SPACE, pos);
      pos = space === -1 || space > end ? end : space + 1;
      continue;
    }
    const valueStart = pos + FIELD_KEYS[field]!.length;
    let digits = valueStart;
    let value = 0;
    for (let digit: number; digits < end && (digit = hexDigit(bytes[digits]!)) >= 0; digits++) value = value * 16 + digit;
    let valueEnd = digits;
    if (digits < end && bytes[digits] !== SPACE) {
      const space = bytes.indexOf(SPACE, digits);
      valueEnd = space === -1 || space > end ? end : space;
    }
    // Plain hex digits that a double holds exactly; anything else as parseInt reads it.
    if (field !== HANDLE && (valueEnd !== digits || digits === valueStart || digits - valueStart > EXACT_HEX_DIGITS)) {
      value = parseInt(Buffer.from(bytes.buffer, bytes.byteOffset + valueStart, valueEnd - valueStart).toString('latin1'), 16);
    }
    switch (field) {
      case WD:
        wd = value;
        break;
      case INO:
        ino = value;
        break;
      case SDEV:
        sdev = value;
        break;
      case MASK:
        mask = value;
        break;
      case HANDLE_BYTES:
        handleLength = value;
        break;
      case HANDLE_TYPE:
        handleType = value;
        break;
      case HANDLE:
        handleAtByte = valueStart;
        handleEndByte = valueEnd;
        break;
    }
    expected = field + 1;
    pos = valueEnd + 1;
  }
  if (!((wd >= 0 || !wdRequired) && ino >= 0 && sdev >= 0)) return false;
  scratch.wd[slot] = wd;
  scratch.ino[slot] = ino;
  scratch.sdev[slot] = sdev;
  scratch.mask[slot] = mask || 0;
  const from = scratch.handleStart[slot]!;
  let to = from;
  const hexDigits = handleEndByte - handleAtByte;
  if (handleAtByte >= 0 && handleLength >= 0 && handleType >= 0 && hexDigits === handleLength * 2) {
    for (let at = handleAtByte; at < handleEndByte; at += 2) {
      const high = hexDigit(bytes[at]!);
      const low = hexDigit(bytes[at + 1]!);
      if (high < 0 || low < 0) {
        to = -1;
        break;
      }
      scratch.handleBytes[to++] = high * 16 + low;
    }
  } else {
    to = -1;
  }
  if (to < 0) {
    scratch.handleType[slot] = -1;
    scratch.handleStart[slot + 1] = from;
  } else {
    scratch.handleType[slot] = handleType;
    scratch.handleStart[slot + 1] = to;
  }
  return true;
}

const FANOTIFY_PREFIX = ascii('fanotify ');
const INO_KEY = ascii('ino:');
const FANOTIFY_GROUP_FLAGS = /^fanotify flags:([0-9a-f]+)/;

/** Where the first fanotify line (`fanotify flags:`) of a group's fdinfo begins; -1 when it has none. */
export function firstFanotifyLine(bytes: Uint8Array): number {
  if (startsWith(bytes, 0, bytes.length, FANOTIFY_PREFIX)) return 0;
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf('\nfanotify ');
  return at === -1 ? -1 : at + 1;
}

/** What a fanotify group's fdinfo says: its flags and its marks by type. */
export interface FanotifyFdinfo {
  flags: number;
  inodeMarks: WatchList;
  mountMarks: FanotifyMountMark[];
  filesystemMarks: FanotifyFilesystemMark[];
}

/**
 * Parses a fanotify group's fdinfo (fs/notify/fdinfo.c): after the header, `fanotify flags:%x
 * event-flags:%x`, then a line per mark, told apart by their fields: an inode mark has `ino:`
 * (and `sdev:`, a handle when the filesystem encodes one), a mount mark `mnt_id:` (hex), a
 * filesystem mark only `sdev:`. Header lines do not begin with "fanotify ". Every number is hex.
 */
export function parseFanotifyFdinfo(bytes: Uint8Array): FanotifyFdinfo {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let flags = 0;
  let inode = 0;
  const mountMarks: FanotifyMountMark[] = [];
  const filesystemMarks: FanotifyFilesystemMark[] = [];
  for (let start = 0; start < bytes.length;) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    if (startsWith(bytes, start, end, FANOTIFY_PREFIX)) {
      const fields = start + FANOTIFY_PREFIX.length;
      // Inode marks, which can be many, begin with ino: as the kernel prints them: no string made.
      const line = startsWith(bytes, fields, end, INO_KEY) ? null : text.toString('latin1', start, end);
      const groupFlags = line === null ? null : FANOTIFY_GROUP_FLAGS.exec(line);
      const mntId = line === null ? null : hexField(line, 'mnt_id');
      if (groupFlags) {
        flags = parseInt(groupFlags[1]!, 16);
      } else if (mntId !== null) {
        mountMarks.push({ mntId, mask: hexField(line!, 'mask') ?? 0 });
      } else if (line === null || hexField(line, 'ino') !== null) {
        if (inode >= scratch.watches || scratch.handleStart[inode]! + (end - start) > scratch.handleBytes.length) {
          growScratch(inode, inode + 1, scratch.handleStart[inode]! + (end - start));
        }
        if (parseWatchLine(bytes, fields, end, inode, false)) scratch.wd[inode++] = -1;
      } else {
        const sdev = hexField(line, 'sdev');
        if (sdev !== null) filesystemMarks.push({ sdev, mask: hexField(line, 'mask') ?? 0 });
      }
    }
    start = end + 1;
  }
  return { flags, inodeMarks: takeScratch(inode), mountMarks, filesystemMarks };
}

const MARK_FIELDS = Object.fromEntries(['mnt_id', 'sdev', 'mask', 'ino'].map((key) => [key, new RegExp(`(?:^| )${key}:([0-9a-f]+)(?: |$)`)]));

/** A hex field ("key:1f") of a mark line, null when missing or not hex. */
function hexField(line: string, key: 'mnt_id' | 'sdev' | 'mask' | 'ino'): number | null {
  const match = MARK_FIELDS[key]!.exec(line);
  return match ? parseInt(match[1]!, 16) : null;
}

export interface StatFields {
  comm: string;
  /** Field 3: R running, S sleeping, D uninterruptible (or killable) sleep, Z, T, t, X, I. */
  state: string;
  ppid: number;
  /** Field 20. */
  numThreads: number;
  /** Field 22, starttime: clock ticks after boot. */
  startTime: number;
}

/**
 * /proc/PID/stat: "pid (comm) state ppid ...". comm may hold spaces and ")", so it ends at the
 * last ")" of the line.
 */
export function parseStat(text: string): StatFields | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  const numThreads = Number(rest[17]);
  if (!Number.isInteger(ppid)) return null;
  return {
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid,
    numThreads: Number.isInteger(numThreads) ? numThreads : 1,
    startTime: Number.isInteger(startTime) ? startTime : 0,
  };
}

/** Effective uid from /proc/PID/status ("Uid:\treal\teffective\tsaved\tfs"). */
export function parseEffectiveUid(status: string): number | null {
  const at = status.indexOf('\nUid:');
  if (at === -1) return null;
  const end = status.indexOf('\n', at + 1);
  const fields = status
    .slice(at + 5, end === -1 ? undefined : end)
    .trim()
    .split(/\s+/);
  const euid = Number(fields[1]);
  return Number.isInteger(euid) ? euid : null;
}

/** /proc/PID/cmdline: NUL-separated arguments; empty for kernel threads and zombies. */
export function parseCmdline(raw: string): string {
  return raw.replace(/\0+$/, '').split('\0').join(' ');
}

/** "user:[4026531837]" -> "4026531837". */
export function parseNamespaceLink(link: string): string | null {
  const match = /\[(\d+)\]$/.exec(link);
  return match ? match[1]! : null;
}

/** /etc/passwd to uid -> name; the first entry of a uid wins, as getpwuid does. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(':');
    const uid = Number(fields[2]);
    if (fields[0] && Number.isInteger(uid) && !names.has(uid)) names.set(uid, fields[0]);
  }
  return names;
}

/** A sysctl file's number, null when missing or not a number. */
export function parseSysctlNumber(text: string | null): number | null {
  if (text === null) return null;
  const value = Number(text.trim());
  return Number.isFinite(value) && text.trim() !== '' ? value : null;
}
