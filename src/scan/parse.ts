// Pure parsers for the /proc files the scanner reads. No I/O here: fixtures and tests feed text.
import type { FileHandle, Watch } from '../model/types.js';

/** Kernel-internal dev_t (as fdinfo prints sdev) to "MAJ:MIN": major = sdev >> 20, minor = sdev & 0xfffff. */
export function devFromKernelDev(sdev: number): string {
  return `${Math.floor(sdev / 0x100000)}:${sdev % 0x100000}`;
}

/** A readlink of /proc/PID/fd/N that is an inotify instance (older kernels print plain "inotify"). */
export function isInotifyLink(link: string): boolean {
  return link === 'anon_inode:inotify' || link === 'inotify';
}

/**
 * Parses the watch lines of an inotify fdinfo. Only lines beginning with "inotify " are watches;
 * header lines (pos, flags, mnt_id, ino of the anon inode) are skipped. Every number is hex,
 * wd included, whatever proc(5) says. Unknown fields are ignored; a line without wd, ino or
 * sdev is malformed and skipped.
 */
export function parseInotifyFdinfo(text: string): Watch[] {
  const watches: Watch[] = [];
  let at = text.indexOf('inotify ');
  while (at !== -1) {
    if (at === 0 || text.charCodeAt(at - 1) === 10) {
      let end = text.indexOf('\n', at);
      if (end === -1) end = text.length;
      const watch = parseWatchLine(text, at + 8, end);
      if (watch) watches.push(watch);
      at = text.indexOf('inotify ', end);
    } else {
      at = text.indexOf('inotify ', at + 8);
    }
  }
  return watches;
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

function parseWatchLine(text: string, start: number, end: number): Watch | null {
  let wd = -1;
  let ino = -1;
  let sdev = -1;
  let mask = 0;
  let ignoredMask = 0;
  let handleBytes = -1;
  let handleType = -1;
  let handleHex: string | null = null;
  let pos = start;
  while (pos < end) {
    let space = text.indexOf(' ', pos);
    if (space === -1 || space > end) space = end;
    const colon = text.indexOf(':', pos);
    if (colon !== -1 && colon < space) {
      const key = text.slice(pos, colon);
      const value = text.slice(colon + 1, space);
      switch (key) {
        case 'wd': wd = parseInt(value, 16); break;
        case 'ino': ino = parseInt(value, 16); break;
        case 'sdev': sdev = parseInt(value, 16); break;
        case 'mask': mask = parseInt(value, 16); break;
        case 'ignored_mask': ignoredMask = parseInt(value, 16); break;
        case 'fhandle-bytes': handleBytes = parseInt(value, 16); break;
        case 'fhandle-type': handleType = parseInt(value, 16); break;
        case 'f_handle': handleHex = value; break;
      }
    }
    pos = space + 1;
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
