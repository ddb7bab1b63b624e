// How wide the detail pane's HELD BY and POD cells are (model/pane.ts is the pane's model): as
// wide as the widest of the targets that can show. The screen holds only a window of a live
// process's targets, so their widest is bounded from the process's row; a snapshot that carries
// the whole list (a recording's, a test's) is measured whole.
import { displayWidth } from '../common/width.js';
import { NO_TARGET } from '../model/pane.js';
import type { Holder, PodRef, ProcessRow, TargetRow } from '../model/types.js';
import { targetColumns, type TargetColumnId, type TargetContext } from './columns.js';

/** The columns whose width the pane takes from its widest cell. */
export type WidestCells = readonly (readonly [TargetColumnId, number])[];

/** The pane's marks: `×N` for an inode watched N times. */
export const ON_SCREEN: TargetContext = { markRepeats: true, holdersInPath: false };

const WIDEST_COLUMNS = targetColumns(['holders', 'pod']);

/**
 * The widest HELD BY and POD cells of these targets. Many targets share one holder list and one
 * pod (a resolution's, an attribution's): each is measured once.
 */
export function widestCells(targets: readonly TargetRow[]): WidestCells {
  const measured = new Map<readonly Holder[] | PodRef | null, number>();
  return WIDEST_COLUMNS.map((spec) => {
    measured.clear();
    let widest = displayWidth(spec.title);
    for (const target of targets) {
      const by = spec.id === 'holders' ? target.holders : target.pod;
      let width = measured.get(by);
      if (width === undefined) measured.set(by, (width = displayWidth(spec.cell(target, ON_SCREEN))));
      if (width > widest) widest = width;
    }
    return [spec.id, widest] as const;
  });
}

/**
 * How wide a process's targets' HELD BY and POD cells can be, from its row's counts: every pod its
 * watches are in, and every holder of its leaked ones (holders keep only leaked targets' mounts),
 * and the widest of the rows held. For a window of a list whose other rows are not built.
 */
export function widestOfWindow(row: Pick<ProcessRow, 'watchedPods' | 'leakHolders'>, rows: readonly TargetRow[]): WidestCells {
  const holders = row.leakHolders.map((holder) => ({ ...holder, mountpoint: '', boundFrom: [] }));
  // Each holder first, with as many others as the process has: the widest such a cell can be.
  const probes = [
    ...holders.map((first) => ({ ...NO_TARGET, holders: [first, ...holders.filter((other) => other !== first)] })),
    ...row.watchedPods.map(({ pod }) => ({ ...NO_TARGET, pod })),
    NO_TARGET,
    ...rows,
  ];
  return widestCells(probes);
}
