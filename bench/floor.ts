// The kernel floor of a scan: the reads a scan cannot avoid (readdir /proc and every fd dir,
// readlink every fd, read every inotify fdinfo), done the cheapest way, with no parsing. Two of
// them: a tight loop in this Node process (the same runtime and fs bindings as the scanner) and a
// small C program (bench/floor.c: readlinkat/openat on directory fds, no runtime at all).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FloorCount {
  fds: number;
  instances: number;
  /** fdinfo bytes read. */
  bytes: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const cSource = join(here, 'floor.c');
const cBinary = join(here, '..', 'node_modules', '.cache', 'inotop', 'floor');

const buffer = Buffer.allocUnsafe(1 << 22);

function isNumeric(name: string): boolean {
  const code = name.charCodeAt(0);
  return code >= 48 && code <= 57;
}

/** One pass in this process. A short read ends a file: procfs seq files return all that fits at once. */
export function nodeFloor(): FloorCount {
  const count: FloorCount = { fds: 0, instances: 0, bytes: 0 };
  for (const pid of readdirSync('/proc')) {
    if (!isNumeric(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      count.fds++;
      if (link !== 'anon_inode:inotify') continue;
      let info: number;
      try {
        info = openSync(`/proc/${pid}/fdinfo/${fd}`, 'r');
      } catch {
        continue;
      }
      count.instances++;
      for (;;) {
        const got = readSync(info, buffer, 0, buffer.length, null);
        count.bytes += got;
        if (got < buffer.length) break;
      }
      closeSync(info);
    }
  }
  return count;
}

function cFloorBinary(): string {
  if (!existsSync(cBinary) || statSync(cBinary).mtimeMs < statSync(cSource).mtimeMs) {
    mkdirSync(dirname(cBinary), { recursive: true });
    execFileSync('gcc', ['-O2', '-Wall', '-o', cBinary, cSource], { stdio: 'inherit' });
  }
  return cBinary;
}

/** `runs` passes of the C floor in one process, each timed by the program itself. */
export function cFloor(runs: number): { wallMs: number; cpuMs: number; count: FloorCount }[] {
  const output = execFileSync(cFloorBinary(), [String(runs)], { encoding: 'utf8' });
  return output
    .trim()
    .split('\n')
    .map((line) => {
      const [fds, instances, bytes, wallUs, cpuUs] = line.split(' ').map(Number) as [number, number, number, number, number];
      return { wallMs: wallUs / 1000, cpuMs: cpuUs / 1000, count: { fds, instances, bytes } };
    });
}
