// The attribute stage: which pod a process and each of its watch targets belong to, and whether
// that pod is still alive.

import type { Attribution, Holder, PodRef, PodState, PodsStatus, Resolution, ScannedProcess } from '../model/types.js';
import { podFromCgroups, podFromPath, type PodIdentity } from './layouts.js';
import type { PodList } from './podlist.js';

interface KnownPod {
  namespace: string | null;
  name: string | null;
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
  /** When a target or process last named each pod (performance.now()). */
  private readonly lastNamed = new Map<string, number>();
  private learnedList: PodList | null = null;

  learnList(list: PodList): void {
    if (list === this.learnedList) return;
    this.learnedList = list;
    for (const [uid, pod] of list.pods) this.pods.set(uid, { namespace: pod.namespace, name: pod.name });
    for (const [id, container] of list.containers) this.containers.set(id, { uid: container.pod.uid, name: container.name });
  }

  pod(uid: string): KnownPod | undefined {
    return this.pods.get(uid);
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
  /** performance.now() when the fetch of `list` began (PodSource.listTakenAt()). */
  listTakenAt: number | null;
  /** performance.now() of the scan, on the same clock. */
  scannedAt: number;
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

  function toRef(identity: PodIdentity | null | undefined): PodRef | null {
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
    const names = list?.pods.get(uid) ?? memory.pod(uid);
    return {
      uid,
      namespace: identity.namespace ?? names?.namespace ?? null,
      name: identity.name ?? names?.name ?? null,
      container,
      state: state(uid),
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
      firstOf(resolution.heldBy, podOfBoundFiles) ??
      (resolution.mountpointRemembered ? pathPod(resolution.mountpoint) : null) ??
      memory.device(dev) ??
      null
    );
  }

  // Something that entered only a container's mount namespace stays in its own cgroup, but the
  // namespace still has its pod's files bound into it (etc-hosts, the termination log). Files of
  // more than one pod name none.
  function podOfBoundFiles(holder: Holder): PodIdentity | null {
    const uids = new Set<string>();
    for (const path of holder.boundFrom ?? []) {
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
      return toRef(resolution.status === 'unmounted' ? unmountedTargetPod(dev, resolution) : mountedTargetPod(dev, resolution));
    },
  };
}

function firstOf<T, R>(items: readonly T[], pick: (item: T) => R | null): R | null {
  for (const item of items) {
    const found = pick(item);
    if (found !== null) return found;
  }
  return null;
}
