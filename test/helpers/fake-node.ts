// A simulated Kubernetes node on the real kernel, for tests and the benchmark: a kubelet root with
// pod dirs and a tmpfs kube-api-access volume per pod, a pod cgroup per pod, pod log dirs, a
// process named kubelet watching all of that, a container-like process per pod (own mount
// namespace, in its pod's cgroup, the volume bind-mounted into its root), and crictl and kubectl
// stand-ins answering with the live pods. Needs root. Everything it makes, cleanup() removes.

import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Watcher } from './inowatch.js';

const here = dirname(fileURLToPath(import.meta.url));

export type StandInTool = 'crictl' | 'kubectl';
export type StandInMode = 'ok' | 'fail' | 'hang' | 'garbage';

/** Puts the stand-in for `tool` into `dir` (as `dir/tool`); its answers are files next to it. */
export function installStandIn(dir: string, tool: StandInTool): string {
  const path = join(dir, tool);
  copyFileSync(join(here, `${tool}-stand-in.sh`), path);
  return path;
}

export function setStandInMode(dir: string, tool: StandInTool, mode: StandInMode): void {
  writeFileSync(join(dir, `${tool}-mode`), mode === 'ok' ? '' : mode);
}

export interface FakeNodeOptions {
  pods: number;
  /** How many of the pods are static (known on the node by a 32-hex config hash). */
  staticPods?: number;
  /** Directory to make the node in (a fresh temp dir inside it); default os.tmpdir(). */
  root?: string;
  cgroupDriver?: 'cgroupfs' | 'systemd';
  nodeName?: string;
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
  /** A file inside the volume, behind the atomic writer's ..data link. */
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
  /** A leak: gone from the lists, unmounted and removed on the host, still mounted in its container. */
  deletePodLeaky(uid: string): Promise<void>;
  /** A proper deletion: container stopped, volume unmounted, dirs and cgroups removed. */
  deletePodClean(uid: string): Promise<void>;
  setMode(tool: StandInTool, mode: StandInMode): void;
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

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export async function buildFakeNode(options: FakeNodeOptions): Promise<FakeNode> {
  const driver = options.cgroupDriver ?? 'cgroupfs';
  const root = mkdtempSync(join(options.root ?? tmpdir(), 'inotop-node-'));
  const kubeletRoot = join(root, 'var/lib/kubelet');
  const crictlDir = join(root, 'bin');
  const nodeName = options.nodeName ?? 'fake-node-1';
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
  let kubelet: Watcher | null = null;
  let kubeletFd = -1;
  /** Pod uid -> kubelet's watch descriptor on the pod cgroup. */
  const cgroupWatches = new Map<string, number>();

  function cgroupDirs(uid: string, containerId: string): { podCgroup: string; containerCgroup: string } {
    if (driver === 'systemd') {
      const podCgroup = join(qosCgroups[0]!, `kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice`);
      return { podCgroup, containerCgroup: join(podCgroup, `cri-containerd-${containerId}.scope`) };
    }
    const podCgroup = join(qosCgroups[0]!, `pod${uid}`);
    return { podCgroup, containerCgroup: join(podCgroup, containerId) };
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
      annotations: p.uid !== p.apiUid ? { 'kubernetes.io/config.hash': p.uid, 'kubernetes.io/config.source': 'file' } : { 'kubernetes.io/config.source': 'api' },
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
        ...(p.uid !== p.apiUid ? { annotations: { 'kubernetes.io/config.hash': p.uid, 'kubernetes.io/config.mirror': p.uid, 'kubernetes.io/config.source': 'file' } } : {}),
      },
      spec: { nodeName },
      status: { phase: 'Running', containerStatuses: [{ name: p.containerName, containerID: `containerd://${p.containerId}` }] },
    }));
    writeFileSync(join(crictlDir, 'crictl-pods.json'), JSON.stringify({ items: sandboxes }, null, 2));
    writeFileSync(join(crictlDir, 'crictl-ps.json'), JSON.stringify({ containers }, null, 2));
    writeFileSync(join(crictlDir, 'kubectl-pods.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 4));
  }

  function removeCgroup(pod: FakePod): void {
    for (const dir of [pod.containerCgroup, pod.podCgroup]) {
      if (existsSync(dir)) rmdirSync(dir);
    }
  }

  function unmountVolume(pod: FakePod): void {
    if (mountedVolumes.delete(pod.volume)) run('umount', [pod.volume]);
  }

  function removePodFiles(pod: FakePod): void {
    rmSync(pod.dir, { recursive: true, force: true });
    rmSync(dirname(dirname(pod.logFile)), { recursive: true, force: true });
  }

  const node: FakeNode = {
    root,
    kubeletRoot,
    crictlDir,
    nodeName,
    pods,
    get kubelet(): Watcher {
      return kubelet!;
    },
    sharedFiles: [join(root, 'etc/kubernetes/kubelet.conf'), join(kubeletRoot, 'config.yaml'), join(root, 'etc/resolv.conf')],
    pod(uid) {
      const pod = pods.find((p) => p.uid === uid);
      if (!pod) throw new Error(`fake node: no pod ${uid}`);
      return pod;
    },
    async deletePodLeaky(uid) {
      const pod = node.pod(uid);
      pod.state = 'leaked';
      writeLists();
      unmountVolume(pod);
      // Removing the (now empty) mount point detaches the copies other namespaces had of it;
      // only the container's own bind mount keeps the volume alive.
      removePodFiles(pod);
    },
    async deletePodClean(uid) {
      const pod = node.pod(uid);
      pod.state = 'deleted';
      writeLists();
      await pod.container.stop();
      unmountVolume(pod);
      removePodFiles(pod);
      // A removed cgroup dir keeps its watches (kernfs sends no IN_IGNORED): cAdvisor drops its
      // own when it sees the dir go, and a clean deletion must too.
      await kubelet!.send(`rm ${kubeletFd} ${cgroupWatches.get(uid)}`);
      removeCgroup(pod);
    },
    setMode(tool, mode) {
      setStandInMode(crictlDir, tool, mode);
    },
    async cleanup() {
      await Promise.all(watchers.map((w) => w.stop()));
      for (const pod of pods) {
        try {
          unmountVolume(pod);
        } catch {
          // cleanup goes on: a volume left mounted makes rmSync below fail loudly instead
        }
      }
      const cgroups = [...pods.flatMap((p) => [p.containerCgroup, p.podCgroup]), ...qosCgroups, cgroupTop];
      for (const dir of cgroups) {
        // A killed process leaves its cgroup a moment after it is reaped.
        for (let attempt = 0; existsSync(dir); attempt++) {
          try {
            rmdirSync(dir);
          } catch (error) {
            if (attempt >= 100 || (error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    mkdirSync(crictlDir, { recursive: true });
    installStandIn(crictlDir, 'crictl');
    installStandIn(crictlDir, 'kubectl');
    for (const file of node.sharedFiles) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, 'shared\n');
    }
    const staticPods = options.staticPods ?? 0;
    for (let i = 0; i < options.pods; i++) {
      const isStatic = i < staticPods;
      const uid = isStatic ? hex(16) : randomUUID();
      const name = isStatic ? `etcd-${nodeName}-${i}` : `app-${hex(3)}-${i}`;
      const namespace = isStatic ? 'kube-system' : 'default';
      const containerName = isStatic ? 'etcd' : 'app';
      const containerId = hex(32);
      const dir = join(kubeletRoot, 'pods', uid);
      const volume = join(dir, 'volumes/kubernetes.io~projected', `kube-api-access-${hex(3).slice(0, 5)}`);
      const logDir = join(root, 'var/log/pods', `${namespace}_${name}_${uid}`, containerName);
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
        tokenFile: join(volume, '..data/token'),
        etcHosts: join(dir, 'etc-hosts'),
        logFile: join(logDir, '0.log'),
        ...cgroupDirs(uid, containerId),
        mountInContainer: join(root, 'rootfs', name, 'var/run/secrets/kubernetes.io/serviceaccount'),
        container: null as unknown as Watcher,
        state: 'live',
      };
      pods.push(pod);
      mkdirSync(volume, { recursive: true });
      mkdirSync(join(dir, 'containers', containerName), { recursive: true });
      writeFileSync(pod.etcHosts, '127.0.0.1 localhost\n');
      mkdirSync(logDir, { recursive: true });
      writeFileSync(pod.logFile, '');
      run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', volume]);
      mountedVolumes.add(volume);
      // The atomic writer's layout: a timestamped dir, ..data pointing at it, links to its files.
      const stamp = '..2026_11_27_10_00_00.123456789';
      mkdirSync(join(volume, stamp));
      for (const file of ['token', 'ca.crt', 'namespace']) {
        writeFileSync(join(volume, stamp, file), `${file}\n`);
        symlinkSync(`..data/${file}`, join(volume, file));
      }
      symlinkSync(stamp, join(volume, '..data'));
      mkdirSync(pod.containerCgroup, { recursive: true });
      mkdirSync(pod.mountInContainer, { recursive: true });
    }

    for (const pod of pods) {
      pod.container = new Watcher({ wrapper: ['unshare', '-m', '--propagation', 'private'] });
      watchers.push(pod.container);
      // Answers only once unshare has exec'd the helper inside the new namespace.
      await pod.container.comm(pod.containerName);
      run('nsenter', ['-t', String(pod.container.pid), '-m', 'mount', '--bind', pod.volume, pod.mountInContainer]);
      writeFileSync(join(pod.containerCgroup, 'cgroup.procs'), String(pod.container.pid));
      // An inotify instance (no watches) makes the scan list the container, with its pod.
      await pod.container.init();
    }

    kubelet = new Watcher();
    watchers.push(kubelet);
    await kubelet.comm('kubelet');
    kubeletFd = await kubelet.init();
    await kubelet.watch(kubeletFd, join(kubeletRoot, 'pods'));
    for (const file of node.sharedFiles) await kubelet.watch(kubeletFd, file);
    for (const pod of pods) {
      for (const path of [pod.volume, pod.tokenFile, pod.etcHosts, pod.logFile]) await kubelet.watch(kubeletFd, path);
      cgroupWatches.set(pod.uid, await kubelet.watch(kubeletFd, pod.podCgroup));
    }
    writeLists();
  } catch (error) {
    await node.cleanup().catch(() => undefined);
    throw error;
  }
  return node;
}
