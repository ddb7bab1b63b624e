// The selected process's targets as the collector's thread keeps them for the screen's detail
// pane (model/pane.ts's PaneSource): a few numbers per target in the pane's order
// (model/snapshot.ts's TargetOrder), and rows built only for the window the screen asks for,
// their paths looked up then. A process with 500,000 watches cost a row object each (140 MB,
// built again at every full scan with a path looked up per watch); it now costs about 25 bytes a
// target, and a window's few dozen rows. Once rows are asked, 8 bytes a watch more say where each
// target's watches are (WatchesByTarget): a window's rows then cost their own watches, not a pass
// over all 500,000 (62 such passes for a `/` filter, 1.7 s of them, on the collector's thread).
import { buildSnapshot, watchesByTarget, type TargetOrder, type WatchesByTarget } from '../model/snapshot.js';
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
  /** Made at the first rows asked, kept while the process's watch lists stay the same objects. */
  private byTarget: WatchesByTarget | null = null;

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
    /** The rows built, by device and inode. */
    const built = new Map<string, Map<number, TargetRow>>();
    const context = this.context();
    const proc = context?.scan.processes.find((candidate) => candidate.pid === this.pid);
    const wanted = Array.from(ids).filter((id) => id < inodes);
    if (context && proc && wanted.length > 0) {
      // The process with only the watches on these targets: its rows are theirs, counted over every instance.
      const byTarget = this.watchesOf(proc);
      const picked = proc.instances.map((): number[] => []);
      for (const id of wanted) {
        for (let at = byTarget.starts[id]!; at < byTarget.starts[id + 1]!; at++) picked[byTarget.list[at]!]!.push(byTarget.index[at]!);
      }
      // In list order, as building every row would meet them (a typed array sorts by number).
      const inListOrder = picked.map((indices) => Int32Array.from(indices).sort());
      const few: ScannedProcess = {
        ...proc,
        instances: proc.instances.map((instance, l) => ({ ...instance, watches: pickWatches(instance.watches, inListOrder[l]!) })),
        fanotifyGroups: [],
      };
      context.resolutions.prepare([few], 'all');
      const row = buildSnapshot({ ...context.scan, processes: [few] }, context.resolutions, context.attribution, 'all').processes[0];
      context.resolutions.forgetInodes();
      for (const target of row?.targets ?? []) {
        let byIno = built.get(target.dev);
        if (!byIno) built.set(target.dev, (byIno = new Map()));
        byIno.set(target.ino, target);
      }
    }
    return Array.from(ids, (id) =>
      id >= inodes ? this.fanotify[id - inodes]! : (built.get(devOf(this.inotify.sdev[id]!))?.get(this.inotify.ino[id]!) ?? this.gone(id)),
    );
  }

  /** Where each target's watches are in this process's lists, found again only when its lists are new (a refresh keeps unchanged ones). */
  private watchesOf(proc: ScannedProcess): WatchesByTarget {
    const lists = proc.instances.map((instance) => instance.watches);
    const known = this.byTarget;
    if (known && known.lists.length === lists.length && known.lists.every((list, l) => list === lists[l])) return known;
    this.byTarget = watchesByTarget(this.inotify, lists);
    return this.byTarget;
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
