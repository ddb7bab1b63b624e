// What a scan could not read, by cause, and whether its figures still mean something. A figure
// that could not be read is unknown, never 0: a process whose fds, links or fdinfo could not be
// read is counted here, by the errno that stopped it, and named in a note.
//
// Past a share of the processes listed, the figures are called incomplete ("cannot tell"): more
// than one in twenty. A healthy node reads every process, but for the odd one that races (it
// exits, or its fds change, mid-read: those are not misses) and, on some hosts, a sandbox's init
// that even root may not read: one process in a hundred or more. Misses beyond a few in a hundred
// are systematic (an LSM or seccomp denying reads, a kernel out of memory failing seq_file reads,
// a broken /proc), and the processes not read are as likely as any to be the one that holds the
// watches (a kubelet holds most of a node's): the totals are then samples, not counts. Below the
// share the counts are given, with the misses said beside them.
import type { ScanCoverage, ScanNote } from '../model/types.js';
import { errorCode } from '../sys/errno.js';

/** More than this share of the processes listed not read: the scan is incomplete. */
export const UNREADABLE_SHARE = 1 / 20;

/** The cause of an error: its errno name, else its message's first word. */
export function causeOf(error: unknown): string {
  return errorCode(error) ?? ((error as Error).message ?? String(error)).split(/[\s:]/)[0]!;
}

/** Misses.add's calls in order, as plain data: a second thread's misses cross to the scan's (second-thread.ts). */
export type MissList = [cause: string, pid: number, detail: string | undefined][];

/** The processes a scan could not read, whole or in part, by cause. */
export class Misses {
  private readonly byCause = new Map<string, Set<number>>();
  private readonly pids = new Set<number>();
  /** What was missed of a process that was read in part, for the notes ("fd 7: fdinfo ENOMEM"). */
  private readonly details = new Map<number, string[]>();
  /** The calls to add(), in order. */
  private readonly added: MissList = [];

  /**
   * The misses of the parts of one scan, each as read in order of pid, together as a scan of all
   * in order of pid would have met them: the same notes, pids named in the same order.
   */
  static ofParts(parts: readonly MissList[]): Misses {
    const misses = new Misses();
    // A stable sort: one process's misses, all in one part, keep their order.
    for (const [cause, pid, detail] of parts.flat().sort((a, b) => a[1] - b[1])) misses.add(cause, pid, detail);
    return misses;
  }

  add(cause: string, pid: number, detail?: string): void {
    this.added.push([cause, pid, detail]);
    let pids = this.byCause.get(cause);
    if (!pids) this.byCause.set(cause, (pids = new Set()));
    pids.add(pid);
    this.pids.add(pid);
    if (detail) {
      const list = this.details.get(pid) ?? [];
      if (list.length < 3) list.push(detail);
      this.details.set(pid, list);
    }
  }

  /** The calls to add() so far, in order. */
  list(): MissList {
    return this.added;
  }

  get size(): number {
    return this.pids.size;
  }

  has(pid: number): boolean {
    return this.pids.has(pid);
  }

  causes(): [string, ReadonlySet<number>][] {
    return [...this.byCause].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * One note per cause: how many, which pids (and what of them, for a few), but the pids `said`
   * already; `hostProtected`: what permission denied, CAP_SYS_PTRACE would not lift.
   */
  notes(said: ReadonlySet<number>, hostProtected: boolean): ScanNote[] {
    return this.causes().flatMap(([cause, all]): ScanNote[] => {
      const pids = [...all].filter((pid) => !said.has(pid));
      if (pids.length === 0) return [];
      const named = pids.slice(0, 5).map((pid) => ({ pid, what: this.details.get(pid) ?? [] }));
      return [{ kind: 'missed', cause, pids: named, count: pids.length, hostProtected }];
    });
  }

  /** The coverage of a scan that listed `listed` processes; `late`, those the deadline left unread. */
  coverage(listed: number, late: number): ScanCoverage {
    const unreadable = Object.fromEntries(this.causes().map(([cause, pids]) => [cause, pids.size]));
    if (late > 0) unreadable['deadline'] = late;
    const missed = this.size + late;
    const complete = late === 0 && missed <= listed * UNREADABLE_SHARE;
    const causes = Object.entries(unreadable)
      .map(([cause, count]) => `${cause} ${count}`)
      .join(', ');
    return { complete, reason: complete ? null : `${missed} of ${listed} processes not read (${causes})`, unreadable };
  }
}
