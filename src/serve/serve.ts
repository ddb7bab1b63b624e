// `inotop serve`: the collector scans in its worker thread every --interval (the next scan is
// scheduled when the previous one is in), and each snapshot is rendered once into metrics text.
// /metrics sends that text plus this process's own metrics, so a scrape never scans, and the server
// answers while a scan runs. With --textfile the same text goes to a file for node_exporter's
// textfile collector instead; with --replay the snapshots come from a recording.
import { rename, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
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
import { clientRefusal, readWebConfig, WebConfigError, type WebConfig } from './web-config.js';
import { BasicAuth } from './basic-auth.js';
import { errnoText, errorText } from '../common/error-text.js';
import { EXIT_SIGNALS, signalExitCode, type ExitSignal } from '../signals.js';

/** node_exporter reads only files ending in .prom: the temp file must not, or it could read half of it. */
export const TEXTFILE_NAME = 'inotop.prom';

/** Health fails when no scan has ended (well or not) for this many intervals, plus slack for a slow pod list. */
const STALE_INTERVALS = 3;
const STALE_SLACK_MS = 30_000;

export async function runServe(options: ServeOptions): Promise<number> {
  // Kubernetes stops a pod with SIGTERM, and as pid 1 we get no default handler for it: from the
  // first moment on, whatever is under way, a signal ends serve with 128 + its number.
  let onSignal = (_signal: ExitSignal): void => undefined;
  const signalled = new Promise<ExitSignal>((resolve) => (onSignal = resolve));
  const handlers = EXIT_SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  /** What serve() has made so far: what the end undoes. */
  const made: { exporter: Exporter | null; server: Server | null; source: SnapshotSource | null } = { exporter: null, server: null, source: null };
  /** Set once serve is ending: what serve() was awaiting then makes nothing more. */
  let ending = false;
  try {
    const code = await Promise.race([serve(), signalled.then(signalExitCode)]);
    return code;
  } finally {
    ending = true;
    for (const [signal, handler] of handlers) process.off(signal, handler);
    const { exporter, server, source } = made;
    await source?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => (server?.listening ? server.close(resolve) : resolve(undefined)));
    await exporter?.written();
    exporter?.close();
  }

  async function serve(): Promise<number> {
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
    const exporter = (made.exporter = new Exporter(options, node, webConfig, recording !== null));
    const every = recording ? `replaying ${options.replay}` : `scanning every ${options.intervalMs / 1000} s`;
    if (options.textfile === null) {
      const server = (made.server = makeServer(exporter, webConfig));
      const where = `${options.listen.host ?? ''}:${options.listen.port}`;
      try {
        await listen(server, options);
      } catch (error) {
        process.stderr.write(`inotop serve: cannot listen on ${where}: ${errnoText(error)}\n`);
        return 1;
      }
      if (ending) {
        server.close();
        return 0;
      }
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      const scheme = webConfig.tls ? 'https' : 'http';
      process.stderr.write(`inotop: serving ${scheme}://${host}:${port}/metrics for node ${node}, ${every}\n`);
    } else {
      process.stderr.write(`inotop: writing ${join(options.textfile, TEXTFILE_NAME)} for node ${node}, ${every}\n`);
    }

    // The metrics sum leaked targets of every process.
    const source = (made.source = recording
      ? new ReplaySource(recording)
      : new BackgroundCollector(collectorOptions(options.shared, { intervalSeconds: options.intervalMs / 1000, record: null }), options.intervalMs, 'leaked'));
    return new Promise<number>((resolve) => {
      // What a snapshot cannot be turned into metrics for ends serve, said: never a serve that answers "starting" for ever.
      const broken = (error: unknown) => {
        process.stderr.write(`inotop serve: ${errorText(error)}\n`);
        resolve(1);
      };
      try {
        source.start({
          snapshot: (snapshot) => {
            try {
              exporter.scanned(snapshot);
            } catch (error) {
              broken(error);
            }
          },
          failed: (message) => exporter.failed(message),
          fatal: (error) => {
            process.stderr.write(`inotop: the collector stopped: ${error.message}\n`);
            resolve(1);
          },
          output: (text) => process.stderr.write(text),
        });
      } catch (error) {
        broken(error);
      }
    });
  }
}

/**
 * The HTTP(S) server, with one guard at the request boundary: whatever a request holds, it gets a
 * status, never an exception. Over TLS, a client whose certificate client_auth_type refuses is
 * cut off as its handshake ends, and asked again at each request.
 */
function makeServer(exporter: Exporter, webConfig: WebConfig): Server {
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    exporter.handle(request, response).catch((error: unknown) => exporter.broken(response, error));
  };
  const server = webConfig.tls ? createHttpsServer(webConfig.tls, handler) : createHttpServer(handler);
  if (webConfig.tls) {
    const { clientAuth } = webConfig.tls;
    server.on('secureConnection', (socket: TLSSocket) => {
      if (clientRefusal(socket, clientAuth) !== null) socket.destroy();
    });
  }
  // CONNECT never reaches the request handler: without a listener Node drops the connection unanswered.
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 17\r\nConnection: close\r\n\r\nGET or HEAD only\n',
    );
  });
  return server;
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
    this.state.lastFailure = null;
    this.ended();
  }

  failed(message: string): void {
    this.state.scanFailures++;
    // The figures are unknown now: the last scan's would be stale, and are not exported.
    this.state.snapshot = null;
    this.state.lastFailure = message;
    process.stderr.write(`inotop: scan failed: ${message}\n`);
    this.ended();
  }

  /** Resolves when the textfile writes started so far are done. */
  written(): Promise<void> {
    return this.writing;
  }

  /** Stops the password thread. */
  close(): void {
    this.auth.close();
  }

  /** What the request boundary does with an error that got through: a 500 while it can, else the connection cut. Said once. */
  broken(response: ServerResponse, error: unknown): void {
    if (!this.saidBroken) process.stderr.write(`inotop serve: answering a request failed: ${errorText(error)}\n`);
    this.saidBroken = true;
    try {
      if (!response.headersSent) return send(response, 500, 'internal error\n');
    } catch {
      // the answer cannot be made either: the connection is cut below
    }
    response.destroy();
  }

  private saidBroken = false;

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const tls = this.webConfig.tls;
    if (tls && clientRefusal(request.socket as TLSSocket, tls.clientAuth) !== null) return void request.socket.destroy();
    for (const [name, value] of Object.entries(this.webConfig.headers)) response.setHeader(name, value);
    if (!(await this.auth.allows(request.headers.authorization))) {
      response.setHeader('WWW-Authenticate', 'Basic realm="inotop"');
      return send(response, 401, 'Unauthorized\n');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      // RFC 9110 15.5.6: a 405 says which methods the resource takes.
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, 'GET or HEAD only\n');
    }
    const path = requestPath(request.url ?? '');
    if (path === null) return send(response, 400, 'bad request target: expected a path such as /metrics\n');
    switch (path) {
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
    return send(response, 200, this.state.lastFailure ? `ok, but the last scan failed: ${this.state.lastFailure}\n` : 'ok\n');
  }

  private ended(): void {
    this.lastScanEndedAt = Date.now();
    const render = ++this.renders;
    renderMetrics(this.state).then(
      (text) => {
        if (render !== this.renders) return;
        this.text = text;
        if (this.options.textfile !== null) this.writeTextfile(this.options.textfile, text);
      },
      (error: unknown) => process.stderr.write(`inotop serve: cannot render the metrics: ${errorText(error)}\n`),
    );
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

/**
 * The path of a request target: "/metrics?x" (origin form) or "http://host/metrics" (absolute
 * form), matched as it is; null for any other form ("*", "host:port", "//x"), which names no path.
 */
export function requestPath(target: string): string | null {
  const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
  const rest = absolute ? target.slice(absolute[0].length) || '/' : target;
  if (!rest.startsWith('/') || rest.startsWith('//')) return null;
  return rest.split(/[?#]/, 1)[0]!;
}

function send(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
