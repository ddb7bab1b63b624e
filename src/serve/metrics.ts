// The Prometheus metrics of the last scan, rendered once per scan: a scrape only sends the text.
// Label sets stay bounded: users, the top processes plus the leaking ones, and leaked pods.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { NO_FILTER, queryRows } from '../model/query.js';
import { NO_TRACE_REASON, type ChargeCounts, type LeakForm, type PodRef, type ProcessRow, type Snapshot, type SyscallFailure } from '../model/types.js';
import { VERSION } from '../version.js';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** The label every series carries, so that a fleet view names nodes (not pod IPs). */
export const NODE_LABEL = 'node';

export interface MetricsState {
  /** The node label's value. */
  node: string;
  /** The last scan's snapshot; null while none has succeeded, and after one that failed. */
  snapshot: Snapshot | null;
  scanFailures: number;
  /** Why the last scan failed (/proc could not be listed): its figures are unknown, none are exported. Null when it did not fail. */
  lastFailure: string | null;
  /** Per-process series for this many processes by watches, and as many by instances. */
  top: number;
  /** Failed inotify calls since the start; none without it. */
  failures?: FailureTotals;
}

const FAILURE_LABELS = ['syscall', 'errno', 'limit', 'comm'] as const;
type FailureLabels = Record<(typeof FAILURE_LABELS)[number], string>;
/** Distinct comm values the failure counter takes; later ones count together as OTHER_COMM. */
const MAX_FAILURE_COMMS = 50;
export const OTHER_COMM = '_other';

/**
 * Failed inotify calls since the start, summed from each snapshot's `new`: a counter that only
 * grows, whatever the tracer forgets. No pid label, and a bounded set of comms: a program that
 * fails and restarts makes no new series.
 */
export class FailureTotals {
  private readonly totals = new Map<string, { labels: FailureLabels; value: number }>();
  private readonly comms = new Set<string>();

  add(failures: readonly SyscallFailure[]): void {
    for (const failure of failures) {
      if (failure.new === 0) continue;
      if (!this.comms.has(failure.comm) && this.comms.size < MAX_FAILURE_COMMS) this.comms.add(failure.comm);
      const comm = this.comms.has(failure.comm) ? failure.comm : OTHER_COMM;
      const labels: FailureLabels = { syscall: failure.syscall, errno: failure.errno, limit: failure.limit ?? '', comm };
      const key = FAILURE_LABELS.map((name) => labels[name]).join('\0');
      const total = this.totals.get(key);
      if (total) total.value += failure.new;
      else this.totals.set(key, { labels, value: failure.new });
    }
  }

  series(): { labels: FailureLabels; value: number }[] {
    return [...this.totals.values()];
  }
}

const PROCESS_LABELS = ['pid', 'comm', 'pod_namespace', 'pod_name', 'pod_uid'] as const;

export async function renderMetrics(state: MetricsState): Promise<string> {
  const registry = new Registry();
  registry.setDefaultLabels({ [NODE_LABEL]: state.node });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });

  gauge('inotop_build_info', 'inotop version, always 1.', ['version']).set({ version: VERSION }, 1);
  new Counter({ name: 'inotop_scan_failures_total', help: 'Scans that failed (e.g. /proc not readable).', registers: [registry] }).inc(state.scanFailures);
  const { snapshot } = state;
  const complete = gauge(
    'inotop_scan_complete',
    'Whether the last scan read enough of /proc for its figures to hold (0: the reason says why; its figures, if any, are too low).',
    ['reason'],
  );
  if (state.lastFailure !== null) complete.set({ reason: state.lastFailure }, 0);
  if (!snapshot) return registry.metrics();
  const { scan } = snapshot;
  // The reason names the causes, not their counts: a label value that changes with every scan is a new series each time.
  complete.set({ reason: scan.complete ? '' : `processes not read: ${Object.keys(scan.unreadable).join(', ')}` }, scan.complete ? 1 : 0);
  const unreadable = gauge(
    'inotop_scan_unreadable_processes',
    'Processes the last scan could not read, whole or in part, by cause (an errno name, or deadline): their counts are missing or short.',
    ['cause'],
  );
  for (const [cause, count] of Object.entries(scan.unreadable)) unreadable.set({ cause }, count);

  const limits: [string, string, number | null][] = [
    ['inotop_max_user_instances', 'fs.inotify.max_user_instances: inotify instances one user may hold.', snapshot.limits.maxUserInstances],
    ['inotop_max_user_watches', 'fs.inotify.max_user_watches: inotify watches one user may hold.', snapshot.limits.maxUserWatches],
    ['inotop_max_queued_events', 'fs.inotify.max_queued_events: events queued per instance before overflow.', snapshot.limits.maxQueuedEvents],
    ['inotop_max_user_fanotify_groups', 'fs.fanotify.max_user_groups: fanotify groups one user may hold.', snapshot.limits.maxUserFanotifyGroups],
    ['inotop_max_user_fanotify_marks', 'fs.fanotify.max_user_marks: fanotify marks one user may hold.', snapshot.limits.maxUserFanotifyMarks],
  ];
  for (const [name, help, value] of limits) if (value !== null) gauge(name, help).set(value);

  // Per charge key (user namespace, uid): what the kernel charges it, its own and its user
  // namespaces', and the limit in force for it (none where unlimited or not read).
  const userLabels = ['uid', 'user', 'userns'] as const;
  const charged = 'charged to a user: its own and those of the user namespaces below it';
  const userSeries: [keyof ChargeCounts, Gauge<(typeof userLabels)[number]>, Gauge<(typeof userLabels)[number]>][] = [
    [
      'watches',
      gauge('inotop_user_watches', `inotify watches ${charged} (shared instances once).`, userLabels),
      gauge('inotop_user_watches_limit', "The inotify watch limit in force for a user: max_user_watches, or its user namespace's own.", userLabels),
    ],
    [
      'instances',
      gauge('inotop_user_instances', `inotify instances ${charged} (shared instances once).`, userLabels),
      gauge('inotop_user_instances_limit', "The inotify instance limit in force for a user: max_user_instances, or its user namespace's own.", userLabels),
    ],
    [
      'fanotifyGroups',
      gauge('inotop_user_fanotify_groups', `fanotify groups ${charged} (shared groups once).`, userLabels),
      gauge('inotop_user_fanotify_groups_limit', "The fanotify group limit in force for a user: max_user_groups, or its user namespace's own.", userLabels),
    ],
    [
      'fanotifyMarks',
      gauge('inotop_user_fanotify_marks', `fanotify marks ${charged} (not those of FAN_UNLIMITED_MARKS groups).`, userLabels),
      gauge('inotop_user_fanotify_marks_limit', "The fanotify mark limit in force for a user: max_user_marks, or its user namespace's own.", userLabels),
    ],
  ];
  for (const user of snapshot.users) {
    const labels = { uid: String(user.uid), user: user.name, userns: user.userns ?? '' };
    for (const [field, used, limit] of userSeries) {
      used.set(labels, user.charged[field]);
      const value = user.limits?.[field] ?? null;
      if (value !== null) limit.set(labels, value);
    }
  }

  const processWatches = gauge('inotop_process_watches', 'inotify watches of a process (top processes and every leaking one).', PROCESS_LABELS);
  const processInstances = gauge('inotop_process_instances', 'inotify instances of a process (top processes and every leaking one).', PROCESS_LABELS);
  const processLeaked = gauge('inotop_process_leaked_watches', 'Watches of a process on gone pods, unmounted or deleted targets.', PROCESS_LABELS);
  for (const row of exportedProcesses(snapshot.processes, state.top)) {
    const labels = { pid: String(row.pid), comm: row.comm, ...podLabels(row.pod) };
    processWatches.set(labels, row.watches);
    processInstances.set(labels, row.instances);
    processLeaked.set(labels, row.leaked);
  }

  const leaked = gauge('inotop_leaked_watches', 'Leaked watches by the pod they belong to and how they leaked (gone, unmounted, deleted).', [
    'pod_namespace',
    'pod_name',
    'pod_uid',
    'form',
  ]);
  for (const { pod, form, watches } of leaksByPod(snapshot.processes)) leaked.set({ ...podLabels(pod), form }, watches);

  gauge('inotop_trace_up', 'Whether failed inotify calls are traced (0: not root, no tracefs, or --no-trace).').set(snapshot.trace.state === 'on' ? 1 : 0);
  // Apart from trace_up, so that an alert can tell "off where it was asked for" from "--no-trace".
  gauge('inotop_trace_requested', 'Whether failed inotify calls were asked to be traced (0: --no-trace).').set(
    snapshot.trace.state === 'on' || snapshot.trace.reason !== NO_TRACE_REASON ? 1 : 0,
  );
  const failures = new Counter({
    name: 'inotop_syscall_failures_total',
    help: 'Failed inotify calls (ENOSPC, EMFILE, ENFILE, ENOMEM) since the start, by syscall, errno, the limit hit and the command.',
    labelNames: FAILURE_LABELS,
    registers: [registry],
  });
  for (const { labels, value } of state.failures?.series() ?? []) failures.inc(labels, value);
  gauge('inotop_scan_duration_seconds', 'How long the last scan of /proc took.').set(snapshot.scanMs / 1000);
  gauge('inotop_last_scan_timestamp_seconds', 'When the last good scan was taken.').set(Date.parse(snapshot.time) / 1000);
  const { source, live, error } = snapshot.pods;
  // Source "none" without an error: no pod source was asked for (--pods none).
  if (source !== 'none' || error !== null) {
    const up = gauge('inotop_pod_source_up', 'Whether the live pod list came in at its last refresh (0: gone pods cannot be told).', ['source']);
    up.set({ source }, live !== null && error === null ? 1 : 0);
  }
  if (live !== null) gauge('inotop_pod_source_live_pods', 'Live pods in the last good pod list.', ['source']).set({ source }, live);
  return registry.metrics();
}

const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * prom-client's default metrics of this process (process_cpu_seconds_total,
 * process_resident_memory_bytes, nodejs_*): inotop's own cost, read at each scrape.
 */
export function processMetricsRegistry(node: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ [NODE_LABEL]: node });
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters: promtool's lint (and so CI linting of scrapes) refuses them.
  for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return registry;
}

/**
 * What the metrics need of a snapshot: every row (to pick the top ones) but only leaked targets.
 * Kept between scans instead of the whole snapshot, whose targets are most of its size.
 */
export function metricsView(snapshot: Snapshot): Snapshot {
  const processes = snapshot.processes.map((row) => ({ ...row, targets: row.leaked > 0 ? row.targets.filter((t) => t.leak !== null) : [] }));
  return { ...snapshot, processes };
}

/** The top processes by watches and by instances, and every process with leaked watches. */
export function exportedProcesses(rows: readonly ProcessRow[], top: number): ProcessRow[] {
  const byWatches = queryRows(rows, NO_FILTER, { field: 'watches', descending: true }).slice(0, top);
  const byInstances = queryRows(rows, NO_FILTER, { field: 'instances', descending: true }).slice(0, top);
  const leaking = rows.filter((row) => row.leaked > 0);
  return [...new Set([...byWatches, ...byInstances, ...leaking])];
}

function podLabels(pod: PodRef | null): { pod_namespace: string; pod_name: string; pod_uid: string } {
  return { pod_namespace: pod?.namespace ?? '', pod_name: pod?.name ?? '', pod_uid: pod?.uid ?? '' };
}

interface PodLeak {
  pod: PodRef | null;
  form: LeakForm;
  watches: number;
}

/** Leaked watches of every process summed per (pod, form); targets of no pod count together. */
export function leaksByPod(rows: readonly ProcessRow[]): PodLeak[] {
  const sums = new Map<string, PodLeak>();
  for (const row of rows) {
    if (row.leaked === 0) continue;
    for (const target of row.targets) {
      if (!target.leak) continue;
      const key = `${target.pod?.uid ?? ''}\0${target.leak}`;
      const sum = sums.get(key);
      if (sum) sum.watches += target.watches;
      else sums.set(key, { pod: target.pod, form: target.leak, watches: target.watches });
    }
  }
  return [...sums.values()];
}
