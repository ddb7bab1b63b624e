// The words a target and its pod are said in: what the detail pane, the tables and the batch
// output show, and what the pane's `/` filter matches (model/pane.ts), so that a filter finds
// what the operator reads.
import type { PodRef, TargetRow } from './types.js';

/** "namespace/name", with its state when the pod is not live. */
export function podLabel(pod: PodRef | null): string {
  if (!pod) return '';
  // Unnamed: the uid alone; whatever says it is a pod ("pod X gone", a POD column) says so once.
  // A name found without its namespace (a gone pod's etc-hosts) shows alone.
  const name = pod.name ? (pod.namespace ? `${pod.namespace}/${pod.name}` : pod.name) : pod.uid;
  return pod.state === 'live' ? name : `${name} (${pod.state})`;
}

/** A target's path as its watcher sees it; a fanotify mark's says its type first and its events last. */
export function targetPathText(target: TargetRow): string {
  if (target.kind !== 'fanotify') return pathText(target);
  const what = target.markType === 'mount' ? `mount ${target.mntId ?? '?'}` : (target.markType ?? 'inode');
  return `[fanotify ${what}] ${pathText(target)}  ${fanotifyMaskNames(target.mask).join('|')}`;
}

function pathText(target: TargetRow): string {
  if (target.path !== null) return target.path;
  const ino = target.kind === 'fanotify' && target.markType !== 'inode' ? '' : ` ino ${target.ino}`;
  if (target.mountpoint !== null) return `${target.mountpoint}${target.mountpointRemembered ? ' (last seen)' : ''}${ino}`;
  return target.reason ? `? (${target.reason})` : '?';
}

/** The event bits of include/uapi/linux/fanotify.h, lowest first. */
const FANOTIFY_MASK_BITS: readonly [number, string][] = [
  [0x1, 'FAN_ACCESS'],
  [0x2, 'FAN_MODIFY'],
  [0x4, 'FAN_ATTRIB'],
  [0x8, 'FAN_CLOSE_WRITE'],
  [0x10, 'FAN_CLOSE_NOWRITE'],
  [0x20, 'FAN_OPEN'],
  [0x40, 'FAN_MOVED_FROM'],
  [0x80, 'FAN_MOVED_TO'],
  [0x100, 'FAN_CREATE'],
  [0x200, 'FAN_DELETE'],
  [0x400, 'FAN_DELETE_SELF'],
  [0x800, 'FAN_MOVE_SELF'],
  [0x1000, 'FAN_OPEN_EXEC'],
  [0x4000, 'FAN_Q_OVERFLOW'],
  [0x8000, 'FAN_FS_ERROR'],
  [0x10000, 'FAN_OPEN_PERM'],
  [0x20000, 'FAN_ACCESS_PERM'],
  [0x40000, 'FAN_OPEN_EXEC_PERM'],
  [0x100000, 'FAN_PRE_ACCESS'],
  [0x1000000, 'FAN_MNT_ATTACH'],
  [0x2000000, 'FAN_MNT_DETACH'],
  [0x8000000, 'FAN_EVENT_ON_CHILD'],
  [0x10000000, 'FAN_RENAME'],
  [0x40000000, 'FAN_ONDIR'],
];

/** A fanotify mask's bits by name (FAN_OPEN, FAN_CLOSE_WRITE…); bits without a name as one hex number. */
export function fanotifyMaskNames(mask: number): string[] {
  const names: string[] = [];
  let rest = mask >>> 0;
  for (const [bit, name] of FANOTIFY_MASK_BITS) {
    if ((rest & bit) === 0) continue;
    names.push(name);
    rest = (rest & ~bit) >>> 0;
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names;
}
