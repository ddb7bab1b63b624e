// `inotop serve` measured as a DaemonSet runs it: scrapes of /metrics during its background scans
// (the answer must not wait for a scan), its peak RSS (what the manifest's memory limit is set
// from) and its CPU, over a window of a few scan intervals; and a good client's scrapes during a
// flood of wrong passwords. Only 127.0.0.1 is ever asked.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
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

export interface AuthFloodMeasurement {
  wrongPasswords: number;
  /** A good client's /metrics, with its credentials cached, while nothing else asks. */
  quietMs: Spread;
  /** The same client during the flood: every scrape from its start until its last answer. */
  floodMs: Spread & { p99: number };
  floodScrapes: number;
  /** From the flood's first request to its last answer. */
  floodSeconds: number;
  /** A wrong password of a known user, and any password of an unknown one, one at a time without a flood. */
  knownUserMs: Spread;
  unknownUserMs: Spread;
}

/** A scrape with basic auth; the status and how long it took. */
function getAs(port: number, path: string, user: string, password: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, auth: `${user}:${password}`, agent: false, timeout: 60_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;
}

/**
 * `serve --replay` with basic auth (bcrypt cost 10, as `htpasswd -nBC 10` makes) while
 * `wrongPasswords` requests with distinct wrong passwords arrive at once: a good client scraping
 * every 50 ms must keep its latency (goal: p99 ≤ 250 ms). Then a known user's wrong password
 * against an unknown user's, one at a time: the same work, so names cannot be told by timing.
 */
export async function measureAuthFlood(wrongPasswords = 200): Promise<AuthFloodMeasurement> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'inotop-bench-auth-'));
  const config = join(dir, 'web.yml');
  writeFileSync(config, `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('good-secret', 10)}\n`);
  const recording = fileURLToPath(new URL('../fixtures/leaky-kubelet.jsonl.gz', import.meta.url));
  const port = 20_000 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, [inotopBin, 'serve', '--replay', recording, '--listen', `127.0.0.1:${port}`, '--web.config.file', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    for (let waited = 0; ; waited += 200) {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}`);
      if (waited > 60_000) throw new Error('serve did not answer within 60 s');
      const answer = await getAs(port, '/metrics', 'prometheus', 'good-secret').catch(() => null);
      if (answer?.status === 200) break;
      await sleep(200);
    }
    const quiet: number[] = [];
    for (let i = 0; i < 40; i++) {
      quiet.push((await getAs(port, '/metrics', 'prometheus', 'good-secret')).ms);
      await sleep(50);
    }
    const started = performance.now();
    let flooding = true;
    const flood = Promise.all(
      Array.from({ length: wrongPasswords }, (_, i) =>
        getAs(port, '/metrics', 'prometheus', `wrong-${i}-${Math.random()}`).catch(() => ({ status: 0, ms: 0 })),
      ),
    ).then((answers) => {
      flooding = false;
      return answers;
    });
    const during: number[] = [];
    while (flooding) {
      const { status, ms } = await getAs(port, '/metrics', 'prometheus', 'good-secret');
      if (status !== 200) throw new Error(`the good client got ${status} during the flood`);
      during.push(ms);
      await sleep(50);
    }
    const answers = await flood;
    const floodSeconds = (performance.now() - started) / 1000;
    if (answers.some((answer) => answer.status !== 401))
      throw new Error(`the flood got ${[...new Set(answers.map((a) => a.status))].join(', ')}, not only 401`);
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 10; i++) {
      known.push((await getAs(port, '/metrics', 'prometheus', `nope-${i}-${Math.random()}`)).ms);
      unknown.push((await getAs(port, '/metrics', `user-${i}`, `nope-${Math.random()}`)).ms);
    }
    return {
      wrongPasswords,
      quietMs: spread(quiet),
      floodMs: { ...spread(during), p99: percentile(during, 0.99) },
      floodScrapes: during.length,
      floodSeconds,
      knownUserMs: spread(known),
      unknownUserMs: spread(unknown),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
}
