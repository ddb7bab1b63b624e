// The pace of the collector's thread: when the next refresh comes, and whether it reads every
// process or only those the trace saw change. Pure.
//
// A refresh that reads every process costs the kernel's read of every watch: seconds at a
// million. So that inotop never takes more than about STRETCH_SHARE of a core, such full scans
// come at most that often. Where the trace tells which processes made inotify or fanotify calls,
// the refreshes between them read only those (and new processes) at the interval asked for, and
// full scans come half as often (TRACED_FULL_SCAN_SHARE); without it, the whole interval
// stretches instead.

/** A refresh may take at most this share of the time until the next one of its kind. */
export const STRETCH_SHARE = 0.06;
/**
 * Where the trace tells what changed, full scans are only for what it cannot tell (an inode
 * deleted, an fd closed or inherited): half as often, so that inotop costs less on the nodes
 * where a full scan costs most, while the refreshes between keep what is busy exact at -d.
 */
export const TRACED_FULL_SCAN_SHARE = STRETCH_SHARE / 2;

export interface PaceState {
  /** The interval asked for (-d). */
  wishedMs: number;
  /** The interval kept between refreshes. */
  usedMs: number;
  /** The interval kept between full scans (usedMs, or longer where refreshes between read only the changed). */
  fullEveryMs: number;
  /** When the last full scan started (ms on the caller's clock); null before the first. */
  lastFullAt: number | null;
  /** What the last full refresh and the last refresh of only the changed cost, in ms. */
  fullCostMs: number;
  changedCostMs: number;
  refreshes: number;
}

export interface PaceOptions {
  /** Lengthen intervals when refreshes cost more than their share (off: -d as given, every refresh full). */
  stretch: boolean;
  /** Whether the trace can tell which processes changed (Collector.tellsChanges). */
  tellsChanges: boolean;
}

export function initialPace(wishedMs: number): PaceState {
  return { wishedMs, usedMs: wishedMs, fullEveryMs: wishedMs, lastFullAt: null, fullCostMs: 0, changedCostMs: 0, refreshes: 0 };
}

/**
 * What a refresh costs against the shares: its wall time, or the CPU time every thread of the
 * process spent meanwhile (`process.cpuUsage()`: V8's collector threads, the screen's thread
 * taking the snapshot) where that is more. The shares are of a core, and a refresh of a million
 * watches keeps the collector's threads busy beside the scan.
 */
export function refreshCostMs(wallMs: number, cpu: NodeJS.CpuUsage): number {
  return Math.max(wallMs, (cpu.user + cpu.system) / 1000);
}

/** Whether the refresh starting at `now` reads only the changed processes. */
export function readsChangedOnly(pace: PaceState, now: number, options: PaceOptions): boolean {
  return options.stretch && options.tellsChanges && pace.lastFullAt !== null && now - pace.lastFullAt < pace.fullEveryMs;
}

/** The pace after a refresh that started at `startedAt`, cost `costMs` and read all or only the changed. */
export function afterRefresh(pace: PaceState, startedAt: number, costMs: number, scope: 'all' | 'changed', options: PaceOptions): PaceState {
  const next = { ...pace, refreshes: pace.refreshes + 1 };
  // The first refresh parses and resolves everything once; the ones after it are the steady state.
  const steady = pace.refreshes > 0;
  if (scope === 'all') {
    next.lastFullAt = startedAt;
    next.fullCostMs = costMs;
    next.fullEveryMs = options.stretch && steady ? stretched(pace.wishedMs, costMs, fullScanShare(options)) : pace.wishedMs;
  } else {
    next.changedCostMs = costMs;
  }
  if (!options.stretch) next.usedMs = pace.wishedMs;
  else if (options.tellsChanges) next.usedMs = Math.min(next.fullEveryMs, stretched(pace.wishedMs, next.changedCostMs));
  else if (steady) next.usedMs = next.fullEveryMs;
  return next;
}

/** A new interval asked for: no interval shorter than it, none kept longer than the costs need. */
export function withWish(pace: PaceState, wishedMs: number, options: PaceOptions): PaceState {
  const fullEveryMs = options.stretch && pace.refreshes > 1 ? stretched(wishedMs, pace.fullCostMs, fullScanShare(options)) : wishedMs;
  const usedMs = !options.stretch ? wishedMs : options.tellsChanges ? Math.min(fullEveryMs, stretched(wishedMs, pace.changedCostMs)) : fullEveryMs;
  return { ...pace, wishedMs, fullEveryMs, usedMs };
}

function fullScanShare(options: PaceOptions): number {
  return options.tellsChanges ? TRACED_FULL_SCAN_SHARE : STRETCH_SHARE;
}

/** The shortest interval, in steps of 100 ms, that keeps a refresh of `costMs` within `share`. */
function stretched(wishedMs: number, costMs: number, share = STRETCH_SHARE): number {
  return Math.max(wishedMs, Math.ceil(costMs / share / 100) * 100);
}
