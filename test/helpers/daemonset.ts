// deploy/daemonset.yaml's pod as kubelet would run it over CRI: the container's command, env,
// security context, resources and volume mounts translated the way kubelet translates them
// (kuberuntime: $(VAR) expansion, capabilities, default masked paths, hostPath propagation).
// Every field of the pod spec is either translated or named here as one the harness does not
// need; a field added to the manifest that is neither fails, so the test never runs a spec
// quietly different from the one shipped.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { Containerd, CriMount, PodSpec } from './containerd.js';

const manifestPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'daemonset.yaml');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  mountPropagation?: 'None' | 'HostToContainer' | 'Bidirectional';
}
interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: { medium?: string; sizeLimit?: string };
}
interface HttpProbe {
  httpGet: { path: string; port: string | number };
}
export interface ManifestContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  securityContext?: {
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
    appArmorProfile?: { type: string };
  };
  volumeMounts?: VolumeMount[];
}
export interface ManifestPodSpec {
  hostPID?: boolean;
  hostNetwork?: boolean;
  containers: ManifestContainer[];
  volumes?: Volume[];
  [field: string]: unknown;
}

/** Pod fields that decide where and whether the pod runs, or what kubelet does around it: nothing of the container's run. */
const SCHEDULING_FIELDS = new Set(['nodeSelector', 'priorityClassName', 'tolerations', 'terminationGracePeriodSeconds', 'automountServiceAccountToken']);
const POD_FIELDS = new Set([...SCHEDULING_FIELDS, 'hostPID', 'hostNetwork', 'containers', 'volumes']);
/** Container fields the harness leaves to the test: the image is the test's build, probes are the test's requests. */
const CONTAINER_FIELDS = new Set([
  'name',
  'image',
  'command',
  'args',
  'env',
  'ports',
  'readinessProbe',
  'livenessProbe',
  'resources',
  'securityContext',
  'volumeMounts',
]);
const SECURITY_FIELDS = new Set(['runAsUser', 'allowPrivilegeEscalation', 'readOnlyRootFilesystem', 'capabilities', 'seccompProfile', 'appArmorProfile']);

/** kubelet's default /proc masks for procMount Default (k8s.io/kubernetes/pkg/securitycontext). */
const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const PROPAGATION = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
} as const;

export interface DaemonSetObject {
  kind: 'DaemonSet';
  metadata: { name: string };
  spec: { template: { spec: ManifestPodSpec } };
}

/** The DaemonSet, as deploy/daemonset.yaml has it. */
export function daemonSetManifest(name = 'inotop'): DaemonSetObject {
  for (const doc of parseAllDocuments(readFileSync(manifestPath, 'utf8'))) {
    const object = doc.toJS() as Partial<DaemonSetObject> | null;
    if (object?.kind === 'DaemonSet' && object.metadata?.name === name && object.spec?.template?.spec) return object as DaemonSetObject;
  }
  throw new Error(`no DaemonSet ${name} in ${manifestPath}`);
}

/** The node's /run for the runtimes it does not run, shared as systemd makes a node's mounts (HostToContainer needs that). */
export function nodeRun(runtime: Containerd): string {
  return join(runtime.dir, 'node-run');
}

/**
 * Where the node's runtime directories are for a pod of the DaemonSet: containerd's is the
 * harness's; k3s's and CRI-O's are absent on this machine, so each pod gets paths of its own for
 * them, under nodeRun() (never the machine's /run; `runtime.sharedMount(nodeRun(runtime))` first),
 * that do not exist until kubelet makes them.
 */
export function runtimeDirs(runtime: Containerd): Record<string, string> {
  const absent = join(nodeRun(runtime), randomBytes(3).toString('hex'));
  return { '/run/containerd': runtime.runDir, '/run/k3s/containerd': join(absent, 'k3s', 'containerd'), '/run/crio': join(absent, 'crio') };
}

export interface KubeletContext {
  /** What the downward API's spec.nodeName gives. */
  nodeName: string;
  /** kubelet's dir for this pod (<kubelet root>/pods/<uid>): emptyDir volumes are made in it. */
  podDir: string;
  /** Host paths the test puts elsewhere (e.g. /run/containerd: this containerd's socket dir; the other runtimes' where this machine has none). */
  hostPaths?: Record<string, string>;
  image: string;
}

/** The parts of a harness PodSpec that come from the manifest's pod and its one container. */
export type TranslatedPod = Required<Pick<PodSpec, 'image' | 'args' | 'env' | 'mounts' | 'hostPid' | 'serviceAccountToken' | 'securityContext' | 'resources'>> &
  Pick<PodSpec, 'command' | 'containerName'>;

export function criPodFromManifest(pod: ManifestPodSpec, context: KubeletContext): TranslatedPod {
  refuseUnknown('pod spec', pod, POD_FIELDS);
  if (pod.containers.length !== 1) throw new Error(`the harness runs one container per pod; the manifest has ${pod.containers.length}`);
  const container = pod.containers[0]!;
  refuseUnknown(`container ${container.name}`, container, CONTAINER_FIELDS);
  const security = container.securityContext ?? {};
  refuseUnknown(`container ${container.name} securityContext`, security, SECURITY_FIELDS);

  const env = (container.env ?? []).map((variable) => ({ key: variable.name, value: envValue(variable, context) }));
  const values = new Map(env.map(({ key, value }) => [key, value]));
  const expand = (words: string[] | undefined) => words?.map((word) => expandVariables(word, values));

  const securityContext: Record<string, unknown> = {
    capabilities: { addCapabilities: security.capabilities?.add ?? [], dropCapabilities: security.capabilities?.drop ?? [] },
    readonlyRootfs: security.readOnlyRootFilesystem ?? false,
    noNewPrivs: security.allowPrivilegeEscalation === false,
    maskedPaths: DEFAULT_MASKED_PATHS,
    readonlyPaths: DEFAULT_READONLY_PATHS,
    seccomp: securityProfile(security.seccompProfile?.type),
    apparmor: securityProfile(security.appArmorProfile?.type),
  };
  if (security.runAsUser !== undefined) securityContext['runAsUser'] = { value: String(security.runAsUser) };

  const resources: Record<string, unknown> = {};
  const memoryLimit = container.resources?.limits?.memory;
  if (memoryLimit !== undefined) resources['memoryLimitInBytes'] = String(quantityBytes(memoryLimit));
  const cpuRequest = container.resources?.requests?.cpu;
  // kubelet's MilliCPUToShares.
  if (cpuRequest !== undefined) resources['cpuShares'] = String(Math.max(2, Math.floor((milliCpu(cpuRequest) * 1024) / 1000)));

  return {
    image: context.image,
    containerName: container.name,
    ...(container.command ? { command: expand(container.command)! } : {}),
    args: expand(container.args) ?? [],
    env,
    mounts: (container.volumeMounts ?? []).map((mount) => criMount(mount, pod.volumes ?? [], context)),
    hostPid: pod.hostPID ?? false,
    serviceAccountToken: pod['automountServiceAccountToken'] !== false,
    securityContext,
    resources,
  };
}

/** The container's named ports. */
export function containerPorts(container: ManifestContainer): Map<string, number> {
  return new Map((container.ports ?? []).flatMap((port) => (port.name ? [[port.name, port.containerPort] as const] : [])));
}

/** A probe's URL as kubelet requests it, on the pod's IP (here the node's: no CNI). */
export function probeUrl(container: ManifestContainer, probe: HttpProbe | undefined, host: string): string {
  if (!probe) throw new Error(`container ${container.name} has no such probe`);
  const port = typeof probe.httpGet.port === 'number' ? probe.httpGet.port : containerPorts(container).get(probe.httpGet.port);
  if (port === undefined) throw new Error(`probe port ${probe.httpGet.port} is not a port of ${container.name}`);
  return `http://${host}:${port}${probe.httpGet.path}`;
}

function refuseUnknown(what: string, object: object, known: Set<string>): void {
  const unknown = Object.keys(object).filter((field) => !known.has(field));
  if (unknown.length > 0) throw new Error(`deploy/daemonset.yaml: ${what} has ${unknown.join(', ')}, which the test's kubelet does not translate`);
}

function envValue(variable: EnvVar, context: KubeletContext): string {
  if (variable.value !== undefined) return variable.value;
  const field = variable.valueFrom?.fieldRef?.fieldPath;
  if (field === 'spec.nodeName') return context.nodeName;
  throw new Error(`env ${variable.name}: only values and the spec.nodeName field are translated`);
}

/** kubelet's $(VAR) expansion: defined variables replaced, $$ an escaped $, anything else kept. */
export function expandVariables(word: string, values: Map<string, string>): string {
  return word.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return values.get(name) ?? match;
  });
}

function securityProfile(type: string | undefined): { profileType: string } {
  if (type === undefined || type === 'RuntimeDefault') return { profileType: 'RuntimeDefault' };
  if (type === 'Unconfined') return { profileType: 'Unconfined' };
  throw new Error(`security profile type ${type} is not translated`);
}

function criMount(mount: VolumeMount, volumes: Volume[], context: KubeletContext): CriMount {
  const volume = volumes.find((candidate) => candidate.name === mount.name);
  if (!volume) throw new Error(`volumeMount ${mount.name}: no such volume`);
  let hostPath: string;
  if (volume.hostPath) {
    hostPath = context.hostPaths?.[volume.hostPath.path] ?? volume.hostPath.path;
    const found = statSync(hostPath, { throwIfNoEntry: false });
    if (volume.hostPath.type === 'Directory' && !found?.isDirectory()) {
      throw new Error(`hostPath ${volume.hostPath.path} (here ${hostPath}) is not a directory: kubelet would not start the pod`);
    }
    if (volume.hostPath.type === 'DirectoryOrCreate') {
      // kubelet makes it (0755, root's) when it is missing; anything else there but a directory fails.
      if (found === undefined) mkdirSync(hostPath, { recursive: true, mode: 0o755 });
      else if (!found.isDirectory()) throw new Error(`hostPath ${volume.hostPath.path} (here ${hostPath}) is not a directory: kubelet would not start the pod`);
    }
  } else if (volume.emptyDir) {
    if (volume.emptyDir.medium !== undefined) throw new Error(`emptyDir ${volume.name}: medium ${volume.emptyDir.medium} is not translated`);
    // On the node's disk under the pod dir; sizeLimit is enforced by eviction, not by the mount.
    hostPath = join(context.podDir, 'volumes', 'kubernetes.io~empty-dir', volume.name);
    if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true, mode: 0o777 });
  } else {
    throw new Error(`volume ${volume.name}: only hostPath and emptyDir are translated`);
  }
  return { containerPath: mount.mountPath, hostPath, readonly: mount.readOnly ?? false, propagation: PROPAGATION[mount.mountPropagation ?? 'None'] };
}

function quantityBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!match) throw new Error(`memory quantity ${quantity} is not translated`);
  return Number(match[1]) * { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] ?? '']!;
}

function milliCpu(quantity: string): number {
  const match = /^(\d+)(m)?$/.exec(quantity);
  if (!match) throw new Error(`cpu quantity ${quantity} is not translated`);
  return match[2] ? Number(match[1]) : Number(match[1]) * 1000;
}
