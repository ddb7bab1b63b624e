// What the screen derives from a snapshot (its rows filtered and sorted, its pods, the selected
// process's targets in the pane's order) is kept with that snapshot, never in a module-wide slot:
// two states on two snapshots (a replay step, a test) do not evict each other, and it goes when
// its snapshot goes.
import type { Snapshot } from '../../model/types.js';

type Kept = Map<object, { parts: readonly unknown[]; value: unknown }>;

const derived = new WeakMap<Snapshot, Kept>();

/**
 * `derive(snapshot, ...parts)`, remembered with the snapshot for the parts last asked (compared
 * by identity: states replace what changes), so a key press that changes none of them derives
 * nothing.
 */
export function perSnapshot<Parts extends readonly unknown[], T>(
  derive: (snapshot: Snapshot, ...parts: Parts) => T,
): (snapshot: Snapshot, ...parts: Parts) => T {
  return (snapshot, ...parts) => {
    let kept = derived.get(snapshot);
    if (!kept) derived.set(snapshot, (kept = new Map()));
    const last = kept.get(derive);
    if (last && last.parts.every((part, i) => part === parts[i])) return last.value as T;
    const value = derive(snapshot, ...parts);
    kept.set(derive, { parts, value });
    return value;
  };
}

/**
 * Drops at once what was derived from a snapshot the screen no longer shows. V8's minor GC keeps
 * a WeakMap's values while their key is young, so a replaced snapshot's rows would otherwise be
 * copied and promoted until a full GC (twice the scavenge time at 500 processes).
 */
export function releaseSnapshot(snapshot: Snapshot): void {
  derived.delete(snapshot);
}
