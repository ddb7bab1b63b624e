// Where the live pod list comes from, refreshed in the background so a scan never waits for it.
// A source is a function that fetches a PodList or throws a SourceError; PodSource picks one
// (or, in auto mode, the first that answers), keeps the last good list and says why it failed.
// The first choice is the runtime itself over CRI: no CLI needed on the node.

// fs.promises, not node:fs/promises: the same functions, without a module of its own to load.
import { promises } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { settledWithin, uptimeMs } from '../deadline.js';
import type { PodsStatus } from '../model/types.js';
import type { CriClient } from './cri/client.js';
import { DEFAULT_KUBELET_ROOT } from './layouts.js';
import { FormatError, parseCrictl, parseKubectl, podListFromCri, podListFromUids, type PodList } from './podlist.js';

export type FetchingKind = 'cri' | 'crictl' | 'kubectl' | 'kubelet';
export type PodSourceKind = 'auto' | 'none' | FetchingKind;

/** Every value `--pods` takes, in the order --help lists them. */
export const POD_SOURCE_KINDS: readonly PodSourceKind[] = ['auto', 'cri', 'crictl', 'kubectl', 'kubelet', 'none'];

/**
 * Where the pod list comes from, and how kubelet lays pods out on this node: the node flags
 * (options/node.ts) build it once; plain data, it crosses into the scan worker thread as it is.
 */
export interface PodSourceOptions {
  kind: PodSourceKind;
  /** CRI endpoint (unix:///path); null: $CONTAINER_RUNTIME_ENDPOINT, /etc/crictl.yaml, the usual sockets. */
  runtimeEndpoint: string | null;
  /** crictl binary; null: crictl from PATH. */
  crictlPath: string | null;
  /** kubectl binary; null: kubectl from PATH. */
  kubectlPath: string | null;
  /** kubelet's root directory: the pods source reads its pods/, and paths under it name pods. */
  kubeletRoot: string;
  /** This node's name: kubectl lists its pods; null: this host's name. */
  nodeName: string | null;
  refreshMs: number;
  /** Per command (a command still running then is killed with its process group); CRI calls get at most 2 s. */
  timeoutMs: number;
}

export const DEFAULT_REFRESH_MS = 5_000;
/** What status() says while the first list is being fetched: the source (auto mode) or the error (a named source). */
export const POD_LIST_PENDING = 'pending';
export const DEFAULT_TIMEOUT_MS = 5_000;

/** The options, the defaults filled in for what `given` leaves out. */
export function podSourceOptions(given: Partial<PodSourceOptions> = {}): PodSourceOptions {
  return {
    kind: 'auto',
    runtimeEndpoint: null,
    crictlPath: null,
    kubectlPath: null,
    kubeletRoot: DEFAULT_KUBELET_ROOT,
    nodeName: null,
    refreshMs: DEFAULT_REFRESH_MS,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    ...given,
  };
}

/** Why a source gave no list. `failure` names the kind of failure: a note is said once per kind. */
export class SourceError extends Error {
  constructor(
    readonly source: FetchingKind,
    readonly failure: string,
    message: string,
  ) {
    super(message);
  }
}

interface FetchContext {
  options: PodSourceOptions;
  run: (source: FetchingKind, file: string, args: string[]) => Promise<string>;
  criClient: () => Promise<CriClient>;
}

type Fetch = (context: FetchContext) => Promise<PodList>;

const FETCHERS: Record<FetchingKind, Fetch> = {
  async cri({ criClient }) {
    const { CriError } = await loadCri();
    try {
      const client = await criClient();
      const [sandboxes, containers] = await Promise.all([client.listPodSandboxes(), client.listContainers()]);
      return podListFromCri(sandboxes, containers);
    } catch (error) {
      if (error instanceof CriError) throw new SourceError('cri', error.failure, error.message);
      throw error;
    }
  },
  async crictl({ options, run }) {
    // Settled, not all: a refresh ends only when none of its commands is left running.
    const [pods, containers] = await Promise.allSettled([
      run('crictl', options.crictlPath ?? 'crictl', ['pods', '-o', 'json']),
      run('crictl', options.crictlPath ?? 'crictl', ['ps', '-a', '-o', 'json']),
    ]);
    if (pods.status === 'rejected') throw pods.reason;
    if (containers.status === 'rejected') throw containers.reason;
    return parsed('crictl', () => parseCrictl(pods.value, containers.value));
  },
  async kubectl({ options, run }) {
    const args = ['get', 'pods', '-A', '--field-selector', `spec.nodeName=${options.nodeName ?? hostname()}`, '-o', 'json'];
    const json = await run('kubectl', options.kubectlPath ?? 'kubectl', args);
    return parsed('kubectl', () => parseKubectl(json));
  },
  async kubelet({ options }) {
    const dir = join(options.kubeletRoot, 'pods');
    try {
      return podListFromUids(await promises.readdir(dir));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new SourceError('kubelet', code, `kubelet: cannot read ${dir} (${code})`);
    }
  },
};

/** Auto mode tries these in order and stays with the first that answers. */
const AUTO_ORDER: readonly FetchingKind[] = ['cri', 'crictl', 'kubectl', 'kubelet'];

// The gRPC stack takes a tenth of a second to load: only sessions that use CRI pay for it.
let criModule: Promise<typeof import('./cri/client.js')> | null = null;
function loadCri(): Promise<typeof import('./cri/client.js')> {
  criModule ??= import('./cri/client.js');
  return criModule;
}

const SOURCE_CAVEATS: Partial<Record<FetchingKind, (options: PodSourceOptions) => string>> = {
  kubelet: (options) =>
    `pods: from the pod dirs under ${join(options.kubeletRoot, 'pods')}, the weakest source: no names, ` +
    'and a deleted pod whose dir is left behind counts as live',
};

export class PodSource {
  private readonly options: PodSourceOptions;
  /** The source that answered (auto mode: the first one that did), null before. */
  private active: FetchingKind | null;
  private last: PodList | null = null;
  /** uptimeMs() when the fetch of `last` began. */
  private lastTakenAt: number | null = null;
  private error: string | null = null;
  private pendingNotes: string[] = [];
  private readonly saidFailures = new Set<string>();
  private readonly saidCaveats = new Set<FetchingKind>();
  private inFlight: Promise<void> | null = null;
  private readonly runningGroups = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  /** Set by stop(): no source is tried and no command started after it. */
  private stopped = false;
  /** Made on the first CRI fetch that finds an endpoint, kept (with its connection) until stop(). */
  private cri: CriClient | null = null;

  constructor(options: PodSourceOptions) {
    this.options = options;
    this.active = options.kind === 'auto' || options.kind === 'none' ? null : options.kind;
  }

  /**
   * Refreshes now and then every refreshMs in the background. Resolves after the first refresh,
   * or after one source's timeout when it takes longer (auto mode trying one hung source after
   * another): the first scan then shows its counts with pods "pending", and a later refresh the list.
   */
  async start(): Promise<void> {
    if (this.timer === null && this.options.kind !== 'none') {
      this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
      this.timer.unref();
    }
    await settledWithin(this.refresh(), this.options.timeoutMs);
  }

  /**
   * Stops the whole chain: no more refreshes, no further source tried (auto mode would go on to
   * the next), every command still running killed with its process group, the CRI connection
   * closed. A refresh still in flight settles soon after, with nothing left running.
   */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const group of this.runningGroups) killGroup(group);
    this.runningGroups.clear();
    this.cri?.close();
    this.cri = null;
  }

  /** Fetches the list once. Never rejects; a refresh already running is joined, not repeated. */
  refresh(): Promise<void> {
    if (this.options.kind === 'none' || this.stopped) return Promise.resolve();
    this.inFlight ??= this.fetchOnce().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** The last good list; null while no source has answered. */
  list(): PodList | null {
    return this.last;
  }

  /** uptimeMs() when the fetch of the last good list began: pods made later may be missing. */
  listTakenAt(): number | null {
    return this.lastTakenAt;
  }

  /**
   * While the first list is still being fetched (a source that hangs takes up to its timeout),
   * the status says "pending": no list yet, and no failure either.
   */
  status(): PodsStatus {
    if (this.last === null && this.error === null && this.inFlight !== null) {
      return { source: this.active ?? POD_LIST_PENDING, live: null, stale: false, error: this.active !== null ? POD_LIST_PENDING : null };
    }
    return {
      source: this.active ?? 'none',
      live: this.last?.count ?? null,
      stale: this.last !== null && this.error !== null,
      error: this.error,
    };
  }

  /** Notes not handed out yet: each kind of failure once, and the caveat of a weak source. */
  takeNotes(): string[] {
    const notes = this.pendingNotes;
    this.pendingNotes = [];
    return notes;
  }

  private async fetchOnce(): Promise<void> {
    const candidates = this.active !== null ? [this.active] : AUTO_ORDER;
    const startedAt = uptimeMs();
    const failures: SourceError[] = [];
    for (const kind of candidates) {
      if (this.stopped) return;
      try {
        const list = await FETCHERS[kind]({ options: this.options, run: (...args) => this.run(...args), criClient: () => this.criClient() });
        this.succeeded(kind, list, startedAt);
        return;
      } catch (error) {
        if (this.stopped) return;
        failures.push(error instanceof SourceError ? error : new SourceError(kind, 'error', `${kind}: ${String(error)}`));
      }
    }
    this.failed(failures);
  }

  private succeeded(kind: FetchingKind, list: PodList, startedAt: number): void {
    this.active = kind;
    this.last = list;
    this.lastTakenAt = startedAt;
    this.error = null;
    // A failure that comes back after a recovery is news again.
    this.saidFailures.clear();
    const caveat = SOURCE_CAVEATS[kind];
    if (caveat && !this.saidCaveats.has(kind)) {
      this.saidCaveats.add(kind);
      this.pendingNotes.push(caveat(this.options));
    }
  }

  private failed(failures: SourceError[]): void {
    const why = failures.map((f) => f.message).join('; ');
    this.error = this.active === null && this.options.kind === 'auto' ? `no pod source answered: ${why}` : why;
    const key = failures.map((f) => `${f.source}:${f.failure}`).join(' ');
    if (this.saidFailures.has(key)) return;
    this.saidFailures.add(key);
    this.pendingNotes.push(this.last !== null ? `pods: ${this.error}; keeping the last list (stale)` : `pods: ${this.error}`);
  }

  /**
   * The endpoint is looked for again on every fetch until found: a runtime that is still starting
   * has no socket yet. Throws a CriError for an endpoint that is not a unix socket.
   */
  private async criClient(): Promise<CriClient> {
    if (this.cri !== null) return this.cri;
    const { CriClient, resolveRuntimeEndpoint, DEFAULT_CRI_TIMEOUT_MS, DEFAULT_RUNTIME_SOCKETS, RUNTIME_ENDPOINT_ENV, DEFAULT_CRICTL_YAML } = await loadCri();
    // stop() came while the gRPC stack loaded: no connection made after it.
    if (this.stopped) throw new SourceError('cri', 'stopped', 'cri: stopped');
    const found = resolveRuntimeEndpoint({ flag: this.options.runtimeEndpoint });
    if (found === null) {
      const looked = `no --runtime-endpoint, $${RUNTIME_ENDPOINT_ENV} or ${DEFAULT_CRICTL_YAML}; none of ${DEFAULT_RUNTIME_SOCKETS.join(', ')}`;
      throw new SourceError('cri', 'no-endpoint', `cri: no runtime socket found (${looked})`);
    }
    // A runtime answers a list in milliseconds: one that takes seconds is as good as dead.
    this.cri = new CriClient(found.endpoint, { timeoutMs: Math.min(DEFAULT_CRI_TIMEOUT_MS, this.options.timeoutMs) });
    return this.cri;
  }

  // Runs in its own process group: a wrapper script's children would otherwise keep stdout open
  // past the timeout, and killing only the wrapper would leave them running.
  private async run(source: FetchingKind, file: string, args: string[]): Promise<string> {
    if (this.stopped) throw new SourceError(source, 'stopped', `${source}: stopped`);
    // Loaded here: a run without CLI pod sources starts without it.
    const { execa } = await import('execa');
    // stop() may have come while it loaded: nothing starts after it.
    if (this.stopped) throw new SourceError(source, 'stopped', `${source}: stopped`);
    const subprocess = execa(file, args, {
      stdin: 'ignore',
      timeout: this.options.timeoutMs,
      killSignal: 'SIGKILL',
      reject: false,
      detached: true,
    });
    const group = subprocess.pid;
    let deadline: NodeJS.Timeout | undefined;
    if (group !== undefined) {
      this.runningGroups.add(group);
      deadline = setTimeout(() => killGroup(group), this.options.timeoutMs);
    }
    const result = await subprocess;
    clearTimeout(deadline);
    if (group !== undefined) this.runningGroups.delete(group);
    if (this.stopped) throw new SourceError(source, 'stopped', `${source}: stopped`);
    const command = `${source} ${args[0]}`;
    if (result.code === 'ENOENT') throw new SourceError(source, 'missing', `${source}: ${file} not found`);
    if (result.timedOut) throw new SourceError(source, 'timeout', `${command}: no answer within ${this.options.timeoutMs} ms`);
    if (result.failed) {
      const exit = result.exitCode !== undefined ? `exited ${result.exitCode}` : result.signal ? `killed by ${result.signal}` : (result.code ?? 'failed');
      // Shown as it is (the views make controls visible), but kept to one line.
      const detail = lastLine(String(result.stderr ?? ''));
      throw new SourceError(source, exit, `${command} ${exit}${detail ? `: ${detail}` : ''}`);
    }
    return String(result.stdout);
  }
}

function parsed(source: FetchingKind, parse: () => PodList): PodList {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FormatError) throw new SourceError(source, 'format', error.message);
    throw error;
  }
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // the group has already exited
  }
}

/** The last line a failing command printed, which is where CLIs put the reason. */
function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines.at(-1) ?? '';
  // gRPC errors nest: the cause comes last, so a long line keeps its start and its end.
  return line.length > 300 ? `${line.slice(0, 100)}…${line.slice(-200)}` : line;
}
