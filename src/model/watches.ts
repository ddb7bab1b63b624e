// Reading WatchLists (model/types.ts): devices as mountinfo names them, a watch as an object, and
// the devices of a list with their counts. Pure.
import type { FileHandle, Watch, WatchList } from './types.js';

/** Kernel-internal dev_t (as fdinfo prints sdev) to "MAJ:MIN": major = sdev >> 20, minor = sdev & 0xfffff. */
export function devFromKernelDev(sdev: number): string {
  return `${Math.floor(sdev / 0x100000)}:${sdev % 0x100000}`;
}

// A node has a few dozen devices: one "MAJ:MIN" string per device.
const devStrings = new Map<number, string>();

/** devFromKernelDev, one string per device. */
export function devOf(sdev: number): string {
  let dev = devStrings.get(sdev);
  if (dev === undefined) {
    dev = devFromKernelDev(sdev);
    devStrings.set(sdev, dev);
  }
  return dev;
}

/** Watch i of a list as an object. */
export function watchAt(list: WatchList, i: number): Watch {
  return { wd: list.wd[i]!, ino: list.ino[i]!, sdev: list.sdev[i]!, mask: list.mask[i]!, handle: handleAt(list, i) };
}

/** Every watch of a list as objects: for the few places that look at them one by one (tests). */
export function watchesOf(list: WatchList): Watch[] {
  return Array.from({ length: list.length }, (_, i) => watchAt(list, i));
}

/** Watch i's file handle (a view of the list's bytes), null when there is none. */
export function handleAt(list: WatchList, i: number): FileHandle | null {
  const type = list.handleType[i]!;
  return type < 0 ? null : { type, bytes: list.handleBytes.subarray(list.handleStart[i]!, list.handleStart[i + 1]!) };
}

/** The distinct devices of a watch list and how many watches each. */
export interface DeviceCounts {
  sdevs: number[];
  counts: number[];
}

const deviceCounts = new WeakMap<WatchList, DeviceCounts>();

/** The devices of a watch list, with their watch counts: made once per list (lists are immutable). */
export function devicesOf(list: WatchList): DeviceCounts {
  let counts = deviceCounts.get(list);
  if (!counts) {
    // A run of watches on one device (a watcher walks a tree: nearly the whole list) is one
    // lookup, not one a watch: 500,000 watches took 12 ms of a one-shot.
    const byDev = new Map<number, number>();
    const { sdev, length } = list;
    for (let i = 0; i < length;) {
      const dev = sdev[i]!;
      let end = i + 1;
      while (end < length && sdev[end] === dev) end++;
      byDev.set(dev, (byDev.get(dev) ?? 0) + end - i);
      i = end;
    }
    counts = { sdevs: [...byDev.keys()], counts: [...byDev.values()] };
    deviceCounts.set(list, counts);
  }
  return counts;
}

/** Watches `indices` (in ascending order) of a list, as a list of their own (a few of a long list). */
export function pickWatches(list: WatchList, indices: ArrayLike<number>): WatchList {
  let handleLength = 0;
  for (let at = 0; at < indices.length; at++) handleLength += list.handleStart[indices[at]! + 1]! - list.handleStart[indices[at]!]!;
  const count = indices.length;
  const out = {
    length: count,
    wd: new Int32Array(count),
    ino: new Float64Array(count),
    sdev: new Uint32Array(count),
    mask: new Uint32Array(count),
    handleType: new Int32Array(count),
    handleStart: new Uint32Array(count + 1),
    handleBytes: new Uint8Array(handleLength),
  };
  for (let at = 0; at < count; at++) {
    const i = indices[at]!;
    out.wd[at] = list.wd[i]!;
    out.ino[at] = list.ino[i]!;
    out.sdev[at] = list.sdev[i]!;
    out.mask[at] = list.mask[i]!;
    out.handleType[at] = list.handleType[i]!;
    const bytes = list.handleBytes.subarray(list.handleStart[i]!, list.handleStart[i + 1]!);
    out.handleBytes.set(bytes, out.handleStart[at]!);
    out.handleStart[at + 1] = out.handleStart[at]! + bytes.length;
  }
  return out;
}
