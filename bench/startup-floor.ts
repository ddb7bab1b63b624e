// The floor of a one-shot's start-up: a whole Node process that makes the reads an `inotop --json`
// of the live /proc makes, and nothing else (no parsing, no model, no output but three numbers;
// nor kcmp and the event queues' calls, one or two per instance, which read no procfs file).
// Beside `node -e 0` and inotop's one-shots in the bench's start-up part, it tells what any Node
// program that must read a node's inotify pays before it loads code of its own and parses.
//
// Two ways, chosen by the argument:
// - `koffi` (default): inotop's own calls, imported from src/ (listPids, FdLinks.read and
//   readProcBytesOrStream of src/scan/procfs.ts; the holders' files through smallFileCalls), koffi
//   loaded as inotop loads it: getdents64, readlinkat, open, read and close through koffi.
// - `fs`: the same reads through Node's fs (readdirSync, readlinkSync, openSync/readSync), no
//   koffi: what the reads cost a program that loads nothing.
// The bench bundles this file into one CommonJS script (startupFloorScript) and runs it as `node
// SCRIPT [koffi|fs]`: no ES module loader and no TypeScript compiler at its start.
// Prints "instances watches fds", the watches counted as lines of the fdinfo files (a line that a
// big file's reads split in two is not counted: the counts are a check that the reads were made),
// written straight to fd 1 as inotop's one-shot writes to a pipe or a file (src/common/stdout.ts):
// process.stdout of a pipe would load Node's streams and net, 5–7 ms that inotop does not spend.
import { closeSync, openSync, readSync, readdirSync, readlinkSync, writeSync } from 'node:fs';
import { FANOTIFY_LINK, INOTIFY_LINKS } from '../src/scan/parse.js';
import { FdLinks, listPids, readProcBytesOrStream } from '../src/scan/procfs.js';
import { LinkSet } from '../src/sys/dirents.js';
import { isPermissionDenied } from '../src/sys/errno.js';
import { smallFileCalls } from '../src/sys/smallfiles.js';

/** What a scan reads of each holder besides its fds (src/scan/holders.ts). */
const HOLDER_FILES = ['stat', 'status', 'cgroup', 'cmdline'];
const HOLDER_LINKS = ['ns/user', 'ns/mnt'];
const WATCH_LINE = Buffer.from('inotify wd:', 'latin1');

interface Counts {
  instances: number;
  watches: number;
  fds: number;
}

function countWatchLines(bytes: Buffer): number {
  let lines = 0;
  for (let at = bytes.indexOf(WATCH_LINE); at >= 0; at = bytes.indexOf(WATCH_LINE, at + WATCH_LINE.length)) lines++;
  return lines;
}

/** Through inotop's calls: src/scan/procfs.ts and src/sys, koffi loaded as a one-shot loads it. */
function koffiReads(): Counts {
  const counts: Counts = { instances: 0, watches: 0, fds: 0 };
  const files = smallFileCalls();
  if (!files.ok) throw new Error(files.error);
  const { readInto, readlink } = files.value;
  const watched = new LinkSet([...INOTIFY_LINKS, FANOTIFY_LINK]);
  const fanotify = watched.links.length - 1;
  const out = Buffer.allocUnsafe(1 << 16);
  for (const pid of listPids('/proc', null)) {
    const base = `/proc/${pid}`;
    let links: FdLinks;
    try {
      links = FdLinks.read(`${base}/fd`, watched);
    } catch {
      continue;
    }
    counts.fds += links.count;
    let holds = false;
    for (const { fd, link } of links.found) {
      if (link === fanotify) continue;
      let streamed = 0;
      let bytes: Buffer | null;
      try {
        bytes = readProcBytesOrStream(`${base}/fdinfo/${fd}`, (chunk) => (streamed += countWatchLines(chunk)));
      } catch {
        continue;
      }
      counts.instances++;
      counts.watches += bytes ? countWatchLines(bytes) : streamed;
      holds = true;
    }
    if (!holds) continue;
    for (const name of HOLDER_FILES) readInto(Buffer.from(`${base}/${name}\0`, 'latin1'), out);
    for (const name of HOLDER_LINKS) readlink(Buffer.from(`${base}/${name}\0`, 'latin1'), out);
  }
  return counts;
}

/**
 * Reads the file at `path` to its end, `out` reused for each read: the bytes of its last read, or
 * null when it cannot be opened. `take` is given each read that fills `out` (a big file's).
 */
function readFile(path: string, out: Buffer, take: (bytes: Buffer) => void = () => {}): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    // A short read is the end: procfs files hand out all they have that fits at once.
    for (;;) {
      const length = readSync(fd, out, 0, out.length, null);
      if (length < out.length) return out.subarray(0, length);
      take(out);
    }
  } finally {
    closeSync(fd);
  }
}

/** Through Node's fs alone. */
function fsReads(): Counts {
  const counts: Counts = { instances: 0, watches: 0, fds: 0 };
  const out = Buffer.allocUnsafe(1 << 16);
  for (const pid of readdirSync('/proc')) {
    const first = pid.charCodeAt(0);
    if (first < 0x30 || first > 0x39) continue;
    const base = `/proc/${pid}`;
    let fds: string[];
    try {
      fds = readdirSync(`${base}/fd`);
    } catch {
      continue;
    }
    counts.fds += fds.length;
    let holds = false;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${base}/fd/${fd}`);
      } catch (error) {
        // A denial is the whole process's (ptrace access): the scan asks for no more of its links.
        if (isPermissionDenied(error)) break;
        continue;
      }
      if (!INOTIFY_LINKS.includes(link)) continue;
      let streamed = 0;
      const last = readFile(`${base}/fdinfo/${fd}`, out, (bytes) => (streamed += countWatchLines(bytes)));
      if (last === null) continue;
      counts.instances++;
      counts.watches += streamed + countWatchLines(last);
      holds = true;
    }
    if (!holds) continue;
    for (const name of HOLDER_FILES) readFile(`${base}/${name}`, out);
    for (const name of HOLDER_LINKS) {
      try {
        readlinkSync(`${base}/${name}`);
      } catch {
        // gone
      }
    }
  }
  return counts;
}

const { instances, watches, fds } = process.argv[2] === 'fs' ? fsReads() : koffiReads();
writeSync(1, `${instances} ${watches} ${fds}\n`);
