// The tree view (t, F5): processes under their parents, siblings in the sort's order, like htop's.
// An instance shared down a family (fork keeps the fds) is counted once, at the ancestor that
// holds it: a child's INST and WATCHES are its own. Pure.
import type { ProcessRow } from '../../model/types.js';

export interface Tree {
  rows: ProcessRow[];
  /** The branch drawn before each pid's command ("│ ├─ "). */
  prefixes: Map<number, string>;
}

/** `sorted` in tree order; a process whose parent is not among them is a root. */
export function treeOf(sorted: readonly ProcessRow[]): Tree {
  const shown = new Map(sorted.map((row) => [row.pid, row]));
  const children = new Map<number, ProcessRow[]>();
  const roots: ProcessRow[] = [];
  for (const row of sorted) {
    const parent = row.ppid !== row.pid ? shown.get(row.ppid) : undefined;
    if (parent) {
      const list = children.get(parent.pid) ?? [];
      list.push(row);
      children.set(parent.pid, list);
    } else {
      roots.push(row);
    }
  }
  const rows: ProcessRow[] = [];
  const prefixes = new Map<number, string>();
  const visited = new Set<number>();
  const visit = (row: ProcessRow, indent: string, branch: string, held: ReadonlySet<string>) => {
    if (visited.has(row.pid)) return;
    visited.add(row.pid);
    const own = row.fds.filter((fd) => !held.has(fd.instance));
    rows.push(own.length === row.fds.length ? row : { ...row, fds: own, instances: own.length, watches: own.reduce((sum, fd) => sum + fd.watches, 0) });
    prefixes.set(row.pid, indent + branch);
    const heldBelow = new Set(held);
    for (const fd of row.fds) heldBelow.add(fd.instance);
    const kids = children.get(row.pid) ?? [];
    const childIndent = branch === '' ? indent : indent + (branch === '└─ ' ? '   ' : '│  ');
    kids.forEach((child, i) => visit(child, childIndent, i === kids.length - 1 ? '└─ ' : '├─ ', heldBelow));
  };
  for (const root of roots) visit(root, '', '', new Set());
  return { rows, prefixes };
}
