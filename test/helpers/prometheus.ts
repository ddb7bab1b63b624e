// Running the real Prometheus and the processes it scrapes in a test: children stopped when the
// test ends, polling, free ports, instant queries.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { undoAtEnd } from './cleanup.js';
import { eventually, type EventuallyOptions } from './eventually.js';

export const PROMETHEUS = '/usr/bin/prometheus';

/** Why `binaries` cannot run here, or false. */
export function missingBinaries(binaries: readonly string[]): string | false {
  const missing = binaries.filter((path) => {
    try {
      accessSync(path, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  return missing.length > 0 ? `missing ${missing.join(', ')} (apt-get install prometheus prometheus-node-exporter; .ci/run does)` : false;
}

export interface Started {
  output(): string;
}

/** A child process that is stopped (SIGTERM, then waited for) when the test ends, before what was made ahead of it. */
export function start(t: TestContext, command: string, args: string[]): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  undoAtEnd(t, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  });
  return { output: () => output };
}

/** How long tests wait on Prometheus and the exporters (they scrape every second or so), and how often they look. */
export const SCRAPES: EventuallyOptions = { timeoutMs: 20_000, intervalMs: 200 };

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function text(url: string, init?: RequestInit): Promise<string> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.text();
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function query(prometheus: string, promql: string): Promise<Sample[]> {
  const body = JSON.parse(await text(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`));
  return body.data.result as Sample[];
}

/** A Prometheus on loopback with `config` (plus a 1 s scrape and evaluation interval) and its data in `work`/data; its URL. */
export async function startPrometheus(t: TestContext, work: string, config: Record<string, unknown>, args: readonly string[] = []): Promise<string> {
  const port = await freePort();
  writeFileSync(join(work, 'prometheus.yml'), JSON.stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, ...config }));
  start(t, PROMETHEUS, [
    `--config.file=${join(work, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(work, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
    ...args,
  ]);
  return `http://127.0.0.1:${port}`;
}

/** The port `inotop serve` says it listens on. */
export function servedPort(started: Started): Promise<number> {
  return eventually(() => {
    const port = /serving https?:\/\/[^ ]*:(\d+)\//.exec(started.output())?.[1];
    assert.ok(port, 'inotop serve says where it listens');
    return Number(port);
  }, SCRAPES);
}
