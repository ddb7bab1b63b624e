// A snapshot's rows go from the collector's thread to the screen's only when they changed, and a
// process's target list only when it changed: between full scans most of a node's processes are
// kept as they were, and cloning every row across threads every refresh (serialized on one side,
// parsed on the other, then garbage on both) was most of what such a refresh cost; the metrics'
// leaked targets of a huge node are thousands. (A screen's rows carry no targets: it is sent a
// window of them, worker.ts.) A row as before goes over as its pid alone; a changed row whose
// target list is the one sent before goes without it. The collector keeps a list that did not
// change as the same array (Collector.collect), so a new array is a change. Both sides keep, by
// pid, the rows and lists of the last snapshot that went over, in the same order of messages, so
// that "as before" always names a row or list the receiver holds.
import type { ProcessRow, TargetRow } from '../model/types.js';

/** A row as it goes over: whole, or its pid where it is the row sent before. */
export type SentRow = ProcessRow | number;

/** The same list as sent: the same array (an unchanged list stays one), or none in both. */
function sameTargets(before: TargetRow[], now: TargetRow[]): boolean {
  return before === now || (before.length === 0 && now.length === 0);
}

/**
 * Whether two rows hold the same data: rows are plain data (objects, arrays, strings, numbers,
 * booleans, null), as structured clone carries them, so a plain walk is enough, several times
 * cheaper than util.isDeepStrictEqual. A value it cannot tell equal (NaN) counts as changed: the
 * row goes over whole.
 */
export function samePlainData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlainData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  let keys = 0;
  for (const key in a) {
    if (!samePlainData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]) || !Object.hasOwn(b, key)) return false;
    keys++;
  }
  for (const key in b) if (Object.hasOwn(b, key)) keys--;
  return keys === 0;
}

/** The collector's thread's side. */
export class RowsSender {
  private sentTargets = new Map<number, TargetRow[]>();
  private sentRows = new Map<number, ProcessRow>();

  /**
   * The rows of a snapshot as they go over, and `kept`: the pids of the rows that go without their
   * target list, as sent before. Call once per snapshot, with all its rows.
   */
  strip(rows: readonly ProcessRow[]): { rows: SentRow[]; kept: Set<number> } {
    const sendingTargets = new Map<number, TargetRow[]>();
    const sendingRows = new Map<number, ProcessRow>();
    const kept = new Set<number>();
    const out = rows.map((row): SentRow => {
      const before = this.sentRows.get(row.pid);
      sendingRows.set(row.pid, row);
      if (row.targets.length > 0) sendingTargets.set(row.pid, row.targets);
      // Lists compared first, as the same array: the deep comparison then finds them at once.
      if (before !== undefined && sameTargets(before.targets, row.targets) && samePlainData(before, row)) return row.pid;
      if (row.targets.length === 0 || this.sentTargets.get(row.pid) !== row.targets) return row;
      kept.add(row.pid);
      return { ...row, targets: [] };
    });
    this.sentTargets = sendingTargets;
    this.sentRows = sendingRows;
    return { rows: out, kept };
  }
}

/** The screen's side: puts back the rows and lists a snapshot carries as before. */
export class RowsReceiver {
  private heldTargets = new Map<number, TargetRow[]>();
  private heldRows = new Map<number, ProcessRow>();
  private incomingTargets = new Map<number, TargetRow[]>();
  private incomingRows = new Map<number, ProcessRow>();

  /**
   * One part's rows, whole again; `last`: the snapshot's last part, after which its rows and lists
   * are the ones held. A row as before is the same object as in the snapshot before.
   */
  fill(sent: readonly SentRow[], kept: readonly number[], last: boolean): ProcessRow[] {
    const keptPids = new Set(kept);
    const rows: ProcessRow[] = [];
    for (const entry of sent) {
      const row = typeof entry === 'number' ? this.heldRows.get(entry) : entry;
      // Never missing: the sender names only rows of the snapshot before, which came whole here.
      if (row === undefined) continue;
      if (typeof entry !== 'number' && keptPids.has(row.pid)) row.targets = this.heldTargets.get(row.pid) ?? [];
      if (row.targets.length > 0) this.incomingTargets.set(row.pid, row.targets);
      this.incomingRows.set(row.pid, row);
      rows.push(row);
    }
    if (last) {
      this.heldTargets = this.incomingTargets;
      this.heldRows = this.incomingRows;
      this.incomingTargets = new Map();
      this.incomingRows = new Map();
    }
    return rows;
  }
}
