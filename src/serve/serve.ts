// `inotop serve`: the collector scans in its worker thread every --interval (the next scan is
// scheduled when the previous one is in), and each snapshot is rendered once into metrics text.
// /metrics sends that text plus this process's own metrics, so a scrape never scans, and the server
// answers while a scan runs. With --textfile the same text goes to a file for node_exporter's
// textfile collector instead; with --replay the snapshots come from a recording.
import { rename, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { BackgroundCollector } from '../collect/background.js';
import type { Snapshot } from '../model/types.js';
import { collectorOptions } from '../options/node.js';
import { RecordingError } from '../record/format.js';
import { readRecording, type Recording } from '../record/reader.js';
import { ReplaySource } from '../collect/replay-source.js';
import type { SnapshotSource } from '../collect/source.js';
import type { ServeOptions } from './args.js';
import { exporterMetricsRegistry, FailureTotals, METRICS_CONTENT_TYPE, metricsState, metricsView, renderMetrics, type MetricsState } from './metrics.js';
import { BasicAuth, readWebConfig, WebConfigError, type WebConfig } from './web-config.js';

/** node_exporter reads only files ending in .prom: the temp file must not, or it could read half of it. */
export const TEXTFILE_NAME = 'inotop.prom';

/** Health fails when no scan has ended (well or not) for this many intervals, plus slack for a slow pod list. */
const STALE_INTERVALS = 3;
const STALE_SLACK_MS = 30_000;

export async function runServe(options: ServeOptions): Promise<number> {
  let webConfig: WebConfig = { tls: null, users: new Map(), headers: {} };
  let recording: Recording | null = null;
  try {
    if (options.webConfigFile !== null) webConfig = readWebConfig(options.webConfigFile);
    if (options.replay !== null) recording = readRecording(options.replay);
  } catch (error) {
    if (!(error instanceof WebConfigError || error instanceof RecordingError)) throw error;
    process.stderr.write(`inotop serve: ${error.message}\n`);
    return 1;
  }
  for (const warning of recording?.warnings ?? []) process.stderr.write(`inotop serve: warning: ${warning}\n`);
  const node = options.shared.pods.nodeName ?? recording?.header.hostname ?? hostname();
  const exporter = new Exporter(options, node, webConfig, recording !== null);
  const every = recording ? `replaying ${options.replay}` : `scanning every ${options.intervalMs / 1000} s`;
  let server: Server | null = null;
  if (options.textfile === null) {
    const handler = (request: IncomingMessage, response: ServerResponse) => void exporter.handle(request, response);
    server = webConfig.tls ? createHttpsServer(webConfig.tls, handler) : createHttpServer(handler);
    const where = `${options.listen.host ?? ''}:${options.listen.port}`;
    try {
      await listen(server, options);
    } catch (error) {
      process.stderr.write(`inotop serve: cannot listen on ${where}: ${(error as Error).message}\n`);
      return 1;
    }
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    const scheme = webConfig.tls ? 'https' : 'http';
    process.stderr.write(`inotop: serving ${scheme}://${host}:${port}/metrics for node ${node}, ${every}\n`);
  } else {
    process.stderr.write(`inotop: writing ${join(options.textfile, TEXTFILE_NAME)} for node ${node}, ${every}\n`);
  }

  // The metrics sum leaked targets of every process.
  const source: SnapshotSource = recording
    ? new ReplaySource(recording)
    : new BackgroundCollector(collectorOptions(options.shared, { intervalSeconds: options.intervalMs / 1000, record: null }), options.intervalMs, 'leaked');
  let stop = (): void => undefined;
  const ended = new Promise<number>((resolve) => {
    stop = () => resolve(0);
    // Kubernetes stops a pod with SIGTERM, and as pid 1 we get no default handler for it.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    source.start({
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
  await source.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await exporter.written();
  return code;
}

function listen(server: Server, options: ServeOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve();
    };
    // No host (":PORT"): every address, IPv6 and IPv4.
    if (options.listen.host === null) server.listen(options.listen.port, ready);
    else server.listen(options.listen.port, options.listen.host, ready);
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
  private readonly auth: BasicAuth;
  /** Read at each scrape; none in a textfile, where they would describe a short-lived writer. */
  private readonly processMetrics: Registry | null;

  constructor(
    private readonly options: ServeOptions,
    node: string,
    private readonly webConfig: WebConfig,
    /** A replay holds its last snapshot: no new scan is due, so it never goes stale. */
    private readonly replaying: boolean,
  ) {
    this.state = metricsState(options, node, this.failures);
    this.auth = new BasicAuth(webConfig.users);
    this.processMetrics = exporterMetricsRegistry(options, node);
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

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(this.webConfig.headers)) response.setHeader(name, value);
    if (!(await this.auth.allows(request.headers.authorization))) {
      response.setHeader('WWW-Authenticate', 'Basic realm="inotop"');
      return send(response, 401, 'Unauthorized\n');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'GET or HEAD only\n');
    switch (new URL(request.url ?? '/', 'http://inotop').pathname) {
      case '/metrics':
        if (this.text === null) return send(response, 503, 'no scan has finished yet\n');
        return send(response, 200, this.text + (this.processMetrics ? await this.processMetrics.metrics() : ''), METRICS_CONTENT_TYPE);
      case '/-/healthy':
      case '/healthz':
        return this.health(response);
      case '/-/ready':
        // Ready once there is something to scrape.
        return this.text === null ? send(response, 503, 'not ready: the first scan is under way\n') : send(response, 200, 'ready\n');
      case '/':
        return send(response, 200, 'inotop: inotify watches and leaks of this node. /metrics (Prometheus), /-/healthy, /-/ready\n');
      default:
        return send(response, 404, 'not found: try /metrics, /-/healthy or /-/ready\n');
    }
  }

  /** Healthy while scans keep ending on schedule: a failing scan is reported in the metrics, not here. */
  private health(response: ServerResponse): void {
    const since = this.lastScanEndedAt ?? this.startedAt;
    const ageMs = Date.now() - since;
    if (!this.replaying && ageMs > STALE_INTERVALS * this.options.intervalMs + STALE_SLACK_MS) {
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
