// A node-scale inotify load for the benchmark and tests: N inowatch processes holding M inotify
// instances with W watches in all (each on an inode of its own, or every instance on the same
// directories) and F ordinary open fds as noise, and optionally bystanders: processes holding
// only ordinary fds, as most of a busy node's are. The watched files live on a tmpfs mounted for
// the purpose (a plain temp dir when mounting is not allowed). The inotify sysctls are raised when the load would not fit, and restored when the
// last load on the machine stops: on stop(), on SIGINT/SIGTERM and on exit.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listNumericEntries } from '../../src/scan/procfs.js';
import { Watcher } from './inowatch.js';

export interface LoadSize {
  processes: number;
  instances: number;
  /** In all. */
  watches: number;
  /** Ordinary fds, spread over the processes. */
  noiseFds: number;
  /**
   * 'own' (default): each watch on an inode of its own. 'shared': every instance watches the same
   * directories (a directory and its subdirectories, watches / instances of them), as log
   * followers and kubelet's many watchers of the same pod dirs do.
   */
  targets?: 'own' | 'shared';
  /** Processes with ordinary fds only (`fds` each), forked from one holder of them: cheap at thousands. */
  bystanders?: { processes: number; fds: number };
}

export const LOAD_SIZES = {
  // More instances than the default max_user_instances (128), so that even the smoke test raises
  // and restores the sysctl.
  tiny: { processes: 4, instances: 140, watches: 400, noiseFds: 200 },
  // What a node holds with nothing leaking (systemd, udevd, containerd, kubelet and a few pods):
  // the bench's start-up is measured under it too.
  idle: { processes: 10, instances: 40, watches: 2_000, noiseFds: 1_000 },
  small: { processes: 100, instances: 100, watches: 10_000, noiseFds: 5_000 },
  large: { processes: 500, instances: 1_000, watches: 100_000, noiseFds: 30_000 },
  // Many processes with a few instances on the same directories, and many other fds: 500
  // processes x 2 instances x 100 watches on the same 100 directories, 50 other fds each.
  shared: { processes: 500, instances: 1_000, watches: 100_000, noiseFds: 25_000, targets: 'shared' },
  // A busy node: 3,000 processes x 100 fds, every 100th holding 50 watches.
  busy: { processes: 30, instances: 30, watches: 1_500, noiseFds: 3_000, bystanders: { processes: 2_970, fds: 100 } },
  // One process with 500,000 watches (inotify-info#7 reports 506,980 in one).
  single: { processes: 1, instances: 1, watches: 500_000, noiseFds: 100 },
  // The kernel's largest default max_user_watches: 200 processes x 5,240 watches.
  huge: { processes: 200, instances: 200, watches: 1_048_000, noiseFds: 30_000 },
} satisfies Record<string, LoadSize>;

export type LoadSizeName = keyof typeof LOAD_SIZES;

export const LOAD_COMM = 'inotop-load';

const SYSCTL_DIR = '/proc/sys/fs/inotify';
const LIMITS = ['max_user_instances', 'max_user_watches'] as const;
type LimitName = (typeof LIMITS)[number];

export interface Load {
  readonly size: LoadSize;
  /** The inowatch processes, in creation order, then the bystanders. */
  readonly pids: number[];
  /** The file every noise fd has open. */
  readonly noisePath: string;
  /** Sysctls this load raised: from, to. */
  readonly raised: Partial<Record<LimitName, { from: number; to: number }>>;
  /** Kills the processes and waits for them, restores the sysctls, removes the files. */
  stop(): Promise<void>;
}

/** n split into parts as even as possible: part i of k. */
function share(n: number, parts: number, i: number): number {
  return Math.floor(n / parts) + (i < n % parts ? 1 : 0);
}

function readLimit(name: LimitName): number {
  return Number(readFileSync(join(SYSCTL_DIR, name), 'utf8').trim());
}

function writeLimit(name: LimitName, value: number): void {
  writeFileSync(join(SYSCTL_DIR, name), `${value}\n`);
}

/**
 * Loads may overlap (tests and a benchmark, in several processes), and each sees the limits as
 * the ones before it left them. So a file records the values from before the first live load and
 * which loads hold them; the last to stop restores them. Best effort: two loads starting in the
 * same instant can miss each other.
 */
const LEASES = join(tmpdir(), 'inotop-load-sysctls.json');

interface Leases {
  original: Record<LimitName, number>;
  /** "pid:n" of the live loads. */
  holders: string[];
}

let loadsStarted = 0;

function isAlive(holder: string): boolean {
  try {
    process.kill(Number(holder.split(':')[0]), 0);
    return true;
  } catch {
    return false;
  }
}

function readLeases(): Leases | null {
  try {
    return JSON.parse(readFileSync(LEASES, 'utf8')) as Leases;
  } catch {
    return null;
  }
}

function writeLeases(leases: Leases): void {
  writeFileSync(`${LEASES}.${process.pid}`, JSON.stringify(leases));
  renameSync(`${LEASES}.${process.pid}`, LEASES);
}

function leaseLimits(holder: string): void {
  const leases = readLeases();
  const holders = leases?.holders.filter(isAlive) ?? [];
  const original =
    leases && holders.length > 0 ? leases.original : { max_user_instances: readLimit('max_user_instances'), max_user_watches: readLimit('max_user_watches') };
  writeLeases({ original, holders: [...holders, holder] });
}

function releaseLimits(holder: string): void {
  const leases = readLeases();
  if (!leases) return;
  const holders = leases.holders.filter((other) => other !== holder && isAlive(other));
  if (holders.length > 0) return writeLeases({ ...leases, holders });
  for (const name of LIMITS) if (readLimit(name) !== leases.original[name]) writeLimit(name, leases.original[name]);
  rmSync(LEASES, { force: true });
}

/**
 * The kernel's own counts for a set of processes, read the plain way (readlink every fd, count
 * the "inotify " lines of each instance's fdinfo). An instance held by several of them counts
 * once per holder.
 */
export function countFds(pids: Iterable<number>, noisePath?: string): { instances: number; watches: number; noiseFds: number } {
  const totals = { instances: 0, watches: 0, noiseFds: 0 };
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === noisePath) totals.noiseFds++;
      if (link !== 'anon_inode:inotify') continue;
      totals.instances++;
      try {
        const fdinfo = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1');
        for (let at = fdinfo.indexOf('\ninotify '); at !== -1; at = fdinfo.indexOf('\ninotify ', at + 1)) totals.watches++;
      } catch {
        // closed meanwhile
      }
    }
  }
  return totals;
}

/**
 * Raises a limit so that `needed` more fit beside what every process holds now (an over-estimate:
 * the kernel charges per user). Returns what it did, if anything.
 */
function ensureHeadroom(name: LimitName, inUse: number, needed: number): { from: number; to: number } | undefined {
  const from = readLimit(name);
  const to = inUse + needed + Math.ceil(needed / 10);
  if (to <= from) return undefined;
  writeLimit(name, to);
  return { from, to };
}

export async function startLoad(size: LoadSize): Promise<Load> {
  const root = mkdtempSync(join(tmpdir(), 'inotop-load-'));
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', 'inotop-load', root], { stdio: 'ignore' });
    mounted = true;
  } catch {
    // Not allowed to mount (not root, or a sandbox): the files go to the temp dir itself.
  }
  const raised: Load['raised'] = {};
  const holder = `${process.pid}:${++loadsStarted}`;
  leaseLimits(holder);
  const watchers: Watcher[] = [];
  let tornDown = false;

  // Synchronous, so that it can run from the exit handler; idempotent.
  const teardown = (): void => {
    if (tornDown) return;
    tornDown = true;
    for (const watcher of watchers) {
      try {
        watcher.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    releaseLimits(holder);
    if (mounted) execFileSync('umount', ['-l', root], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
    process.off('exit', teardown);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    teardown();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', teardown);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const now = countFds(listNumericEntries('/proc'));
    for (const [name, inUse, needed] of [
      ['max_user_instances', now.instances, size.instances],
      ['max_user_watches', now.watches, size.watches],
    ] as const) {
      const change = ensureHeadroom(name, inUse, needed);
      if (change) raised[name] = change;
    }

    // One directory per instance holding (its watches - 1) files: `watchdir` then watches the
    // directory and every file in one round trip, each watch on an inode of its own. Shared
    // targets: one directory of subdirectories, which every instance watches.
    const instanceDirs: { dir: string; watches: number }[] = [];
    if (size.targets === 'shared') {
      const dir = join(root, 'shared');
      const watches = Math.round(size.watches / size.instances);
      mkdirSync(dir);
      for (let d = 1; d < watches; d++) mkdirSync(join(dir, `d${d}`));
      for (let i = 0; i < size.instances; i++) instanceDirs.push({ dir, watches });
    } else {
      for (let i = 0; i < size.instances; i++) {
        const dir = join(root, `i${i}`);
        const watches = share(size.watches, size.instances, i);
        mkdirSync(dir);
        for (let f = 1; f < watches; f++) closeSync(openSync(join(dir, `f${f}`), 'w'));
        instanceDirs.push({ dir, watches });
      }
    }
    const noisePath = join(root, 'noise');
    writeFileSync(noisePath, '');

    for (let p = 0; p < size.processes; p++) watchers.push(new Watcher());
    await Promise.all(
      watchers.map(async (watcher, p) => {
        await watcher.comm(LOAD_COMM);
        for (let i = p; i < size.instances; i += size.processes) {
          const fd = await watcher.init();
          const { dir, watches } = instanceDirs[i]!;
          if (watches > 0) await watcher.watchDir(fd, dir);
        }
        const noise = share(size.noiseFds, size.processes, p);
        if (noise > 0) await watcher.send(`opennoise ${noise} ${noisePath}`);
      }),
    );
    const holders = watchers.map((watcher) => watcher.pid);
    const bystanders: number[] = [];
    if (size.bystanders) {
      // Forked children keep the fds of their parent, which is one of them.
      const parent = new Watcher();
      watchers.push(parent);
      await parent.comm(LOAD_COMM);
      if (size.bystanders.fds > 0) await parent.send(`opennoise ${size.bystanders.fds} ${noisePath}`);
      bystanders.push(parent.pid);
      while (bystanders.length < size.bystanders.processes) bystanders.push(await parent.fork());
    }
    return {
      size,
      pids: [...holders, ...bystanders],
      noisePath,
      raised: { ...raised },
      stop: async () => {
        await Promise.all(watchers.map((watcher) => watcher.stop()));
        teardown();
      },
    };
  } catch (error) {
    teardown();
    throw error;
  }
}

// Run directly to hold a load while trying inotop by hand (Ctrl-C tears it down):
//   node --import tsx test/helpers/load.ts large
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const name = (process.argv[2] ?? 'small') as LoadSizeName;
  if (!(name in LOAD_SIZES)) throw new Error(`unknown size ${name} (${Object.keys(LOAD_SIZES).join(', ')})`);
  const load = await startLoad(LOAD_SIZES[name]);
  console.log(`ready ${load.pids.join(',')}`);
  setInterval(() => {}, 1 << 30); // held until a signal
}
