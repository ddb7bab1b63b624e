// A CRI v1 client over the runtime's unix socket: no crictl needed. Every call has a deadline
// and fails with a CriError naming the endpoint, so a dead or hung runtime is reported like any
// other failing pod source and never holds up a scan. The two calls the pod list needs go over
// a small gRPC client of our own (grpc.ts) and decoders of their answers (messages.ts): loading
// @grpc/grpc-js and parsing api.proto took several times a one-shot run's own start-up.

import { existsSync, readFileSync } from 'node:fs';
import { VERSION } from '../../version.js';
import { GrpcChannel, GrpcError, GrpcStatus, statusName } from './grpc.js';
import type { ContainerEntry, SandboxEntry } from '../podlist.js';
import { decodeListContainersResponse, decodeListPodSandboxResponse, MessageError } from './messages.js';
import { syscallTransport } from './transports.js';

/** Tried in order when nothing names the endpoint: containerd, k3s's containerd, CRI-O, cri-dockerd. */
export const DEFAULT_RUNTIME_SOCKETS: readonly string[] = [
  '/run/containerd/containerd.sock',
  '/run/k3s/containerd/containerd.sock',
  '/var/run/crio/crio.sock',
  '/var/run/cri-dockerd.sock',
];

export const DEFAULT_CRICTL_YAML = '/etc/crictl.yaml';
export const DEFAULT_CRI_TIMEOUT_MS = 2_000;
export const RUNTIME_ENDPOINT_ENV = 'CONTAINER_RUNTIME_ENDPOINT';

// kubelet and crictl accept 16 MiB answers (grpc's default of 4 MiB a busy node's ListContainers can pass).
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export type EndpointOrigin = 'flag' | 'env' | 'crictl.yaml' | 'socket';

export interface RuntimeEndpoint {
  /** Always unix:///absolute/path. */
  endpoint: string;
  from: EndpointOrigin;
}

export interface EndpointSources {
  /** --runtime-endpoint. */
  flag?: string | null;
  /** Environment to read CONTAINER_RUNTIME_ENDPOINT from; default process.env. */
  env?: NodeJS.ProcessEnv;
  crictlYamlPath?: string;
  /** Sockets to look for, in order; default DEFAULT_RUNTIME_SOCKETS. */
  sockets?: readonly string[];
}

/**
 * Where the runtime listens: --runtime-endpoint, then $CONTAINER_RUNTIME_ENDPOINT, then
 * runtime-endpoint in crictl.yaml, then the first well-known socket that exists. A named
 * endpoint wins even when its socket is missing: connecting then says why. Null when nothing
 * names one and no socket exists; a CriError when the named one is not a unix socket.
 */
export function resolveRuntimeEndpoint(sources: EndpointSources = {}): RuntimeEndpoint | null {
  const flag = nonEmpty(sources.flag);
  if (flag !== null) return { endpoint: normalizeEndpoint(flag), from: 'flag' };
  const env = nonEmpty((sources.env ?? process.env)[RUNTIME_ENDPOINT_ENV]);
  if (env !== null) return { endpoint: normalizeEndpoint(env), from: 'env' };
  const configured = crictlYamlEndpoint(sources.crictlYamlPath ?? DEFAULT_CRICTL_YAML);
  if (configured !== null) return { endpoint: normalizeEndpoint(configured), from: 'crictl.yaml' };
  const socket = (sources.sockets ?? DEFAULT_RUNTIME_SOCKETS).find((path) => existsSync(path));
  return socket === undefined ? null : { endpoint: normalizeEndpoint(socket), from: 'socket' };
}

/** `runtime-endpoint: unix:///...` from crictl's YAML config; a flat key, so no YAML parser. */
function crictlYamlEndpoint(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const match = /^runtime-endpoint:[ \t]*(?:"([^"]*)"|'([^']*)'|([^\s#]*))/m.exec(text);
  return nonEmpty(match?.[1] ?? match?.[2] ?? match?.[3]);
}

function nonEmpty(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/** unix:///path for `unix:///path`, `unix:/path` and a bare `/path`; anything else is refused. */
export function normalizeEndpoint(endpoint: string): string {
  const path = endpoint.startsWith('/') ? endpoint : /^unix:(\/.*)$/.exec(endpoint)?.[1];
  if (path === undefined) {
    throw new CriError(endpoint, 'endpoint', `CRI ${endpoint}: only unix socket endpoints are supported (unix:///path)`);
  }
  return `unix://${path.replace(/^\/+/, '/')}`;
}

/** A CRI call that failed. `failure` is short and stable (ENOENT, deadline, UNIMPLEMENTED...). */
export class CriError extends Error {
  constructor(
    readonly endpoint: string,
    readonly failure: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CriClientOptions {
  /** Deadline of each call; default 2 s. */
  timeoutMs?: number;
  /**
   * For a run that asks once (a one-shot): the socket is written through system calls, so the
   * request is out before the caller goes on, and nothing of node:net loads (transports.ts).
   * Where koffi cannot make them, node:net as for a long run.
   */
  oneShot?: boolean;
}

export class CriClient {
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly channel: GrpcChannel;

  /** Connects lazily: constructing never fails on a missing or dead socket, calls do. */
  constructor(endpoint: string, options: CriClientOptions = {}) {
    this.endpoint = normalizeEndpoint(endpoint);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CRI_TIMEOUT_MS;
    const transport = options.oneShot === true ? syscallTransport() : null;
    this.channel = new GrpcChannel(this.endpoint.slice('unix://'.length), {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      userAgent: `inotop/${VERSION}`,
      ...(transport ? { transport } : {}),
    });
  }

  /** Every sandbox the runtime has, ready or not: the fields a pod list is made of. */
  async listPodSandboxes(): Promise<SandboxEntry[]> {
    return this.call('ListPodSandbox', decodeListPodSandboxResponse);
  }

  /** Every container the runtime has, exited ones included (like `crictl ps -a`): the fields a pod list is made of. */
  async listContainers(): Promise<ContainerEntry[]> {
    return this.call('ListContainers', decodeListContainersResponse);
  }

  /** Settles once the calls made so far are on their way to the runtime (or the connection failed): a scan may run beside them. */
  sent(): Promise<void> {
    return this.channel.sent();
  }

  /**
   * Takes in the answers the runtime has sent by now (a one-shot's, once its scan is done): their
   * calls settle in this turn of the event loop, not after the next.
   */
  takeArrived(): void {
    this.channel.takeArrived();
  }

  /** Cancels the calls still waiting and closes the connection: nothing of this client outlives it. */
  close(): void {
    this.channel.close();
  }

  /** One unary call of runtime.v1.RuntimeService with an empty request (no filter), its answer decoded. */
  private async call<T>(method: string, decode: (bytes: Buffer) => T): Promise<T> {
    let answer: Buffer;
    try {
      answer = await this.channel.unary(`/runtime.v1.RuntimeService/${method}`, EMPTY_REQUEST, this.timeoutMs);
    } catch (error) {
      if (error instanceof GrpcError) throw this.describe(method, error);
      throw error;
    }
    try {
      return decode(answer);
    } catch (error) {
      if (!(error instanceof MessageError)) throw error;
      throw new CriError(this.endpoint, 'format', `CRI ${this.endpoint}: ${method}: an answer that is not runtime.v1's (${error.message})`);
    }
  }

  private describe(method: string, error: GrpcError): CriError {
    const where = `CRI ${this.endpoint}`;
    if (error.code === GrpcStatus.DEADLINE_EXCEEDED) {
      return new CriError(this.endpoint, 'deadline', `${where}: ${method}: deadline exceeded after ${formatSeconds(this.timeoutMs)}`);
    }
    if (error.code === GrpcStatus.UNAVAILABLE) {
      if (error.errno !== null) return new CriError(this.endpoint, error.errno, `${where}: ${error.details}`);
      return new CriError(this.endpoint, 'UNAVAILABLE', `${where}: unavailable (${error.details})`);
    }
    if (error.code === GrpcStatus.UNIMPLEMENTED) {
      return new CriError(this.endpoint, 'UNIMPLEMENTED', `${where}: ${method}: the runtime does not serve CRI runtime.v1 (${error.details})`);
    }
    const code = statusName(error.code);
    return new CriError(this.endpoint, code, `${where}: ${method}: ${code}: ${error.details}`);
  }
}

/** ListPodSandboxRequest and ListContainersRequest without a filter: no field set. */
const EMPTY_REQUEST = new Uint8Array(0);

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
