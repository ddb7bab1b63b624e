// What the screen derives from a snapshot (its rows filtered and sorted, its pods) is kept with
// that snapshot, never in a module-wide slot: two states on two snapshots (a replay step, a test)
// do not evict each other, and it goes when its snapshot goes. What comes of the selected
// process's targets alone (the pane's order, its widest cells) is kept with their list, which
// outlives snapshots while it does not change (the collector sends it only then).
import type { Snapshot } from '../../model/types.js';

type Kept = Map<object, { parts: readonly unknown[]; value: unknown }>;

/** `derive(key, ...parts)`, remembered with `key` for the parts last asked (compared by identity: states replace what changes). */
function keptWith<Key extends object, Parts extends readonly unknown[], T>(
  store: WeakMap<Key, Kept>,
  derive: (key: Key, ...parts: Parts) => T,
): (key: Key, ...parts: Parts) => T {
  return (key, ...parts) => {
    let kept = store.get(key);
    if (!kept) store.set(key, (kept = new Map()));
    const last = kept.get(derive);
    if (last && last.parts.every((part, i) => part === parts[i])) return last.value as T;
    const value = derive(key, ...parts);
    kept.set(derive, { parts, value });
    return value;
  };
}

const derived = new WeakMap<Snapshot, Kept>();

/** `derive(snapshot, ...parts)`, kept with the snapshot, so a key press that changes none of them derives nothing. */
export function perSnapshot<Parts extends readonly unknown[], T>(
  derive: (snapshot: Snapshot, ...parts: Parts) => T,
): (snapshot: Snapshot, ...parts: Parts) => T {
  return keptWith(derived, derive);
}

const derivedOfLists = new WeakMap<readonly unknown[], Kept>();

/** `derive(list, ...parts)`, kept with the list: a refresh that brings the same list derives nothing. */
export function perList<Item, Parts extends readonly unknown[], T>(
  derive: (list: readonly Item[], ...parts: Parts) => T,
): (list: readonly Item[], ...parts: Parts) => T {
  return keptWith(derivedOfLists as WeakMap<readonly Item[], Kept>, derive);
}

/**
 * Drops at once what was derived from a snapshot the screen no longer shows. V8's minor GC keeps
 * a WeakMap's values while their key is young, so a replaced snapshot's rows would otherwise be
 * copied and promoted until a full GC (twice the scavenge time at 500 processes).
 */
export function releaseSnapshot(snapshot: Snapshot): void {
  derived.delete(snapshot);
}
