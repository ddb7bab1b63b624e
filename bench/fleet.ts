// `inotop fleet` at 10,000 or 100,000 nodes behind one real Prometheus (npm run bench -- --fleet N):
// the fleet of test/helpers/fleet-tsdb.ts (real scrapes copied to two clusters sharing node names,
// a tenth leaking) backfilled with promtool. Measured, raw queries first, then with the recording
// rules (evaluated over every node, then Prometheus restarted without them, so that nothing else
// runs in it while it is timed; unloading them by a reload would mark their series stale two
// evaluation intervals later, and every later read would be raw):
//   - Prometheus's CPU per read (utime+stime of its process around FleetReader.read(), the reads
//     the screen makes, a shard group each): the first (the first rows), the reads until every node
//     was read once (back to back), and the steady ones after: each read's own (median, min–max),
//     and, judged, their CPU in all ÷ their number over whole cycles that hold at least one of the
//     garbage collections their allocations cause, beside Prometheus's CPU over as long idle;
//   - `inotop fleet --json`, the whole process: wall and peak RSS;
//   - the screen in tmux: from its start to the first rows; each key (j k PgDn G g < > I Enter Esc)
//     from send-keys to the pane's next output, pressed at random moments while it reads every
//     few seconds; the filter typed a character at a time; its peak RSS (VmHWM).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FleetReader } from '../src/fleet/nodes.js';
import { ensureBuilt, inotopBin } from '../test/helpers/build.js';
import { fleetTsdb, realScrapes } from '../test/helpers/fleet-tsdb.js';
import { freePort } from '../test/helpers/prometheus.js';
import { TmuxPane } from '../test/helpers/tmux.js';
import { spread, type Spread } from './measure.js';
import { ControlClient } from './tui.js';

export const FLEET_GOALS = {
  firstRowsMs: 2000,
  keyMs: 100,
  filterKeyMs: 100,
  rssMb: 250,
  prometheusCpuPerReadS: 0.2,
};

const repo = fileURLToPath(new URL('..', import.meta.url));
const rulesFile = join(repo, 'deploy/prometheus/inotop-fleet-rules.yaml');
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function peakRssMb(pid: number): number {
  const match = /\nVmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

export interface ReadCosts {
  /** The first read: the first group of shards. */
  firstCpuS: number;
  firstWallMs: number;
  /** The reads until every node was read once, back to back: how many, and their CPU and wall in all. */
  fillReads: number;
  fillCpuS: number;
  fillWallMs: number;
  /** Reads once every node was read, a shard group each: each read's own CPU and wall. */
  steadyCpuS: Spread;
  steadyWallMs: Spread;
  /**
   * The steady reads as a whole (whole cycles of them): Prometheus's CPU from before the first to
   * after the last, the garbage collections the reads' allocations cost included, ÷ the reads.
   */
  steadyReads: number;
  steadyCpuPerReadS: number;
  /** Prometheus's CPU over the same wall time with no reads, after them. */
  idleCpuS: number;
  steadySeconds: number;
  /** Go's garbage collections in Prometheus during the steady reads, and the bytes it allocated a read. */
  steadyGcs: number;
  allocatedMbPerRead: number;
  shardGroups: number;
}

export interface FleetMeasurement {
  nodes: number;
  seriesPerNode: number;
  setupSeconds: number;
  raw: ReadCosts;
  rules: ReadCosts;
  json: { wallMs: number; maxRssMb: number };
  screen: {
    firstRowsMs: number;
    keyMs: Spread;
    slowestKey: string;
    filterKeyMs: Spread;
    peakRssMb: number;
  };
}

class Prometheus {
  private constructor(
    readonly url: string,
    readonly child: ChildProcess,
    private readonly config: string,
  ) {}

  static async start(work: string, data: string): Promise<Prometheus> {
    const port = await freePort();
    const config = join(work, 'prometheus.yml');
    writeFileSync(config, JSON.stringify({ global: { evaluation_interval: '10s' } }));
    const child = spawn(
      '/usr/bin/prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--query.lookback-delta=1h',
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
      { stdio: 'ignore' },
    );
    const prometheus = new Prometheus(`http://127.0.0.1:${port}`, child, config);
    for (let i = 0; i < 600; i++) {
      try {
        if ((await fetch(`${prometheus.url}/-/ready`)).ok) return prometheus;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error('Prometheus did not get ready in 2 minutes');
  }

  /** Loads the recording rules (a reload). */
  async loadRules(): Promise<void> {
    writeFileSync(this.config, JSON.stringify({ global: { evaluation_interval: '10s' }, rule_files: [rulesFile] }));
    const response = await fetch(`${this.url}/-/reload`, { method: 'POST' });
    if (!response.ok) throw new Error(`Prometheus reload: ${response.status}`);
  }

  /** Stops it and starts it again on the same data without rules: their last series stay, not marked stale. */
  async restartWithoutRules(work: string, data: string): Promise<Prometheus> {
    await this.stop();
    return Prometheus.start(work, data);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** A counter or gauge of Prometheus's own /metrics (go_gc_duration_seconds_count, go_memstats_alloc_bytes_total). */
async function ownMetric(prometheus: Prometheus, name: string): Promise<number> {
  const text = await (await fetch(`${prometheus.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`Prometheus's /metrics has no ${name}`);
  return Number(line.slice(name.length + 1));
}

/** Steady reads run whole cycles until a garbage collection fell in them, at least this many and at most that. */
const STEADY_CYCLES = { least: 2, most: 8 };

/**
 * Prometheus's CPU and the wall time of FleetReader's reads: until every node was read, then
 * steady reads, `steadyReads` of them, or (null) whole cycles of them (a read of every group each)
 * until Go collected Prometheus's garbage at least once in them (STEADY_CYCLES). Each read's own
 * CPU (its process's utime+stime around it) shows the spread: a collection of Prometheus's heap
 * that falls in a read is that read's maximum. The goal is judged on the steady reads as a whole
 * (the collections their allocations cause included: a window that holds one is a whole collection
 * where on average a part would fall), beside Prometheus's CPU over as long with no reads.
 */
async function readCosts(prometheus: Prometheus, mode: 'raw' | 'rules', steadyReads: number | null): Promise<ReadCosts> {
  const reader = new FleetReader({ prometheus: prometheus.url, cluster: null, timeoutMs: 120_000, maxResponseBytes: null });
  const pid = prometheus.child.pid!;
  const cpu: number[] = [];
  const wall: number[] = [];
  const read = async () => {
    const before = cpuSeconds(pid);
    const started = performance.now();
    const fleet = await reader.read();
    wall.push(performance.now() - started);
    // Prometheus may account a query's CPU a moment after answering.
    await sleep(200);
    cpu.push(cpuSeconds(pid) - before);
    if (fleet.mode !== mode) throw new Error(`read ${fleet.mode}, expected ${mode}`);
    return fleet;
  };
  let fleet = await read();
  while (!fleet.complete) fleet = await read();
  const fillReads = cpu.length;
  const { shardGroups } = fleet;
  // Prometheus's own counters, then its CPU (reading /metrics costs it a little).
  const gcsBefore = await ownMetric(prometheus, 'go_gc_duration_seconds_count');
  const allocatedBefore = await ownMetric(prometheus, 'go_memstats_alloc_bytes_total');
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  if (steadyReads !== null) for (let i = 0; i < steadyReads; i++) await read();
  else {
    for (let cycle = 1; cycle <= STEADY_CYCLES.most; cycle++) {
      for (let i = 0; i < shardGroups; i++) await read();
      if (cycle >= STEADY_CYCLES.least && (await ownMetric(prometheus, 'go_gc_duration_seconds_count')) > gcsBefore) break;
    }
  }
  const steadyCpu = cpuSeconds(pid) - cpuBefore;
  const steadySeconds = (performance.now() - started) / 1000;
  const steadyGcs = (await ownMetric(prometheus, 'go_gc_duration_seconds_count')) - gcsBefore;
  const allocated = (await ownMetric(prometheus, 'go_memstats_alloc_bytes_total')) - allocatedBefore;
  const idleFrom = cpuSeconds(pid);
  await sleep(steadySeconds * 1000);
  const idleCpuS = cpuSeconds(pid) - idleFrom;
  const reads = cpu.length - fillReads;
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    firstCpuS: cpu[0]!,
    firstWallMs: wall[0]!,
    fillReads,
    fillCpuS: sum(cpu.slice(0, fillReads)),
    fillWallMs: sum(wall.slice(0, fillReads)),
    steadyCpuS: spread(cpu.slice(fillReads)),
    steadyWallMs: spread(wall.slice(fillReads)),
    steadyReads: reads,
    steadyCpuPerReadS: steadyCpu / reads,
    idleCpuS,
    steadySeconds,
    steadyGcs,
    allocatedMbPerRead: allocated / reads / 1e6,
    shardGroups,
  };
}

async function measureJson(prometheus: Prometheus): Promise<{ wallMs: number; maxRssMb: number; mode: string }> {
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, inotopBin, 'fleet', '--prometheus', prometheus.url, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const wallMs = performance.now() - started;
  if (run.status !== 0) throw new Error(`fleet --json: ${run.stderr}`);
  const { queries: mode } = JSON.parse(run.stdout) as { queries: string };
  return { wallMs, maxRssMb: Number(/maxrss=(\d+)/.exec(run.stderr)?.[1]) / 1024, mode };
}

/** The time from send-keys to the pane's next output. */
async function press(client: ControlClient, key: string): Promise<number> {
  const output = client.nextOutput();
  const pressed = performance.now();
  await client.command(`send-keys ${key}`);
  await Promise.race([output, sleep(10_000).then(() => Promise.reject(new Error(`no output within 10 s of ${key}`)))]);
  return client.lastOutputAt - pressed;
}

async function measureScreen(prometheus: Prometheus, nodes: number): Promise<FleetMeasurement['screen']> {
  const started = performance.now();
  const pane = new TmuxPane([process.execPath, inotopBin, 'fleet', '--prometheus', prometheus.url, '-d', '5'], { width: 160, height: 48 });
  try {
    const count = nodes.toLocaleString('en-US');
    // From the recording rules: a raw read would time what the rules are there to spare.
    await pane.waitFor((screen) => screen.includes(`${count} nodes`) && / ago\s*$/m.test(screen), 'the first rows', 120_000);
    if (!pane.screen().includes('from the recording rules')) throw new Error(`the screen did not read the recording rules:\n${pane.screen()}`);
    const firstRowsMs = performance.now() - started;
    const pid = pane.commandPid();
    const client = new ControlClient(pane);
    await client.ready();
    const keys: { key: string; ms: number }[] = [];
    try {
      // Keys at random moments over several reads (one every 5 s).
      const sequence = ['j', 'j', 'k', 'PageDown', 'G', 'g', '>', '<', 'I', 'I', 'Enter', 'Escape', 'PageDown', 'j', 'k'];
      for (let round = 0; round < 3; round++) {
        for (const key of sequence) {
          await sleep(100 + Math.random() * 900);
          keys.push({ key, ms: await press(client, key) });
          // Enter opens a node and asks Prometheus: its detail arrives later; the key's own drawing is what is timed.
          if (key === 'Enter') await sleep(1000);
        }
      }
      await press(client, '/');
      const filter: number[] = [];
      for (const ch of 'ip-10-0-12-3') filter.push(await press(client, `-l ${ch}`));
      await press(client, 'Escape');
      const slowest = keys.reduce((a, b) => (b.ms > a.ms ? b : a));
      return {
        firstRowsMs,
        keyMs: spread(keys.map((k) => k.ms)),
        slowestKey: slowest.key,
        filterKeyMs: spread(filter),
        peakRssMb: peakRssMb(pid),
      };
    } finally {
      client.close();
    }
  } finally {
    pane.kill();
  }
}

export async function measureFleet(nodes: number): Promise<FleetMeasurement> {
  ensureBuilt();
  const work = mkdtempSync(join(tmpdir(), 'inotop-fleet-bench-'));
  let prometheus: Prometheus | null = null;
  try {
    const setupStarted = performance.now();
    const templates = await realScrapes(repo);
    const { data, nodes: written } = await fleetTsdb(
      work,
      { nodesPerCluster: nodes / 2, clusters: ['eu', 'us'], at: Math.floor(Date.now() / 1000) },
      templates,
    );
    prometheus = await Prometheus.start(work, data);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    const series = (templates.leaky.length + 9 * templates.healthy.length) / 10;
    // Raw reads cost many times more: a few, not judged.
    const raw = await readCosts(prometheus, 'raw', 4);
    // The rules evaluated once or twice over every node, then gone: their series stay for the lookback.
    await prometheus.loadRules();
    const url = prometheus.url;
    for (let i = 0; ; i++) {
      const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent('sum(cluster:inotop_nodes:count)')}`)).json()) as {
        data: { result: { value: [number, string] }[] };
      };
      if (Number(body.data.result[0]?.value[1]) === written.length) break;
      if (i > 300) throw new Error('the recording rules did not cover every node in 10 minutes');
      await sleep(2000);
    }
    prometheus = await prometheus.restartWithoutRules(work, data);
    const rules = await readCosts(prometheus, 'rules', null);
    const json = await measureJson(prometheus);
    if (json.mode !== 'rules') throw new Error(`fleet --json read ${json.mode}, expected rules`);
    const screen = await measureScreen(prometheus, written.length);
    return { nodes: written.length, seriesPerNode: Math.round(series), setupSeconds, raw, rules, json, screen };
  } finally {
    await prometheus?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
