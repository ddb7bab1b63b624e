// A process's target list goes from the collector's thread to the screen's only when it changed:
// the selected process of a huge node has thousands of targets, and cloning them across threads
// every refresh (serialized on one side, parsed on the other, then garbage on both) was most of
// what a refresh between full scans cost. The collector keeps a list that did not change as the
// same array (Collector.collect), so the sender sees a change as a new array. Both sides keep,
// by pid, the lists of the last snapshot that went over (and of the last `targets` message), in
// the same order of messages, so that "as before" always names a list the receiver holds.
import type { ProcessRow, TargetRow } from '../model/types.js';

/** The collector's thread's side. */
export class TargetsSender {
  private sent = new Map<number, TargetRow[]>();

  /**
   * The rows of a snapshot as they go over: a row whose target list is the one sent before carries
   * none, and its pid is in `kept`. Call once per snapshot, with all its rows.
   */
  strip(rows: readonly ProcessRow[]): { rows: ProcessRow[]; kept: Set<number> } {
    const sending = new Map<number, TargetRow[]>();
    const kept = new Set<number>();
    const out = rows.map((row) => {
      if (row.targets.length === 0) return row;
      sending.set(row.pid, row.targets);
      if (this.sent.get(row.pid) !== row.targets) return row;
      kept.add(row.pid);
      return { ...row, targets: [] };
    });
    this.sent = sending;
    return { rows: out, kept };
  }

  /** A `targets` message went over (a new selection): its list is what the receiver has of that pid. */
  sentAlone(pid: number, targets: TargetRow[]): void {
    this.sent.set(pid, targets);
  }
}

/** The screen's side: puts back the lists a snapshot's rows carry as before. */
export class TargetsReceiver {
  private held = new Map<number, TargetRow[]>();
  private incoming = new Map<number, TargetRow[]>();

  /** One part's rows, in place; `last`: the snapshot's last part, after which its lists are the ones held. */
  fill(rows: ProcessRow[], kept: readonly number[], last: boolean): void {
    const keptPids = new Set(kept);
    for (const row of rows) {
      if (keptPids.has(row.pid)) row.targets = this.held.get(row.pid) ?? [];
      if (row.targets.length > 0) this.incoming.set(row.pid, row.targets);
    }
    if (!last) return;
    this.held = this.incoming;
    this.incoming = new Map();
  }

  /** A `targets` message came (a new selection). */
  receivedAlone(pid: number, targets: TargetRow[]): void {
    this.held.set(pid, targets);
  }
}
