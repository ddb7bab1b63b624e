// npm run bench [-- --size shared,busy,single,huge|tiny|small|large[,...]] [--quick] [--runs N]
//                 [--parts auth,startup,scan,resolve,json,check,serve,tui] [--tui-seconds N] [--tui-no-trace] [--auth-flood] [--out FILE]
// npm run bench -- --fleet 10000|100000: inotop fleet against a real Prometheus holding that many nodes (bench/fleet.ts)
// First `serve` with basic auth during a flood of 200 wrong passwords (--auth-flood: only that),
// then the start-up of one-shot runs beside `node -e 0` and the floor of their reads (a bare Node
// program making them: bench/startup-floor.ts), on the machine as it is and under an
// idle node's inotify, then with a live containerd answering CRI (test/helpers/containerd.ts), under
// each Node BENCH_NODE names too (colon-separated, such as the DaemonSet image's: the bench never
// downloads one). Then, for each size: a real load (test/helpers/load.ts), the scan and a whole
// refresh against the kernel floor, path resolution cold and warm, the whole `inotop --json`
// process without pods and with the default pod source side by side with inotify-info -s (when
// INOTIFY_INFO names a build of it: the bench never downloads one), `inotop check`, `inotop serve`
// (scrape latency during scans, peak RSS), and the screen's steady state and key latency. The
// default sizes are the matrix the goals are set on. Prints a table and writes JSON
// (bench/results.json) so that runs can be compared.
// Needs root: other processes' fds, a tmpfs, the inotify sysctls. Type-checked by npm run typecheck.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { containerdSkipReason, startContainerd } from '../test/helpers/containerd.js';
import { ensureBuilt } from '../test/helpers/build.js';
import { isRoot } from '../test/helpers/inowatch.js';
import { countFds, LOAD_SIZES, startLoad, type LoadSize, type LoadSizeName } from '../test/helpers/load.js';
import {
  inotopCommand,
  measureInotop,
  measureOneShots,
  measureResolve,
  measureScan,
  measureSideBySide,
  measureTraffic,
  dropPageCache,
  type Command,
  type CommandMeasurement,
  type Spread,
  type Timing,
} from './measure.js';
import { builtExecutable } from '../scripts/build-exe.mjs';
import { startupFloorScript } from './floor.js';
import { FLEET_GOALS, measureFleet, type FleetMeasurement } from './fleet.js';
import { measureAuthFlood, measureServe, type AuthFloodMeasurement } from './serve.js';
import { measureTui } from './tui.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The shapes of node the one-shot goals hold at. */
const MATRIX: readonly LoadSizeName[] = ['shared', 'busy', 'single', 'huge'];

const GOALS = {
  scanToFloor: 1.3,
  /** A refresh where nothing changed, against the C floor, at every size: the refreshing thread's CPU against the floor's one thread (every thread's is shown beside). */
  refreshToFloor: 1.25,
  jsonWallMs: 1500,
  /** --json wall against inotify-info -s in the same run, at every shape of the matrix, with and without pods. */
  jsonToInotifyInfo: 1.0,
  /** ... and at huge. */
  hugeJsonToInotifyInfo: 0.8,
  hugeJsonRssMb: 120,
  /** --json with the default pod source against --pods none, where no pod source answers. */
  autoToNone: 1.1,
  /** Peak RSS of serve and the screen at huge. */
  hugeRssMb: 250,
  /** node-problem-detector kills a plugin at 5 s. */
  checkWallMs: 5000,
  /** --json, -b and check --no-trace, whole processes, median, against `node -e 0` in the same run. */
  startupToNode: 1.5,
  /** ... with a live containerd answering CRI. */
  startupWithCriToNode: 2,
  /** node-problem-detector's stock DaemonSet: 80 Mi for its container, 10m CPU; both rules. */
  checkRssMb: 80,
  checkCpuMs: 300,
  /** The single executable's start-up against the npm build's under the same Node: no slower. */
  exeToNpmStartup: 1.0,
  /** The bench's 100,000 distinct targets (large), cold. */
  coldResolveMs: 500,
  /** /metrics during scans. */
  scrapeMs: 100,
  /** A good client's /metrics p99 during a flood of 200 wrong passwords (issue 24). */
  authFloodP99Ms: 250,
  tuiSmallCpuPercent: 3,
  tuiHugeCpuPercent: 5,
  tuiSmallRssMb: 150,
  tuiLargeRssMb: 250,
  keyLatencyMs: 50,
  /** One refresh's queue reads against a full scan (CPU). */
  queuesToScan: 0.05,
};

const PARTS = ['auth', 'startup', 'scan', 'traffic', 'resolve', 'json', 'check', 'serve', 'tui'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  /** Floor/scan/--json repetitions. */
  runs: number;
  /** How long the TUI's steady state is watched. */
  tuiSeconds: number;
  /** inotop flags for the TUI's run (--tui-no-trace: --no-trace). */
  tuiArgs: string[];
  /** What is measured at each size (the smoke test leaves out the screen and serve: they take a minute). */
  parts: ReadonlySet<Part>;
  serveSeconds: number;
}

/** Start-up is noisy at a tenth of a second: at least this many runs of each. */
const STARTUP_RUNS = 15;

/** The arguments node-problem-detector gives check, per rule (deploy/node-problem-detector/). */
const NPD_RULES = {
  'check, limits rule': ['check', '--instances-threshold=90%', '--watches-threshold=90%', '--fail-on-leaked=false'],
  'check, leaks rule': ['check', '--instances-threshold=off', '--watches-threshold=off', '--fail-on-leaked=true', '--pods-timeout=2', '--deadline=4'],
};

/** The single executable's one-shots, beside the npm build's under the Node it carries. */
const EXE = 'single executable ';

/** The one-shots of the single executable at `path`, named as startupCommands' with EXE before. */
function exeCommands(path: string, pods: string[]): Record<string, Command> {
  return {
    [`${EXE}--json`]: { argv: [path, '--json', ...pods], okStatuses: [0] },
    [`${EXE}-b`]: { argv: [path, '-b', ...pods], okStatuses: [0] },
    [`${EXE}check --no-trace`]: { argv: [path, 'check', ...pods, '--no-trace'], okStatuses: [0, 1, 2] },
    [`${EXE}--version`]: { argv: [path, '--version'], okStatuses: [0] },
  };
}

/** The reference rows of start-up: what a Node program making a one-shot's reads and nothing else takes (bench/startup-floor.ts). */
const FLOOR_KOFFI = 'the same reads, bare Node (koffi, as inotop)';
const FLOOR_FS = "the same reads, bare Node (Node's fs)";
const REFERENCES = new Set(['node -e 0', FLOOR_KOFFI, FLOOR_FS]);

/**
 * The one-shots judged against `node -e 0`, with `pods` as their pod source flags, beside the
 * floor of their reads (`floorScript`: startupFloorScript's).
 */
function startupCommands(node: string, pods: string[], floorScript: string): Record<string, Command> {
  return {
    'node -e 0': { argv: [node, '-e', '0'] },
    [FLOOR_KOFFI]: { argv: [node, floorScript, 'koffi'] },
    [FLOOR_FS]: { argv: [node, floorScript, 'fs'] },
    '--json': inotopCommand(['--json', ...pods], [0], node),
    '-b': inotopCommand(['-b', ...pods], [0], node),
    // check traces failed calls for 1 s: without that, what the verdict itself costs.
    'check --no-trace': inotopCommand(['check', ...pods, '--no-trace'], [0, 1, 2], node),
    // No scan: what loading inotop costs (koffi not loaded: the single executable only finds where it loads from).
    '--version': inotopCommand(['--version'], [0], node),
  };
}

interface StartupResult {
  node: string;
  situation: string;
  /** The goal's ratio to `node -e 0`. */
  goal: number;
  runs: Record<string, CommandMeasurement>;
  /** The machine's load average once they ran (1, 5, 15 minutes). */
  loadAverage: string;
}

/**
 * Start-up under each Node asked for: on the machine as it is and under an idle node's inotify
 * without pods, then with a live containerd answering CRI (default pod source). With CRI also the
 * whole one-shot without pods and with only the pod list to fetch (an empty procfs): fetched beside
 * the scan, the one-shot takes no longer than the slower of the two; and check as
 * node-problem-detector runs it (both rules, trace included): its peak RSS and CPU.
 */
async function measureStartups(runs: number): Promise<StartupResult[]> {
  const exe = builtExecutable(process.arch);
  const benchNodes = (process.env.BENCH_NODE ?? '').split(':').filter((node) => node !== '');
  const nodes = [process.execPath, ...benchNodes, ...(exe ? [exe.node] : [])];
  const version = (node: string) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  // Each Node runs with V8's code made by itself, as after `npm install` under it (the build makes
  // it only for the Node that builds; without it, bin/inotop loads the ES modules).
  ensureBuilt();
  for (const node of benchNodes) execFileSync(node, [join(here, '..', 'scripts', 'code-cache.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const n = Math.max(runs, STARTUP_RUNS);
  const none = ['--pods', 'none'];
  // With the single executable for this machine built, it runs beside the npm build under its Node.
  const floorScript = startupFloorScript();
  const withExe = (node: string, pods: string[]) => ({
    ...startupCommands(node, pods, floorScript),
    ...(exe && node === exe.node ? exeCommands(exe.path, pods) : {}),
  });
  // The single executable and the npm build's Node from the same page cache state (dropPageCache says why).
  const sideBySide = <Name extends string>(node: string, commands: Record<Name, Command>) => {
    if (!exe || node !== exe.node) return measureSideBySide(commands, n);
    dropPageCache([exe.path, exe.node]);
    measureSideBySide(commands, 1);
    return measureSideBySide(commands, n);
  };
  const results: StartupResult[] = nodes.map((node) => ({
    node: version(node),
    situation: 'the machine as it is, --pods none',
    goal: GOALS.startupToNode,
    runs: sideBySide(node, withExe(node, none)),
    loadAverage: load(),
  }));
  const { processes, instances, watches } = LOAD_SIZES.idle;
  const idleLoad = await startLoad(LOAD_SIZES.idle);
  try {
    const idle = `an idle node's inotify (${processes} processes, ${instances} instances, ${watches.toLocaleString('en-US')} watches)`;
    for (const node of nodes) {
      results.push({
        node: version(node),
        situation: `${idle}, --pods none`,
        goal: GOALS.startupToNode,
        runs: sideBySide(node, withExe(node, none)),
        loadAverage: load(),
      });
    }
    const skip = containerdSkipReason();
    if (skip) {
      console.error(`bench: start-up with CRI skipped: ${skip}`);
      return results;
    }
    const containerd = await startContainerd();
    const emptyProc = mkdtempSync(join(tmpdir(), 'inotop-bench-proc-'));
    mkdirSync(join(emptyProc, 'proc'));
    try {
      const kubeletRoot = join(containerd.dir, 'kubelet');
      for (let i = 0; i < CRI_PODS; i++) await containerd.runPod({ name: `bench-${i}`, kubeletRoot });
      const cri = ['--runtime-endpoint', containerd.endpoint, '--kubelet-root', kubeletRoot];
      for (const node of nodes) {
        const commands = {
          ...withExe(node, cri),
          '--json --pods none': inotopCommand(['--json', ...none], [0], node),
          '--json, only the pod list (empty procfs)': inotopCommand(['--json', ...cri, '--proc', join(emptyProc, 'proc')], [0], node),
          ...Object.fromEntries(Object.entries(NPD_RULES).map(([rule, args]) => [rule, inotopCommand([...args, ...cri], [0, 1, 2], node)])),
        };
        results.push({
          node: version(node),
          situation: `${idle}, containerd answering CRI (${CRI_PODS} pods), the default pod source`,
          goal: GOALS.startupWithCriToNode,
          runs: sideBySide(node, commands),
          loadAverage: load(),
        });
      }
    } finally {
      rmSync(emptyProc, { recursive: true, force: true });
      await containerd.stop();
    }
  } finally {
    await idleLoad.stop();
  }
  return results;
}

/** Pods the bench's containerd runs: an idle node's few. */
const CRI_PODS = 3;

/** The one-shots whose start-up is judged against `node -e 0`. */
const JUDGED_STARTUPS = new Set(Object.keys(startupCommands('node', [], '')).filter((name) => !REFERENCES.has(name) && name !== '--version'));

function printStartups(startups: StartupResult[]): void {
  console.log('\n== start-up, whole processes side by side: median (min–max) ms, ratio of medians to `node -e 0`');
  for (const { node, situation, goal, runs, loadAverage } of startups) {
    console.log(`Node ${node}, ${situation} (load average ${loadAverage}):`);
    const base = runs['node -e 0']!.wallMs.median;
    const scanOnly = runs['--json --pods none'];
    const podsOnly = runs['--json, only the pod list (empty procfs)'];
    for (const [name, measured] of Object.entries(runs)) {
      const ratio = measured.wallMs.median / base;
      const judgements: string[] = [];
      const npm = name.startsWith(EXE) ? runs[name.slice(EXE.length)] : undefined;
      if (name === 'node -e 0') judgements.push('the runtime alone');
      else if (name === FLOOR_KOFFI || name === FLOOR_FS) judgements.push(`${ratio.toFixed(2)}×: the floor of the one-shots' reads (no parsing, no output)`);
      else if (npm) {
        const toNpm = measured.wallMs.median / npm.wallMs.median;
        judgements.push(
          `÷ the npm build's ${ms(npm.wallMs.median)}: ${toNpm.toFixed(2)} (goal ≤ ${GOALS.exeToNpmStartup}): ${verdict(toNpm <= GOALS.exeToNpmStartup)}`,
        );
      } else if (name in NPD_RULES) {
        const ok = measured.maxRssMb <= GOALS.checkRssMb && measured.cpuMs.median <= GOALS.checkCpuMs;
        judgements.push(`peak RSS ${ms(measured.maxRssMb)} MB (goal ≤ ${GOALS.checkRssMb}), CPU goal ≤ ${GOALS.checkCpuMs} ms: ${verdict(ok)}`);
      } else judgements.push(JUDGED_STARTUPS.has(name) ? `${ratio.toFixed(2)}× (goal ≤ ${goal}): ${verdict(ratio <= goal)}` : `${ratio.toFixed(2)}×`);
      if (name === '--json' && scanOnly && podsOnly) {
        const slower = Math.max(scanOnly.wallMs.median, podsOnly.wallMs.median);
        const share = measured.wallMs.median / slower;
        judgements.push(`÷ the slower of the scan alone and the pod list alone ${share.toFixed(2)} (goal ≤ 1): ${verdict(share <= 1)}`);
      }
      const label = REFERENCES.has(name) ? name : `inotop ${name}`;
      console.log(`  ${label}: ${ms(measured.wallMs.median)} (${range(measured.wallMs)}), CPU ${ms(measured.cpuMs.median)} ms: ${judgements.join('; ')}`);
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

type Skipped = { skipped: string };
const notAsked: Skipped = { skipped: 'not asked for' };

/** Everything measured at one size, under a load that exists only for the call. */
export async function benchSize(name: LoadSizeName, options: BenchOptions) {
  const size = LOAD_SIZES[name];
  const load = await startLoad(size);
  const parts = options.parts;
  try {
    const created = countFds(load.pids, load.noisePath);
    const scan = measureScan(options.runs);
    const traffic = parts.has('traffic') ? await attempt(() => measureTraffic(scan, options.runs)) : notAsked;
    const resolve = parts.has('resolve') ? await attempt(() => measureResolve(scan.last, options.runs)) : notAsked;
    const oneShots = parts.has('json') ? await attempt(() => measureOneShots(options.runs, process.env.INOTIFY_INFO ?? null)) : notAsked;
    // Exit 1 is a verdict too (a large load is over the thresholds it raised the limits for).
    const check = parts.has('check') ? await attempt(() => measureInotop(['check', '--pods', 'none'], options.runs, [0, 1, 2])) : notAsked;
    const serve = parts.has('serve') ? await attempt(() => measureServe(options.serveSeconds)) : notAsked;
    // At huge the screen shows the largest process with its detail pane scrolled to the end.
    const tui = parts.has('tui') ? await attempt(() => measureTui(options.tuiSeconds, options.tuiArgs, name === 'huge')) : notAsked;
    const { last, ...scanTimes } = scan;
    return {
      size: name,
      load: { requested: size, created, raisedSysctls: load.raised },
      node: { processes: last.processes.length, fds: scan.floorCount.fds, fdinfoBytes: scan.floorCount.bytes },
      scan: scanTimes,
      traffic,
      resolve,
      oneShots,
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
const load = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');

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

function scanRows(result: SizeResult): Row[] {
  const rows: Row[] = [];
  const { scan } = result;
  const large = result.size !== 'tiny' && result.size !== 'small' && result.size !== 'idle';
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
  rows.push(...timingRows("refresh, nothing changed, the refreshing thread's", scan.refreshThread).slice(0, 1));
  rows.push({
    metric: "refresh / C floor (CPU: the refreshing thread's, as the floor's one thread)",
    median: scan.ratios.refreshToCFloor.toFixed(2),
    spread: '',
    goal: `≤ ${GOALS.refreshToFloor}: ${verdict(scan.ratios.refreshToCFloor <= GOALS.refreshToFloor)}`,
  });
  rows.push({ ...ratio(scan.ratios.refreshProcessToCFloor, false), metric: "refresh / C floor (CPU: every thread's, V8's GC and compilers too)" });
  rows.push({ ...ratio(scan.ratios.scanPlusSnapshotToCFloor, false), metric: 'scan+snapshot / C floor (CPU)' });
  return rows;
}

function trafficRows(result: SizeResult): Row[] {
  const { traffic } = result;
  if ('skipped' in traffic) return [];
  if ('error' in traffic) return [{ metric: 'queue reads', median: 'error', spread: traffic.error, goal: '' }];
  const large = result.size !== 'tiny' && result.size !== 'small' && result.size !== 'idle';
  const unread = traffic.unread > 0 ? `, ${traffic.unread} unread` : '';
  return [
    ...timingRows(`queue reads, ${traffic.instances} instances${unread}, ${traffic.fromSet} answered by the set (per refresh, reading thread)`, traffic.queues),
    ...timingRows(`queue reads by their calls only, no set (per refresh, reading thread)`, traffic.queuesByCalls),
    {
      metric: "queue reads / full scan (reading thread's CPU / scan again's CPU)",
      median: traffic.queuesToScan.toFixed(3),
      spread: '',
      goal: large ? `≤ ${GOALS.queuesToScan}: ${verdict(traffic.queuesToScan <= GOALS.queuesToScan)}` : '',
    },
    ...timingRows(`permission-wait search, all ${traffic.threads} threads (only where a permission group exists)`, traffic.waitSearch),
  ];
}

function resolveRows(result: SizeResult): Row[] {
  const { resolve } = result;
  if ('skipped' in resolve) return [];
  if ('error' in resolve) return [{ metric: 'resolve', median: 'error', spread: resolve.error, goal: '' }];
  const coldGoal = result.size === 'large' ? `≤ ${GOALS.coldResolveMs}: ${verdict(resolve.cold.wallMs.median <= GOALS.coldResolveMs)}` : '';
  const { decoded, fromDirectories } = resolve.coldLookups;
  return [
    ...timingRows(`resolve ${resolve.targets} targets, cold`, resolve.cold).map((row, i) => (i === 1 ? { ...row, goal: coldGoal } : row)),
    ...timingRows(`resolve ${resolve.targets} targets, warm`, resolve.warm),
    { metric: 'resolve cold: handles decoded / named by a directory read', median: `${decoded} / ${fromDirectories}`, spread: '', goal: '' },
  ];
}

function oneShotRows(result: SizeResult): Row[] {
  const { oneShots } = result;
  if ('skipped' in oneShots) return [];
  if ('error' in oneShots) return [{ metric: 'inotop --json', median: 'error', spread: oneShots.error, goal: '' }];
  const huge = result.size === 'huge';
  const judged = MATRIX.includes(result.size);
  const rows: Row[] = [];
  const { json, jsonPods, inotifyInfo } = oneShots;
  const toFloor = json.wallMs.median / result.scan.cFloor.wallMs.median;
  const pods = jsonPods.pods.source === 'none' ? 'no pod source answered' : `pods from ${jsonPods.pods.source}`;
  for (const [name, measured] of [
    ['inotop --json --pods none', json],
    [`inotop --json (default pod source: ${pods})`, jsonPods],
  ] as const) {
    const wallGoal = result.size === 'large' ? `≤ ${GOALS.jsonWallMs}: ${verdict(measured.wallMs.median <= GOALS.jsonWallMs)}` : '';
    rows.push({ metric: `${name}, wall ms`, median: ms(measured.wallMs.median), spread: range(measured.wallMs), goal: wallGoal });
    rows.push({ metric: `${name}, CPU ms`, median: ms(measured.cpuMs.median), spread: range(measured.cpuMs), goal: '' });
    const rssGoal = huge ? `≤ ${GOALS.hugeJsonRssMb}: ${verdict(measured.maxRssMb <= GOALS.hugeJsonRssMb)}` : '';
    rows.push({ metric: `${name}, max RSS MB`, median: ms(measured.maxRssMb), spread: '', goal: rssGoal });
  }
  rows.push({ metric: 'inotop --json --pods none / C floor (wall, whole process)', median: toFloor.toFixed(2), spread: '', goal: '' });
  const autoToNone = jsonPods.wallMs.median / json.wallMs.median;
  rows.push({
    metric: 'inotop --json, default pod source / --pods none (wall)',
    median: autoToNone.toFixed(2),
    spread: '',
    goal: jsonPods.pods.source === 'none' ? `≤ ${GOALS.autoToNone} with no pod source: ${verdict(autoToNone <= GOALS.autoToNone)}` : '',
  });
  if (!inotifyInfo) {
    rows.push({ metric: 'inotify-info -s', median: 'skipped', spread: 'set INOTIFY_INFO to a build of it', goal: '' });
    return rows;
  }
  rows.push(...commandRows('inotify-info -s', inotifyInfo, null, null));
  const goal = huge ? GOALS.hugeJsonToInotifyInfo : GOALS.jsonToInotifyInfo;
  for (const [name, measured] of [
    ['inotop --json --pods none / inotify-info -s (wall)', json],
    ['inotop --json, default pod source / inotify-info -s (wall)', jsonPods],
  ] as const) {
    const share = measured.wallMs.median / inotifyInfo.wallMs.median;
    rows.push({ metric: name, median: share.toFixed(2), spread: '', goal: judged ? `≤ ${goal}: ${verdict(share <= goal)}` : '' });
  }
  return rows;
}

function serveAndScreenRows(result: SizeResult): Row[] {
  const rows: Row[] = [];
  const huge = result.size === 'huge';
  const large = result.size !== 'tiny' && result.size !== 'small' && result.size !== 'idle';
  if (!('skipped' in result.check)) rows.push(...commandRows('inotop check', result.check, huge ? GOALS.checkWallMs : null, huge ? GOALS.hugeRssMb : null));
  if ('error' in result.serve) rows.push({ metric: 'inotop serve', median: 'error', spread: result.serve.error, goal: '' });
  else if (!('skipped' in result.serve)) {
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
  const { tui } = result;
  if ('error' in tui) rows.push({ metric: 'TUI', median: 'error', spread: tui.error, goal: '' });
  else if (!('skipped' in tui)) {
    const small = result.size === 'small';
    const shown = tui.detailEnd ? ', the largest process with its detail pane at its end' : '';
    rows.push({
      metric: `TUI CPU % of a core (${tui.seconds} s, -d ${tui.intervalSeconds}${tui.args.map((arg) => ` ${arg}`).join('')}${shown}: ${tui.pace}; window: ${tui.window}; main thread ${tui.mainCpuPercent.toFixed(1)}, worker ${tui.workerCpuPercent.toFixed(1)})`,
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
  const { created } = result.load;
  const requested: LoadSize = result.load.requested;
  const bystanders = requested.bystanders ? ` + ${requested.bystanders.processes} processes × ${requested.bystanders.fds} fds` : '';
  const shared = requested.targets === 'shared' ? ' (on the same directories)' : '';
  console.log(
    `\n== ${result.size}: ${requested.processes} processes, ${created.instances} instances, ${created.watches} watches${shared}, ${created.noiseFds} noise fds${bystanders} ` +
      `(node: ${result.node.processes} holders, ${result.node.fds} fds, ${(result.node.fdinfoBytes / 1e6).toFixed(1)} MB fdinfo; load average ${load()})`,
  );
  const rows = [...scanRows(result), ...trafficRows(result), ...resolveRows(result), ...oneShotRows(result), ...serveAndScreenRows(result)];
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
    `${name}, first read (1 of ${costs.shardGroups} shard groups): Prometheus CPU ${costs.firstCpuS.toFixed(2)} s, wall ${ms(costs.firstWallMs)} ms`,
    `${name}, every node read once (${costs.fillReads} reads back to back): Prometheus CPU ${costs.fillCpuS.toFixed(2)} s, wall ${ms(costs.fillWallMs)} ms`,
    `${name}, steady reads (1 of ${costs.shardGroups} shard groups each), each: Prometheus CPU median ${costs.steadyCpuS.median.toFixed(3)} s, min–max ${costs.steadyCpuS.min.toFixed(3)}–${costs.steadyCpuS.max.toFixed(3)} s (a maximum far above the median is a garbage collection of Prometheus's heap falling in that read), wall median ${ms(costs.steadyWallMs.median)} ms`,
    `${name}, steady reads as a whole (${costs.steadyReads} reads over ${costs.steadySeconds.toFixed(0)} s, ${costs.steadyGcs} garbage collection${costs.steadyGcs === 1 ? '' : 's'} in them, ${costs.allocatedMbPerRead.toFixed(1)} MB allocated a read): Prometheus CPU in all ÷ reads ${costs.steadyCpuPerReadS.toFixed(3)} s a read (idle over as long: ${costs.idleCpuS.toFixed(2)} s, ${(costs.idleCpuS / costs.steadyReads).toFixed(3)} s a read)` +
      (judged ? `: ≤ ${g.prometheusCpuPerReadS} s: ${verdict(costs.steadyCpuPerReadS <= g.prometheusCpuPerReadS)}` : ''),
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
  const strip = (measured: CommandMeasurement | { error: string } | Skipped | null) =>
    measured && 'stdout' in measured ? { ...measured, stdout: measured.stdout.slice(0, 200) } : measured;
  const { oneShots } = result;
  return { ...result, oneShots: 'json' in oneShots ? { ...oneShots, inotifyInfo: strip(oneShots.inotifyInfo) } : oneShots, check: strip(result.check) };
}

/**
 * Variables of this shell that make every Node do work at its start which a node's shell does
 * not ask for: NODE_EXTRA_CA_CERTS names a file of certificates that Node 20 parses before any
 * script runs (the build machine's 215 KB bundle: 40 ms of `node -e 0`'s 100 here; Node 22 and
 * later read it only when TLS needs it). Kept, it would add the same to `node -e 0` and to every
 * inotop, flattering the ratios and lengthening the one-shots beside inotify-info.
 */
const START_WORK_VARIABLES = ['NODE_EXTRA_CA_CERTS'];

/** Removes START_WORK_VARIABLES from the environment everything the bench runs inherits, and says so. */
function removeStartWork(): void {
  const removed = START_WORK_VARIABLES.filter((name) => process.env[name] !== undefined);
  for (const name of removed) delete process.env[name];
  if (removed.length > 0) console.log(`removed from what the bench runs (a node's shell does not set them): ${removed.join(', ')}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      fleet: { type: 'string' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      parts: { type: 'string', default: PARTS.join(',') },
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
  const sizes = (values.size ?? (fleetNodes !== null ? '' : MATRIX.join(','))).split(',').filter((size) => size !== '') as LoadSizeName[];
  for (const size of sizes) {
    if (!(size in LOAD_SIZES)) {
      console.error(`bench: unknown size ${size} (${Object.keys(LOAD_SIZES).join(', ')})`);
      return 2;
    }
  }
  const parts = values.parts.split(',') as Part[];
  for (const part of parts) {
    if (!PARTS.includes(part)) {
      console.error(`bench: unknown part ${part} (${PARTS.join(', ')})`);
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
    parts: new Set(parts),
    serveSeconds: values.quick ? 20 : 45,
  };
  console.log(`load average at the start: ${load()}`);
  removeStartWork();
  // The node's own figures (the auth flood, start-ups, sizes) unless --fleet alone asked for the fleet view's.
  const onNode = sizes.length > 0;
  const authFlood = values['auth-flood'] || (onNode && options.parts.has('auth')) ? await attempt(() => measureAuthFlood()) : notAsked;
  if (!('skipped' in authFlood)) printAuthFlood(authFlood);
  if (values['auth-flood']) return 'error' in authFlood ? 1 : 0;
  const startups = onNode && options.parts.has('startup') ? await measureStartups(options.runs) : [];
  if (startups.length > 0) printStartups(startups);
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const result = await benchSize(size, options);
    printTable(result);
    results.push(result);
  }
  const fleet = fleetNodes !== null ? await measureFleet(fleetNodes) : null;
  if (fleet) printFleet(fleet);
  const resolveTable = values.quick || !onNode || !options.parts.has('resolve') ? null : resolveBench();
  if (resolveTable) console.log(`\n== bench/resolve.ts\n${resolveTable.trimEnd()}`);
  const report = {
    time: new Date().toISOString(),
    machine: machine(),
    loadAverageAtEnd: loadavg(),
    options: { ...options, parts },
    goals: { ...GOALS, fleet: FLEET_GOALS },
    startup: startups.map((startup) => ({ ...startup, runs: stripOutput(startup.runs) })),
    authFlood,
    results: results.map(stripOutputs),
    resolveBench: resolveTable,
    fleet,
  };
  writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  console.log(
    `\nCPU ms: every thread of the measuring process (queue reads and the rows that say so: the reading or refreshing thread's); ratios: medians. Load average at the end: ${load()}. Written to ${values.out}`,
  );
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
