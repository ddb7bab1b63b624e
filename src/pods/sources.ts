// Where the live pod list comes from, refreshed in the background so a scan never waits for it.
// A source is a function that fetches a PodList or throws a SourceError; PodSource picks one
// (or, in auto mode, the first in order that answers, every source tried side by side), keeps
// the last good list and says why it failed. The first choice is the runtime itself over CRI:
// no CLI needed on the node.

import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { settledWithin, timeoutFromNextTurn, uptimeMs } from '../deadline.js';
import type { PodsStatus } from '../model/types.js';
import {
  CriClient,
  CriError,
  DEFAULT_CRI_TIMEOUT_MS,
  DEFAULT_CRICTL_YAML,
  DEFAULT_RUNTIME_SOCKETS,
  resolveRuntimeEndpoint,
  RUNTIME_ENDPOINT_ENV,
} from './cri/client.js';
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

/** One refresh's try of its sources: whether it still starts anything, and the commands it started. */
class Round {
  /** A source earlier in the order answered, or the source was stopped: nothing more is started. */
  done = false;
  /** Process groups of the round's commands still running: killed when the round is done. */
  readonly groups = new Set<number>();
  /** Every source tried told what it had at once (PodSource.toldNow): nothing was asked, nothing is waited for. */
  toldNow = false;

  end(): void {
    this.done = true;
    for (const group of this.groups) killGroup(group);
    this.groups.clear();
  }
}

interface FetchContext {
  options: PodSourceOptions;
  run: (source: FetchingKind, file: string, args: string[]) => Promise<string>;
  criClient: () => CriClient;
  /** Called once the request is out (the runtime's socket written; run() calls it once its command started): a scan may run beside it. */
  underway: () => void;
  /** Whether a source earlier in the order answered (then this one's list would not be taken), once one did or all failed. */
  earlierAnswered: () => Promise<boolean>;
}

type Fetch = (context: FetchContext) => Promise<PodList>;

const FETCHERS: Record<FetchingKind, Fetch> = {
  async cri({ criClient, underway }) {
    try {
      const client = criClient();
      const lists = Promise.all([client.listPodSandboxes(), client.listContainers()]);
      void client.sent().then(underway);
      const [sandboxes, containers] = await lists;
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
    const refused = kubectlRefused(options);
    if (refused !== null) throw refused;
    const args = ['get', 'pods', '-A', '--field-selector', `spec.nodeName=${options.nodeName ?? hostname()}`, '-o', 'json'];
    const json = await run('kubectl', options.kubectlPath ?? 'kubectl', args);
    return parsed('kubectl', () => parseKubectl(json));
  },
  async kubelet({ options, underway, earlierAnswered }) {
    // Its list is taken only where every source before it failed: read then, not before. Where the
    // runtime answers, as on most nodes, the directory is never read.
    underway();
    if (await earlierAnswered()) throw new SourceError('kubelet', 'stopped', 'kubelet: stopped');
    return kubeletPods(options);
  },
};

/**
 * The pod dirs under kubelet's root. Read synchronously: one directory of a node's pods (a few
 * hundred names) is read in well under a millisecond, where fs's callbacks would start Node's pool
 * of threads for it (a one-shot's 2–4 ms, between its scan and its output).
 */
function kubeletPods(options: PodSourceOptions): PodList {
  const dir = join(options.kubeletRoot, 'pods');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SourceError('kubelet', code, `kubelet: cannot read ${dir} (${code})`);
  }
  return podListFromUids(names);
}

/** Auto mode tries these side by side and takes the first, in this order, that answers. */
const AUTO_ORDER: readonly FetchingKind[] = ['cri', 'crictl', 'kubectl', 'kubelet'];

/** Sources that start a process; the others ask within ours (a socket, a directory). */
const COMMANDS: ReadonlySet<FetchingKind> = new Set(['crictl', 'kubectl']);

/**
 * In auto mode a command starts once the runtime's socket has failed, or has not answered within
 * this: where the runtime answers, as on most nodes in milliseconds, no process is started for
 * nothing (crictl would ask the same socket), and where none answers, nothing waits longer.
 */
export const COMMAND_HEAD_START_MS = 250;

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
  /** The refresh in flight's requests are out (or settled). */
  private requested: Promise<void> = Promise.resolve();
  /** The first list in, failed, or one source's timeout passed; null before start(). */
  private first: Promise<unknown> | null = null;
  private round: Round | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Set by stop(): no source is tried and no command started after it. */
  private stopped = false;
  /** Made on the first CRI fetch that finds an endpoint, kept (with its connection) until stop(). */
  private cri: CriClient | null = null;

  /** `oneShot`: the list is fetched once, for a run that then ends (the CRI client then asks through system calls, not node:net). */
  constructor(
    options: PodSourceOptions,
    private readonly oneShot = false,
  ) {
    this.options = options;
    this.active = options.kind === 'auto' || options.kind === 'none' ? null : options.kind;
  }

  /**
   * Refreshes now and then every refreshMs in the background. Resolves once the first refresh's
   * requests are out (the runtime's socket written, commands started), not answered: the first
   * scan runs beside them, and ready() waits for the answer.
   */
  async start(): Promise<void> {
    // A one-shot takes one list: it refreshes nothing in the background.
    if (this.timer === null && this.options.kind !== 'none' && !this.oneShot) {
      this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
      this.timer.unref();
    }
    // Without a source there is nothing to wait for, and nothing to bound the wait; nor where every
    // source told at once what it had (Round.toldNow): the refresh settles without a turn of the
    // event loop. Elsewhere the bound's timer starts only at the next turn (timeoutFromNextTurn): a
    // one-shot whose runtime answered during its scan sets none.
    if (this.first === null) {
      const refreshed = this.options.kind === 'none' ? Promise.resolve() : this.refresh();
      this.first = this.options.kind === 'none' || this.round?.toldNow === true ? refreshed : settledWithin(refreshed, this.options.timeoutMs);
    }
    await this.requested;
  }

  /**
   * After start(): the first list is in, or failed, or one source's timeout passed (a source that
   * hangs): the first scan then shows its counts with pods "pending", and a later refresh the list.
   * What the runtime answered while the caller was busy (a one-shot's scan on this thread) is
   * taken in at once, not after a turn of the event loop.
   */
  async ready(): Promise<void> {
    this.cri?.takeArrived();
    await this.first;
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
    this.round?.end();
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

  /**
   * One refresh: the active source, or in auto mode every source side by side (commands after a
   * head start for the runtime's socket), the list taken from the first in order that answers.
   */
  private async fetchOnce(): Promise<void> {
    const kinds = this.active !== null ? [this.active] : AUTO_ORDER;
    const startedAt = uptimeMs();
    const round = new Round();
    this.round = round;
    const underway: Promise<void>[] = [];
    const attempts: Promise<{ kind: FetchingKind; list: PodList } | { kind: FetchingKind; error: SourceError }>[] = [];
    // While every source before it has failed already, a source is first asked what it can tell
    // without a socket written or a process started (toldNow): on a node with no pod source, the
    // whole refresh is settled here, before the scan that start() lets run, and nothing is left
    // for after it (its end and the output wait for the list).
    let allFailed = true;
    round.toldNow = true;
    for (const kind of kinds) {
      const told = allFailed ? this.toldNow(kind) : null;
      if (told !== null) {
        attempts.push(Promise.resolve({ kind, ...told }));
        // A list: the first in order that answered, what the sources after it would say is not taken.
        if ('list' in told) break;
        continue;
      }
      allFailed = false;
      round.toldNow = false;
      let signal!: () => void;
      const earlier = [...attempts];
      underway.push(new Promise<void>((resolve) => (signal = resolve)));
      const context: FetchContext = {
        options: this.options,
        run: (...args) => this.run(round, signal, ...args),
        criClient: () => this.criClient(),
        underway: signal,
        earlierAnswered: () => anyAnswered(earlier),
      };
      const askedBefore = earlier.filter((_, i) => !COMMANDS.has(kinds[i]!));
      const turn = COMMANDS.has(kind) && kinds.length > 1 ? this.commandTurn(round, kind, askedBefore) : null;
      const attempt = (turn ? turn.then(() => FETCHERS[kind](context)) : FETCHERS[kind](context)).then(
        (list) => ({ kind, list }),
        (error: unknown) => ({ kind, error: error instanceof SourceError ? error : new SourceError(kind, 'error', `${kind}: ${String(error)}`) }),
      );
      // A command waiting for its turn is under way too: the scan must not wait for the runtime's answer.
      if (turn) signal();
      attempts.push(attempt.finally(signal));
    }
    this.requested = Promise.all(underway).then(() => undefined);
    const failures: SourceError[] = [];
    try {
      for (const attempt of attempts) {
        const result = await attempt;
        if (this.stopped) return;
        if ('list' in result) {
          this.succeeded(result.kind, result.list, startedAt);
          return;
        }
        failures.push(result.error);
      }
      this.failed(failures);
    } finally {
      // What a source later in the order still runs is not needed.
      round.end();
    }
  }

  /**
   * What a source tells without being asked over a socket or by a command, asked while every
   * source before it has failed: why it cannot answer (no runtime endpoint; a command not found,
   * or kubectl with no cluster to ask), kubelet's pod dirs (read at once), or null: it must be asked.
   */
  private toldNow(kind: FetchingKind): { list: PodList } | { error: SourceError } | null {
    try {
      switch (kind) {
        case 'cri':
          // Made here as the fetch would make it (and kept): the fetch then finds it.
          this.criClient();
          return null;
        case 'crictl':
          return findExecutable(this.options.crictlPath ?? 'crictl') === null ? { error: notFound('crictl', this.options.crictlPath ?? 'crictl') } : null;
        case 'kubectl': {
          const refused = kubectlRefused(this.options);
          if (refused !== null) return { error: refused };
          return findExecutable(this.options.kubectlPath ?? 'kubectl') === null ? { error: notFound('kubectl', this.options.kubectlPath ?? 'kubectl') } : null;
        }
        case 'kubelet':
          return { list: kubeletPods(this.options) };
      }
    } catch (error) {
      if (error instanceof SourceError) return { error };
      if (error instanceof CriError) return { error: new SourceError('cri', error.failure, error.message) };
      throw error;
    }
  }

  /** When a command of auto mode may start: the sources asked within ours before it failed, or had their head start. */
  private async commandTurn(round: Round, kind: FetchingKind, before: readonly Promise<unknown>[]): Promise<void> {
    let cancel = (): void => undefined;
    const headStart = new Promise<void>((resolve) => {
      // After the timer, one more turn of the event loop: an answer that came meanwhile (a long
      // scan held the loop) is taken in before a command is started for nothing.
      cancel = timeoutFromNextTurn(() => setImmediate(resolve), COMMAND_HEAD_START_MS, true);
    });
    try {
      await Promise.race([Promise.all(before), headStart]);
    } finally {
      cancel();
    }
    if (round.done) throw new SourceError(kind, 'stopped', `${kind}: stopped`);
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
  private criClient(): CriClient {
    if (this.cri !== null) return this.cri;
    const found = resolveRuntimeEndpoint({ flag: this.options.runtimeEndpoint });
    if (found === null) {
      const looked = `no --runtime-endpoint, $${RUNTIME_ENDPOINT_ENV} or ${DEFAULT_CRICTL_YAML}; none of ${DEFAULT_RUNTIME_SOCKETS.join(', ')}`;
      throw new SourceError('cri', 'no-endpoint', `cri: no runtime socket found (${looked})`);
    }
    // A runtime answers a list in milliseconds: one that takes seconds is as good as dead.
    this.cri = new CriClient(found.endpoint, { timeoutMs: Math.min(DEFAULT_CRI_TIMEOUT_MS, this.options.timeoutMs), oneShot: this.oneShot });
    return this.cri;
  }

  // Runs in its own process group: a wrapper script's children would otherwise keep stdout open
  // past the timeout, and killing only the wrapper would leave them running.
  /** `started` is called once the command is (`underway` of its fetch). */
  private async run(round: Round, started: () => void, source: FetchingKind, file: string, args: string[]): Promise<string> {
    if (round.done) throw new SourceError(source, 'stopped', `${source}: stopped`);
    // A missing command is told without loading execa (a tenth of a second of start-up).
    if (!findExecutable(file)) throw notFound(source, file);
    const { execa } = await import('execa');
    // stop() or a source earlier in the order may have come while it loaded: nothing starts after it.
    if (round.done) throw new SourceError(source, 'stopped', `${source}: stopped`);
    const subprocess = execa(file, args, {
      stdin: 'ignore',
      timeout: this.options.timeoutMs,
      killSignal: 'SIGKILL',
      reject: false,
      detached: true,
    });
    started();
    const group = subprocess.pid;
    let deadline: NodeJS.Timeout | undefined;
    if (group !== undefined) {
      round.groups.add(group);
      deadline = setTimeout(() => killGroup(group), this.options.timeoutMs);
    }
    const result = await subprocess;
    clearTimeout(deadline);
    if (group !== undefined) round.groups.delete(group);
    if (round.done) throw new SourceError(source, 'stopped', `${source}: stopped`);
    const command = `${source} ${args[0]}`;
    if (result.code === 'ENOENT') throw notFound(source, file);
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

/** True once one of `attempts` has a list, false once all failed. */
function anyAnswered(attempts: readonly Promise<{ list: PodList } | { error: SourceError }>[]): Promise<boolean> {
  return new Promise((resolve) => {
    let failed = 0;
    if (attempts.length === 0) resolve(false);
    for (const attempt of attempts) void attempt.then((result) => ('list' in result ? resolve(true) : ++failed === attempts.length && resolve(false)));
  });
}

function parsed(source: FetchingKind, parse: () => PodList): PodList {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FormatError) throw new SourceError(source, 'format', error.message);
    throw error;
  }
}

function notFound(source: FetchingKind, file: string): SourceError {
  return new SourceError(source, 'missing', `${source}: ${file} not found`);
}

/** Auto mode's kubectl from PATH where it has no cluster to ask (nothingForKubectl): not started; null otherwise. */
function kubectlRefused(options: PodSourceOptions): SourceError | null {
  if (options.kind !== 'auto' || options.kubectlPath !== null) return null;
  const nothing = nothingForKubectl();
  return nothing === null ? null : new SourceError('kubectl', 'no-cluster', `kubectl: not started: ${nothing}`);
}

/** Where kubectl finds a cluster in a pod: client-go's in-cluster config, with KUBERNETES_SERVICE_HOST and _PORT. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Why kubectl from PATH has nothing it could talk to, as client-go loads its config: the files
 * $KUBECONFIG lists (those that exist), else ~/.kube/config, else the pod's service account;
 * without any it asks localhost:8080, which no API server serves since Kubernetes 1.20. Null
 * when it has a config. Auto mode then starts no kubectl for a refusal (a third of a second of a
 * one-shot); a kubectl named by --kubectl is started as asked (a wrapper may bring its own).
 */
function nothingForKubectl(): string | null {
  const env = process.env;
  const exists = (path: string) => {
    try {
      // A missing file is told without an exception made (its stack trace): most are missing.
      return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
    } catch {
      return false;
    }
  };
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((path) => path !== '');
  const files = listed.length > 0 ? listed : env.HOME ? [join(env.HOME, '.kube', 'config')] : [];
  if (files.some(exists)) return null;
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && exists(SERVICE_ACCOUNT_TOKEN)) return null;
  const looked =
    listed.length > 0 ? `none of $KUBECONFIG's ${listed.join(', ')}` : files.length > 0 ? `no $KUBECONFIG or ${files[0]}` : 'no $KUBECONFIG or $HOME';
  return `no cluster to ask (${looked}, not in a pod with a service account)`;
}

/** `file` as execa would run it: a path, or a name looked up in PATH; null when there is no such executable. */
function findExecutable(file: string): string | null {
  const candidates = file.includes('/') ? [file] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir || '.', file));
  for (const path of candidates) {
    try {
      // Most of PATH has no such file: told without an exception made (its stack trace).
      if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) continue;
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not this one
    }
  }
  return null;
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
