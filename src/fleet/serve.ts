// `inotop serve`: the collector scans in its worker thread every --interval (the next scan is
// scheduled when the previous one is in), and each snapshot is rendered once into metrics text.
// /metrics sends that text, so a scrape never scans, and the server answers while a scan runs.
// With --textfile the same text goes to a file for node_exporter's textfile collector instead.
import { rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { collectorOptions } from '../cli/args.js';
import { BackgroundCollector } from '../collect/background.js';
import type { Snapshot } from '../model/types.js';
import type { ServeOptions } from './args.js';
import { FailureTotals, METRICS_CONTENT_TYPE, metricsView, renderMetrics, type MetricsState } from './metrics.js';

/** node_exporter reads only files ending in .prom: the temp file must not, or it could read half of it. */
export const TEXTFILE_NAME = 'inotop.prom';

/** Health fails when no scan has ended (well or not) for this many intervals, plus slack for a slow pod list. */
const STALE_INTERVALS = 3;
const STALE_SLACK_MS = 30_000;

export async function runServe(options: ServeOptions): Promise<number> {
  const exporter = new Exporter(options);
  let server: Server | null = null;
  if (options.textfile === null) {
    server = createServer((request, response) => exporter.handle(request, response));
    try {
      await listen(server, options);
    } catch (error) {
      process.stderr.write(`inotop: cannot listen on ${options.listen.host}:${options.listen.port}: ${(error as Error).message}\n`);
      return 1;
    }
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    process.stderr.write(`inotop: serving http://${host}:${port}/metrics, scanning every ${options.intervalMs / 1000} s\n`);
  } else {
    process.stderr.write(`inotop: writing ${join(options.textfile, TEXTFILE_NAME)}, scanning every ${options.intervalMs / 1000} s\n`);
  }

  // The metrics sum leaked targets of every process.
  const collector = new BackgroundCollector(collectorOptions(options.shared), options.intervalMs, 'all');
  let stop = (): void => undefined;
  const ended = new Promise<number>((resolve) => {
    stop = () => resolve(0);
    // Kubernetes stops a pod with SIGTERM, and as pid 1 we get no default handler for it.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    collector.start({
      snapshot: (snapshot) => exporter.scanned(snapshot),
      failed: (message) => exporter.failed(message),
      fatal: (error) => {
        process.stderr.write(`inotop: the collector stopped: ${error.message}\n`);
        resolve(1);
      },
      output: (text) => process.stderr.write(text),
    });
  });
  const code = await ended;
  process.off('SIGTERM', stop).off('SIGINT', stop);
  await collector.stop();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await exporter.written();
  return code;
}

function listen(server: Server, options: ServeOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

class Exporter {
  private readonly state: MetricsState;
  private readonly failures = new FailureTotals();
  private text: string | null = null;
  /** Renders finish in any order: only the newest one's text is kept. */
  private renders = 0;
  private readonly startedAt = Date.now();
  private lastScanEndedAt: number | null = null;
  private lastFailure: string | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: ServeOptions) {
    this.state = { snapshot: null, scanFailures: 0, top: options.top, failures: this.failures };
  }

  scanned(snapshot: Snapshot): void {
    this.state.snapshot = metricsView(snapshot);
    this.failures.add(snapshot.failures);
    this.lastFailure = null;
    this.ended();
  }

  failed(message: string): void {
    this.state.scanFailures++;
    this.lastFailure = message;
    process.stderr.write(`inotop: scan failed: ${message}\n`);
    this.ended();
  }

  /** Resolves when the textfile writes started so far are done. */
  written(): Promise<void> {
    return this.writing;
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'GET or HEAD only\n');
    switch (new URL(request.url ?? '/', 'http://inotop').pathname) {
      case '/metrics':
        if (this.text === null) return send(response, 503, 'no scan has finished yet\n');
        return send(response, 200, this.text, METRICS_CONTENT_TYPE);
      case '/healthz':
        return this.health(response);
      case '/':
        return send(response, 200, 'inotop: inotify watches and leaks of this node. /metrics (Prometheus), /healthz\n');
      default:
        return send(response, 404, 'not found: try /metrics or /healthz\n');
    }
  }

  /** Healthy while scans keep ending on schedule: a failing scan is reported in the metrics, not here. */
  private health(response: ServerResponse): void {
    const since = this.lastScanEndedAt ?? this.startedAt;
    const ageMs = Date.now() - since;
    if (ageMs > STALE_INTERVALS * this.options.intervalMs + STALE_SLACK_MS) {
      return send(response, 503, `stuck: no scan has ended for ${Math.round(ageMs / 1000)} s\n`);
    }
    if (this.lastScanEndedAt === null) return send(response, 200, 'starting: first scan under way\n');
    return send(response, 200, this.lastFailure ? `ok, but the last scan failed: ${this.lastFailure}\n` : 'ok\n');
  }

  private ended(): void {
    this.lastScanEndedAt = Date.now();
    const render = ++this.renders;
    void renderMetrics(this.state).then((text) => {
      if (render !== this.renders) return;
      this.text = text;
      if (this.options.textfile !== null) this.writeTextfile(this.options.textfile, text);
    });
  }

  private writeTextfile(dir: string, text: string): void {
    const path = join(dir, TEXTFILE_NAME);
    const temp = join(dir, `.${TEXTFILE_NAME}.${process.pid}.tmp`);
    // One write at a time: two would share the temp file.
    this.writing = this.writing
      .then(async () => {
        await writeFile(temp, text);
        await rename(temp, path);
      })
      .catch((error: Error) => {
        process.stderr.write(`inotop: cannot write ${path}: ${error.message}\n`);
      });
  }
}

function send(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
