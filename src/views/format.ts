// Text helpers shared by the batch table and the screen.
import type { PodRef, TargetRow } from '../model/types.js';

export function podLabel(pod: PodRef | null): string {
  if (!pod) return '';
  // Unnamed: the uid alone; whatever says it is a pod ("pod X gone", a POD column) says so once.
  // A name found without its namespace (a gone pod's etc-hosts) shows alone.
  const name = pod.name ? (pod.namespace ? `${pod.namespace}/${pod.name}` : pod.name) : pod.uid;
  return pod.state === 'live' ? name : `${name} (${pod.state})`;
}

/** "1,234/8,192 15%", or the bare count when the limit is unknown. */
export function usage(used: number, limit: number | null): string {
  if (limit === null || limit <= 0) return used.toLocaleString('en-US');
  return `${used.toLocaleString('en-US')}/${limit.toLocaleString('en-US')} ${percent(used, limit)}`;
}

export function percent(used: number, limit: number): string {
  const value = (100 * used) / limit;
  return value > 0 && value < 1 ? '<1%' : `${Math.round(value)}%`;
}

export function signed(n: number): string {
  const text = n.toLocaleString('en-US');
  return n > 0 ? `+${text}` : text;
}

/** What a target's status means for an operator, with the holder when one pins it. */
export function statusText(target: TargetRow): string {
  switch (target.status) {
    case 'ok':
      return target.pod?.state === 'gone' ? 'gone pod' : 'ok';
    case 'unmounted':
      return 'unmounted';
    case 'deleted':
      return 'deleted';
    case 'unresolved':
      return 'unresolved';
  }
}

export function holdersText(target: TargetRow): string {
  if (target.holders.length === 0) return '';
  return 'held by ' + target.holders.map((h) => `pid ${h.pid} ${h.comm}`).join(', ');
}

export function targetPathText(target: TargetRow): string {
  if (target.path !== null) return target.path;
  if (target.mountpoint !== null) return `${target.mountpoint}${target.mountpointRemembered ? ' (last seen)' : ''} ino ${target.ino}`;
  return target.reason ? `? (${target.reason})` : '?';
}

/** Pads or cuts to a width in terminal columns; cut text ends with "…". */
export { fitColumns as fit } from './width.js';
