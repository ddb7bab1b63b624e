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
 * Items added one at a time under a total order (`compare`: <0, 0, >0), grouped where they compare
 * equal: the groups in ascending order, each group's items in the order added. Each item finds its
 * place by a binary search, joining an equal group as the search meets it: at most log2(n) + 1
 * comparisons, about n·log2(n) in all for n distinct items, as a merge sort makes, and they come as
 * the items do. For comparisons that cost a system call each (kcmp).
 */
export class EqualGroups<T> {
  readonly groups: T[][] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  add(item: T): void {
    const { groups } = this;
    let low = 0;
    let high = groups.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = this.compare(item, groups[middle]![0]!);
      if (order === 0) {
        groups[middle]!.push(item);
        return;
      }
      if (order < 0) high = middle;
      else low = middle + 1;
    }
    groups.splice(low, 0, [item]);
  }
}

/**
 * Lists each grouped and ordered as EqualGroups makes them, of distinct items (each thread's of a
 * scan), as one such list: merged two by two, groups that compare equal joined (the earlier
 * list's items first). Each round of merges makes fewer comparisons than there are groups.
 */
export function mergeGrouped<T>(lists: readonly T[][][], compare: (a: T, b: T) => number): T[][] {
  let runs = lists;
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
