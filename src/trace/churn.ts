// Watches added and removed per process between two refreshes: a process that adds without
// removing is a leak in progress, long before it reaches the limit. Pure.
import type { WatchChurn } from '../model/types.js';

export class ChurnCounter {
  private readonly counts = new Map<number, { comm: string; adds: number; removes: number }>();

  add(pid: number, comm: string, call: 'add' | 'remove'): void {
    let count = this.counts.get(pid);
    if (!count) {
      count = { comm, adds: 0, removes: 0 };
      this.counts.set(pid, count);
    }
    if (call === 'add') count.adds++;
    else count.removes++;
  }

  /** What each process did in the last `seconds`, most adds first; starts counting afresh. */
  take(seconds: number): WatchChurn[] {
    const rate = (n: number) => (seconds > 0 ? Math.round((n / seconds) * 10) / 10 : 0);
    const churn = [...this.counts].map(([pid, { comm, adds, removes }]) => ({
      pid,
      comm,
      adds,
      removes,
      addsPerSecond: rate(adds),
      removesPerSecond: rate(removes),
    }));
    this.counts.clear();
    return churn.sort((a, b) => b.adds - a.adds || b.removes - a.removes || a.pid - b.pid);
  }
}
