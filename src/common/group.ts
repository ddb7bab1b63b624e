// Collection helpers every stage may use; nothing here imports from the stages.

/** Items grouped by key, groups and their items in first-seen order. */
export function groupBy<K, T>(items: Iterable<T>, keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * Items under a total order (`compare`: <0, 0, >0), grouped where they compare equal: the groups
 * in ascending order, each group's items in input order. A merge sort that joins equal items as it
 * meets them, so it needs no second pass over the sorted list to find them: for n items,
 * about n·log2(n) − n comparisons, where Array.prototype.sort and a pass after it make some n more.
 * For comparisons that cost a system call each (kcmp).
 */
export function groupEqual<T>(items: readonly T[], compare: (a: T, b: T) => number): T[][] {
  let runs: T[][][] = items.map((item) => [[item]]);
  while (runs.length > 1) {
    const merged: T[][][] = [];
    for (let i = 0; i + 1 < runs.length; i += 2) merged.push(mergeGroups(runs[i]!, runs[i + 1]!, compare));
    if (runs.length % 2 === 1) merged.push(runs[runs.length - 1]!);
    runs = merged;
  }
  return runs[0] ?? [];
}

/** Two ascending lists of groups of equal items as one; groups that compare equal are joined (left's items first). */
function mergeGroups<T>(left: T[][], right: T[][], compare: (a: T, b: T) => number): T[][] {
  const merged: T[][] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const order = compare(left[i]![0]!, right[j]![0]!);
    if (order < 0) merged.push(left[i++]!);
    else if (order > 0) merged.push(right[j++]!);
    else merged.push([...left[i++]!, ...right[j++]!]);
  }
  while (i < left.length) merged.push(left[i++]!);
  while (j < right.length) merged.push(right[j++]!);
  return merged;
}
