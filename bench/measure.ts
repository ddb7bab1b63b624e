// The measurements of one load size: the scan against the kernel floor, path resolution, and the
// whole `inotop --json` process. Wall time and CPU time both: this machine is shared, and CPU
// time is what other tenants disturb least.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import koffi from 'koffi';
import type { ScanResult, Snapshot } from '../src/model/types.js';
import { buildSnapshot } from '../src/model/snapshot.js';
import { Resolver, type RefreshResolutions } from '../src/resolve/index.js';
import { Scanner } from '../src/scan/index.js';
import { StopCell } from '../src/common/thread-stop.js';
import { QueueReader } from '../src/scan/queues.js';
import { PermissionWaitFinder } from '../src/scan/waits.js';
import { ensureBuilt, inotopBin } from '../test/helpers/build.js';
import { cFloor, nodeFloor, type FloorCount } from './floor.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export interface Timing {
  wallMs: Spread;
  cpuMs: Spread;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

class Samples {
  readonly wall: number[] = [];
  readonly cpu: number[] = [];
  /** By time(): the CPU of the thread that ran the work, beside `cpu` (every thread). */
  readonly threadCpu: number[] = [];

  /**
   * Runs `work` once, recording its wall and CPU time (every thread of this process), and the CPU of
   * this thread alone (threadCpuMs: the work's own, without V8's GC helpers and compilers beside it).
   */
  time<T>(work: () => T): T {
    const cpuBefore = process.cpuUsage();
    const threadBefore = threadCpuMs();
    const started = performance.now();
    const result = work();
    this.wall.push(performance.now() - started);
    this.threadCpu.push(threadCpuMs() - threadBefore);
    const cpu = process.cpuUsage(cpuBefore);
    this.cpu.push((cpu.user + cpu.system) / 1000);
    return result;
  }

  /**
   * As time(), but the CPU of this thread only (CLOCK_THREAD_CPUTIME_ID): work that runs on this
   * thread alone, so that V8's threads (its GC helpers, its compilers) beside it do not count.
   */
  timeThread<T>(work: () => T): T {
    const cpuBefore = threadCpuMs();
    const started = performance.now();
    const result = work();
    this.wall.push(performance.now() - started);
    this.cpu.push(threadCpuMs() - cpuBefore);
    return result;
  }

  timing(): Timing {
    return { wallMs: spread(this.wall), cpuMs: spread(this.cpu) };
  }

  /** As timing(), its CPU the working thread's (time()'s threadCpu). */
  threadTiming(): Timing {
    return { wallMs: spread(this.wall), cpuMs: spread(this.threadCpu) };
  }
}

export interface ScanMeasurement {
  /** The floors make the same reads as the scan (see floor.ts). */
  nodeFloor: Timing;
  cFloor: Timing;
  /** CPU of the C floor without the holders' own files: fds and fdinfo only. */
  cFloorFdsOnlyCpuMs: Spread;
  /**
   * scan() as a first scan makes it (no fdinfo files open from before): fds, fdinfo, parsing,
   * process details, shared instances.
   */
  scan: Timing;
  /** scan() again: the fdinfo files kept open by the scan before, parses reused (TUI and -b refreshes). */
  rescan: Timing;
  /** A whole refresh where nothing changed, as the screen makes it: scan, resolve, counts snapshot. CPU: every thread's. */
  refresh: Timing;
  /**
   * The same refreshes, their CPU the refreshing thread's alone (CLOCK_THREAD_CPUTIME_ID), as the C
   * floor's single thread is measured: V8's GC helpers and compilers beside it are left out.
   */
  refreshThread: Timing;
  /** buildSnapshot() of that scan without resolutions: per-process counts, per-user and node totals. */
  snapshot: Timing;
  scanPlusSnapshot: Timing;
  /** Medians of CPU time over the medians of the floors. */
  ratios: {
    scanToCFloor: number;
    scanToCFloorFdsOnly: number;
    scanToNodeFloor: number;
    rescanToCFloor: number;
    /** The refreshing thread's CPU (refreshThread) over the C floor's: the goal's measure. */
    refreshToCFloor: number;
    /** Every thread's CPU (refresh) over the C floor's. */
    refreshProcessToCFloor: number;
    scanPlusSnapshotToCFloor: number;
  };
  /** What the floor saw on the node. */
  floorCount: FloorCount;
  /** The last scan, for the stages after it. */
  last: ScanResult;
}

export interface TrafficMeasurement {
  /** Instances and groups whose queues were read (a shared one once), and how many came back unread. */
  instances: number;
  unread: number;
  /** How many of them the queue set answered without a call (no events queued). */
  fromSet: number;
  /**
   * One refresh's queue reads as a session makes them: the set asked which have events (and which
   * are gone), pidfd_getfd + FIONREAD of those only. CPU: the reading thread's.
   */
  queues: Timing;
  /** The same by their calls only (no set): pidfd_getfd + FIONREAD of every instance, closed in runs. The reading thread's CPU. */
  queuesByCalls: Timing;
  /** The reading thread's CPU of `queues` over a full scan's CPU (scan again, fdinfo kept open; every thread): goal ≤ 5%. */
  queuesToScan: number;
  /**
   * The permission-wait search over every thread of the machine (it runs only where a permission
   * group exists; the bench's load has none, so it is forced here): what a refresh pays for it.
   */
  waitSearch: Timing;
  threads: number;
}

/** Queue reads and the permission-wait search at this size, against the full scan of measureScan. */
export function measureTraffic(scan: ScanMeasurement, runs: number): TrafficMeasurement {
  const reader = new QueueReader(true);
  const byCalls = new QueueReader(true, false);
  const processes = scan.last.processes;
  const read = () => reader.read(processes, Infinity);
  const readByCalls = () => byCalls.read(processes, Infinity);
  // The first reading opens the pidfds; the second puts every instance in the set.
  read();
  readByCalls();
  const queues = new Samples();
  const queuesByCalls = new Samples();
  let readings = read();
  readByCalls();
  // Alternated, so that drift hits both alike.
  for (let i = 0; i < runs; i++) {
    readings = queues.timeThread(read);
    queuesByCalls.timeThread(readByCalls);
  }
  reader.close();
  byCalls.close();
  const finder = new PermissionWaitFinder('/proc');
  const waitSearch = new Samples();
  for (let i = 0; i < runs; i++) waitSearch.time(() => finder.find(Infinity));
  let threads = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      threads += readdirSync(`/proc/${pid}/task`).length;
    } catch {
      // gone
    }
  }
  const timing = queues.timing();
  return {
    instances: readings.bytes.size,
    unread: [...readings.bytes.values()].filter((bytes) => bytes === null).length,
    fromSet: readings.fromSet,
    queues: timing,
    queuesByCalls: queuesByCalls.timing(),
    queuesToScan: timing.cpuMs.median / scan.rescan.cpuMs.median,
    waitSearch: waitSearch.timing(),
    threads,
  };
}

/**
 * Floor and scan alternate, after one unrecorded warm-up of each, so that drift (caches, other
 * tenants) hits both alike. Each scan is timed as a first scan, then again as a refresh. The C
 * floor runs its passes in one process right after.
 */
export function measureScan(runs: number): ScanMeasurement {
  nodeFloor();
  // One scanner throughout, as a live session keeps one: a rescan reuses its files and parses. It
  // reads a stop cell between processes as the collector's thread does (src/common/thread-stop.ts).
  const scanner = new Scanner({ checkpoint: new StopCell().check });
  const scan = (): ScanResult => scanner.scan();
  buildSnapshot(scan(), null, null, 'none');
  const floor = new Samples();
  const scanned = new Samples();
  const rescanned = new Samples();
  const refreshed = new Samples();
  const resolver = new Resolver({ procRoot: '/proc' });
  const refresh = (): void => {
    const result = scanner.scan();
    buildSnapshot(result, resolver.resolve(result), null, 'none');
  };
  const snapshot = new Samples();
  const both: number[][] = [[], []];
  let last: ScanResult | undefined;
  let floorCount: FloorCount | undefined;
  for (let i = 0; i < runs; i++) {
    floorCount = floor.time(nodeFloor);
    scanner.close();
    last = scanned.time(() => scan());
    rescanned.time(() => scan());
    refresh();
    refreshed.time(refresh);
    snapshot.time(() => buildSnapshot(last!, null, null, 'none'));
    both[0]!.push(scanned.wall[i]! + snapshot.wall[i]!);
    both[1]!.push(scanned.cpu[i]! + snapshot.cpu[i]!);
  }
  scanner.close();
  resolver.close();
  const c = cFloor(runs + 1).slice(1);
  const cTiming: Timing = { wallMs: spread(c.map((run) => run.wallMs)), cpuMs: spread(c.map((run) => run.cpuMs)) };
  const floorTiming = floor.timing();
  const scanTiming = scanned.timing();
  const sumTiming: Timing = { wallMs: spread(both[0]!), cpuMs: spread(both[1]!) };
  const cFdsOnly = spread(c.map((run) => run.cpuMs - run.count.detailsCpuMs));
  const ratio = (a: Timing, b: Timing): number => a.cpuMs.median / b.cpuMs.median;
  return {
    nodeFloor: floorTiming,
    cFloor: cTiming,
    cFloorFdsOnlyCpuMs: cFdsOnly,
    scan: scanTiming,
    rescan: rescanned.timing(),
    refresh: refreshed.timing(),
    refreshThread: refreshed.threadTiming(),
    snapshot: snapshot.timing(),
    scanPlusSnapshot: sumTiming,
    ratios: {
      scanToCFloor: ratio(scanTiming, cTiming),
      scanToCFloorFdsOnly: scanTiming.cpuMs.median / cFdsOnly.median,
      scanToNodeFloor: ratio(scanTiming, floorTiming),
      rescanToCFloor: ratio(rescanned.timing(), cTiming),
      refreshToCFloor: ratio(refreshed.threadTiming(), cTiming),
      refreshProcessToCFloor: ratio(refreshed.timing(), cTiming),
      scanPlusSnapshotToCFloor: ratio(sumTiming, cTiming),
    },
    floorCount: floorCount!,
    last: last!,
  };
}

export interface ResolveMeasurement {
  /** Distinct (device, inode) pairs among all watches. */
  targets: number;
  /** A new Resolver each run (the kernel's dentry cache is warm after the first). */
  cold: Timing;
  /** The same Resolver again, caches from the refresh before. */
  warm: Timing;
  unresolved: number;
  notes: string[];
  /** Of a cold run: handles decoded, and targets named by reading a decoded one's directory. */
  coldLookups: { decoded: number; fromDirectories: number };
}

/** Every path of every target, as --json --targets finds them: resolve, then prepare all. */
function resolveAll(resolver: Resolver, result: ScanResult): RefreshResolutions {
  const resolutions = resolver.resolve(result);
  resolutions.prepare(result.processes, 'all');
  return resolutions;
}

export function measureResolve(result: ScanResult, runs: number): ResolveMeasurement {
  const targets = new Set<string>();
  for (const proc of result.processes) {
    for (const instance of proc.instances) {
      const list = instance.watches;
      for (let i = 0; i < list.length; i++) targets.add(`${list.sdev[i]}/${list.ino[i]}`);
    }
  }
  const withResolver = <T>(work: (resolver: Resolver) => T): T => {
    const resolver = new Resolver({ procRoot: '/proc' });
    try {
      return work(resolver);
    } finally {
      resolver.close();
    }
  };
  const cold = new Samples();
  let coldLookups = { decoded: 0, fromDirectories: 0 };
  for (let i = 0; i < Math.min(runs, 3); i++) coldLookups = { ...withResolver((resolver) => cold.time(() => resolveAll(resolver, result))).lookups };
  const warm = new Samples();
  const resolutions = withResolver((resolver) => {
    let last = resolveAll(resolver, result);
    for (let i = 0; i < runs; i++) last = warm.time(() => resolveAll(resolver, result));
    return last;
  });
  let unresolved = 0;
  for (const proc of result.processes) {
    for (const instance of proc.instances) {
      const list = instance.watches;
      for (let i = 0; i < list.length; i++) if (resolutions.get(proc, list.sdev[i]!, list.ino[i]!).status !== 'ok') unresolved++;
    }
  }
  return { targets: targets.size, cold: cold.timing(), warm: warm.timing(), unresolved, notes: resolutions.notes, coldLookups };
}

let libcLibrary: ReturnType<typeof koffi.load> | undefined;
/** libc, loaded once for the bench's own calls. */
const libc = () => (libcLibrary ??= koffi.load('libc.so.6'));

const CLOCK_THREAD_CPUTIME_ID = 3;
let clockGettime: ((clock: number, time: Buffer) => number) | undefined;
const threadTime = Buffer.alloc(16);

/** CPU ms of the calling thread so far (struct timespec: two 64-bit fields). */
function threadCpuMs(): number {
  clockGettime ??= libc().func('int clock_gettime(int clock, void *time)') as (clock: number, time: Buffer) => number;
  if (clockGettime(CLOCK_THREAD_CPUTIME_ID, threadTime) !== 0) throw new Error('clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed');
  return Number(threadTime.readBigInt64LE(0)) * 1000 + Number(threadTime.readBigInt64LE(8)) / 1e6;
}

type Fadvise = (fd: number, offset: number, length: number, advice: number) => number;
let fadvise: Fadvise | undefined;
const POSIX_FADV_DONTNEED = 4;

/**
 * Drops each file's pages from the page cache (POSIX_FADV_DONTNEED: the pages no running process
 * maps), so that the starts that follow fault them back in, as starts of an executable do on a node.
 * How an executable's pages came into the page cache decides the size of the kernel's folios, and
 * so how many page faults each start takes and how much of the file a start maps: read
 * sequentially (or just written, as a build leaves it), the single executable starts with some 350
 * fewer faults and 6–12 ms less CPU than from pages faulted in by starts, and Node's binary
 * likewise, but each process then maps far more of its binary (`check`'s peak RSS under the
 * executable's Node 88 MB against 53). Two binaries compared side by side start from the same
 * state: this one, then a round of starts not measured (bench/run.ts).
 */
export function dropPageCache(paths: readonly string[]): void {
  fadvise ??= libc().func('int posix_fadvise(int fd, int64_t offset, int64_t len, int advice)') as Fadvise;
  for (const path of paths) {
    const fd = openSync(path, 'r');
    try {
      const error = fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      if (error !== 0) throw new Error(`posix_fadvise ${path}: errno ${error}`);
    } finally {
      closeSync(fd);
    }
  }
}

// struct rusage on 64-bit Linux begins with ru_utime and ru_stime (timeval: two longs each).
const RUSAGE_CHILDREN = -1;
const RUSAGE_SIZE = 144;
type Getrusage = (who: number, usage: Buffer) => number;
let getrusage: Getrusage | undefined;

/** CPU µs of all waited-for descendants so far: exact, where /usr/bin/time rounds to 10 ms. */
function childrenCpuUs(): number {
  getrusage ??= libc().func('int getrusage(int who, void *usage)') as Getrusage;
  const usage = Buffer.alloc(RUSAGE_SIZE);
  if (getrusage(RUSAGE_CHILDREN, usage) !== 0) throw new Error('getrusage failed');
  const micros = (at: number): number => Number(usage.readBigInt64LE(at)) * 1e6 + Number(usage.readBigInt64LE(at + 8));
  return micros(0) + micros(16);
}

export interface CommandMeasurement {
  wallMs: Spread;
  cpuMs: Spread;
  /** Peak RSS (/usr/bin/time %M), the largest of the runs. */
  maxRssMb: number;
  /** Exit status and output of the last run. */
  status: number | null;
  stdout: string;
}

/** One command of a side-by-side measurement: its argv (the program first) and the exit codes that count as a run. */
export interface Command {
  argv: string[];
  okStatuses?: readonly number[];
}

/**
 * Commands as a user runs them, process start to exit: wall, CPU (exact, getrusage of children)
 * and peak RSS. Side by side: run i of each command, then run i + 1 of each, so that what the
 * machine's other tenants do falls on all of them alike.
 */
export function measureSideBySide<Name extends string>(commands: Record<Name, Command>, runs: number): Record<Name, CommandMeasurement> {
  const names = Object.keys(commands) as Name[];
  const samples = new Map(
    names.map((name) => [name, { wall: [] as number[], cpu: [] as number[], maxRssKb: 0, last: { status: null as number | null, stdout: '' } }]),
  );
  const rssFile = join(mkdtempSync(join(tmpdir(), 'inotop-bench-')), 'rss');
  try {
    for (let i = 0; i < runs; i++) {
      for (const name of names) {
        const { argv, okStatuses = [0] } = commands[name];
        const sample = samples.get(name)!;
        const before = childrenCpuUs();
        const started = performance.now();
        const child = spawnSync('/usr/bin/time', ['-f', '%M', '-o', rssFile, ...argv], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          maxBuffer: 1 << 30,
        });
        sample.wall.push(performance.now() - started);
        sample.cpu.push((childrenCpuUs() - before) / 1000);
        if (child.status === null || !okStatuses.includes(child.status))
          throw new Error(`${argv.slice(1).join(' ')} exited ${child.status}: ${child.stderr.trim()}`);
        sample.maxRssKb = Math.max(sample.maxRssKb, Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()));
        sample.last = { status: child.status, stdout: child.stdout };
      }
    }
  } finally {
    rmSync(dirname(rssFile), { recursive: true, force: true });
  }
  const measured = {} as Record<Name, CommandMeasurement>;
  for (const name of names) {
    const { wall, cpu, maxRssKb, last } = samples.get(name)!;
    measured[name] = { wallMs: spread(wall), cpuMs: spread(cpu), maxRssMb: maxRssKb / 1024, ...last };
  }
  return measured;
}

/** One command alone (measureSideBySide of one). */
export function measureCommand(argv: string[], runs: number, okStatuses: readonly number[] = [0]): CommandMeasurement {
  return measureSideBySide({ command: { argv, okStatuses } }, runs).command;
}

/** `inotop ARGS` from the compiled CLI, under the Node at `node` (the bench's own by default), as a Command. */
export function inotopCommand(args: string[], okStatuses: readonly number[] = [0], node = process.execPath): Command {
  ensureBuilt();
  return { argv: [node, inotopBin, ...args], okStatuses };
}

/** `inotop ARGS` alone. */
export function measureInotop(args: string[], runs: number, okStatuses: readonly number[] = [0], node = process.execPath): CommandMeasurement {
  const { argv } = inotopCommand(args, okStatuses, node);
  return measureCommand(argv, runs, okStatuses);
}

export interface JsonProcessMeasurement {
  wallMs: Spread;
  cpuMs: Spread;
  /** Peak RSS (/usr/bin/time %M), the largest of the runs. */
  maxRssMb: number;
  outputBytes: number;
  totals: Snapshot['totals'];
  pods: Snapshot['pods'];
}

function jsonProcess(measured: CommandMeasurement): JsonProcessMeasurement {
  const { wallMs, cpuMs, maxRssMb, stdout } = measured;
  const snapshot = JSON.parse(stdout) as Snapshot;
  return { wallMs, cpuMs, maxRssMb, outputBytes: stdout.length, totals: snapshot.totals, pods: snapshot.pods };
}

export interface OneShotsMeasurement {
  /** `inotop --json --pods none`. */
  json: JsonProcessMeasurement;
  /** `inotop --json` with the default pod source (auto), and `podArgs` when given. */
  jsonPods: JsonProcessMeasurement;
  /** `inotify-info -s`, when a build of it is given. */
  inotifyInfo: CommandMeasurement | null;
}

/**
 * The compiled CLI as a user runs it, process start to exit, side by side with inotify-info -s:
 * `inotop --json` without pods and with the default pod source.
 */
export function measureOneShots(runs: number, inotifyInfo: string | null, podArgs: string[] = []): OneShotsMeasurement {
  const commands: Partial<Record<'json' | 'jsonPods' | 'inotifyInfo', Command>> = {
    json: inotopCommand(['--json', '--pods', 'none']),
    jsonPods: inotopCommand(['--json', ...podArgs]),
    ...(inotifyInfo ? { inotifyInfo: { argv: [inotifyInfo, '-s'] } } : {}),
  };
  const measured: Partial<Record<keyof typeof commands, CommandMeasurement>> = measureSideBySide(commands as Record<keyof typeof commands, Command>, runs);
  return { json: jsonProcess(measured.json!), jsonPods: jsonProcess(measured.jsonPods!), inotifyInfo: measured.inotifyInfo ?? null };
}
