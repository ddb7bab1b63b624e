// The kernel floor of a scan: the reads a scan makes (readdir /proc and every fd dir, readlink
// every fd, read every inotify fdinfo, and the holders' stat, status, cgroup, cmdline and
// namespace links), done the cheapest way, with no parsing. Two of them: a tight loop in this
// Node process (the same runtime and fs bindings as the scanner) and a small C program
// (bench/floor.c: openat/readlinkat on directory fds, no runtime at all). Each also tells what
// the holders' own files cost, so that a floor of the fds and fdinfo alone can be shown too. The
// floor of a one-shot's whole process, Node's start included, is a script of its own
// (bench/startup-floor.ts, bundled by startupFloorScript).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync, type BuildOptions } from 'esbuild';
import { buildDefine } from '../scripts/commit.mjs';
import { oneScriptOptions } from '../scripts/one-script.mjs';

export interface FloorCount {
  fds: number;
  instances: number;
  /** fdinfo bytes read. */
  bytes: number;
  /** CPU time spent on the holders' own files (stat, status, ...). */
  detailsCpuMs: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const cSource = join(here, 'floor.c');
const cBinary = join(here, '..', 'node_modules', '.cache', 'inotop', 'floor');

const startupSource = join(here, 'startup-floor.ts');
const startupScript = join(here, '..', 'node_modules', '.cache', 'inotop', 'startup-floor.cjs');

const buffer = Buffer.allocUnsafe(1 << 22);

function isNumeric(name: string): boolean {
  const code = name.charCodeAt(0);
  return code >= 48 && code <= 57;
}

/** Reads a file to its end into the buffer; a short read ends it (procfs seq files return all that fits at once). */
function readAll(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return -1;
  }
  let total = 0;
  for (;;) {
    const got = readSync(fd, buffer, 0, buffer.length, null);
    total += got;
    if (got < buffer.length) break;
  }
  closeSync(fd);
  return total;
}

function readHolder(base: string): void {
  for (const name of ['stat', 'status', 'cgroup', 'cmdline']) readAll(`${base}/${name}`);
  for (const name of ['ns/user', 'ns/mnt']) {
    try {
      readlinkSync(`${base}/${name}`);
    } catch {
      // gone
    }
  }
}

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

/** One pass in this process. */
export function nodeFloor(): FloorCount {
  const count: FloorCount = { fds: 0, instances: 0, bytes: 0, detailsCpuMs: 0 };
  for (const pid of readdirSync('/proc')) {
    if (!isNumeric(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    let holds = false;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      count.fds++;
      if (link !== 'anon_inode:inotify') continue;
      const got = readAll(`/proc/${pid}/fdinfo/${fd}`);
      if (got < 0) continue;
      count.instances++;
      count.bytes += got;
      holds = true;
    }
    if (holds) {
      const before = process.cpuUsage();
      readHolder(`/proc/${pid}`);
      count.detailsCpuMs += cpuMs(process.cpuUsage(before));
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
      const [fds, instances, bytes, wallUs, cpuUs, detailsUs] = line.split(' ').map(Number) as [number, number, number, number, number, number];
      return { wallMs: wallUs / 1000, cpuMs: cpuUs / 1000, count: { fds, instances, bytes, detailsCpuMs: detailsUs / 1000 } };
    });
}

/**
 * bench/startup-floor.ts bundled into one CommonJS script, as the build bundles the CLI (its imports
 * of src/ inside, koffi found from the script's directory): made again at each call, so that it is
 * always the code of the tree the bench runs. Its path, to run as `node SCRIPT [koffi|fs]`.
 */
export function startupFloorScript(): string {
  const root = join(here, '..');
  buildSync({
    absWorkingDir: root,
    entryPoints: [startupSource],
    outfile: startupScript,
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    ...(oneScriptOptions(buildDefine(root)) as BuildOptions),
  });
  return startupScript;
}
