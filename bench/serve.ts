// `inotop serve` measured as a DaemonSet runs it: scrapes of /metrics during its background scans
// (the answer must not wait for a scan), its peak RSS (what the manifest's memory limit is set
// from) and its CPU, over a window of a few scan intervals. Only 127.0.0.1 is ever asked.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBuilt, inotopBin } from '../test/helpers/build.js';
import { spread, type Spread } from './measure.js';

export interface ServeMeasurement {
  intervalSeconds: number;
  scrapes: number;
  /** Scrapes made while a thread other than the main one was running (a scan). */
  duringScan: number;
  scrapeMs: Spread;
  rssMb: Spread;
  cpuPercent: number;
}

const INTERVAL_SECONDS = 15;
const SCRAPE_EVERY_MS = 250;
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function get(port: number, path: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function statFields(path: string): string[] {
  return readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
}

/** Whether a thread of `pid` other than its main thread is running now. */
function workerRunning(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => Number(tid) !== pid && statFields(`/proc/${pid}/task/${tid}/stat`)[0] === 'R');
  } catch {
    return false;
  }
}

function rssMb(pid: number): number {
  const match = /\nVmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

export async function measureServe(seconds: number): Promise<ServeMeasurement> {
  ensureBuilt();
  const port = 19_000 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, [inotopBin, 'serve', '--listen', `127.0.0.1:${port}`, '--interval', String(INTERVAL_SECONDS), '--pods', 'none'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const pid = child.pid!;
    // Up once /metrics has a scan to show.
    for (let waited = 0; ; waited += 200) {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr.trim()}`);
      if (waited > 120_000) throw new Error('serve did not answer within 120 s');
      const answer = await get(port, '/metrics').catch(() => null);
      if (answer?.status === 200) break;
      await sleep(200);
    }
    const ticks = (): number => {
      const fields = statFields(`/proc/${pid}/stat`);
      return Number(fields[11]) + Number(fields[12]);
    };
    const ticksBefore = ticks();
    const started = performance.now();
    const latencies: number[] = [];
    const rss: number[] = [];
    let duringScan = 0;
    while (performance.now() - started < seconds * 1000) {
      const scanning = workerRunning(pid);
      const { status, ms } = await get(port, '/metrics');
      if (status !== 200) throw new Error(`/metrics answered ${status}`);
      latencies.push(ms);
      if (scanning) duringScan++;
      rss.push(rssMb(pid));
      await sleep(SCRAPE_EVERY_MS);
    }
    const elapsed = (performance.now() - started) / 1000;
    return {
      intervalSeconds: INTERVAL_SECONDS,
      scrapes: latencies.length,
      duringScan,
      scrapeMs: spread(latencies),
      rssMb: spread(rss),
      cpuPercent: ((ticks() - ticksBefore) / ticksPerSecond / elapsed) * 100,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  }
}
