// `inotop check`: one verdict for node-problem-detector's custom plugin contract (exit 0 fine, 1
// a problem, 2 cannot tell; one line of at most 80 characters on stdout). The plugin is killed
// after 5 s by default, so the work stops as soon as the verdict is known: the limits need only
// the scan, and only leaks need paths and pods.
import { collectorOptions } from '../options/node.js';
import { Collector } from '../collect/collector.js';
import { percent } from '../common/format.js';
import { leakingProcesses } from '../model/query.js';
import { buildSnapshot } from '../model/snapshot.js';
import { fromBelow, namespacesBelow } from '../model/charges.js';
import type { ChargeCounts, Limits, ProcessRow, ScanResult, SyscallFailure, UserRow } from '../model/types.js';
import { isQueueTrouble, QUEUE_READINGS } from '../model/queues.js';
import { STUCK_WAIT_SECONDS, stuckWaiters } from '../model/waits.js';
import { Traffic, type TrafficReading } from '../collect/traffic.js';
import { blockingGroup, bytesText } from '../views/traffic.js';
import { POD_LIST_PENDING } from '../pods/sources.js';
import { Scanner, ScanError } from '../scan/index.js';
import { settledWithin, uptimeMs } from '../deadline.js';
import { recentFailures, type LimitContext } from '../trace/failures.js';
import { Tracer } from '../trace/tracer.js';
import { limitText, userRowLabel, worstFailure, type FailureContext } from '../views/failures.js';
import { shortfallText } from '../views/notes.js';
import { endOneShot, endOneShotWithin, exitOnSignals } from '../signals.js';
import { visibleLine } from '../common/text.js';
import { writeStdout } from '../common/stdout.js';
import { errorText } from '../common/error-text.js';
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

/**
 * How long check watches for failed inotify calls: a check lives seconds, so it sees the calls
 * that fail while it runs (a program that keeps retrying), not those of the minutes before.
 */
export const CHECK_TRACE_MS = 1000;

export interface Thresholds {
  /** Fractions of the limits; null: not checked. */
  instances: number | null;
  watches: number | null;
  /** Of fs.fanotify.max_user_groups and max_user_marks; missing: not checked. */
  fanotifyGroups?: number | null;
  fanotifyMarks?: number | null;
}

/**
 * The verdict, within --deadline: every wait is bounded by it, and once the verdict is printed
 * the pod sources are stopped with every command they started. node-problem-detector kills a
 * plugin that overruns, and with it the verdict.
 */
export async function runCheck(options: CheckOptions): Promise<number> {
  // uptimeMs() counts from the start of the process: the deadline holds for the whole run,
  // start-up included, as node-problem-detector times it.
  const deadlineAt = options.deadlineMs;
  // The check traces for itself (with --no-trace, its tracer only removes what killed inotops
  // left); its collector is only for the leaks.
  const tracer = new Tracer({ enabled: options.shared.trace, procRoot: options.shared.procRoot, churn: false });
  const collector = options.failOnLeaked ? new Collector({ ...collectorOptions(options.shared), trace: false, once: true }) : null;
  const stop = (): void => {
    tracer.stop();
    collector?.stop();
  };
  const keepSignals = exitOnSignals(stop);
  let verdict: Verdict;
  try {
    verdict = await judge(options, collector, tracer, deadlineAt);
  } catch (error) {
    // Anything but 0 and 1 reads as "unknown" to node-problem-detector; a crash must not read as a problem.
    if (!(error instanceof ScanError)) process.stderr.write(`inotop check: ${errorText(error)}\n`);
    verdict = { status: CHECK_UNKNOWN, message: `cannot tell: ${errorText(error).split('\n', 1)[0]}` };
  } finally {
    keepSignals();
    stop();
  }
  await writeStdout(fitMessage(verdict.message) + '\n');
  // The verdict is out and nothing may outlive it: the chain is stopped.
  endOneShot(verdict.status);
  // Should anything still hold the event loop (it should not), nothing outlives this.
  endOneShotWithin(verdict.status, EXIT_GRACE_MS);
  return verdict.status;
}

/** How long the process may take to wind down after its verdict. */
const EXIT_GRACE_MS = 100;
/** Kept back from the deadline for judging leaks once the pod list is in (paths, pods). */
const LEAKS_WORK_MS = 500;

async function judge(options: CheckOptions, collector: Collector | null, tracer: Tracer, deadlineAt: number): Promise<Verdict> {
  const { shared } = options;
  const thresholds: Thresholds = {
    instances: options.instancesThreshold,
    watches: options.watchesThreshold,
    fanotifyGroups: options.fanotifyGroupsThreshold,
    fanotifyMarks: options.fanotifyMarksThreshold,
  };
  const tracing = tracer.start();
  // The first pod list is fetched while the limits are checked: its requests go out first.
  if (collector) await collector.start();
  // One scan serves both verdicts: the limits from its counts, the leaks from its targets.
  // Even the scan stops at the deadline: a node too big to read in time is "cannot tell", never a kill.
  // On one thread (no ScanOptions.secondThread): node-problem-detector runs the check under 10m of
  // CPU and 80 Mi, where a second thread would be throttled with the first and add an isolate's memory.
  const scanner = collector ? null : new Scanner({ procRoot: shared.procRoot, once: true });
  const scanned = scanner ? scanner.scan(deadlineAt) : collector!.scan(deadlineAt);
  if (scanned.incomplete) {
    scanner?.close();
    return { status: CHECK_UNKNOWN, message: `cannot tell in time: ${shortfallText(scanned.incomplete)}` };
  }
  const counts = buildSnapshot(scanned, null, null, 'none');
  // Queues and permission waits are looked at again while the trace watches: both are judged over time.
  const traffic = lookAtTraffic(new Traffic(shared.procRoot), scanned, options.failOnQueues, deadlineAt - LEAKS_WORK_MS);
  // A failed call names the victim as well as the limit: it comes first, after processes that hang. The scan's user
  // namespaces (a one-shot's: they end with the process) judge which key's limit it ran into.
  const namespaceOf = (userns: string, pid: number) => (scanner ?? collector!).namespaceOf(userns, pid);
  const failed = shared.trace ? await judgeFailures(tracer, tracing, { ...counts, namespaceOf }, deadlineAt - LEAKS_WORK_MS) : null;
  scanner?.close();
  const looked = await traffic;
  const blocked = judgeBlocked(looked);
  if (blocked) return { status: CHECK_PROBLEM, message: blocked };
  if (failed) return { status: CHECK_PROBLEM, message: failed };
  // A scan that missed processes counts too few: a problem it sees is one, but not its "ok", and
  // the figure it names is a floor, said so.
  const limits = judgeLimits(counts.users, counts.limits, thresholds);
  if (limits.problem) {
    const floor = scanned.coverage.complete ? '' : `, or more: ${scanned.coverage.reason}`;
    return { status: CHECK_PROBLEM, message: `${limits.problem}${floor}` };
  }
  // A recorded tree has no queues to read: they are judged on the live /proc only.
  const queues = options.failOnQueues && shared.procRoot === '/proc' ? judgeQueues(scanned, looked) : { problem: null, unknown: null };
  if (queues.problem) return { status: CHECK_PROBLEM, message: queues.problem };
  // Processes denied for want of CAP_SYS_PTRACE: what lifts it (running as root) said beside what the scan missed.
  if (!scanned.coverage.complete) {
    return { status: CHECK_UNKNOWN, message: `cannot tell: ${scanned.coverage.reason}${scanned.needsPrivilege > 0 ? ': needs root' : ''}` };
  }
  if (scanned.needsPrivilege > 0) {
    const processes = `${scanned.needsPrivilege} process${scanned.needsPrivilege === 1 ? '' : 'es'}`;
    return { status: CHECK_UNKNOWN, message: `cannot tell: ${processes} not readable (needs root, CAP_SYS_PTRACE)` };
  }
  if (limits.unknown) return { status: CHECK_UNKNOWN, message: `cannot tell: ${limits.unknown}` };
  if (queues.unknown) return { status: CHECK_UNKNOWN, message: `cannot tell: ${queues.unknown}` };
  if (!collector) return { status: CHECK_OK, message: `ok: ${limits.summary}` };

  const inTime = { status: CHECK_UNKNOWN, message: `cannot tell in time: leaks not judged within ${options.deadlineMs / 1000} s` } as const;
  const left = deadlineAt - LEAKS_WORK_MS - uptimeMs();
  if (left <= 0) return inTime;
  // Without a source there is no list to wait for, nor a timer to bound the wait.
  if (shared.pods.kind !== 'none') await settledWithin(collector.podsReady(), Math.min(options.podsTimeoutMs, left));
  if (uptimeMs() >= deadlineAt) return inTime;
  // Path lookups stop at the deadline too: what they did not reach cannot be judged.
  const snapshot = collector.collect('leaked', scanned, deadlineAt);
  if (collector.outOfTime) return inTime;
  const leaks = judgeLeaks(snapshot.processes);
  if (leaks) return { status: CHECK_PROBLEM, message: leaks };
  // Without a pod list, watches of deleted pods whose files are still there look live.
  if (shared.pods.kind !== 'none' && snapshot.pods.live === null) {
    const failed = snapshot.pods.error !== null && snapshot.pods.error !== POD_LIST_PENDING;
    const why = failed ? snapshot.pods.error : `no pod list within ${Math.min(options.podsTimeoutMs, options.deadlineMs) / 1000} s`;
    return { status: CHECK_UNKNOWN, message: `cannot tell leaks of gone pods: ${why}` };
  }
  return { status: CHECK_OK, message: `ok: ${[limits.summary, 'no leaked watches'].filter(Boolean).join('; ')}` };
}

/** Looks at event queues and permission waits QUEUE_READINGS times over STUCK_WAIT_SECONDS, while any is worth another look. */
async function lookAtTraffic(traffic: Traffic, scanned: ScanResult, queues: boolean, until: number): Promise<TrafficReading> {
  const look = () => traffic.read(scanned.processes, scanned.limits, null, null);
  try {
    let reading = look();
    const pause = (STUCK_WAIT_SECONDS * 1000) / (QUEUE_READINGS - 1);
    for (let more = QUEUE_READINGS - 1; more > 0 && worthAnotherLook(scanned, reading, queues) && uptimeMs() + pause <= until; more--) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      reading = look();
    }
    return reading;
  } finally {
    traffic.close();
  }
}

/** A process seen waiting, or (when queues are judged) a queue that is not empty: one look cannot judge them. */
function worthAnotherLook(scanned: ScanResult, reading: TrafficReading, queues: boolean): boolean {
  if (reading.permissionWaits.processes.some((waiter) => waiter.waitingSeconds < STUCK_WAIT_SECONDS)) return true;
  if (!queues) return false;
  return scanned.processes.some((proc) =>
    [...proc.instances, ...proc.fanotifyGroups].some((item) => {
      const queue = reading.queues(item.instanceId);
      return queue !== undefined && (queue.bytes ?? 0) > 0 && !isQueueTrouble(queue.state);
    }),
  );
}

/**
 * "BLOCKED on fanotify answers of avscan 4242: 312 waiting, oldest 41 s" (80 characters at most
 * with the longest comm and pid); null when no wait has lasted.
 */
export function judgeBlocked(reading: TrafficReading): string | null {
  const stuck = stuckWaiters(reading.permissionWaits);
  if (stuck.length === 0) return null;
  const group = blockingGroup(reading.permissionWaits, stuck);
  return `BLOCKED on fanotify answers${group ? ` of ${group.comm} ${group.pid}` : ''}: ${stuck.length} waiting, oldest ${stuck[0]!.waitingSeconds} s`;
}

/** The queue that may be full (else the fullest that is not draining), and how many other processes have one. */
export function judgeQueues(scanned: ScanResult, reading: TrafficReading): { problem: string | null; unknown: string | null } {
  const troubled: { comm: string; pid: number; kind: string; bytes: number; full: boolean }[] = [];
  let unknown = 0;
  const seen = new Set<string>();
  for (const proc of scanned.processes) {
    const items = [...proc.instances.map((item) => ({ item, kind: 'inotify' })), ...proc.fanotifyGroups.map((item) => ({ item, kind: 'fanotify' }))];
    for (const { item, kind } of items) {
      // A shared instance is one queue, named at its first holder.
      if (seen.has(item.instanceId)) continue;
      seen.add(item.instanceId);
      const queue = reading.queues(item.instanceId);
      if (!queue || queue.bytes === null) unknown++;
      else if (isQueueTrouble(queue.state)) troubled.push({ comm: proc.comm, pid: proc.pid, kind, bytes: queue.bytes, full: queue.state === 'may be full' });
    }
  }
  troubled.sort((a, b) => Number(b.full) - Number(a.full) || b.bytes - a.bytes);
  const worst = troubled[0];
  if (worst) {
    const others = new Set(troubled.map((queue) => queue.pid)).size - 1;
    const more = others > 0 ? ` (+${others} more process${others === 1 ? '' : 'es'})` : '';
    const what = worst.full ? `may be full (${bytesText(worst.bytes)}): events lost` : `not draining (${bytesText(worst.bytes)} unread over 1 s)`;
    return { problem: `${worst.comm} ${worst.pid}: ${worst.kind} queue ${what}${more}`, unknown: null };
  }
  if (unknown > 0) {
    const why = reading.notes.find((note) => note.startsWith('event queues')) ?? 'event queues not read';
    return { problem: null, unknown: `${why} (--fail-on-queues=false skips them)` };
  }
  return { problem: null, unknown: null };
}

/** Watches for CHECK_TRACE_MS, or less when the deadline comes first (a big node's scan took the time). */
async function judgeFailures(tracer: Tracer, started: Promise<void>, context: FailureContext & LimitContext, until: number): Promise<string | null> {
  const startedAt = Date.now();
  await started;
  const windowMs = Math.max(0, Math.min(CHECK_TRACE_MS - (Date.now() - startedAt), until - uptimeMs()));
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const failures = recentFailures(tracer.take(context).failures, Date.now());
  return failuresProblem(failures, context, `${Math.floor((Date.now() - startedAt) / 100) / 10} s`);
}

export function failuresProblem(failures: readonly SyscallFailure[], context: FailureContext, window: string): string | null {
  const worst = worstFailure(failures);
  if (!worst) return null;
  const limit = limitText(worst, context, 'short');
  const others = new Set(failures.map((f) => f.pid)).size - 1;
  const more = others > 0 ? ` (+${others} more process${others === 1 ? '' : 'es'})` : '';
  return `${worst.comm} ${worst.pid}: ${worst.count} ${worst.errno} in ${window}${limit ? `, ${limit}` : ''}${more}`;
}

interface LimitsJudgement {
  /** The worst user over a threshold, or null. */
  problem: string | null;
  /** A checked limit that could not be read, or null. */
  unknown: string | null;
  /** How close the closest user is, for the OK message ("" when nothing is checked). */
  summary: string;
}

type Charged = keyof ChargeCounts;

interface LimitUse {
  user: UserRow;
  /** What the message calls it: "inotify watches", "fanotify marks". */
  what: string;
  field: Charged;
  used: number;
  limit: number;
}

/**
 * Every key's charge (its own and its user namespaces') against the limits in force for it:
 * max_user_instances and max_user_watches, fanotify's max_user_groups and max_user_marks for a
 * host user; a namespace's own max_inotify_* and max_fanotify_* for a user in it, where set below
 * unlimited. A namespace whose own limits could not be read is judged at its owner's level, where
 * its charge is counted too. fanotify's are checked only where some user holds a group (older
 * kernels have no such limits), and said in the summary only then.
 */
export function judgeLimits(users: readonly UserRow[], limits: Limits, thresholds: Thresholds): LimitsJudgement {
  const anyFanotify = users.some((user) => user.charged.fanotifyGroups > 0);
  const checks: { what: string; short: string; field: Charged; threshold: number | null | undefined; host: number | null | undefined; sysctl: string }[] = [
    {
      what: 'inotify instances',
      short: 'instances',
      field: 'instances',
      threshold: thresholds.instances,
      host: limits.maxUserInstances,
      sysctl: 'fs.inotify.max_user_instances',
    },
    {
      what: 'inotify watches',
      short: 'watches',
      field: 'watches',
      threshold: thresholds.watches,
      host: limits.maxUserWatches,
      sysctl: 'fs.inotify.max_user_watches',
    },
  ];
  if (anyFanotify) {
    checks.push(
      {
        what: 'fanotify groups',
        short: 'fanotify groups',
        field: 'fanotifyGroups',
        threshold: thresholds.fanotifyGroups,
        host: limits.maxUserFanotifyGroups,
        sysctl: 'fs.fanotify.max_user_groups',
      },
      {
        what: 'fanotify marks',
        short: 'marks',
        field: 'fanotifyMarks',
        threshold: thresholds.fanotifyMarks,
        host: limits.maxUserFanotifyMarks,
        sysctl: 'fs.fanotify.max_user_marks',
      },
    );
  }
  const over: LimitUse[] = [];
  const closest: string[] = [];
  for (const { what, short, field, threshold, host, sysctl } of checks) {
    if (threshold === null || threshold === undefined) continue;
    if (host === null || host === undefined || host <= 0) return { problem: null, unknown: `${sysctl} not readable`, summary: '' };
    let highest = { used: 0, limit: host };
    for (const user of users) {
      const limit = user.limits?.[field] ?? null;
      if (limit === null || limit <= 0) continue;
      const used = user.charged[field];
      if (used / limit > highest.used / highest.limit) highest = { used, limit };
      if (used >= threshold * limit) over.push({ user, what, field, used, limit });
    }
    closest.push(`${percent(highest.used, highest.limit)} of ${short}`);
  }
  over.sort((a, b) => b.used / b.limit - a.used / a.limit || a.user.uid - b.user.uid);
  const worst = over[0];
  const problem = worst
    ? `${userRowLabel(worst.user)}: ${worst.used}/${worst.limit} ${worst.what}${fromNamespacesText(worst.user, worst.field)}${over.length > 1 ? ` (+${over.length - 1} more)` : ''}`
    : null;
  return { problem, unknown: null, summary: closest.length > 0 ? `highest use ${closest.join(', ')}` : '' };
}

/** ", 30 from 2 userns" for a key charged from user namespaces below it. */
function fromNamespacesText(user: UserRow, field: Charged): string {
  const count = fromBelow(user, field);
  return count > 0 ? `, ${count} from ${namespacesBelow(user)} userns` : '';
}

/** The process with most leaked watches, what they are, and how many other processes leak. */
export function judgeLeaks(processes: readonly ProcessRow[]): string | null {
  const leaking = leakingProcesses(processes);
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

/** One line of at most MAX_MESSAGE_LENGTH, with a comm or runtime error from the node made visible (common/text.ts). */
export function fitMessage(message: string): string {
  return visibleLine(message, MAX_MESSAGE_LENGTH);
}
