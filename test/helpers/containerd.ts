// A real containerd (with runc) for tests, run on its own root, state and socket under a temp
// dir, and pods created and deleted through CRI the way kubelet does it: pod dir, tmpfs token
// volume, etc-hosts, termination log, cgroup parent /kubepods/burstable/pod<uid>. stop() undoes
// everything it made, also after a failed test.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { parseMountinfo, type MountEntry } from '../../src/resolve/mountinfo.js';
import { buildBusyboxImage, BUSYBOX } from './containerd/image.js';
import { eventually, eventuallySync } from './eventually.js';

/** Upstream's CRI runtime.v1 API, vendored at a release (vendor/cri-api/README.md names it). */
export const RUNTIME_API_PROTO = fileURLToPath(new URL('../../vendor/cri-api/api.proto', import.meta.url));

const execFileAsync = promisify(execFile);

export const SANDBOX_IMAGE = 'inotop.test/pause:1';
export const CONTAINER_IMAGE = 'inotop.test/busybox:1';

/** What Version answers. */
export interface RuntimeVersion {
  /** The CRI API version the runtime reports, e.g. "v1". */
  apiVersion: string;
  runtimeName: string;
  runtimeVersion: string;
}

/**
 * The RPCs kubelet drives (creating, starting, stopping, removing), which inotop never calls: the
 * harness acts as kubelet through them. On @grpc/grpc-js with the whole vendored api.proto, as a
 * kubelet would be: inotop's own client (src/pods/cri) knows only the two lists it needs.
 */
export class KubeletCriClient {
  private readonly stub: RuntimeServiceStub;

  constructor(
    readonly endpoint: string,
    private readonly timeoutMs = HARNESS_CALL_TIMEOUT_MS,
  ) {
    this.stub = new (runtimeService())(endpoint, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    }) as unknown as RuntimeServiceStub;
  }

  async version(): Promise<RuntimeVersion> {
    const raw = await this.rpc<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }>('Version', { version: 'v1' });
    return { apiVersion: raw.runtimeApiVersion, runtimeName: raw.runtimeName, runtimeVersion: raw.runtimeVersion };
  }

  /** Any unary RPC of api.proto by name, with proto-loader's camelCase fields. */
  rpc<Response>(method: string, request: object): Promise<Response> {
    const call = this.stub[method];
    if (call === undefined) throw new Error(`CRI runtime.v1 has no RPC ${method}`);
    return new Promise((resolve, reject) => {
      call.call(this.stub, request, new grpc.Metadata(), { deadline: new Date(Date.now() + this.timeoutMs) }, (error, response) => {
        if (error) reject(new Error(`CRI ${this.endpoint}: ${method}: ${error.message}`));
        else resolve(response as Response);
      });
    });
  }

  close(): void {
    this.stub.close();
  }
}

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

type RuntimeServiceStub = grpc.Client & Record<string, UnaryMethod | undefined>;

let runtimeServiceConstructor: grpc.ServiceClientConstructor | null = null;

function runtimeService(): grpc.ServiceClientConstructor {
  if (runtimeServiceConstructor === null) {
    grpc.setLogVerbosity(grpc.logVerbosity.NONE);
    const definition = protoLoader.loadSync(RUNTIME_API_PROTO, { longs: String, enums: String, defaults: true });
    const runtime = grpc.loadPackageDefinition(definition)['runtime'] as grpc.GrpcObject;
    runtimeServiceConstructor = (runtime['v1'] as grpc.GrpcObject)['RuntimeService'] as grpc.ServiceClientConstructor;
  }
  return runtimeServiceConstructor;
}

const REQUIRED_BINARIES = ['/usr/bin/containerd', '/usr/bin/containerd-shim-runc-v2', '/usr/bin/ctr', '/usr/sbin/runc', BUSYBOX];
const STARTUP_TIMEOUT_MS = 20_000;
const HARNESS_CALL_TIMEOUT_MS = 20_000;

/** Why these tests cannot run here, or null when they can. */
export function containerdSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (containerd, mounts, cgroups)';
  const missing = REQUIRED_BINARIES.filter((path) => !isExecutable(path));
  if (missing.length > 0) return `missing ${missing.join(', ')} (apt-get install containerd runc busybox-static; .ci/run does)`;
  // The image holds busybox and nothing else: no libc, no loader.
  if (hasElfInterpreter(BUSYBOX)) return `${BUSYBOX} is dynamically linked (apt-get install busybox-static)`;
  return null;
}

export interface PodSpec {
  name: string;
  namespace?: string;
  /** Default: a random UUID, like the API server's. */
  uid?: string;
  /** Default: <harness dir>/kubelet. */
  kubeletRoot?: string;
  containerName?: string;
  /** Default: the image's `sleep infinity`. */
  command?: string[];
  /**
   * Writes etc-hosts as kubelet does for a pod on the pod network, ending with this IP and the
   * pod's name (the harness has no CNI: the pod still runs on the host network). Default: the
   * host-network form.
   */
  podIp?: string;
  /** Default: the busybox test image. Another must have been imported (importImage). */
  image?: string;
  /** Arguments after the entrypoint (CRI args: the image's Cmd is replaced). */
  args?: string[];
  env?: { key: string; value: string }[];
  /** More CRI mounts, after the ones kubelet makes for every pod. */
  mounts?: CriMount[];
  /** The host's pid namespace (hostPID) instead of the pod's own. */
  hostPid?: boolean;
  /** Default true: the projected token volume (automountServiceAccountToken). */
  serviceAccountToken?: boolean;
  /** CRI LinuxContainerSecurityContext fields besides namespaceOptions (capabilities, readonlyRootfs, ...). */
  securityContext?: Record<string, unknown>;
  /** CRI LinuxContainerResources (memoryLimitInBytes, cpuShares, ...). */
  resources?: Record<string, unknown>;
}

/** A CRI Mount; propagation is one of the PROPAGATION_* names. */
export interface CriMount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}

/** What ExecSync answers. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface HarnessContainer {
  id: string;
  name: string;
  /** The container's first process, on the host's pid namespace. */
  pid: number;
  /** Inode of its mount namespace (/proc/PID/ns/mnt). */
  mntns: string;
}

export interface HarnessPod {
  uid: string;
  name: string;
  namespace: string;
  sandboxId: string;
  kubeletRoot: string;
  /** <kubeletRoot>/pods/<uid> */
  podDir: string;
  /** The tmpfs of the projected service-account token: .../kubernetes.io~projected/kube-api-access-xxxxx */
  tokenVolume: string;
  /** <podDir>/etc-hosts, bind-mounted at /etc/hosts. */
  etcHosts: string;
  /** <podDir>/containers/<name>/<id>, bind-mounted at /dev/termination-log. */
  terminationLog: string;
  logDirectory: string;
  /** /kubepods/burstable/pod<uid>; each container's cgroup is <cgroupParent>/<container id>. */
  cgroupParent: string;
  container: HarnessContainer;
  deleted: boolean;
}

export interface StartOptions {
  /** Directory to make the harness's temp dir in; default the OS temp dir. */
  root?: string;
}

export interface HarnessTimings {
  containerdStartMs: number;
  imageImportMs: number;
}

/** Starts containerd, waits for its CRI socket and imports the test image. */
export async function startContainerd(options: StartOptions = {}): Promise<Containerd> {
  const harness = new Containerd(mkdtempSync(join(options.root ?? tmpdir(), 'inotop-containerd-')));
  try {
    await harness.start();
  } catch (error) {
    await harness.stop().catch(() => {});
    throw error;
  }
  return harness;
}

export class Containerd {
  /** Where containerd's sockets are, as /run/containerd is on a node: the socket's directory. */
  readonly runDir: string;
  /** Path of containerd's gRPC socket. */
  readonly socket: string;
  /** unix:///… form, for --runtime-endpoint. */
  readonly endpoint: string;
  readonly client: KubeletCriClient;
  readonly timings: HarnessTimings = { containerdStartMs: 0, imageImportMs: 0 };
  private process: ChildProcess | null = null;
  private readonly pods: HarnessPod[] = [];
  /** Cgroup dirs above the pod cgroups that did not exist before: removed again at the end. */
  private readonly createdCgroupAncestors: string[] = [];
  private readonly createdRunDirs: string[] = [];
  /** Shared bind mounts made by sharedMount, outside the harness dir; and which of their dirs it made. */
  private readonly sharedMounts: string[] = [];
  private readonly createdSharedDirs: string[] = [];

  constructor(readonly dir: string) {
    this.runDir = join(dir, 'run');
    this.socket = join(this.runDir, 'containerd.sock');
    this.endpoint = `unix://${this.socket}`;
    this.client = new KubeletCriClient(this.endpoint);
  }

  /** containerd's own output, for failure messages. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'containerd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Called once, by startContainerd. */
  async start(): Promise<void> {
    for (const hierarchy of cgroupHierarchies()) {
      for (const ancestor of ['kubepods', 'kubepods/burstable']) {
        const path = join(hierarchy, ancestor);
        if (!existsSync(path)) this.createdCgroupAncestors.push(path);
      }
    }
    // The runc shim puts its sockets under /run/containerd/s whatever the configured state dir.
    for (const path of ['/run/containerd', '/run/containerd/s']) if (!existsSync(path)) this.createdRunDirs.push(path);

    mkdirSync(this.runDir);
    const config = join(this.dir, 'config.toml');
    writeFileSync(config, containerdConfig(this.dir, this.socket));
    const log = openSync(join(this.dir, 'containerd.log'), 'a');
    const started = performance.now();
    this.process = spawn('/usr/bin/containerd', ['--config', config], { stdio: ['ignore', log, log] });
    closeSync(log);
    process.once('exit', this.tearDownOnExit);
    await this.waitUntilServing();
    this.timings.containerdStartMs = Math.round(performance.now() - started);

    const imported = performance.now();
    const image = buildBusyboxImage(join(this.dir, 'image'), [SANDBOX_IMAGE, CONTAINER_IMAGE]);
    await execFileAsync('/usr/bin/ctr', ['--address', this.socket, '--namespace', 'k8s.io', 'images', 'import', image], { timeout: 60_000 });
    this.timings.imageImportMs = Math.round(performance.now() - imported);
  }

  private async waitUntilServing(): Promise<void> {
    const exited = new Error('containerd exited during startup');
    try {
      await eventually(
        async () => {
          if (!this.isRunning()) throw exited;
          if (!existsSync(this.socket)) throw new Error('no socket yet');
          // A fresh client per try: one that failed to connect waits out grpc's reconnect backoff.
          const probe = new KubeletCriClient(this.endpoint, 500);
          try {
            await probe.version();
          } finally {
            probe.close();
          }
        },
        { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 20, retryOn: (error) => error !== exited },
      );
    } catch (error) {
      const why = error === exited ? exited.message : `containerd not serving CRI after ${STARTUP_TIMEOUT_MS} ms (${(error as Error).message})`;
      throw new Error(`${why}:\n${this.log()}`, { cause: error });
    }
  }

  /** Imports an OCI image tarball into the k8s.io namespace, where CRI finds images. */
  async importImage(tarball: string): Promise<void> {
    await execFileAsync('/usr/bin/ctr', ['--address', this.socket, '--namespace', 'k8s.io', 'images', 'import', tarball], { timeout: 120_000 });
  }

  /** Runs a command in a container, as `kubectl exec` does through CRI's ExecSync. */
  async execSync(containerId: string, cmd: string[], timeoutSeconds = 30): Promise<ExecResult> {
    const raw = await this.client.rpc<{ stdout: Buffer; stderr: Buffer; exitCode: number }>('ExecSync', { containerId, cmd, timeout: timeoutSeconds });
    return { stdout: raw.stdout.toString('utf8'), stderr: raw.stderr.toString('utf8'), exitCode: raw.exitCode };
  }

  /**
   * Makes `path` a shared mount point (a bind mount of itself), as kubelet makes its root and
   * systemd makes /run: a container's HostToContainer mount of it then receives the mounts made
   * below it later, and their unmounts. Made (if missing), unmounted and removed again by stop().
   */
  async sharedMount(path: string): Promise<void> {
    if (!existsSync(path)) {
      mkdirSync(path, { recursive: true });
      this.createdSharedDirs.push(path);
    }
    await run('mount', ['--bind', path, path]);
    this.sharedMounts.push(path);
    await run('mount', ['--make-rshared', path]);
  }

  /** Creates a pod the way kubelet does and starts its one container. */
  async runPod(spec: PodSpec): Promise<HarnessPod> {
    const uid = spec.uid ?? randomUUID();
    const namespace = spec.namespace ?? 'default';
    const containerName = spec.containerName ?? 'app';
    const kubeletRoot = spec.kubeletRoot ?? join(this.dir, 'kubelet');
    const podDir = join(kubeletRoot, 'pods', uid);
    const pod: HarnessPod = {
      uid,
      name: spec.name,
      namespace,
      sandboxId: '',
      kubeletRoot,
      podDir,
      tokenVolume: join(podDir, 'volumes', 'kubernetes.io~projected', `kube-api-access-${kubernetesRandomSuffix()}`),
      etcHosts: join(podDir, 'etc-hosts'),
      terminationLog: join(podDir, 'containers', containerName, randomBytes(4).toString('hex')),
      logDirectory: join(this.dir, 'log', 'pods', `${namespace}_${spec.name}_${uid}`),
      cgroupParent: `/kubepods/burstable/pod${uid}`,
      container: { id: '', name: containerName, pid: 0, mntns: '' },
      deleted: false,
    };
    // Tracked before anything exists, so stop() cleans up after a pod that failed half-way.
    this.pods.push(pod);

    mkdirSync(join(podDir, 'containers', containerName), { recursive: true });
    mkdirSync(join(podDir, 'plugins'), { recursive: true });
    const withToken = spec.serviceAccountToken ?? true;
    if (withToken) {
      mkdirSync(pod.tokenVolume, { recursive: true });
      await run('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', pod.tokenVolume]);
      writeServiceAccountToken(pod.tokenVolume, namespace);
    }
    writeFileSync(
      pod.etcHosts,
      spec.podIp === undefined
        ? `# Kubernetes-managed hosts file (host network).\n${readFileSync('/etc/hosts', 'utf8')}`
        : podNetworkHosts(spec.podIp, spec.name),
    );
    writeFileSync(pod.terminationLog, '', { mode: 0o666 });
    mkdirSync(join(pod.logDirectory, containerName), { recursive: true });

    const namespaceOptions = { network: 'NODE', pid: spec.hostPid ? 'NODE' : 'CONTAINER', ipc: 'POD' };
    const podLabels = { 'io.kubernetes.pod.name': spec.name, 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.uid': uid };
    // Host network (no CNI here) and no hostname: the pod shares the node's UTS namespace.
    const sandboxConfig = {
      metadata: { name: spec.name, uid, namespace, attempt: 0 },
      logDirectory: pod.logDirectory,
      labels: podLabels,
      annotations: { 'kubernetes.io/config.source': 'api', 'kubernetes.io/config.seen': new Date().toISOString() },
      linux: {
        cgroupParent: pod.cgroupParent,
        securityContext: { namespaceOptions },
      },
    };
    pod.sandboxId = (await this.client.rpc<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig })).podSandboxId;

    const containerConfig = {
      metadata: { name: containerName, attempt: 0 },
      image: { image: spec.image ?? CONTAINER_IMAGE },
      command: spec.command ?? [],
      args: spec.args ?? [],
      // api.proto (v0.36.3) types KeyValue's value as bytes: on the wire the same as a string.
      envs: (spec.env ?? []).map(({ key, value }) => ({ key, value: Buffer.from(value) })),
      labels: { ...podLabels, 'io.kubernetes.container.name': containerName },
      annotations: { 'io.kubernetes.container.restartCount': '0', 'io.kubernetes.container.terminationMessagePath': '/dev/termination-log' },
      logPath: `${containerName}/0.log`,
      mounts: [
        ...(withToken ? [{ containerPath: '/var/run/secrets/kubernetes.io/serviceaccount', hostPath: pod.tokenVolume, readonly: true }] : []),
        { containerPath: '/etc/hosts', hostPath: pod.etcHosts },
        { containerPath: '/dev/termination-log', hostPath: pod.terminationLog },
        ...(spec.mounts ?? []),
      ],
      linux: { securityContext: { ...spec.securityContext, namespaceOptions }, resources: spec.resources ?? {} },
    };
    const created = await this.client.rpc<{ containerId: string }>('CreateContainer', {
      podSandboxId: pod.sandboxId,
      config: containerConfig,
      sandboxConfig,
    });
    pod.container.id = created.containerId;
    await this.client.rpc('StartContainer', { containerId: pod.container.id });
    pod.container.pid = await this.containerPid(pod.container.id);
    pod.container.mntns = namespaceInode(pod.container.pid, 'mnt') ?? '';
    return pod;
  }

  private async containerPid(containerId: string): Promise<number> {
    const status = await this.client.rpc<{ info: Record<string, string> }>('ContainerStatus', { containerId, verbose: true });
    const pid = (JSON.parse(status.info['info'] ?? '{}') as { pid?: number }).pid;
    if (!pid) throw new Error(`ContainerStatus of ${containerId}: no pid in ${JSON.stringify(status.info)}`);
    return pid;
  }

  /**
   * Starts a process that enters only the pod container's mount namespace and stays there, in its
   * own cgroup: once the pod is deleted, the pod's mounts live on in that namespace. Returns its
   * pid; stop() kills it with everything else left in pod namespaces.
   */
  async holdMountNamespace(pod: HarnessPod): Promise<number> {
    // The image's busybox: the command runs inside the container's root.
    const holder = spawn('nsenter', ['--target', String(pod.container.pid), '--mount', '/bin/busybox', 'sleep', 'infinity'], { stdio: 'ignore' });
    const pid = holder.pid;
    if (pid === undefined) throw new Error('nsenter did not start');
    const failed = new Error(`nsenter into ${pod.name}'s mount namespace failed`);
    await eventually(
      () => {
        if (holder.exitCode !== null) throw failed;
        if (namespaceInode(pid, 'mnt') !== pod.container.mntns) throw new Error(`nsenter into ${pod.name}'s mount namespace: not there within 5 s`);
      },
      { intervalMs: 20, retryOn: (error) => error !== failed },
    );
    return pid;
  }

  /**
   * Deletes a pod the way kubelet does: stop and remove through CRI, then unmount its volumes,
   * remove the pod dir and the pod cgroup. Whatever still holds the pod's mount namespace keeps
   * its mounts there: that is how leaks happen, and the harness leaves it alone.
   */
  async deletePod(pod: HarnessPod, { gracePeriodSeconds = 0 }: { gracePeriodSeconds?: number } = {}): Promise<void> {
    const failures: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown> | void): Promise<void> => {
      try {
        await step();
      } catch (error) {
        failures.push(`${what}: ${(error as Error).message}`);
      }
    };
    if (pod.container.id !== '') {
      // SIGTERM, then SIGKILL after the grace period (terminationGracePeriodSeconds); 0: SIGKILL at once.
      await attempt('StopContainer', () => this.client.rpc('StopContainer', { containerId: pod.container.id, timeout: gracePeriodSeconds }));
    }
    if (pod.sandboxId !== '') {
      await attempt('StopPodSandbox', () => this.client.rpc('StopPodSandbox', { podSandboxId: pod.sandboxId }));
      // Removing the sandbox removes its containers too.
      await attempt('RemovePodSandbox', () => this.client.rpc('RemovePodSandbox', { podSandboxId: pod.sandboxId }));
    }
    await attempt('unmount token volume', async () => {
      if (isMountPoint(pod.tokenVolume)) await unmountRetryingWhileBusy(pod.tokenVolume);
    });
    await attempt('remove pod dir', () => rmSync(pod.podDir, { recursive: true, force: true }));
    await attempt('remove log dir', () => rmSync(pod.logDirectory, { recursive: true, force: true }));
    await attempt('remove pod cgroup', () => removePodCgroups(pod.cgroupParent));
    pod.deleted = true;
    if (failures.length > 0) throw new Error(`deleting pod ${pod.namespace}/${pod.name}: ${failures.join('; ')}`);
  }

  /**
   * Removes every pod, process, mount, cgroup and file the harness made, and stops containerd
   * and its shims. Safe to call after any failure, and more than once.
   */
  async stop(): Promise<void> {
    const failures: string[] = [];
    // Processes a test left inside a pod's mount namespace would keep its mounts alive.
    killProcesses(this.processesInPodMountNamespaces());
    if (this.isRunning()) {
      for (const pod of this.pods) {
        if (!pod.deleted) await this.deletePod(pod).catch((error: Error) => failures.push(error.message));
      }
    }
    this.client.close();
    await this.stopContainerd();
    process.removeListener('exit', this.tearDownOnExit);
    failures.push(...this.tearDown());
    if (failures.length > 0) throw new Error(`containerd harness cleanup: ${failures.join('; ')}`);
  }

  // A test process that exits without stop() must not leave daemons, containers or mounts.
  private readonly tearDownOnExit = (): void => {
    this.tearDown();
  };

  /**
   * Kills whatever is left (containerd, shims, containers, processes in their namespaces), then
   * unmounts and removes what the harness made. Synchronous, so that it can run on 'exit'.
   * Returns what it could not undo.
   */
  private tearDown(): string[] {
    const failures: string[] = [];
    // Shims outlive containerd by design, and a killed shim leaves its containers running.
    const leftovers = [
      ...(this.isRunning() ? [this.process!.pid!] : []),
      ...this.processesInPodMountNamespaces(),
      ...processesWithArgument('-address', this.socket),
      ...this.pods.flatMap((pod) => cgroupProcesses(pod.cgroupParent)),
    ];
    killProcesses(leftovers);
    waitForExit(leftovers);
    // A killed shim leaves its socket behind; containerd names it after (address, namespace, id).
    for (const pod of this.pods) if (pod.sandboxId !== '') rmSync(shimSocket(this.socket, pod.sandboxId), { force: true });

    // Pod dirs may live outside the harness dir (a test's own kubelet root).
    const madeDirs = [this.dir, ...this.pods.map((pod) => pod.podDir)];
    for (const mountpoint of new Set([...madeDirs, ...this.sharedMounts].flatMap(mountpointsUnder))) {
      try {
        unmount(mountpoint);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    for (const pod of this.pods) {
      try {
        removePodCgroups(pod.cgroupParent);
      } catch (error) {
        failures.push(`pod cgroup ${pod.cgroupParent}: ${(error as Error).message}`);
      }
    }
    for (const path of [...this.createdCgroupAncestors].reverse()) removeDirIfEmpty(path);
    for (const path of [...this.createdRunDirs].reverse()) removeDirIfEmpty(path);
    for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
    for (const dir of this.createdSharedDirs.splice(0).reverse()) rmSync(dir, { recursive: true, force: true });
    this.sharedMounts.length = 0;
    this.pods.length = 0;
    return failures;
  }

  private processesInPodMountNamespaces(): number[] {
    const namespaces = new Set(this.pods.map((pod) => pod.container.mntns).filter((mntns) => mntns !== ''));
    if (namespaces.size === 0) return [];
    return allPids().filter((pid) => pid !== process.pid && namespaces.has(namespaceInode(pid, 'mnt') ?? ''));
  }

  private isRunning(): boolean {
    return this.process !== null && this.process.exitCode === null && this.process.signalCode === null;
  }

  private async stopContainerd(): Promise<void> {
    const child = this.process;
    if (child === null || !this.isRunning()) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

function containerdConfig(dir: string, socket: string): string {
  const path = (...parts: string[]) => JSON.stringify(join(dir, ...parts));
  return `version = 2
root = ${path('root')}
state = ${path('state')}
# Storage backends and tracing the tests do not use: nothing to load, nothing probed on the host.
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = ${JSON.stringify(socket)}

[ttrpc]
  address = ${JSON.stringify(`${socket}.ttrpc`)}

[plugins."io.containerd.internal.v1.opt"]
  path = ${path('opt')}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${JSON.stringify(SANDBOX_IMAGE)}
  # This machine withholds CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below ours.
  restrict_oom_score_adj = true
  # Test containers need no confinement, and loading a profile would need apparmor_parser.
  disable_apparmor = true

  # Pods use the host network, so no CNI plugin is called; containerd still creates and watches
  # the config dir, which must not be the host's /etc/cni/net.d.
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${path('cni', 'bin')}
    conf_dir = ${path('cni', 'conf')}

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${path('runc')}
`;
}

/** kubelet's volume-name suffixes use k8s.io/apimachinery's rand.String alphabet. */
function kubernetesRandomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return Array.from(randomBytes(5), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** The atomic-writer layout kubelet gives projected volumes: a timestamped dir, ..data, links. */
function writeServiceAccountToken(volume: string, namespace: string): void {
  const nanoseconds = String(process.hrtime()[1]).padStart(9, '0');
  const stamp = `..${new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '')}.${nanoseconds}`;
  mkdirSync(join(volume, stamp));
  const files = { 'ca.crt': 'inotop test CA\n', namespace, token: randomBytes(32).toString('base64url') };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(volume, stamp, name), content);
  symlinkSync(stamp, join(volume, '..data'));
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(volume, name));
}

function shimSocket(address: string, sandboxId: string): string {
  return join(
    '/run/containerd/s',
    createHash('sha256')
      .update(join(address, 'k8s.io', sandboxId))
      .digest('hex'),
  );
}

function cgroupHierarchies(): string[] {
  return mountinfo()
    .filter((mount) => mount.fstype === 'cgroup' || mount.fstype === 'cgroup2')
    .map((mount) => mount.mountpoint);
}

/** rmdir the pod cgroup (children first) in every hierarchy; a cgroup dir cannot be rm -r'd. */
function removePodCgroups(cgroupParent: string): void {
  for (const hierarchy of cgroupHierarchies()) removeCgroupTree(join(hierarchy, cgroupParent));
}

function removeCgroupTree(path: string): void {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) if (entry.isDirectory()) removeCgroupTree(join(path, entry.name));
  rmdirSync(path);
}

function removeDirIfEmpty(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // Not empty (someone else uses it now) or already gone: either way not ours to remove.
  }
}

/** Pids in the pod cgroup tree, read from any hierarchy that has it. */
function cgroupProcesses(cgroupParent: string): number[] {
  const pids = new Set<number>();
  const collect = (path: string): void => {
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const pid of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(pid));
    for (const entry of entries) if (entry.isDirectory()) collect(join(path, entry.name));
  };
  for (const hierarchy of cgroupHierarchies()) collect(join(hierarchy, cgroupParent));
  return [...pids];
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Processes with `flag value` among their arguments, e.g. shims started for our socket. */
function processesWithArgument(flag: string, value: string): number[] {
  return allPids().filter((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.some((arg, i) => arg === flag && args[i + 1] === value);
    } catch {
      return false;
    }
  });
}

function namespaceInode(pid: number, kind: string): string | null {
  try {
    return /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${kind}`))?.[1] ?? null;
  } catch {
    return null;
  }
}

function killProcesses(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Waits (blocking: it also runs on 'exit') until the processes are gone or reaped. Cleanup goes on
 * after a timeout, saying what is left.
 */
function waitForExit(pids: number[]): void {
  try {
    eventuallySync(() => {
      const alive = pids.filter(isAlive);
      if (alive.length > 0) throw new Error(`containerd harness: still alive after SIGKILL: ${alive.join(', ')}`);
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
  }
}

/** Alive and not a zombie: a zombie holds no mounts, files or cgroup membership any more. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function mountinfo(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Mount points at or below dir, deepest (latest mounted) first. */
function mountpointsUnder(dir: string): string[] {
  return mountinfo()
    .map((mount) => mount.mountpoint)
    .filter((mountpoint) => mountpoint === dir || mountpoint.startsWith(`${dir}/`))
    .reverse();
}

function isMountPoint(path: string): boolean {
  return mountinfo().some((mount) => mount.mountpoint === path);
}

/** Whether a 64-bit ELF binary names a program interpreter (PT_INTERP): dynamically linked. */
function hasElfInterpreter(path: string): boolean {
  const elf = readFileSync(path);
  const programHeaders = Number(elf.readBigUInt64LE(32));
  const entrySize = elf.readUInt16LE(54);
  const PT_INTERP = 3;
  for (let i = 0; i < elf.readUInt16LE(56); i++) {
    if (elf.readUInt32LE(programHeaders + i * entrySize) === PT_INTERP) return true;
  }
  return false;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Unmounts, lazily when busy: teardown must not stop at a mount something still uses. */
function unmount(mountpoint: string): void {
  try {
    execFileSync('umount', [mountpoint], { stdio: 'pipe' });
  } catch {
    try {
      execFileSync('umount', ['--lazy', mountpoint], { stdio: 'pipe' });
    } catch (error) {
      throw new Error(`umount ${mountpoint}: ${String((error as { stderr?: Buffer }).stderr ?? '').trim() || (error as Error).message}`, { cause: error });
    }
  }
}

/**
 * kubelet retries an unmount that fails: something scanning the node (inotop itself, in a test
 * running alongside) may have the mount open for a moment.
 */
async function unmountRetryingWhileBusy(mountpoint: string): Promise<void> {
  await eventually(() => run('umount', [mountpoint]), { timeoutMs: 3_000, retryOn: (error) => /target is busy/.test((error as Error).message) });
}

async function run(file: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(file, args, { timeout: 10_000 });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`${file} ${args.join(' ')}: ${stderr || (error as Error).message}`, { cause: error });
  }
}

/** etc-hosts as kubelet writes it for a pod on the pod network (managedHostsFileContent). */
function podNetworkHosts(ip: string, hostname: string): string {
  return (
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
    `fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n${ip}\t${hostname}\n`
  );
}
