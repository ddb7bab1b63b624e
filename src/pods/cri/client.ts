// A CRI v1 client over the runtime's unix socket: no crictl needed. Every call has a deadline
// and fails with a CriError naming the endpoint, so a dead or hung runtime is reported like any
// other failing pod source and never holds up a scan.

import { existsSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { readPackageFile } from '../../package-files.js';

/** Upstream's CRI runtime.v1 API, vendored at a release (vendor/cri-api/README.md names it), shipped in the package. */
const RUNTIME_API_PROTO = 'vendor/cri-api/api.proto';

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

// kubelet and crictl accept 16 MiB answers; grpc-js stops at 4 MiB, which a busy node's
// ListContainers can pass.
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_RECONNECT_BACKOFF_MS = 5_000;

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

export type SandboxState = 'ready' | 'notready';
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface CriSandbox {
  id: string;
  uid: string;
  name: string;
  namespace: string;
  attempt: number;
  state: SandboxState;
  /** Nanoseconds since the epoch, as a decimal string (int64 does not fit a number). */
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CriContainer {
  id: string;
  podSandboxId: string;
  name: string;
  attempt: number;
  state: ContainerState;
  /** Nanoseconds since the epoch, as a decimal string. */
  createdAt: string;
  /** kubelet's io.kubernetes.pod.{uid,name,namespace} and io.kubernetes.container.name. */
  labels: Record<string, string>;
}

// Decoded messages as proto-loader hands them over: camelCase fields, enums as names, int64 as
// strings, every field present (defaults), sub-messages null when absent.
interface RawSandbox {
  id: string;
  metadata: { name: string; uid: string; namespace: string; attempt: number } | null;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface RawContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
  createdAt: string;
  labels: Record<string, string>;
}

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

/** Every RPC of the service; the unary ones take a callback. */
type RuntimeServiceStub = grpc.Client & Record<string, UnaryMethod | undefined>;

let serviceConstructor: grpc.ServiceClientConstructor | null = null;

function runtimeServiceConstructor(): grpc.ServiceClientConstructor {
  if (serviceConstructor === null) {
    // grpc-js logs to stderr by itself, which would tear through a full-screen view; every
    // failure reaches the caller as a CriError instead.
    grpc.setLogVerbosity(grpc.logVerbosity.NONE);
    // Parsed from its text, read through package-files (the single executable has no files):
    // what proto-loader's loadSync does with a path. api.proto imports nothing.
    const root = protobuf.parse(readPackageFile(RUNTIME_API_PROTO).toString('utf8'), { keepCase: false, alternateCommentMode: true }).root;
    const definition = protoLoader.fromJSON(root.toJSON(), { longs: String, enums: String, defaults: true });
    const runtime = grpc.loadPackageDefinition(definition)['runtime'] as grpc.GrpcObject;
    serviceConstructor = (runtime['v1'] as grpc.GrpcObject)['RuntimeService'] as grpc.ServiceClientConstructor;
  }
  return serviceConstructor;
}

export interface CriClientOptions {
  /** Deadline of each call; default 2 s. */
  timeoutMs?: number;
}

export class CriClient {
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly stub: RuntimeServiceStub;
  private readonly calls = new Set<grpc.ClientUnaryCall>();

  /** Connects lazily: constructing never fails on a missing or dead socket, calls do. */
  constructor(endpoint: string, options: CriClientOptions = {}) {
    this.endpoint = normalizeEndpoint(endpoint);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CRI_TIMEOUT_MS;
    const Service = runtimeServiceConstructor();
    this.stub = new Service(this.endpoint, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      // grpc backs off up to 2 minutes between reconnects; a restarted runtime should be seen
      // again within a refresh or two.
      'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
    }) as unknown as RuntimeServiceStub;
  }

  /** Every sandbox the runtime has, ready or not. */
  async listPodSandboxes(): Promise<CriSandbox[]> {
    const raw = await this.call<{ items: RawSandbox[] }>('ListPodSandbox', {});
    return raw.items.map((sandbox) => ({
      id: sandbox.id,
      uid: sandbox.metadata?.uid ?? '',
      name: sandbox.metadata?.name ?? '',
      namespace: sandbox.metadata?.namespace ?? '',
      attempt: sandbox.metadata?.attempt ?? 0,
      state: sandbox.state === 'SANDBOX_READY' ? 'ready' : 'notready',
      createdAt: sandbox.createdAt,
      labels: sandbox.labels,
      annotations: sandbox.annotations,
    }));
  }

  /** Every container the runtime has, exited ones included (like `crictl ps -a`). */
  async listContainers(): Promise<CriContainer[]> {
    const raw = await this.call<{ containers: RawContainer[] }>('ListContainers', {});
    return raw.containers.map((container) => ({
      id: container.id,
      podSandboxId: container.podSandboxId,
      name: container.metadata?.name ?? '',
      attempt: container.metadata?.attempt ?? 0,
      state: CONTAINER_STATES[container.state] ?? 'unknown',
      createdAt: container.createdAt,
      labels: container.labels,
    }));
  }

  /**
   * One unary call of the service, by its name in api.proto, with a deadline; the request and
   * response use proto-loader's camelCase field names. The methods above are built on it.
   */
  protected call<Response>(method: string, request: object, timeoutMs = this.timeoutMs): Promise<Response> {
    const rpc = this.stub[method];
    if (rpc === undefined) throw new Error(`CRI runtime.v1 has no RPC ${method}`);
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + timeoutMs);
      const call: grpc.ClientUnaryCall = rpc.call(
        this.stub,
        request,
        new grpc.Metadata(),
        { deadline },
        (error: grpc.ServiceError | null, response: unknown) => {
          this.calls.delete(call);
          if (error) reject(this.describe(method, error, timeoutMs));
          else resolve(response as Response);
        },
      );
      this.calls.add(call);
    });
  }

  /** Closes the connection and cancels the calls still waiting: nothing of this client outlives it. */
  close(): void {
    for (const call of this.calls) call.cancel();
    this.calls.clear();
    this.stub.close();
  }

  private describe(method: string, error: grpc.ServiceError, timeoutMs: number): CriError {
    const where = `CRI ${this.endpoint}`;
    if (error.code === grpc.status.DEADLINE_EXCEEDED) {
      return new CriError(this.endpoint, 'deadline', `${where}: ${method}: deadline exceeded after ${formatSeconds(timeoutMs)}`);
    }
    if (error.code === grpc.status.UNAVAILABLE) {
      // grpc-js buries the socket error in its details: "... Last error: connect ENOENT /path ..."
      const errno = /connect (E[A-Z]+)/.exec(error.details)?.[1];
      if (errno !== undefined) return new CriError(this.endpoint, errno, `${where}: connect ${errno}`);
      return new CriError(this.endpoint, 'UNAVAILABLE', `${where}: unavailable (${error.details})`);
    }
    if (error.code === grpc.status.UNIMPLEMENTED) {
      return new CriError(this.endpoint, 'UNIMPLEMENTED', `${where}: ${method}: the runtime does not serve CRI runtime.v1 (${error.details})`);
    }
    const code = grpc.status[error.code] ?? String(error.code);
    return new CriError(this.endpoint, code, `${where}: ${method}: ${code}: ${error.details}`);
  }
}

const CONTAINER_STATES: Record<RawContainer['state'], ContainerState> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
