// The selected process's targets as the collector's thread keeps them for the screen's detail
// pane (model/pane.ts's PaneSource): a few numbers per target in the pane's order
// (model/snapshot.ts's TargetOrder), and rows built only for the window the screen asks for,
// their paths looked up then. A process with 500,000 watches cost a row object each (140 MB,
// built again at every full scan with a path looked up per watch); it now costs about 25 bytes a
// target, and a window's few dozen rows.
import { buildSnapshot, type TargetOrder } from '../model/snapshot.js';
import type { Attribution, Resolutions, ScannedProcess, ScanResult, TargetRow } from '../model/types.js';
import { devOf, pickWatches } from '../model/watches.js';
import { NO_TARGET, type PaneSource } from '../model/pane.js';

/** The stages' outputs of the refresh a list's rows are built from. */
export interface RowContext {
  scan: ScanResult;
  resolutions: Resolutions & { prepare(procs: readonly ScannedProcess[], which: 'all' | 'pod-paths'): void; forgetInodes(): void };
  attribution: Attribution;
}

export class TargetList implements PaneSource {
  readonly length: number;
  readonly order: Int32Array;

  /**
   * `inotify`: the process's watched inodes; `fanotify`: its fanotify marks' rows, few, after
   * them (never leaked); `context()`: the latest refresh, whose lookups build a window's rows.
   */
  constructor(
    readonly pid: number,
    readonly inotify: TargetOrder,
    readonly fanotify: readonly TargetRow[],
    private readonly context: () => RowContext | null,
  ) {
    const inodes = inotify.order.length;
    this.length = inodes + fanotify.length;
    this.order = new Int32Array(this.length);
    this.order.set(inotify.order);
    for (let i = 0; i < fanotify.length; i++) this.order[inodes + i] = inodes + i;
  }

  leaked(id: number): boolean {
    return id < this.inotify.order.length && this.inotify.leaked[id] === 1;
  }

  /** The rows of these targets, their inodes looked up now (from the resolver's cache when it has them). */
  rows(ids: ArrayLike<number>): TargetRow[] {
    const inodes = this.inotify.order.length;
    const wanted = new Map<number, Set<number>>();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= inodes) continue;
      const sdev = this.inotify.sdev[id]!;
      let byDev = wanted.get(sdev);
      if (!byDev) wanted.set(sdev, (byDev = new Set()));
      byDev.add(this.inotify.ino[id]!);
    }
    const built = new Map<string, TargetRow>();
    const context = this.context();
    const proc = context?.scan.processes.find((candidate) => candidate.pid === this.pid);
    if (context && proc && wanted.size > 0) {
      // The process with only the watches on these inodes: its rows are theirs, counted over every instance.
      const few: ScannedProcess = {
        ...proc,
        instances: proc.instances.map((instance) => ({
          ...instance,
          watches: pickWatches(instance.watches, (i) => wanted.get(instance.watches.sdev[i]!)?.has(instance.watches.ino[i]!) ?? false),
        })),
        fanotifyGroups: [],
      };
      context.resolutions.prepare([few], 'all');
      const row = buildSnapshot({ ...context.scan, processes: [few] }, context.resolutions, context.attribution, 'all').processes[0];
      context.resolutions.forgetInodes();
      for (const target of row?.targets ?? []) built.set(`${target.dev} ${target.ino}`, target);
    }
    return Array.from(ids, (id) =>
      id >= inodes ? this.fanotify[id - inodes]! : (built.get(`${devOf(this.inotify.sdev[id]!)} ${this.inotify.ino[id]!}`) ?? this.gone(id)),
    );
  }

  /** A target whose process is gone from the latest refresh: its device and inode, nothing looked up. */
  private gone(id: number): TargetRow {
    const dev = devOf(this.inotify.sdev[id]!);
    return { ...NO_TARGET, dev, ino: this.inotify.ino[id]!, watches: this.inotify.watches[id]!, status: 'unresolved', reason: 'the process is gone' };
  }
}

/** Whether two orders are of the same targets in the same order, with the same counts and leaks. */
export function sameOrder(a: TargetOrder, b: TargetOrder): boolean {
  const same = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  };
  return same(a.order, b.order) && same(a.sdev, b.sdev) && same(a.ino, b.ino) && same(a.watches, b.watches) && same(a.leaked, b.leaked);
}
