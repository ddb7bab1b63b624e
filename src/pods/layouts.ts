// Pod identity from the paths kubelet, the container runtimes, systemd and the log layout
// leave on a node. Pure: strings in, identities out.

/** What a path or a cgroup says about a pod. Every field is optional: a runtime dir names only a container. */
export interface PodIdentity {
  uid?: string;
  namespace?: string;
  name?: string;
  /** Container name (kubelet pod dirs, log paths). */
  container?: string;
  /** Container or sandbox id (64 hex); the pod source maps it to its pod. */
  containerId?: string;
}

export const DEFAULT_KUBELET_ROOT = '/var/lib/kubelet';
/** Where kubelet keeps pod logs (<namespace>_<name>_<uid>/): a gone pod's dir there still has its name. */
export const POD_LOG_ROOT = '/var/log/pods';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
// Static pods are known on the node by their 32-hex config hash.
const CONFIG_HASH = '[0-9a-f]{32}';
const POD_UID = new RegExp(`^(?:${UUID}|${CONFIG_HASH})$`);
const CONTAINER_ID = /^[0-9a-f]{64}$/;

export function isPodUid(value: string): boolean {
  return POD_UID.test(value);
}

/**
 * The directories below which podFromPath finds pods (cgroups aside): a filesystem that holds one
 * has its watched paths looked up, since their pods depend on them.
 */
export function podRootDirs(kubeletRoot: string = DEFAULT_KUBELET_ROOT): string[] {
  const runtimeDirs = [
    '/run/containerd',
    '/var/run/containerd',
    '/run/k3s/containerd',
    '/var/lib/containerd',
    '/run/containers/storage',
    '/var/lib/containers/storage',
  ];
  return [`${kubeletRoot.replace(/\/+$/, '')}/pods`, POD_LOG_ROOT, '/var/log/containers', ...runtimeDirs];
}

/**
 * Eight hex digits in a row: in every path podFromPath takes for a pod's, which names a pod uid (a
 * UUID or a config hash, as they are, in a slice's `_` or a mount unit's `\x2d`) or a 64-hex
 * container id. A path without them is told apart without being split or run through the layouts'
 * expressions: a one-shot asks it of every mount point in its holders' mount tables, in code still
 * cold (1–2 ms of V8's interpreter and regular expression compiles under Node 20 at 22 mounts).
 */
const HEX_RUN = /[0-9a-f]{8}/;

/**
 * The pod a path belongs to, or null when it is not a pod path. Understands kubelet pod dirs under
 * `kubeletRoot`, cgroup dirs (cgroupfs and systemd drivers, v1 and v2), systemd mount units of pod
 * volumes, /var/log/pods and /var/log/containers, and containerd / CRI-O runtime dirs.
 */
export function podFromPath(path: string, kubeletRoot: string = DEFAULT_KUBELET_ROOT): PodIdentity | null {
  if (!HEX_RUN.test(path)) return null;
  const segments = path.split('/').filter((s) => s !== '');
  return (
    fromKubeletPath(segments, splitPath(kubeletRoot)) ??
    fromMountUnit(segments, kubeletRoot) ??
    fromCgroupSegments(segments) ??
    fromLogPath(segments) ??
    fromRuntimeDir(segments)
  );
}

/**
 * The pod of a process from the lines of /proc/PID/cgroup ("hierarchy-id:controllers:path").
 * Under cgroup v1 every hierarchy repeats the pod; the line that also names the container wins.
 */
export function podFromCgroups(lines: readonly string[]): PodIdentity | null {
  let found: PodIdentity | null = null;
  for (const line of lines) {
    const path = cgroupPathOf(line);
    // Every pod cgroup is below kubepods (fromCgroupSegments): the node's own processes are not split into segments.
    if (path === null || !path.includes(KUBEPODS)) continue;
    const identity = fromCgroupSegments(splitPath(path));
    if (identity?.uid === undefined) continue;
    if (identity.containerId !== undefined) return identity;
    found ??= identity;
  }
  return found;
}

/**
 * The cgroup to show for a process, from the lines of /proc/PID/cgroup: the unified hierarchy's
 * path, unless it is the root of a hybrid host; then the first v1 one that says more.
 */
export function shownCgroupPath(lines: readonly string[]): string | null {
  const paths = lines.map((line) => ({ unified: line.startsWith('0::'), path: cgroupPathOf(line) })).filter((p) => p.path !== null);
  const chosen = paths.find((p) => p.unified && p.path !== '/') ?? paths.find((p) => p.path !== '/') ?? paths[0];
  return chosen?.path ?? null;
}

/**
 * Undoes systemd's unit-name escaping of one path component: `\xHH` is the byte HH
 * (`\x2d` is `-`, `\x7e` is `~`). The `-` that stands for `/` must be split off before.
 */
export function unescapeSystemd(component: string): string {
  // systemd escapes every byte outside [A-Za-z0-9:_.], so a non-ASCII character arrives as
  // several \xHH: collect bytes, then decode them as UTF-8.
  const bytes = component.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** A systemd path unit name (`var-lib-kubelet-pods-….mount`) back to the path it stands for. */
export function pathFromUnitName(unit: string): string {
  const stem = unit.replace(/\.[a-z]+$/, '');
  return '/' + stem.split('-').map(unescapeSystemd).join('/');
}

/** A systemd slice's pod uid (`_` stands for `-` there) in its usual form. */
export function uidFromSliceUid(sliceUid: string): string {
  return sliceUid.replaceAll('_', '-');
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function cgroupPathOf(line: string): string | null {
  const first = line.indexOf(':');
  const second = first < 0 ? -1 : line.indexOf(':', first + 1);
  return second < 0 ? null : line.slice(second + 1);
}

function indexOfSegments(segments: readonly string[], part: readonly string[]): number {
  for (let i = 0; i + part.length <= segments.length; i++) {
    if (part.every((s, j) => segments[i + j] === s)) return i;
  }
  return -1;
}

// <kubelet-root>/pods/<uid>[/containers/<container>/...|/volumes/...|/etc-hosts|...]. The root
// may come after a prefix: containers that see the host at /host or /rootfs (node-exporter,
// cAdvisor) hold pod volumes at /rootfs/var/lib/kubelet/pods/....
function fromKubeletPath(segments: readonly string[], root: readonly string[]): PodIdentity | null {
  const at = indexOfSegments(segments, [...root, 'pods']);
  if (at < 0) return null;
  const [uid, area, container] = segments.slice(at + root.length + 1);
  if (uid === undefined || !isPodUid(uid)) return null;
  if (area === 'containers' && container !== undefined) return { uid, container };
  return { uid };
}

// A mount unit of a pod volume, as a segment of a cgroup dir (systemd's own hierarchy, or v2:
// system.slice/var-lib-kubelet-pods-<uid with \x2d>-volumes-….mount).
function fromMountUnit(segments: readonly string[], kubeletRoot: string): PodIdentity | null {
  for (const segment of segments) {
    if (!segment.endsWith('.mount') || !segment.includes('-pods-')) continue;
    const identity = fromKubeletPath(splitPath(pathFromUnitName(segment)), splitPath(kubeletRoot));
    if (identity) return identity;
  }
  return null;
}

/** In every cgroup of a pod's: the cgroupfs driver's dir, or the start of the systemd driver's slice (after its prefix). */
const KUBEPODS = 'kubepods';
// The systemd driver names pod slices kubepods[-burstable|-besteffort]-pod<uid, - as _>.slice,
// some setups with a prefix (kind: kubelet-kubepods-…).
const POD_SLICE = /^(?:[\w.]+-)?kubepods(?:-burstable|-besteffort)?-pod([0-9a-f_]+)\.slice$/;
const CONTAINER_SCOPE = /^(?:cri-containerd|crio|crio-conmon|docker)-([0-9a-f]{64})\.scope$/;
// cgroupfs with CRI-O names the container dir crio-<id>; containerd uses the bare id.
const CONTAINER_DIR = /^(?:crio-|crio-conmon-|docker-)?([0-9a-f]{64})$/;

// cgroupfs driver: …/kubepods[/burstable|/besteffort]/pod<uid>[/<container-id>];
// systemd driver: …/kubepods[-qos]-pod<uid>.slice[/cri-containerd-<id>.scope].
// Anything may come before (the cgroupfs mount, a controller, a --cgroup-root such as /kubelet).
function fromCgroupSegments(segments: readonly string[]): PodIdentity | null {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const next = segments[i + 1];
    const slice = POD_SLICE.exec(segment);
    if (slice) {
      const uid = uidFromSliceUid(slice[1]!);
      if (!isPodUid(uid)) continue;
      const scope = next === undefined ? null : CONTAINER_SCOPE.exec(next);
      return scope ? { uid, containerId: scope[1]! } : { uid };
    }
    if (segment.startsWith('pod') && segments.slice(0, i).includes(KUBEPODS)) {
      const uid = segment.slice(3);
      if (!isPodUid(uid)) continue;
      const dir = next === undefined ? null : CONTAINER_DIR.exec(next);
      return dir ? { uid, containerId: dir[1]! } : { uid };
    }
  }
  return null;
}

// /var/log/pods/<namespace>_<name>_<uid>/<container>/<n>.log and
// /var/log/containers/<pod>_<namespace>_<container>-<id>.log, also under a prefix (log shippers
// mount them at /host/var/log). Names, namespaces and container names never contain `_`.
function fromLogPath(segments: readonly string[]): PodIdentity | null {
  for (const kind of ['pods', 'containers']) {
    const at = indexOfSegments(segments, ['var', 'log', kind]);
    const entry = segments[at + 3];
    if (at < 0 || entry === undefined) continue;
    if (kind === 'pods') {
      const [namespace, name, uid, ...rest] = entry.split('_');
      if (rest.length > 0 || namespace === undefined || name === undefined || uid === undefined || !isPodUid(uid)) return null;
      const container = segments[at + 4];
      return container === undefined ? { uid, namespace, name } : { uid, namespace, name, container };
    }
    const match = /^([^_]+)_([^_]+)_([^_]+)-([0-9a-f]{64})\.log$/.exec(entry);
    if (!match) return null;
    return { name: match[1]!, namespace: match[2]!, container: match[3]!, containerId: match[4]! };
  }
  return null;
}

// containerd: …/io.containerd.runtime.v2.task/k8s.io/<id>/…, …/io.containerd.grpc.v1.cri/
// {sandboxes,containers}/<id>; CRI-O: …/overlay-containers/<id>/userdata. Matched by segment so
// /run, /var/run, /var/lib and k3s's /run/k3s/containerd all work.
function fromRuntimeDir(segments: readonly string[]): PodIdentity | null {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    let id: string | undefined;
    if (segment === 'io.containerd.runtime.v2.task' && segments[i + 1] === 'k8s.io') id = segments[i + 2];
    else if (segment === 'io.containerd.grpc.v1.cri' && (segments[i + 1] === 'sandboxes' || segments[i + 1] === 'containers')) id = segments[i + 2];
    else if (segment === 'overlay-containers') id = segments[i + 1];
    if (id !== undefined && CONTAINER_ID.test(id)) return { containerId: id };
  }
  return null;
}
