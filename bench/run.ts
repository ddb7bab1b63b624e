// npm run bench [-- --size tiny|small|large|huge[,...]] [--quick] [--runs N] [--tui-seconds N] [--tui-no-trace] [--auth-flood] [--out FILE]
// npm run bench -- --fleet 10000|100000: inotop fleet against a real Prometheus holding that many nodes (bench/fleet.ts)
// First `serve` with basic auth during a flood of 200 wrong passwords (--auth-flood: only that),
// then the start-up of one-shot runs on the machine as it is and under an idle node's inotify
// (under each Node BENCH_NODE names too, colon-separated, such as the DaemonSet image's: the
// bench never downloads one); then, for each size: a real load
// (test/helpers/load.ts), the scan and a whole refresh against the kernel floor, path resolution
// cold and warm, the whole `inotop --json` and `inotop check` processes (beside inotify-info -s
// when INOTIFY_INFO names a build of it: the bench never downloads one), `inotop serve` (scrape
// latency during scans, peak RSS), and the TUI's steady state and key latency. Prints a table and
// writes JSON (bench/results.json) so that runs can be compared.
// Needs root: other processes' fds, a tmpfs, the inotify sysctls. Type-checked by npm run typecheck.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isRoot } from '../test/helpers/inowatch.js';
import { countFds, LOAD_SIZES, startLoad, type LoadSizeName } from '../test/helpers/load.js';
import {
  measureCommand,
  measureInotop,
  measureJsonProcess,
  measureResolve,
  measureScan,
  type CommandMeasurement,
  type Spread,
  type Timing,
} from './measure.js';
import { FLEET_GOALS, measureFleet, type FleetMeasurement } from './fleet.js';
import { measureAuthFlood, measureServe, type AuthFloodMeasurement } from './serve.js';
import { measureTui } from './tui.js';

const here = dirname(fileURLToPath(import.meta.url));

const GOALS = {
  scanToFloor: 1.3,
  /** A refresh where nothing changed, against the C floor, at every size. */
  refreshToFloor: 1.25,
  jsonWallMs: 1500,
  /** --json wall against inotify-info -s in the same run, at huge. */
  jsonToInotifyInfo: 1.0,
  /** Peak RSS of --json, serve and the screen at huge. */
  hugeRssMb: 250,
  /** node-problem-detector kills a plugin at 5 s. */
  checkWallMs: 5000,
  /** --json, -b and check --no-trace on an idle node, whole processes, median. */
  startupWallMs: 200,
  /** The bench's 100,000 distinct targets (large), cold. */
  coldResolveMs: 500,
  /** /metrics during scans. */
  scrapeMs: 100,
  /** A good client's /metrics p99 during a flood of 200 wrong passwords (issue 24). */
  authFloodP99Ms: 250,
  tuiSmallCpuPercent: 3,
  tuiHugeCpuPercent: 10,
  tuiSmallRssMb: 150,
  tuiLargeRssMb: 250,
  keyLatencyMs: 50,
};

export interface BenchOptions {
  /** Floor/scan/--json repetitions. */
  runs: number;
  /** How long the TUI's steady state is watched. */
  tuiSeconds: number;
  /** inotop flags for the TUI's run (--tui-no-trace: --no-trace). */
  tuiArgs: string[];
  /** Measure the TUI and serve too (the smoke test does not: it takes a minute). */
  tui: boolean;
  serveSeconds: number;
}

/** Start-up is noisy at a tenth of a second: at least this many runs of each. */
const STARTUP_RUNS = 15;

/**
 * Start-up of one-shot runs under the Node at `node`, whole processes; `node -e 0` is the
 * runtime's own share, which inotop cannot make smaller.
 */
function measureStartup(node: string, runs: number) {
  const n = Math.max(runs, STARTUP_RUNS);
  return {
    'node -e 0': measureCommand([node, '-e', '0'], n),
    '--json': measureInotop(['--json', '--pods', 'none'], n, [0], node),
    '-b': measureInotop(['-b', '--pods', 'none'], n, [0], node),
    // check traces failed calls for 1 s: without that, what the verdict itself costs.
    'check --no-trace': measureInotop(['check', '--pods', 'none', '--no-trace'], n, [0, 1, 2], node),
    check: measureInotop(['check', '--pods', 'none'], n, [0, 1, 2], node),
  };
}

type StartupResult = { node: string; load: string; runs: ReturnType<typeof measureStartup> };

/** Start-up under each Node asked for, on the machine as it is and under an idle node's inotify. */
async function measureStartups(runs: number): Promise<StartupResult[]> {
  const nodes = [process.execPath, ...(process.env.BENCH_NODE ?? '').split(':').filter((node) => node !== '')];
  const version = (node: string) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const results: StartupResult[] = nodes.map((node) => ({ node: version(node), load: 'the machine as it is', runs: measureStartup(node, runs) }));
  const { processes, instances, watches } = LOAD_SIZES.idle;
  const load = await startLoad(LOAD_SIZES.idle);
  try {
    const what = `an idle node's inotify (${processes} processes, ${instances} instances, ${watches.toLocaleString('en-US')} watches)`;
    for (const node of nodes) results.push({ node: version(node), load: what, runs: measureStartup(node, runs) });
  } finally {
    await load.stop();
  }
  return results;
}

function printStartups(startups: StartupResult[]): void {
  console.log(`\n== start-up, whole processes: median (min–max) ms, goal ≤ ${GOALS.startupWallMs} for --json, -b and check --no-trace`);
  for (const { node, load, runs } of startups) {
    console.log(`Node ${node}, ${load}:`);
    for (const [name, measured] of Object.entries(runs)) {
      const judged = name !== 'node -e 0' && name !== 'check';
      const why = name === 'check' ? 'not judged: its 1 s trace window' : judged ? verdict(measured.wallMs.median <= GOALS.startupWallMs) : 'the runtime alone';
      console.log(`  ${name === 'node -e 0' ? name : `inotop ${name}`}: ${ms(measured.wallMs.median)} (${range(measured.wallMs)}): ${why}`);
    }
  }
}

function printAuthFlood(measured: AuthFloodMeasurement | { error: string }): void {
  console.log(`\n== serve with basic auth (bcrypt cost 10) during a flood of wrong passwords`);
  if ('error' in measured) {
    console.log(`  error: ${measured.error}`);
    return;
  }
  const { floodMs, quietMs, knownUserMs, unknownUserMs } = measured;
  console.log(`  a good client's /metrics, quiet: median ${ms(quietMs.median)} ms (${range(quietMs)})`);
  console.log(
    `  during ${measured.wrongPasswords} wrong passwords at once (${measured.floodSeconds.toFixed(1)} s until the last 401, ${measured.floodScrapes} scrapes): ` +
      `median ${ms(floodMs.median)}, p99 ${ms(floodMs.p99)}, max ${ms(floodMs.max)} ms: goal p99 ≤ ${GOALS.authFloodP99Ms}: ${verdict(floodMs.p99 <= GOALS.authFloodP99Ms)}`,
  );
  console.log(
    `  a wrong password: known user ${ms(knownUserMs.median)} ms (${range(knownUserMs)}), unknown user ${ms(unknownUserMs.median)} ms (${range(unknownUserMs)})`,
  );
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
    const inotifyInfo = process.env.INOTIFY_INFO ? await attempt(() => measureCommand([process.env.INOTIFY_INFO!, '-s'], options.runs)) : null;
    // Exit 1 is a verdict too (a large load is over the thresholds it raised the limits for).
    const check = await attempt(() => measureInotop(['check', '--pods', 'none'], options.runs, [0, 1, 2]));
    const serve = options.tui ? await attempt(() => measureServe(options.serveSeconds)) : { skipped: 'not asked for' };
    const tui = options.tui ? await attempt(() => measureTui(options.tuiSeconds, options.tuiArgs)) : { skipped: 'not asked for' };
    const { last, ...scanTimes } = scan;
    return {
      size: name,
      load: { requested: size, created, raisedSysctls: load.raised },
      node: { processes: last.processes.length, fds: scan.floorCount.fds, fdinfoBytes: scan.floorCount.bytes },
      scan: scanTimes,
      resolve,
      json,
      inotifyInfo,
      check,
      serve,
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

function commandRows(metric: string, measured: CommandMeasurement | { error: string }, wallGoal: number | null, rssGoal: number | null): Row[] {
  if ('error' in measured) return [{ metric, median: 'error', spread: measured.error, goal: '' }];
  return [
    {
      metric: `${metric}, wall ms`,
      median: ms(measured.wallMs.median),
      spread: range(measured.wallMs),
      goal: wallGoal === null ? '' : `≤ ${wallGoal}: ${verdict(measured.wallMs.max <= wallGoal)}`,
    },
    { metric: `${metric}, CPU ms`, median: ms(measured.cpuMs.median), spread: range(measured.cpuMs), goal: '' },
    {
      metric: `${metric}, max RSS MB`,
      median: ms(measured.maxRssMb),
      spread: '',
      goal: rssGoal === null ? '' : `≤ ${rssGoal}: ${verdict(measured.maxRssMb <= rssGoal)}`,
    },
  ];
}

function rowsOf(result: SizeResult): Row[] {
  const rows: Row[] = [];
  const { scan, resolve, json, tui } = result;
  const large = result.size === 'large' || result.size === 'huge';
  const huge = result.size === 'huge';
  rows.push(...timingRows('kernel floor, C', scan.cFloor));
  rows.push({
    metric: 'kernel floor, C, fds+fdinfo only, CPU ms',
    median: ms(scan.cFloorFdsOnlyCpuMs.median),
    spread: range(scan.cFloorFdsOnlyCpuMs),
    goal: '',
  });
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
  rows.push(...timingRows('refresh, nothing changed (scan, resolve, snapshot)', scan.refresh));
  rows.push({
    metric: 'refresh / C floor (CPU)',
    median: scan.ratios.refreshToCFloor.toFixed(2),
    spread: '',
    goal: `≤ ${GOALS.refreshToFloor}: ${verdict(scan.ratios.refreshToCFloor <= GOALS.refreshToFloor)}`,
  });
  rows.push({ ...ratio(scan.ratios.scanPlusSnapshotToCFloor, false), metric: 'scan+snapshot / C floor (CPU)' });
  if ('error' in resolve) rows.push({ metric: 'resolve', median: 'error', spread: resolve.error, goal: '' });
  else {
    const coldGoal = result.size === 'large' ? `≤ ${GOALS.coldResolveMs}: ${verdict(resolve.cold.wallMs.median <= GOALS.coldResolveMs)}` : '';
    rows.push(...timingRows(`resolve ${resolve.targets} targets, cold`, resolve.cold).map((row, i) => (i === 1 ? { ...row, goal: coldGoal } : row)));
    rows.push(...timingRows(`resolve ${resolve.targets} targets, warm`, resolve.warm));
    const { decoded, fromDirectories } = resolve.coldLookups;
    rows.push({ metric: 'resolve cold: handles decoded / named by a directory read', median: `${decoded} / ${fromDirectories}`, spread: '', goal: '' });
  }
  if ('error' in json) rows.push({ metric: 'inotop --json', median: 'error', spread: json.error, goal: '' });
  else {
    const goal = result.size === 'large' ? `≤ ${GOALS.jsonWallMs}: ${verdict(json.wallMs.median <= GOALS.jsonWallMs)}` : '';
    rows.push({ metric: 'inotop --json, wall ms', median: ms(json.wallMs.median), spread: range(json.wallMs), goal });
    // Without a build of inotify-info to run beside it, the C floor (the same reads, nothing on top) stands in.
    const toFloor = json.wallMs.median / scan.cFloor.wallMs.median;
    rows.push({ metric: 'inotop --json / C floor (wall, whole process)', median: toFloor.toFixed(2), spread: '', goal: '' });
    rows.push({ metric: 'inotop --json, CPU ms', median: ms(json.cpuMs.median), spread: range(json.cpuMs), goal: '' });
    const rssGoal = huge ? `≤ ${GOALS.hugeRssMb}: ${verdict(json.maxRssMb <= GOALS.hugeRssMb)}` : '';
    rows.push({ metric: 'inotop --json, max RSS MB', median: ms(json.maxRssMb), spread: '', goal: rssGoal });
  }
  if (result.inotifyInfo) {
    rows.push(...commandRows('inotify-info -s', result.inotifyInfo, null, null));
    if (!('error' in result.inotifyInfo) && !('error' in json)) {
      const share = json.wallMs.median / result.inotifyInfo.wallMs.median;
      rows.push({
        metric: 'inotop --json / inotify-info -s (wall)',
        median: share.toFixed(2),
        spread: '',
        goal: huge ? `≤ ${GOALS.jsonToInotifyInfo}: ${verdict(share <= GOALS.jsonToInotifyInfo)}` : '',
      });
    }
  } else {
    rows.push({ metric: 'inotify-info -s', median: 'skipped', spread: 'set INOTIFY_INFO to a build of it', goal: '' });
  }
  rows.push(...commandRows('inotop check', result.check, huge ? GOALS.checkWallMs : null, huge ? GOALS.hugeRssMb : null));
  if ('skipped' in result.serve) rows.push({ metric: 'inotop serve', median: 'skipped', spread: result.serve.skipped, goal: '' });
  else if ('error' in result.serve) rows.push({ metric: 'inotop serve', median: 'error', spread: result.serve.error, goal: '' });
  else {
    const serve = result.serve;
    rows.push({
      metric: `serve /metrics ms (${serve.scrapes} scrapes, ${serve.duringScan} during a scan)`,
      median: ms(serve.scrapeMs.median),
      spread: range(serve.scrapeMs),
      goal: `≤ ${GOALS.scrapeMs}: ${verdict(serve.scrapeMs.max <= GOALS.scrapeMs)}`,
    });
    rows.push({
      metric: `serve RSS MB (max; CPU ${serve.cpuPercent.toFixed(1)}% of a core at --interval ${serve.intervalSeconds})`,
      median: ms(serve.rssMb.max),
      spread: range(serve.rssMb),
      goal: huge ? `≤ ${GOALS.hugeRssMb}: ${verdict(serve.rssMb.max <= GOALS.hugeRssMb)}` : '',
    });
  }
  if ('skipped' in tui) rows.push({ metric: 'TUI', median: 'skipped', spread: tui.skipped, goal: '' });
  else if ('error' in tui) rows.push({ metric: 'TUI', median: 'error', spread: tui.error, goal: '' });
  else {
    const small = result.size === 'small';
    rows.push({
      metric: `TUI CPU % of a core (${tui.seconds} s, -d ${tui.intervalSeconds}${tui.args.map((arg) => ` ${arg}`).join('')}: ${tui.pace}; main thread ${tui.mainCpuPercent.toFixed(1)}, worker ${tui.workerCpuPercent.toFixed(1)})`,
      median: tui.cpuPercent.toFixed(2),
      spread: '',
      goal: small
        ? `≤ ${GOALS.tuiSmallCpuPercent}: ${verdict(tui.cpuPercent <= GOALS.tuiSmallCpuPercent)}`
        : huge
          ? `≤ ${GOALS.tuiHugeCpuPercent}: ${verdict(tui.cpuPercent <= GOALS.tuiHugeCpuPercent)}`
          : '',
    });
    const rssGoal = small ? GOALS.tuiSmallRssMb : huge ? GOALS.hugeRssMb : large ? GOALS.tuiLargeRssMb : null;
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
      // Where full scans are rare (the trace tells what changed), a window may hold no press during one.
      goal: large
        ? `≤ ${GOALS.keyLatencyMs}: ${tui.keyLatencyMs === null ? 'not judged (no press during a scan)' : verdict(latency.max <= GOALS.keyLatencyMs)}`
        : '',
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

function printFleet(fleet: FleetMeasurement): void {
  const g = FLEET_GOALS;
  const s = fleet.screen;
  console.log(
    `\n== inotop fleet: ${fleet.nodes.toLocaleString('en-US')} nodes, ${fleet.seriesPerNode} inotop_* series each (setup ${fleet.setupSeconds.toFixed(0)} s)`,
  );
  const reads = (name: string, costs: FleetMeasurement['raw'], judged: boolean) => [
    `${name}, first read (every node): Prometheus CPU ${costs.firstCpuS.toFixed(2)} s, wall ${ms(costs.firstWallMs)} ms`,
    `${name}, steady reads (1 of ${costs.shardGroups} shard groups each): Prometheus CPU ${costs.steadyCpuS.median.toFixed(3)} s (${costs.steadyCpuS.min.toFixed(3)}–${costs.steadyCpuS.max.toFixed(3)}), wall ${ms(costs.steadyWallMs.median)} ms` +
      (judged ? `: ≤ ${g.prometheusCpuPerReadS} s: ${verdict(costs.steadyCpuS.max <= g.prometheusCpuPerReadS)}` : ''),
  ];
  for (const line of [
    ...reads('raw series', fleet.raw, false),
    ...reads('recording rules', fleet.rules, true),
    `fleet --json, whole process: wall ${ms(fleet.json.wallMs)} ms, peak RSS ${ms(fleet.json.maxRssMb)} MB: ≤ ${g.rssMb} MB: ${verdict(fleet.json.maxRssMb <= g.rssMb)}`,
    `screen, start to first rows: ${ms(s.firstRowsMs)} ms: ≤ ${g.firstRowsMs}: ${verdict(s.firstRowsMs <= g.firstRowsMs)}`,
    `screen, key to screen: median ${ms(s.keyMs.median)} ms, max ${ms(s.keyMs.max)} (${s.slowestKey}) of ${s.keyMs.runs}: ≤ ${g.keyMs}: ${verdict(s.keyMs.max <= g.keyMs)}`,
    `screen, filter as typed: median ${ms(s.filterKeyMs.median)} ms, max ${ms(s.filterKeyMs.max)} a keystroke: ≤ ${g.filterKeyMs}: ${verdict(s.filterKeyMs.max <= g.filterKeyMs)}`,
    `screen, peak RSS ${ms(s.peakRssMb)} MB: ≤ ${g.rssMb}: ${verdict(s.peakRssMb <= g.rssMb)}`,
  ]) {
    console.log(line);
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

/** Measurements keep their last output for checks; the report does not need it. */
function stripOutput<T extends Record<string, CommandMeasurement>>(measured: T): Record<string, Omit<CommandMeasurement, 'stdout'>> {
  return Object.fromEntries(Object.entries(measured).map(([name, { stdout: _omitted, ...rest }]) => [name, rest]));
}

function stripOutputs(result: SizeResult) {
  const strip = (measured: CommandMeasurement | { error: string } | null) =>
    measured && 'stdout' in measured ? { ...measured, stdout: measured.stdout.slice(0, 200) } : measured;
  return { ...result, inotifyInfo: strip(result.inotifyInfo), check: strip(result.check) };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      fleet: { type: 'string' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      'tui-seconds': { type: 'string' },
      // A flag of its own: npm run splits --x=--y into two arguments.
      'tui-no-trace': { type: 'boolean', default: false },
      // Only serve's basic auth under a flood of wrong passwords (needs no root, no load).
      'auth-flood': { type: 'boolean', default: false },
      out: { type: 'string', default: join(here, 'results.json') },
    },
  });
  const fleetNodes = values.fleet === undefined ? null : Number(values.fleet);
  if (fleetNodes !== null && fleetNodes !== 10_000 && fleetNodes !== 100_000) {
    console.error('bench: --fleet takes 10000 or 100000 (nodes)');
    return 2;
  }
  // --fleet alone measures the fleet view only: it needs no load on this node, nor root.
  const sizes = (values.size ?? (fleetNodes !== null ? '' : 'small,large')).split(',').filter((size) => size !== '') as LoadSizeName[];
  for (const size of sizes) {
    if (!(size in LOAD_SIZES)) {
      console.error(`bench: unknown size ${size} (${Object.keys(LOAD_SIZES).join(', ')})`);
      return 2;
    }
  }
  if (!isRoot && sizes.length > 0 && !values['auth-flood']) {
    console.error("bench: needs root (other processes' fds, a tmpfs, the inotify sysctls)");
    return 2;
  }
  const options: BenchOptions = {
    runs: values.runs ? Number(values.runs) : values.quick ? 3 : 7,
    tuiSeconds: values['tui-seconds'] ? Number(values['tui-seconds']) : values.quick ? 10 : 60,
    tuiArgs: values['tui-no-trace'] ? ['--no-trace'] : [],
    tui: true,
    serveSeconds: values.quick ? 20 : 45,
  };
  // The node's own figures (the auth flood, start-ups, sizes) unless --fleet alone asked for the fleet view's.
  const authFlood = sizes.length > 0 || values['auth-flood'] ? await attempt(() => measureAuthFlood()) : null;
  if (authFlood) printAuthFlood(authFlood);
  if (values['auth-flood']) return authFlood === null || 'error' in authFlood ? 1 : 0;
  const startups = sizes.length > 0 ? await measureStartups(options.runs) : [];
  if (startups.length > 0) printStartups(startups);
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const result = await benchSize(size, options);
    printTable(result);
    results.push(result);
  }
  const fleet = fleetNodes !== null ? await measureFleet(fleetNodes) : null;
  if (fleet) printFleet(fleet);
  const resolveTable = values.quick || sizes.length === 0 ? null : resolveBench();
  if (resolveTable) console.log(`\n== bench/resolve.ts\n${resolveTable.trimEnd()}`);
  const report = {
    time: new Date().toISOString(),
    machine: machine(),
    options,
    goals: { ...GOALS, fleet: FLEET_GOALS },
    startup: startups.map((startup) => ({ ...startup, runs: stripOutput(startup.runs) })),
    authFlood,
    results: results.map(stripOutputs),
    resolveBench: resolveTable,
    fleet,
  };
  writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nCPU ms: every thread of the measuring process; ratios: medians of CPU time. Written to ${values.out}`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
