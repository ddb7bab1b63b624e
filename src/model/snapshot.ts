// Builds the model snapshot from the stages' outputs: targets grouped per inode, leaks, per-user
// and node totals with shared instances counted once.
import type {
  Attribution,
  LeakForm,
  PodsStatus,
  ProcessRow,
  Resolution,
  Resolutions,
  ScanResult,
  ScannedProcess,
  Snapshot,
  TargetRow,
  UserRow,
} from './types.js';

const NO_POD_SOURCE: PodsStatus = { source: 'none', live: null, stale: false, error: null };

export function buildSnapshot(scan: ScanResult, resolutions: Resolutions | null, attribution: Attribution | null): Snapshot {
  const processes = scan.processes.map((proc) => buildProcessRow(proc, scan.hostUserns, resolutions, attribution));
  const counted = new Set<string>();
  const users = new Map<string, UserRow>();
  let instances = 0;
  let watches = 0;
  // The kernel charges an instance to one user; a shared one goes to its first (lowest pid) holder.
  for (const proc of scan.processes) {
    const userns = proc.userns !== null && proc.userns !== scan.hostUserns ? proc.userns : null;
    const key = `${userns ?? ''}/${proc.uid}`;
    let user = users.get(key);
    if (!user) {
      user = { uid: proc.uid, name: proc.user, userns, instances: 0, watches: 0 };
      users.set(key, user);
    }
    for (const instance of proc.instances) {
      if (counted.has(instance.instanceId)) continue;
      counted.add(instance.instanceId);
      user.instances++;
      user.watches += instance.watches.length;
      instances++;
      watches += instance.watches.length;
    }
  }
  const notes = [...scan.notes, ...(resolutions?.notes ?? []), ...(attribution?.notes ?? [])];
  return {
    schema: 1,
    time: scan.time,
    hostname: scan.hostname,
    kernel: scan.kernel,
    limits: scan.limits,
    totals: { processes: processes.length, instances, watches },
    users: [...users.values()].filter((u) => u.instances > 0).sort((a, b) => b.watches - a.watches || a.uid - b.uid),
    processes: processes.sort((a, b) => b.watches - a.watches || a.pid - b.pid),
    pods: attribution?.status ?? NO_POD_SOURCE,
    notes,
    scanMs: Math.round(scan.durationMs * 10) / 10,
  };
}

function buildProcessRow(
  proc: ScannedProcess,
  hostUserns: string | null,
  resolutions: Resolutions | null,
  attribution: Attribution | null,
): ProcessRow {
  const byInode = new Map<string, TargetRow>();
  let watches = 0;
  for (const instance of proc.instances) {
    watches += instance.watches.length;
    for (const watch of instance.watches) {
      const key = `${watch.dev}/${watch.ino}`;
      const target = byInode.get(key);
      if (target) {
        target.watches++;
        target.mask |= watch.mask;
        if (!target.fds.includes(instance.fd)) target.fds.push(instance.fd);
      } else {
        byInode.set(key, {
          dev: watch.dev,
          ino: watch.ino,
          watches: 1,
          fds: [instance.fd],
          mask: watch.mask,
          ...unresolved(),
        });
      }
    }
  }
  let leaked = 0;
  const targets = [...byInode.values()];
  for (const target of targets) {
    const resolution = resolutions?.get(proc.pid, target.dev, target.ino);
    if (resolution) applyResolution(target, resolution);
    target.pod = attribution?.targetPod(proc, target.dev, target.ino, resolution) ?? null;
    target.leak = leakForm(target);
    if (target.leak) leaked += target.watches;
  }
  targets.sort((a, b) => b.watches - a.watches || compareDev(a.dev, b.dev) || a.ino - b.ino);
  return {
    pid: proc.pid,
    ppid: proc.ppid,
    uid: proc.uid,
    user: proc.user,
    userns: proc.userns !== null && proc.userns !== hostUserns ? proc.userns : null,
    comm: proc.comm,
    cmdline: proc.cmdline,
    instances: proc.instances.length,
    watches,
    fds: proc.instances.map((i) => ({ fd: i.fd, watches: i.watches.length, shared: i.shared })),
    leaked,
    pod: attribution?.processPod(proc) ?? null,
    targets,
  };
}

function unresolved(): Omit<TargetRow, 'dev' | 'ino' | 'watches' | 'fds' | 'mask'> {
  return {
    path: null,
    mountpoint: null,
    mountpointRemembered: false,
    fstype: null,
    status: 'unresolved',
    reason: 'not resolved',
    heldBy: [],
    holders: [],
    pod: null,
    leak: null,
  };
}

function applyResolution(target: TargetRow, resolution: Resolution): void {
  target.path = resolution.path;
  target.mountpoint = resolution.mountpoint;
  target.mountpointRemembered = resolution.mountpointRemembered;
  target.fstype = resolution.fstype;
  target.status = resolution.status;
  target.reason = resolution.reason;
  target.holders = resolution.heldBy;
  target.heldBy = resolution.heldBy.map((h) => h.pid);
}

/** Unmounted first (the strongest signal), then deleted, then a gone pod. */
export function leakForm(target: Pick<TargetRow, 'status' | 'pod'>): LeakForm | null {
  if (target.status === 'unmounted') return 'unmounted';
  if (target.status === 'deleted') return 'deleted';
  if (target.pod?.state === 'gone') return 'gone';
  return null;
}

function compareDev(a: string, b: string): number {
  const [amaj, amin] = a.split(':').map(Number) as [number, number];
  const [bmaj, bmin] = b.split(':').map(Number) as [number, number];
  return amaj - bmaj || amin - bmin;
}
