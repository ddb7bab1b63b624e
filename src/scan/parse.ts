// Pure parsers for the /proc files the scanner reads. No I/O here: fixtures and tests feed text.
import type { FileHandle, Watch } from '../model/types.js';

/** Kernel-internal dev_t (as fdinfo prints sdev) to "MAJ:MIN": major = sdev >> 20, minor = sdev & 0xfffff. */
export function devFromKernelDev(sdev: number): string {
  return `${Math.floor(sdev / 0x100000)}:${sdev % 0x100000}`;
}

/** The readlink of /proc/PID/fd/N of an inotify instance (older kernels print plain "inotify"). */
export const INOTIFY_LINKS: readonly string[] = ['anon_inode:inotify', 'inotify'];

export function isInotifyLink(link: string): boolean {
  return INOTIFY_LINKS.includes(link);
}

/**
 * Parses the watch lines of an inotify fdinfo. Only lines beginning with "inotify " are watches;
 * header lines (pos, flags, mnt_id, ino of the anon inode) are skipped. Every number is hex,
 * wd included, whatever proc(5) says. Unknown fields are ignored; a line without wd, ino or
 * sdev is malformed and skipped.
 */
export function parseInotifyFdinfo(text: string): Watch[] {
  return parseInotifyFdinfoBytes(Buffer.from(text, 'latin1'));
}

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
const IGNORED_MASK = 4;
const HANDLE_BYTES = 5;
const HANDLE_TYPE = 6;
const HANDLE = 7;

/**
 * parseInotifyFdinfo on the bytes as read: the scanner's path, at up to a million watch lines.
 * Working on bytes makes no string per field, and the f_handle strings it keeps are copies: a
 * slice of one big fdinfo string would keep all of that string alive as long as the watch.
 */
export function parseInotifyFdinfoBytes(bytes: Buffer): Watch[] {
  const watches: Watch[] = [];
  const length = bytes.length;
  let start = 0;
  while (start < length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = length;
    if (startsWith(bytes, start, end, WATCH_PREFIX)) {
      const watch = parseWatchLine(bytes, start + WATCH_PREFIX.length, end);
      if (watch) watches.push(watch);
    }
    start = end + 1;
  }
  return watches;
}

function startsWith(bytes: Buffer, at: number, end: number, expected: Uint8Array): boolean {
  if (at + expected.length > end) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** The field whose key begins at `at`, trying the kernel's order from `expected` first; -1 for an unknown key. */
function fieldAt(bytes: Buffer, at: number, end: number, expected: number): number {
  for (let i = 0; i < FIELD_KEYS.length; i++) {
    const field = (expected + i) % FIELD_KEYS.length;
    if (startsWith(bytes, at, end, FIELD_KEYS[field]!)) return field;
  }
  return -1;
}

// A node has a few dozen devices and up to a million watches: one "MAJ:MIN" string per device.
const devStrings = new Map<number, string>();

function cachedDev(sdev: number): string {
  let dev = devStrings.get(sdev);
  if (dev === undefined) {
    dev = devFromKernelDev(sdev);
    devStrings.set(sdev, dev);
  }
  return dev;
}

/** Digits beyond this many may not fit a double exactly: parseInt rounds those right. */
const EXACT_HEX_DIGITS = 13;

function hexDigit(c: number): number {
  return c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
}

function parseWatchLine(bytes: Buffer, start: number, end: number): Watch | null {
  let wd = -1;
  let ino = -1;
  let sdev = -1;
  let mask = 0;
  let ignoredMask = 0;
  let handleBytes = -1;
  let handleType = -1;
  let handleHex: string | null = null;
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
    if (valueEnd !== digits || digits === valueStart || digits - valueStart > EXACT_HEX_DIGITS) {
      value = parseInt(bytes.toString('latin1', valueStart, valueEnd), 16);
    }
    switch (field) {
      case WD: wd = value; break;
      case INO: ino = value; break;
      case SDEV: sdev = value; break;
      case MASK: mask = value; break;
      case IGNORED_MASK: ignoredMask = value; break;
      case HANDLE_BYTES: handleBytes = value; break;
      case HANDLE_TYPE: handleType = value; break;
      case HANDLE: handleHex = bytes.toString('latin1', valueStart, valueEnd); break;
    }
    expected = field + 1;
    pos = valueEnd + 1;
  }
  if (!(wd >= 0 && ino >= 0 && sdev >= 0)) return null;
  const handle: FileHandle | null =
    handleHex !== null && handleBytes >= 0 && handleType >= 0 ? { bytes: handleBytes, type: handleType, hex: handleHex } : null;
  return { wd, ino, sdev, dev: cachedDev(sdev), mask: mask || 0, ignoredMask: ignoredMask || 0, handle };
}

export interface StatFields {
  comm: string;
  ppid: number;
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
  if (!Number.isInteger(ppid)) return null;
  return { comm: text.slice(open + 1, close), ppid };
}

/** Effective uid from /proc/PID/status ("Uid:\treal\teffective\tsaved\tfs"). */
export function parseEffectiveUid(status: string): number | null {
  const at = status.indexOf('\nUid:');
  if (at === -1) return null;
  const end = status.indexOf('\n', at + 1);
  const fields = status.slice(at + 5, end === -1 ? undefined : end).trim().split(/\s+/);
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
