// `inotop check`: one verdict for node-problem-detector's custom plugin contract (exit 0 fine, 1
// a problem, 2 cannot tell; one line of at most 80 characters on stdout). The plugin is killed
// after 5 s by default, so the work stops as soon as the verdict is known: the limits need only
// the scan, and only leaks need paths and pods.
import { performance } from 'node:perf_hooks';
import { collectorOptions } from '../options/node.js';
import { Collector } from '../collect/collector.js';
import { buildSnapshot } from '../model/snapshot.js';
import type { Limits, ProcessRow, UserRow } from '../model/types.js';
import { scan, ScanError } from '../scan/index.js';
import { percent } from '../views/format.js';
import type { CheckOptions } from './args.js';

export const CHECK_OK = 0;
export const CHECK_PROBLEM = 1;
export const CHECK_UNKNOWN = 2;

export interface Verdict {
  status: typeof CHECK_OK | typeof CHECK_PROBLEM | typeof CHECK_UNKNOWN;
  message: string;
}

/** node-problem-detector's default max_output_length: cut here ourselves, so the cut stays readable. */
export const MAX_MESSAGE_LENGTH = 80;

export interface Thresholds {
  /** Fractions of the limits; null: not checked. */
  instances: number | null;
  watches: number | null;
  /** Of fs.fanotify.max_user_groups and max_user_marks; missing: not checked. */
  fanotifyGroups?: number | null;
  fanotifyMarks?: number | null;
}

export async function runCheck(options: CheckOptions): Promise<number> {
  let verdict: Verdict;
  try {
    verdict = await judge(options);
  } catch (error) {
    // Anything but 0 and 1 reads as "unknown" to node-problem-detector; a crash must not read as a problem.
    if (!(error instanceof ScanError)) process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    verdict = { status: CHECK_UNKNOWN, message: `cannot tell: ${(error as Error).message}` };
  }
  process.stdout.write(fitMessage(verdict.message) + '\n');
  return verdict.status;
}

async function judge(options: CheckOptions): Promise<Verdict> {
  const started = performance.now();
  const { shared } = options;
  const thresholds: Thresholds = {
    instances: options.instancesThreshold,
    watches: options.watchesThreshold,
    fanotifyGroups: options.fanotifyGroupsThreshold,
    fanotifyMarks: options.fanotifyMarksThreshold,
  };
  const collector = options.failOnLeaked ? new Collector(collectorOptions(shared)) : null;
  // The first pod list is fetched while the limits are checked.
  const podsReady = collector?.start();
  try {
    // One scan serves both verdicts: the limits from its counts, the leaks from its targets.
    const scanned = collector ? collector.scan() : scan({ procRoot: shared.procRoot });
    const counts = buildSnapshot(scanned, null, null, 'none');
    const limits = judgeLimits(counts.users, counts.limits, thresholds);
    if (limits.problem) return { status: CHECK_PROBLEM, message: limits.problem };
    if (limits.unknown) return { status: CHECK_UNKNOWN, message: `cannot tell: ${limits.unknown}` };
    if (scanned.unreadable > 0) {
      const processes = `${scanned.unreadable} process${scanned.unreadable === 1 ? '' : 'es'}`;
      return { status: CHECK_UNKNOWN, message: `cannot tell: ${processes} not readable (needs root, CAP_SYS_PTRACE)` };
    }
    if (!collector || !podsReady) return { status: CHECK_OK, message: `ok: ${limits.summary}` };

    const timeLeft = () => options.deadlineMs - (performance.now() - started);
    await settledWithin(podsReady, Math.min(options.podsTimeoutMs, Math.max(0, timeLeft())));
    const snapshot = collector.collect('leaked', scanned, started + options.deadlineMs);
    if (collector.outOfTime) return { status: CHECK_UNKNOWN, message: `cannot tell leaks in time (--deadline ${options.deadlineMs / 1000} s); ${limits.summary}` };
    const leaks = judgeLeaks(snapshot.processes);
    if (leaks) return { status: CHECK_PROBLEM, message: leaks };
    // Without a pod list, watches of deleted pods whose files are still there look live.
    if (shared.pods !== 'none' && snapshot.pods.live === null) {
      const why = snapshot.pods.error ?? `no pod list within ${options.podsTimeoutMs / 1000} s`;
      return { status: CHECK_UNKNOWN, message: `cannot tell leaks of gone pods: ${why}` };
    }
    return { status: CHECK_OK, message: `ok: ${[limits.summary, 'no leaked watches'].filter(Boolean).join('; ')}` };
  } finally {
    collector?.stop();
  }
}

interface LimitsJudgement {
  /** The worst user over a threshold, or null. */
  problem: string | null;
  /** A checked limit that could not be read, or null. */
  unknown: string | null;
  /** How close the closest user is, for the OK message ("" when nothing is checked). */
  summary: string;
}

interface LimitUse {
  user: UserRow;
  /** What the message calls it: "inotify watches", "fanotify marks". */
  what: string;
  used: number;
  limit: number;
}

/**
 * Every user against max_user_instances and max_user_watches, and fanotify's max_user_groups and
 * max_user_marks. The kernel charges a user namespace's users at every ancestor level too, so the
 * host's limits hold for all of them. fanotify's are checked only where some user holds a group
 * (older kernels have no such limits), and said in the summary only then.
 */
export function judgeLimits(users: readonly UserRow[], limits: Limits, thresholds: Thresholds): LimitsJudgement {
  const anyFanotify = users.some((user) => (user.fanotifyGroups ?? 0) > 0);
  const check = (what: string, short: string, used: (user: UserRow) => number, limit: number | null | undefined, threshold: number | null | undefined, sysctl: string) => ({
    what,
    short,
    used,
    limit: limit ?? null,
    threshold: threshold ?? null,
    sysctl,
  });
  const checks = [
    check('inotify instances', 'instances', (u) => u.instances, limits.maxUserInstances, thresholds.instances, 'fs.inotify.max_user_instances'),
    check('inotify watches', 'watches', (u) => u.watches, limits.maxUserWatches, thresholds.watches, 'fs.inotify.max_user_watches'),
  ];
  if (anyFanotify) {
    checks.push(
      check('fanotify groups', 'fanotify groups', (u) => u.fanotifyGroups ?? 0, limits.maxUserFanotifyGroups, thresholds.fanotifyGroups, 'fs.fanotify.max_user_groups'),
      check('fanotify marks', 'marks', (u) => u.fanotifyMarks ?? 0, limits.maxUserFanotifyMarks, thresholds.fanotifyMarks, 'fs.fanotify.max_user_marks'),
    );
  }
  const over: LimitUse[] = [];
  const closest: string[] = [];
  for (const { what, short, used: usedOf, limit, threshold, sysctl } of checks) {
    if (threshold === null) continue;
    if (limit === null || limit <= 0) return { problem: null, unknown: `${sysctl} not readable`, summary: '' };
    let highest = 0;
    for (const user of users) {
      const used = usedOf(user);
      highest = Math.max(highest, used);
      if (used >= threshold * limit) over.push({ user, what, used, limit });
    }
    closest.push(`${percent(highest, limit)} of ${short}`);
  }
  over.sort((a, b) => b.used / b.limit - a.used / a.limit || a.user.uid - b.user.uid);
  const worst = over[0];
  const problem = worst
    ? `${userLabel(worst.user)}: ${worst.used}/${worst.limit} ${worst.what}${over.length > 1 ? ` (+${over.length - 1} more)` : ''}`
    : null;
  return { problem, unknown: null, summary: closest.length > 0 ? `highest use ${closest.join(', ')}` : '' };
}

/** The process with most leaked watches, what they are, and how many other processes leak. */
export function judgeLeaks(processes: readonly ProcessRow[]): string | null {
  const leaking = processes.filter((p) => p.leaked > 0).sort((a, b) => b.leaked - a.leaked || a.pid - b.pid);
  const worst = leaking[0];
  if (!worst) return null;
  const leakedTargets = worst.targets.filter((t) => t.leak !== null);
  const podStates = new Map(leakedTargets.flatMap((t) => (t.pod ? [[t.pod.uid, t.pod.state] as const] : [])));
  let what: string;
  if (podStates.size > 0) {
    const allGone = [...podStates.values()].every((state) => state === 'gone');
    what = `of ${podStates.size} ${allGone ? 'gone ' : ''}pod${podStates.size === 1 ? '' : 's'}`;
  } else {
    what = `(${[...new Set(leakedTargets.map((t) => t.leak))].join(', ')})`;
  }
  const others = leaking.length - 1;
  const more = others > 0 ? ` (+${others} more process${others === 1 ? '' : 'es'})` : '';
  return `${worst.comm} holds ${worst.leaked} leaked watch${worst.leaked === 1 ? '' : 'es'} ${what}${more}`;
}

function userLabel(user: UserRow): string {
  return `uid ${user.uid}${user.userns ? ` in userns ${user.userns}` : ''}`;
}

export function fitMessage(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length <= MAX_MESSAGE_LENGTH ? line : `${line.slice(0, MAX_MESSAGE_LENGTH - 3)}...`;
}

/** Waits for `promise`, but no longer than `ms`. */
async function settledWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([promise, deadline]);
  clearTimeout(timer);
}
