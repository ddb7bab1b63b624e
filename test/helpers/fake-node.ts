// A simulated Kubernetes node on the real kernel, for tests and the benchmark: a kubelet root with
// pod dirs and a tmpfs kube-api-access volume per pod, a pod cgroup per pod, pod log dirs, a
// process named kubelet watching all of that, a container-like process per pod (own mount
// namespace, in its pod's cgroup, the volume bind-mounted into its root), and crictl and kubectl
// stand-ins answering with the live pods. Needs root. Everything it makes, cleanup() removes.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';
import { Watcher } from './inowatch.js';

const here = dirname(fileURLToPath(import.meta.url));

export type StandInTool = 'crictl' | 'kubectl';
export type StandInMode = 'ok' | 'fail' | 'hang' | 'garbage' | 'hostile';

/** Puts the stand-in for `tool` into `dir` (as `dir/tool`); its answers are files next to it. */
export function installStandIn(dir: string, tool: StandInTool): string {
  const path = join(dir, tool);
  copyFileSync(join(here, `${tool}-stand-in.sh`), path);
  return path;
}

export function setStandInMode(dir: string, tool: StandInTool, mode: StandInMode): void {
  writeFileSync(join(dir, `${tool}-mode`), mode === 'ok' ? '' : mode);
}

/** Pod sources that never answer, for deadline tests and the benchmark; close() removes them. */
export interface HungPodSources {
  /** Where the stand-ins keep their calls and the pids of the commands they started. */
  dir: string;
  /** inotop flags that point every pod source at them. */
  flags: string[];
  close(): void;
}

/**
 * A CRI socket that accepts and stays silent (served by this process's event loop, so the
 * inotop under test must be spawned, not spawnSync'd, when it needs to get past the socket),
 * crictl and kubectl stand-ins that hang, and no kubelet root.
 */
export async function hungPodSources(): Promise<HungPodSources> {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-hung-'));
  for (const tool of ['crictl', 'kubectl'] as const) {
    installStandIn(dir, tool);
    setStandInMode(dir, tool, 'hang');
  }
  const held: Socket[] = [];
  const silent = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(join(dir, 'cri.sock'), resolve));
  const flags = [
    '--runtime-endpoint',
    `unix://${join(dir, 'cri.sock')}`,
    '--crictl',
    join(dir, 'crictl'),
    '--kubectl',
    join(dir, 'kubectl'),
    '--kubelet-root',
    join(dir, 'no-kubelet'),
  ];
  return {
    dir,
    flags,
    close() {
      for (const socket of held) socket.destroy();
      silent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Watcher wrapper that makes the helper show `argv` as its command line (/proc/PID/cmdline),
 * so that a simulated process reads like the real one in a capture. Goes last in a wrapper chain.
 */
export function withCommandLine(argv: string[]): string[] {
  // The helper's path comes after argv (Watcher appends it): run it as the last argument.
  return ['bash', '-c', 'exec -a "$0" "${@: -1}" "${@:1:$#-1}"', ...argv];
}

export interface FakePodSpec {
  namespace: string;
  name: string;
  containerName: string;
  /** The command line its container shows; default: the helper's own. */
  command?: string[];
}

export interface FakeNodeOptions {
  pods: number;
  /** How many of the pods are static (known on the node by a 32-hex config hash). */
  staticPods?: number;
  /** Directory to make the node in (a fresh temp dir inside it); default os.tmpdir(). */
  root?: string;
  cgroupDriver?: 'cgroupfs' | 'systemd';
  nodeName?: string;
  /** The command line kubelet shows; default: the helper's own. */
  kubeletCommand?: string[];
  /** The pod made index-th (from 0) on the node; default app-<hex>-<index> in default. Static pods are always etcd-*. */
  describePod?: (index: number) => FakePodSpec;
}

export type FakePodState = 'live' | 'leaked' | 'deleted';

export interface FakePod {
  /** The uid on the node: a UUID, or the config hash of a static pod. */
  uid: string;
  /** The uid of the API object: for a static pod its mirror pod's, else the same. */
  apiUid: string;
  namespace: string;
  name: string;
  containerName: string;
  containerId: string;
  sandboxId: string;
  /** <kubeletRoot>/pods/<uid> */
  dir: string;
  /** The tmpfs kube-api-access-* volume (mount point on the host). */
  volume: string;
  /** A file inside the volume, in the atomic writer's timestamped dir (what ..data/token points at). */
  tokenFile: string;
  etcHosts: string;
  logFile: string;
  podCgroup: string;
  containerCgroup: string;
  /** Where the container-like process (holding an empty inotify instance) has the volume mounted in its own namespace. */
  mountInContainer: string;
  container: Watcher;
  state: FakePodState;
}

export interface FakeNode {
  root: string;
  kubeletRoot: string;
  /** Holds the crictl and kubectl stand-ins: put it first on PATH. */
  crictlDir: string;
  nodeName: string;
  pods: FakePod[];
  /** comm "kubelet"; watches every pod's volume root, token, etc-hosts, log and cgroup, and sharedFiles. */
  kubelet: Watcher;
  /** Watched by kubelet, belonging to no pod. */
  sharedFiles: string[];
  pod(uid: string): FakePod;
  /** Creates more pods, as at build time (kubelet watches them, the lists show them). */
  addPods(count: number): Promise<FakePod[]>;
  /** A leak: gone from the lists, unmounted and removed on the host, still mounted in its container. */
  deletePodLeaky(uid: string): Promise<void>;
  /** A proper deletion: container stopped, volume unmounted, dirs and cgroups removed. */
  deletePodClean(uid: string): Promise<void>;
  setMode(tool: StandInTool, mode: StandInMode): void;
  /** umounts of pod volumes that failed busy (EBUSY) and were tried again: what an inotop holding mounts would cause. */
  busyUnmounts(): number;
  cleanup(): Promise<void>;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The writable cgroup hierarchy to put pod cgroups in, by driver (cgroup v2: the unified root). */
function cgroupBase(driver: 'cgroupfs' | 'systemd'): string {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return '/sys/fs/cgroup';
  return driver === 'systemd' ? '/sys/fs/cgroup/systemd' : '/sys/fs/cgroup/pids';
}

const ATOMIC_WRITER_DIR = '..2026_11_27_10_00_00.123456789';

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export async function buildFakeNode(options: FakeNodeOptions): Promise<FakeNode> {
  const driver = options.cgroupDriver ?? 'cgroupfs';
  const root = mkdtempSync(join(options.root ?? tmpdir(), 'inotop-node-'));
  const kubeletRoot = join(root, 'var/lib/kubelet');
  const crictlDir = join(root, 'bin');
  const nodeName = options.nodeName ?? 'fake-node-1';
  const sharedFiles = [join(root, 'etc/kubernetes/kubelet.conf'), join(kubeletRoot, 'config.yaml'), join(root, 'etc/resolv.conf')];
  // A prefix of our own (like kind's --cgroup-root) keeps us clear of a real node's kubepods.
  const cgroupTop = join(cgroupBase(driver), `inotop-${hex(4)}${driver === 'systemd' ? '.slice' : ''}`);
  // Between the top and the pod cgroups, deepest first.
  const qosCgroups =
    driver === 'systemd'
      ? [join(cgroupTop, 'kubepods.slice/kubepods-burstable.slice'), join(cgroupTop, 'kubepods.slice')]
      : [join(cgroupTop, 'kubepods/burstable'), join(cgroupTop, 'kubepods')];
  const pods: FakePod[] = [];
  const mountedVolumes = new Set<string>();
  const watchers: Watcher[] = [];
  /** Every cgroup made, in the order to remove them (children first). */
  const cgroups: string[] = [...qosCgroups, cgroupTop];
  /** Pod uid -> kubelet's watch descriptor on the pod cgroup. */
  const cgroupWatches = new Map<string, number>();
  let busy = 0;

  function cgroupDirs(uid: string, containerId: string): { podCgroup: string; containerCgroup: string } {
    if (driver === 'systemd') {
      const podCgroup = join(qosCgroups[0]!, `kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice`);
      return { podCgroup, containerCgroup: join(podCgroup, `cri-containerd-${containerId}.scope`) };
    }
    const podCgroup = join(qosCgroups[0]!, `pod${uid}`);
    return { podCgroup, containerCgroup: join(podCgroup, containerId) };
  }

  function spawn(wrapper?: string[]): Watcher {
    const watcher = new Watcher(wrapper ? { wrapper } : {});
    watchers.push(watcher);
    return watcher;
  }

  /**
   * Retries while the volume is busy: any inotop running on the machine holds the mounts it
   * resolves through open for the length of a refresh.
   */
  async function unmount(volume: string): Promise<void> {
    if (!mountedVolumes.has(volume)) return;
    await eventually(
      () => {
        const result = spawnSync('umount', [volume], { encoding: 'utf8' });
        if (result.status !== 0) throw new Error(`umount ${volume}: ${result.stderr.trim()}`);
      },
      {
        timeoutMs: 10_000,
        intervalMs: 20,
        retryOn: (error) => {
          const isBusy = (error as Error).message.includes('busy');
          if (isBusy) busy++;
          return isBusy;
        },
      },
    );
    mountedVolumes.delete(volume);
  }

  async function cleanup(): Promise<void> {
    await Promise.all(watchers.map((w) => w.stop()));
    for (const volume of [...mountedVolumes]) {
      try {
        await unmount(volume);
      } catch {
        // cleanup goes on: a volume left mounted makes rmSync below fail loudly instead
      }
    }
    for (const dir of cgroups) await removeCgroup(dir);
    rmSync(root, { recursive: true, force: true });
  }

  function writeLists(): void {
    const live = pods.filter((p) => p.state === 'live');
    const created = String(BigInt(Date.now()) * 1_000_000n);
    const sandboxes = live.map((p) => ({
      id: p.sandboxId,
      metadata: { name: p.name, uid: p.uid, namespace: p.namespace, attempt: 0 },
      state: 'SANDBOX_READY',
      createdAt: created,
      labels: { 'io.kubernetes.pod.name': p.name, 'io.kubernetes.pod.namespace': p.namespace, 'io.kubernetes.pod.uid': p.uid },
      annotations:
        p.uid !== p.apiUid ? { 'kubernetes.io/config.hash': p.uid, 'kubernetes.io/config.source': 'file' } : { 'kubernetes.io/config.source': 'api' },
      runtimeHandler: '',
    }));
    const containers = live.map((p) => ({
      id: p.containerId,
      podSandboxId: p.sandboxId,
      metadata: { name: p.containerName, attempt: 0 },
      image: { image: 'registry.example.com/app:1.0', annotations: {}, userSpecifiedImage: '', runtimeHandler: '' },
      imageRef: `sha256:${'0'.repeat(64)}`,
      state: 'CONTAINER_RUNNING',
      createdAt: created,
      labels: {
        'io.kubernetes.container.name': p.containerName,
        'io.kubernetes.pod.name': p.name,
        'io.kubernetes.pod.namespace': p.namespace,
        'io.kubernetes.pod.uid': p.uid,
      },
      annotations: { 'io.kubernetes.container.restartCount': '0' },
      imageId: '',
    }));
    const items = live.map((p) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: p.apiUid,
        ...(p.uid !== p.apiUid
          ? { annotations: { 'kubernetes.io/config.hash': p.uid, 'kubernetes.io/config.mirror': p.uid, 'kubernetes.io/config.source': 'file' } }
          : {}),
      },
      spec: { nodeName },
      status: { phase: 'Running', containerStatuses: [{ name: p.containerName, containerID: `containerd://${p.containerId}` }] },
    }));
    writeFileSync(join(crictlDir, 'crictl-pods.json'), JSON.stringify({ items: sandboxes }, null, 2));
    writeFileSync(join(crictlDir, 'crictl-ps.json'), JSON.stringify({ containers }, null, 2));
    writeFileSync(join(crictlDir, 'kubectl-pods.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 4));
  }

  function removePodFiles(pod: FakePod): void {
    rmSync(pod.dir, { recursive: true, force: true });
    rmSync(dirname(dirname(pod.logFile)), { recursive: true, force: true });
  }

  function podSpec(index: number, isStatic: boolean): FakePodSpec {
    if (isStatic) return { namespace: 'kube-system', name: `etcd-${nodeName}-${index}`, containerName: 'etcd' };
    return options.describePod?.(index) ?? { namespace: 'default', name: `app-${hex(3)}-${index}`, containerName: 'app' };
  }

  async function addPod(index: number, kubelet: Watcher, kubeletFd: number): Promise<FakePod> {
    const isStatic = index < (options.staticPods ?? 0);
    const uid = isStatic ? hex(16) : randomUUID();
    const { namespace, name, containerName, command } = podSpec(index, isStatic);
    const containerId = hex(32);
    const dir = join(kubeletRoot, 'pods', uid);
    const volume = join(dir, 'volumes/kubernetes.io~projected', `kube-api-access-${hex(3).slice(0, 5)}`);
    const logDir = join(root, 'var/log/pods', `${namespace}_${name}_${uid}`, containerName);
    const { podCgroup, containerCgroup } = cgroupDirs(uid, containerId);
    const mountInContainer = join(root, 'rootfs', name, 'var/run/secrets/kubernetes.io/serviceaccount');

    mkdirSync(volume, { recursive: true });
    mkdirSync(join(dir, 'containers', containerName), { recursive: true });
    writeFileSync(join(dir, 'etc-hosts'), '127.0.0.1 localhost\n');
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, '0.log'), '');
    run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', volume]);
    mountedVolumes.add(volume);
    // The atomic writer's layout: a timestamped dir, ..data pointing at it, links to its files.
    mkdirSync(join(volume, ATOMIC_WRITER_DIR));
    for (const file of ['token', 'ca.crt', 'namespace']) {
      writeFileSync(join(volume, ATOMIC_WRITER_DIR, file), `${file}\n`);
      symlinkSync(`..data/${file}`, join(volume, file));
    }
    symlinkSync(ATOMIC_WRITER_DIR, join(volume, '..data'));
    cgroups.unshift(podCgroup);
    cgroups.unshift(containerCgroup);
    mkdirSync(containerCgroup, { recursive: true });
    mkdirSync(mountInContainer, { recursive: true });

    const container = spawn(['unshare', '-m', '--propagation', 'private', ...(command ? withCommandLine(command) : [])]);
    // Answers only once unshare has exec'd the helper inside the new namespace.
    await container.comm(containerName);
    run('nsenter', ['-t', String(container.pid), '-m', 'mount', '--bind', volume, mountInContainer]);
    writeFileSync(join(containerCgroup, 'cgroup.procs'), String(container.pid));
    // An inotify instance (no watches) makes the scan list the container, with its pod.
    await container.init();

    const pod: FakePod = {
      uid,
      apiUid: isStatic ? randomUUID() : uid,
      namespace,
      name,
      containerName,
      containerId,
      sandboxId: hex(32),
      dir,
      volume,
      tokenFile: join(volume, ATOMIC_WRITER_DIR, 'token'),
      etcHosts: join(dir, 'etc-hosts'),
      logFile: join(logDir, '0.log'),
      podCgroup,
      containerCgroup,
      mountInContainer,
      container,
      state: 'live',
    };
    pods.push(pod);
    for (const path of [pod.volume, pod.tokenFile, pod.etcHosts, pod.logFile]) await kubelet.watch(kubeletFd, path);
    cgroupWatches.set(pod.uid, await kubelet.watch(kubeletFd, pod.podCgroup));
    return pod;
  }

  try {
    mkdirSync(crictlDir, { recursive: true });
    installStandIn(crictlDir, 'crictl');
    installStandIn(crictlDir, 'kubectl');
    mkdirSync(join(kubeletRoot, 'pods'), { recursive: true });
    for (const file of sharedFiles) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, 'shared\n');
    }
    const kubelet = spawn(options.kubeletCommand ? withCommandLine(options.kubeletCommand) : undefined);
    await kubelet.comm('kubelet');
    const kubeletFd = await kubelet.init();
    await kubelet.watch(kubeletFd, join(kubeletRoot, 'pods'));
    for (const file of sharedFiles) await kubelet.watch(kubeletFd, file);
    for (let i = 0; i < options.pods; i++) await addPod(i, kubelet, kubeletFd);
    writeLists();

    const node: FakeNode = {
      root,
      kubeletRoot,
      crictlDir,
      nodeName,
      pods,
      kubelet,
      sharedFiles,
      pod(uid) {
        const pod = pods.find((p) => p.uid === uid);
        if (!pod) throw new Error(`fake node: no pod ${uid}`);
        return pod;
      },
      async addPods(count) {
        const added: FakePod[] = [];
        for (let i = 0; i < count; i++) added.push(await addPod(pods.length, kubelet, kubeletFd));
        writeLists();
        return added;
      },
      async deletePodLeaky(uid) {
        const pod = node.pod(uid);
        pod.state = 'leaked';
        writeLists();
        await unmount(pod.volume);
        // Removing the (now empty) mount point detaches the copies other namespaces had of it;
        // only the container's own bind mount keeps the volume alive.
        removePodFiles(pod);
      },
      async deletePodClean(uid) {
        const pod = node.pod(uid);
        pod.state = 'deleted';
        writeLists();
        await pod.container.stop();
        await unmount(pod.volume);
        removePodFiles(pod);
        // A removed cgroup dir keeps its watches (kernfs sends no IN_IGNORED): cAdvisor drops its
        // own when it sees the dir go, and a clean deletion must too.
        await kubelet.send(`rm ${kubeletFd} ${cgroupWatches.get(uid)}`);
        for (const cgroup of [pod.containerCgroup, pod.podCgroup]) rmdirSync(cgroup);
      },
      setMode(tool, mode) {
        setStandInMode(crictlDir, tool, mode);
      },
      busyUnmounts: () => busy,
      cleanup,
    };
    return node;
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
}

/** Removes a cgroup dir; a killed process leaves its cgroup busy a moment after it is reaped. */
export async function removeCgroup(dir: string): Promise<void> {
  await eventually(() => existsSync(dir) && rmdirSync(dir), {
    timeoutMs: 2_000,
    intervalMs: 20,
    retryOn: (error) => (error as NodeJS.ErrnoException).code === 'EBUSY',
  });
}
