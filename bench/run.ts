// npm run bench [-- --size tiny|small|large[,...]] [--quick] [--runs N] [--out FILE]
// For each size: a real load (test/helpers/load.ts), then the scan against the kernel floor, path
// resolution cold and warm, the whole `inotop --json` process, and the TUI's steady state and key
// latency. Prints a table and writes JSON (bench/results.json) so that runs can be compared.
// Needs root: other processes' fds, a tmpfs, the inotify sysctls. Type-check: npx tsc -p bench
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isRoot } from '../test/helpers/inowatch.js';
import { countFds, LOAD_SIZES, startLoad, type LoadSizeName } from '../test/helpers/load.js';
import { measureJsonProcess, measureResolve, measureScan, type Spread, type Timing } from './measure.js';
import { measureTui } from './tui.js';

const here = dirname(fileURLToPath(import.meta.url));

const GOALS = {
  scanToFloor: 1.3,
  jsonWallMs: 1500,
  tuiSmallCpuPercent: 3,
  tuiSmallRssMb: 150,
  tuiLargeRssMb: 250,
  keyLatencyMs: 50,
};

export interface BenchOptions {
  /** Floor/scan/--json repetitions. */
  runs: number;
  /** How long the TUI's steady state is watched. */
  tuiSeconds: number;
  /** Measure the TUI too (the smoke test does not: it takes a minute). */
  tui: boolean;
}

export type SizeResult = Awaited<ReturnType<typeof benchSize>>;

/** Everything measured at one size, under a load that exists only for the call. */
export async function benchSize(name: LoadSizeName, options: BenchOptions) {
  const size = LOAD_SIZES[name];
  const load = await startLoad(size);
  try {
    const created = countFds(load.pids, load.noisePath);
    const scan = measureScan(options.runs);
    const resolve = await attempt(() => measureResolve(scan.last, options.runs));
    const json = await attempt(() => measureJsonProcess(options.runs));
    const tui = options.tui ? await attempt(() => measureTui(options.tuiSeconds)) : { skipped: 'not asked for' };
    const { last, ...scanTimes } = scan;
    return {
      size: name,
      load: { requested: size, created, raisedSysctls: load.raised },
      node: { processes: last.processes.length, fds: scan.floorCount.fds, fdinfoBytes: scan.floorCount.bytes },
      scan: scanTimes,
      resolve,
      json,
      tui,
    };
  } finally {
    await load.stop();
  }
}

/** A stage that cannot run (not written yet, failing) is reported, not fatal to the rest. */
async function attempt<T>(work: () => T | Promise<T>): Promise<T | { error: string }> {
  try {
    return await work();
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function machine() {
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).stdout.trim();
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    commit: commit || null,
  };
}

const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const range = (s: Spread): string => `${ms(s.min)}–${ms(s.max)}`;

interface Row {
  metric: string;
  median: string;
  spread: string;
  goal: string;
}

function timingRows(metric: string, timing: Timing, goal = ''): Row[] {
  return [
    { metric: `${metric}, CPU ms`, median: ms(timing.cpuMs.median), spread: range(timing.cpuMs), goal },
    { metric: `${metric}, wall ms`, median: ms(timing.wallMs.median), spread: range(timing.wallMs), goal: '' },
  ];
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}

function rowsOf(result: SizeResult): Row[] {
  const rows: Row[] = [];
  const { scan, resolve, json, tui } = result;
  const large = result.size === 'large';
  rows.push(...timingRows('kernel floor, C', scan.cFloor));
  rows.push({ metric: 'kernel floor, C, fds+fdinfo only, CPU ms', median: ms(scan.cFloorFdsOnlyCpuMs.median), spread: range(scan.cFloorFdsOnlyCpuMs), goal: '' });
  rows.push(...timingRows('kernel floor, Node', scan.nodeFloor));
  rows.push(...timingRows('scan(), first', scan.scan));
  rows.push(...timingRows('scan(), again (fdinfo kept open)', scan.rescan));
  rows.push(...timingRows('buildSnapshot()', scan.snapshot));
  const ratio = (value: number, goal: boolean): Row => ({
    metric: '',
    median: value.toFixed(2),
    spread: '',
    goal: goal && large ? `≤ ${GOALS.scanToFloor}: ${verdict(value <= GOALS.scanToFloor)}` : '',
  });
  rows.push({ ...ratio(scan.ratios.scanToCFloor, true), metric: 'scan / C floor (CPU)' });
  rows.push({ ...ratio(scan.ratios.scanToCFloorFdsOnly, false), metric: 'scan / C floor fds+fdinfo only (CPU)' });
  rows.push({ ...ratio(scan.ratios.scanToNodeFloor, false), metric: 'scan / Node floor (CPU)' });
  rows.push({ ...ratio(scan.ratios.rescanToCFloor, false), metric: 'scan again / C floor (CPU)' });
  rows.push({ ...ratio(scan.ratios.scanPlusSnapshotToCFloor, false), metric: 'scan+snapshot / C floor (CPU)' });
  if ('error' in resolve) rows.push({ metric: 'resolve', median: 'error', spread: resolve.error, goal: '' });
  else {
    rows.push(...timingRows(`resolve ${resolve.targets} targets, cold`, resolve.cold));
    rows.push(...timingRows(`resolve ${resolve.targets} targets, warm`, resolve.warm));
  }
  if ('error' in json) rows.push({ metric: 'inotop --json', median: 'error', spread: json.error, goal: '' });
  else {
    const goal = large ? `≤ ${GOALS.jsonWallMs}: ${verdict(json.wallMs.median <= GOALS.jsonWallMs)}` : '';
    rows.push({ metric: 'inotop --json, wall ms', median: ms(json.wallMs.median), spread: range(json.wallMs), goal });
    rows.push({ metric: 'inotop --json, CPU ms', median: ms(json.cpuMs.median), spread: range(json.cpuMs), goal: '' });
    rows.push({ metric: 'inotop --json, max RSS MB', median: ms(json.maxRssMb), spread: '', goal: '' });
  }
  if ('skipped' in tui) rows.push({ metric: 'TUI', median: 'skipped', spread: tui.skipped, goal: '' });
  else if ('error' in tui) rows.push({ metric: 'TUI', median: 'error', spread: tui.error, goal: '' });
  else {
    const small = result.size === 'small';
    rows.push({
      metric: `TUI CPU % of a core (${tui.seconds} s, -d ${tui.intervalSeconds}; main thread ${tui.mainCpuPercent.toFixed(1)}, worker ${tui.workerCpuPercent.toFixed(1)})`,
      median: tui.cpuPercent.toFixed(2),
      spread: '',
      goal: small ? `≤ ${GOALS.tuiSmallCpuPercent}: ${verdict(tui.cpuPercent <= GOALS.tuiSmallCpuPercent)}` : '',
    });
    const rssGoal = small ? GOALS.tuiSmallRssMb : large ? GOALS.tuiLargeRssMb : null;
    rows.push({
      metric: `TUI RSS MB (max; last ${tui.rssSeriesMb[tui.rssSeriesMb.length - 1]})`,
      median: ms(tui.rssMb.max),
      spread: range(tui.rssMb),
      goal: rssGoal === null ? '' : `≤ ${rssGoal}: ${verdict(tui.rssMb.max <= rssGoal)}`,
    });
    const latency = tui.keyLatencyMs ?? tui.keyLatencyAllMs;
    const during = tui.keyLatencyMs ? `${latency.runs} presses during a scan` : `${latency.runs} presses, none during a scan`;
    rows.push({
      metric: `key → screen ms (${during})`,
      median: ms(latency.median),
      spread: range(latency),
      goal: large ? `≤ ${GOALS.keyLatencyMs}: ${verdict(tui.keyLatencyMs !== null && latency.max <= GOALS.keyLatencyMs)}` : '',
    });
  }
  return rows;
}

function printTable(result: SizeResult): void {
  const { requested, created } = result.load;
  console.log(
    `\n== ${result.size}: ${requested.processes} processes, ${created.instances} instances, ${created.watches} watches, ${created.noiseFds} noise fds ` +
      `(node: ${result.node.processes} holders, ${result.node.fds} fds, ${(result.node.fdinfoBytes / 1e6).toFixed(1)} MB fdinfo)`,
  );
  const rows = rowsOf(result);
  const header: Row = { metric: 'metric', median: 'median', spread: 'min–max', goal: 'goal' };
  const width = (key: keyof Row): number => Math.max(...[header, ...rows].map((row) => row[key].length));
  for (const row of [header, ...rows]) {
    console.log(`${row.metric.padEnd(width('metric'))}  ${row.median.padStart(width('median'))}  ${row.spread.padEnd(width('spread'))}  ${row.goal}`.trimEnd());
  }
}

/** bench/resolve.ts, the resolve stage's own benchmark (other tree shapes, walk vs handle): its table verbatim. */
function resolveBench(): string {
  try {
    return execFileSync(process.execPath, ['--import', 'tsx', join(here, 'resolve.ts')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    return `bench/resolve.ts failed: ${(error as Error).message}`;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'small,large' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      out: { type: 'string', default: join(here, 'results.json') },
    },
  });
  const sizes = values.size.split(',') as LoadSizeName[];
  for (const size of sizes) {
    if (!(size in LOAD_SIZES)) {
      console.error(`bench: unknown size ${size} (${Object.keys(LOAD_SIZES).join(', ')})`);
      return 2;
    }
  }
  if (!isRoot) {
    console.error('bench: needs root (other processes\' fds, a tmpfs, the inotify sysctls)');
    return 2;
  }
  const options: BenchOptions = {
    runs: values.runs ? Number(values.runs) : values.quick ? 3 : 7,
    tuiSeconds: values.quick ? 10 : 60,
    tui: true,
  };
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const result = await benchSize(size, options);
    printTable(result);
    results.push(result);
  }
  const resolveTable = values.quick ? null : resolveBench();
  if (resolveTable) console.log(`\n== bench/resolve.ts\n${resolveTable.trimEnd()}`);
  const report = { time: new Date().toISOString(), machine: machine(), options, goals: GOALS, results, resolveBench: resolveTable };
  writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nCPU ms: every thread of the measuring process; ratios: medians of CPU time. Written to ${values.out}`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
