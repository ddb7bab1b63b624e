// The attribute stage: which pod a process and each of its watch targets belong to, and whether
// that pod is still alive.

import type { Attribution, Holder, PodNameSource, PodRef, PodState, PodsStatus, Resolution, ScannedProcess } from '../model/types.js';
import { isPodUid, podFromCgroups, podFromPath, type PodIdentity } from './layouts.js';
import type { PodList } from './podlist.js';

interface KnownPod {
  namespace: string | null;
  name: string | null;
  /** How the session learnt the name; a list's names are 'memory' once the list no longer has the pod. */
  source: Exclude<PodNameSource, 'list' | 'path'>;
}

interface KnownContainer {
  uid: string;
  name: string | null;
}

/**
 * What the session has learned and later scans still need: names of pods that are gone from the
 * list by now, which pod a container id belonged to, the pod of each device that was mounted at a
 * pod path (for when that mount is gone), when each pod was first seen, and which pods were
 * confirmed gone by a fresh list. Create one per session and hand it to every createAttribution.
 */
export class PodMemory {
  private readonly pods = new Map<string, KnownPod>();
  private readonly containers = new Map<string, KnownContainer>();
  private readonly devices = new Map<string, PodIdentity>();
  private readonly gone = new Set<string>();
  private readonly firstSeen = new Map<string, number>();
  /** When a target or process last named each pod (uptimeMs()). */
  private readonly lastNamed = new Map<string, number>();
  private learnedList: PodList | null = null;

  learnList(list: PodList): void {
    if (list === this.learnedList) return;
    this.learnedList = list;
    for (const [uid, pod] of list.pods) this.pods.set(uid, { namespace: pod.namespace, name: pod.name, source: 'memory' });
    for (const [id, container] of list.containers) this.containers.set(id, { uid: container.pod.uid, name: container.name });
  }

  pod(uid: string): KnownPod | undefined {
    return this.pods.get(uid);
  }

  /** A gone pod's name found on the node (etc-hosts, its log dir): asked for once per session. */
  learnName(uid: string, pod: KnownPod): void {
    this.pods.set(uid, pod);
  }

  container(id: string): KnownContainer | undefined {
    return this.containers.get(id);
  }

  /** A device mounted at a pod path belongs to that pod as a whole (a volume's tmpfs). */
  rememberDevice(dev: string, identity: PodIdentity): void {
    this.devices.set(dev, identity);
  }

  device(dev: string): PodIdentity | undefined {
    return this.devices.get(dev);
  }

  /** When a scan first named this pod: `now` the first time it is asked. */
  firstSeenAt(uid: string, now: number): number {
    const seen = this.firstSeen.get(uid);
    if (seen !== undefined) return seen;
    this.firstSeen.set(uid, now);
    return now;
  }

  markGone(uid: string): void {
    this.gone.add(uid);
  }

  /** A scan named this pod (a watch's target, a process): it is remembered for a while yet. */
  named(uid: string, now: number): void {
    this.lastNamed.set(uid, now);
  }

  /**
   * Forgets pods that the last list does not have and that nothing has named for `keepMs`: what a
   * long session learns stays bounded by what is on the node.
   */
  forgetUnnamed(now: number, keepMs: number = POD_MEMORY_MS): void {
    const live = this.learnedList?.pods;
    const forgotten = new Set<string>();
    for (const uid of new Set([...this.pods.keys(), ...this.firstSeen.keys(), ...this.gone, ...this.lastNamed.keys()])) {
      if (live?.has(uid) || now - (this.lastNamed.get(uid) ?? this.firstSeen.get(uid) ?? -Infinity) < keepMs) continue;
      forgotten.add(uid);
      this.pods.delete(uid);
      this.gone.delete(uid);
      this.firstSeen.delete(uid);
      this.lastNamed.delete(uid);
    }
    if (forgotten.size === 0) return;
    for (const [id, container] of this.containers) if (forgotten.has(container.uid)) this.containers.delete(id);
    for (const [dev, identity] of this.devices) if (identity.uid !== undefined && forgotten.has(identity.uid)) this.devices.delete(dev);
  }

  isGone(uid: string): boolean {
    return this.gone.has(uid);
  }
}

/** A pod no watch names any more is remembered this long (its name, that it is gone, its volumes). */
export const POD_MEMORY_MS = 60 * 60 * 1000;

export interface AttributionDeps {
  kubeletRoot: string;
  /** Lines of /proc/PID/cgroup of any process (holders are not always scanned ones); [] when unreadable. */
  cgroupsOf: (pid: number) => string[];
  /** Notes from the pod source for this snapshot (PodSource.takeNotes()). */
  notes?: string[];
  /** uptimeMs() when the fetch of `list` began (PodSource.listTakenAt()). */
  listTakenAt: number | null;
  /** uptimeMs() of the scan, on the same clock. */
  scannedAt: number;
  /** A file as a process sees it (/proc/PID/root/PATH), null when unreadable. Names gone pods from their holders' etc-hosts. */
  readFileOf?: (pid: number, path: string) => string | null;
  /** Entry names of /var/log/pods (<namespace>_<name>_<uid>), [] when unreadable. */
  podLogDirs?: () => string[];
}

export interface PodAttribution extends Attribution {
  /**
   * Some pod was missing from a list taken before the scan that first saw it: it may be newer
   * than the list, so it is unknown until a newer list tells.
   */
  needsNewerList(): boolean;
}

/**
 * Attribution for one snapshot. `list` is the pod source's last good list (null when none
 * answered yet), `status` its status, `memory` the session's PodMemory.
 */
export function createAttribution(list: PodList | null, status: PodsStatus, memory: PodMemory, deps: AttributionDeps): PodAttribution {
  if (list !== null) memory.learnList(list);
  const cgroupPods = new Map<number, PodIdentity | null>();
  let newerListNeeded = false;

  function podOfPid(pid: number): PodIdentity | null {
    let identity = cgroupPods.get(pid);
    if (identity === undefined) {
      identity = podFromCgroups(deps.cgroupsOf(pid));
      cgroupPods.set(pid, identity);
    }
    return identity;
  }

  function state(uid: string): PodState {
    const firstSeenAt = memory.firstSeenAt(uid, deps.scannedAt);
    if (list === null) return 'unknown';
    if (list.pods.has(uid)) return 'live';
    // A list misses the pods made after it was taken: a pod is gone once a fresh list taken after
    // the pod was first seen misses it.
    if (memory.isGone(uid)) return 'gone';
    if (status.stale) return 'unknown';
    if (deps.listTakenAt === null || deps.listTakenAt < firstSeenAt) {
      newerListNeeded = true;
      return 'unknown';
    }
    memory.markGone(uid);
    return 'gone';
  }

  let logDirs: Map<string, KnownPod> | null = null;
  /** A pod's name from what outlives it on the node, for a pod no list (or memory) names. */
  function nameOnNode(uid: string, holders: readonly Holder[]): KnownPod | null {
    logDirs ??= podsOfLogDirs(deps.podLogDirs?.() ?? []);
    // The log dir first: it has the namespace too, and etc-hosts has the hostname, which a pod may set.
    const found = logDirs.get(uid) ?? firstOf(holders, (holder) => nameFromHosts(holder.pid));
    if (found) memory.learnName(uid, found);
    return found;
  }

  const hostsNames = new Map<number, KnownPod | null>();
  function nameFromHosts(pid: number): KnownPod | null {
    let known = hostsNames.get(pid);
    if (known === undefined) {
      const text = deps.readFileOf?.(pid, '/etc/hosts') ?? null;
      const name = text === null ? null : podNameFromEtcHosts(text);
      hostsNames.set(pid, (known = name === null ? null : { namespace: null, name, source: 'etc-hosts' }));
    }
    return known;
  }

  function toRef(identity: PodIdentity | null | undefined, holders: readonly Holder[] = []): PodRef | null {
    if (!identity) return null;
    let uid = identity.uid;
    let container = identity.container ?? null;
    if (identity.containerId !== undefined) {
      const live = list?.containers.get(identity.containerId);
      const known = live ? { uid: live.pod.uid, name: live.name } : memory.container(identity.containerId);
      uid ??= known?.uid;
      container ??= known?.name ?? null;
    }
    // A container id nobody has listed this session names no pod we could judge.
    if (uid === undefined) return null;
    memory.named(uid, deps.scannedAt);
    const podState = state(uid);
    if (identity.name !== undefined) {
      const namespace = identity.namespace ?? list?.pods.get(uid)?.namespace ?? memory.pod(uid)?.namespace ?? null;
      return { uid, namespace, name: identity.name, container, state: podState, nameSource: 'path' };
    }
    const listed = list?.pods.get(uid);
    const names: { namespace: string | null; name: string | null; source: PodNameSource } | null =
      (listed ? { namespace: listed.namespace, name: listed.name, source: 'list' } : null) ??
      memory.pod(uid) ??
      (podState === 'live' ? null : nameOnNode(uid, holders));
    return {
      uid,
      namespace: identity.namespace ?? names?.namespace ?? null,
      name: names?.name ?? null,
      container,
      state: podState,
      nameSource: names?.name ? names.source : null,
    };
  }

  function pathPod(path: string | null): PodIdentity | null {
    return path === null ? null : podFromPath(path, deps.kubeletRoot);
  }

  function mountedTargetPod(dev: string, resolution: Resolution): PodIdentity | null {
    const fromMount = pathPod(resolution.mountpoint);
    if (fromMount && !resolution.mountpointRemembered) memory.rememberDevice(dev, fromMount);
    return pathPod(resolution.path) ?? fromMount;
  }

  // The mount is gone from the watcher's namespace; another namespace keeps the filesystem alive.
  function unmountedTargetPod(dev: string, resolution: Resolution): PodIdentity | null {
    const inHolderNamespace = pathPod(resolution.path) ?? firstOf(resolution.heldBy, (h) => pathPod(h.mountpoint));
    if (inHolderNamespace) return inHolderNamespace;
    // A container that still holds its deleted pod's volume, bind-mounted inside its own root.
    const holderPod = firstOf(resolution.heldBy, (h) => podOfPid(h.pid));
    if (holderPod?.uid !== undefined) return { uid: holderPod.uid };
    return (
      firstOf(resolution.heldBy, podOfBoundFiles) ?? (resolution.mountpointRemembered ? pathPod(resolution.mountpoint) : null) ?? memory.device(dev) ?? null
    );
  }

  // Something that entered only a container's mount namespace stays in its own cgroup, but the
  // namespace still has its pod's files bound into it (etc-hosts, the termination log). Files of
  // more than one pod name none.
  function podOfBoundFiles(holder: Holder): PodIdentity | null {
    const uids = new Set<string>();
    for (const path of holder.boundFrom) {
      const uid = pathPod(path)?.uid;
      if (uid !== undefined) uids.add(uid);
    }
    const [uid, ...others] = uids;
    return uid !== undefined && others.length === 0 ? { uid } : null;
  }

  return {
    status,
    notes: deps.notes ?? [],
    needsNewerList: () => newerListNeeded,
    processPod(proc: Pick<ScannedProcess, 'pid' | 'cgroups'>): PodRef | null {
      const identity = podFromCgroups(proc.cgroups);
      cgroupPods.set(proc.pid, identity);
      return toRef(identity);
    },
    targetPod(dev: string, resolution: Resolution | null): PodRef | null {
      if (resolution === null) return toRef(memory.device(dev));
      const identity = resolution.status === 'unmounted' ? unmountedTargetPod(dev, resolution) : mountedTargetPod(dev, resolution);
      return toRef(identity, resolution.heldBy);
    },
  };
}

/**
 * The pod's name from its etc-hosts, as kubelet writes it for a pod on the pod network: the
 * managed header, the localhost lines, then `<pod IP>\t[<FQDN>\t]<hostname>` (the hostname is
 * the pod's name unless the pod sets one), then host aliases. Null for any other file (the
 * host-network form is the node's own hosts file).
 */
export function podNameFromEtcHosts(text: string): string | null {
  const lines = text.split('\n');
  if (lines[0]?.trim() !== '# Kubernetes-managed hosts file.') return null;
  const aliases = lines.findIndex((line) => line.startsWith('# Entries added by HostAliases.'));
  const own = (aliases < 0 ? lines : lines.slice(0, aliases)).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const fields = own.at(-1)?.split(/\s+/) ?? [];
  const hostname = fields.at(-1);
  if (fields.length < 2 || hostname === undefined || hostname === 'localhost' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(hostname)) return null;
  if (/^(127\.|::1$|fe00::|ff0[02]::)/.test(fields[0]!)) return null;
  return hostname;
}

/** Pods by uid from the names of /var/log/pods entries (<namespace>_<name>_<uid>). */
function podsOfLogDirs(entries: readonly string[]): Map<string, KnownPod> {
  const pods = new Map<string, KnownPod>();
  for (const entry of entries) {
    const [namespace, name, uid, ...rest] = entry.split('_');
    if (rest.length > 0 || !namespace || !name || uid === undefined || !isPodUid(uid)) continue;
    pods.set(uid, { namespace, name, source: 'pod-logs' });
  }
  return pods;
}

function firstOf<T, R>(items: readonly T[], pick: (item: T) => R | null): R | null {
  for (const item of items) {
    const found = pick(item);
    if (found !== null) return found;
  }
  return null;
}
