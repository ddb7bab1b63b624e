// The Prometheus metrics of the last scan, rendered once per scan: a scrape only sends the text.
// Designed for a fleet (README, "Series for a fleet"): every label's values are bounded, so a node
// exports at most seriesBudget() inotop_* series (60 with the default flags) whatever leaks or restarts.
//   - users (charge keys): the one nearest the inotify watch limit in force for it and the one
//     nearest the instance limit (the next nearest either where one user is nearest both:
//     MAX_USERS), each with its limit; fanotify's for the one nearest a fanotify limit;
//   - processes grouped by what survives a restart (comm and pod, never pid): the top --top groups,
//     the rest summed into one group, comm="_other";
//   - leaked watches by pod and form: whole pods by leaked watches while their series fit in
//     --top-leaks, the rest summed per form into pod_name="_other"; inotop_gone_pods counts every
//     gone pod whatever is shown;
//   - failed calls: at most MAX_FAILURE_SERIES label sets, the later ones counted as "_other";
//   - processes a scan could not read: by the causes with most, at most MAX_UNREADABLE_SERIES, the
//     rest summed into cause="_other";
//   - event queues: counted by state (the states in trouble, and unknown), and the one process
//     group whose queues are worst named with its unread bytes; permission waits: how many and the
//     oldest, and the holder (comm and pod) of the group that can hold the most.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { compareCodeUnits } from '../common/compare.js';
import {
  NO_TRACE_REASON,
  type ChargeCounts,
  type LeakForm,
  type PodRef,
  type ProcessRow,
  type QueueState,
  type Snapshot,
  type SyscallFailure,
  type UserRow,
} from '../model/types.js';
import { isQueueTrouble } from '../model/queues.js';
import { processQueueState } from '../views/traffic.js';
import { VERSION } from '../version.js';
import { DEFAULT_TOP, DEFAULT_TOP_LEAKS, type ServeOptions } from './args.js';
import { defaultLabels, OTHER } from './labels.js';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Users with series of their own: the nearest each inotify limit (the next nearest either where one user is nearest both). */
export const MAX_USERS = 2;
/** Label sets of the failure counter with series of their own, the last one being OTHER. */
export const MAX_FAILURE_SERIES = 5;
/** Causes of unread processes with series of their own, the last one being OTHER where there are more. */
export const MAX_UNREADABLE_SERIES = 2;

/**
 * The series with no per-thing label: build, scan failures, scan complete, five limits, scan
 * duration and time, the pod source's two, trace up and requested, gone pods, permission waiters
 * and the oldest wait.
 */
const FIXED_SERIES = 17;
/**
 * The queue states with a series each: a reader in trouble, and queues that could not be read. The
 * states of queues doing well (empty, pending, draining) are the node's own business (`inotop
 * --json`): a fleet alerts on the others.
 */
const EXPORTED_QUEUE_STATES: readonly QueueState[] = ['not draining', 'may be full', 'unknown'];

/** inotop_queues' states, the worst queue reader's bytes, the busiest permission group's holder. */
const TRAFFIC_SERIES = EXPORTED_QUEUE_STATES.length + 1 + 1;
/** Each inotify user's used and limit series of watches and instances; the fanotify user's of groups and marks. */
const PER_USER_SERIES = 4;
const PER_GROUP_SERIES = 3;
const LEAK_FORMS: readonly LeakForm[] = ['gone', 'unmounted', 'deleted'];

/** The most inotop_* series one node exports with these bounds (README: the budget, term by term). */
export function seriesBudget(top = DEFAULT_TOP, topLeaks = DEFAULT_TOP_LEAKS): number {
  return (
    FIXED_SERIES +
    TRAFFIC_SERIES +
    (MAX_USERS + 1) * PER_USER_SERIES +
    PER_GROUP_SERIES * (top + 1) +
    topLeaks +
    LEAK_FORMS.length +
    MAX_FAILURE_SERIES +
    MAX_UNREADABLE_SERIES
  );
}

export interface MetricsState {
  /** The node label's value. */
  node: string;
  /** The cluster label's value; null: no such label (Prometheus may add one by relabelling). */
  cluster: string | null;
  /** The last scan's snapshot; null while none has succeeded, and after one that failed. */
  snapshot: Snapshot | null;
  scanFailures: number;
  /** Why the last scan failed (/proc could not be listed): its figures are unknown, none are exported. Null when it did not fail. */
  lastFailure: string | null;
  /** Process groups (comm, pod) with series of their own; the rest are summed into one. */
  top: number;
  /** Leaked (pod, form) pairs with series of their own; the rest are summed per form. */
  topLeaks: number;
  /** Failed inotify calls since the start; none without it. */
  failures?: FailureTotals;
}

export function metricsState(options: ServeOptions, node: string, failures: FailureTotals): MetricsState {
  return { node, cluster: options.cluster, snapshot: null, scanFailures: 0, lastFailure: null, top: options.top, topLeaks: options.topLeaks, failures };
}

const FAILURE_LABELS = ['syscall', 'errno', 'limit', 'comm'] as const;
type FailureLabels = Record<(typeof FAILURE_LABELS)[number], string>;
const OTHER_FAILURE: FailureLabels = { syscall: OTHER, errno: OTHER, limit: OTHER, comm: OTHER };

/**
 * Failed inotify calls since the start, summed from each snapshot's `new`: a counter that only
 * grows, whatever the tracer forgets. No pid label, and at most MAX_FAILURE_SERIES label sets: the
 * first ones seen keep theirs, later ones count together in one whose every label is OTHER, so a
 * program that fails and restarts, or a hundred that fail, make no new series.
 */
export class FailureTotals {
  private readonly totals = new Map<string, { labels: FailureLabels; value: number }>();

  add(failures: readonly SyscallFailure[]): void {
    for (const failure of failures) {
      if (failure.new === 0) continue;
      let labels: FailureLabels = { syscall: failure.syscall, errno: failure.errno, limit: failure.limit ?? '', comm: failure.comm };
      let key = FAILURE_LABELS.map((name) => labels[name]).join('\0');
      if (!this.totals.has(key) && this.totals.size >= MAX_FAILURE_SERIES - 1) {
        labels = OTHER_FAILURE;
        key = OTHER;
      }
      const total = this.totals.get(key);
      if (total) total.value += failure.new;
      else this.totals.set(key, { labels, value: failure.new });
    }
  }

  series(): { labels: FailureLabels; value: number }[] {
    return [...this.totals.values()];
  }
}

const GROUP_LABELS = ['comm', 'pod_namespace', 'pod_name'] as const;
const LEAK_LABELS = ['pod_namespace', 'pod_name', 'pod_uid', 'form'] as const;

export async function renderMetrics(state: MetricsState): Promise<string> {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels(state.node, state.cluster));
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
    `Processes the last scan could not read, whole or in part, by cause (an errno name, or deadline): their counts are missing or short (at most ${MAX_UNREADABLE_SERIES} causes; "${OTHER}": the rest summed).`,
    ['cause'],
  );
  for (const [cause, count] of exportedCauses(scan.unreadable)) unreadable.set({ cause }, count);

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
  const nearest = `(the ${MAX_USERS} users nearest an inotify limit; for fanotify, the one nearest a fanotify limit)`;
  const userSeries = (field: keyof ChargeCounts, name: string, what: string, limit: string) => ({
    field,
    used: gauge(`inotop_user_${name}`, `${what} ${charged} ${nearest}.`, userLabels),
    limit: gauge(`inotop_user_${name}_limit`, `The ${limit} limit in force for a user: the host's sysctl, or its user namespace's own ${nearest}.`, userLabels),
  });
  const inotify = [
    userSeries('watches', 'watches', 'inotify watches', 'inotify watch'),
    userSeries('instances', 'instances', 'inotify instances', 'inotify instance'),
  ];
  const fanotify = [
    userSeries('fanotifyGroups', 'fanotify_groups', 'fanotify groups', 'fanotify group'),
    userSeries('fanotifyMarks', 'fanotify_marks', 'fanotify marks (not those of FAN_UNLIMITED_MARKS groups)', 'fanotify mark'),
  ];
  const chosen = exportedUsers(snapshot.users);
  for (const [series, users] of [
    [inotify, chosen.inotify],
    [fanotify, chosen.fanotify],
  ] as const) {
    for (const user of users) {
      const labels = { uid: String(user.uid), user: user.name, userns: user.userns ?? '' };
      for (const { field, used, limit } of series) {
        used.set(labels, user.charged[field]);
        const value = user.limits?.[field] ?? null;
        if (value !== null) limit.set(labels, value);
      }
    }
  }

  queueMetrics(snapshot, gauge);
  permissionWaitMetrics(snapshot, gauge);

  const groupHelp = `by command and pod (the top ${state.top} such groups; comm="${OTHER}": the rest summed)`;
  const processWatches = gauge('inotop_process_watches', `inotify watches of processes ${groupHelp}.`, GROUP_LABELS);
  const processInstances = gauge('inotop_process_instances', `inotify instances of processes ${groupHelp}.`, GROUP_LABELS);
  const processLeaked = gauge('inotop_process_leaked_watches', `Watches on gone pods, unmounted or deleted targets, of processes ${groupHelp}.`, GROUP_LABELS);
  for (const group of exportedGroups(processGroups(snapshot.processes), state.top)) {
    const labels = { comm: group.comm, pod_namespace: group.podNamespace, pod_name: group.podName };
    processWatches.set(labels, group.watches);
    processInstances.set(labels, group.instances);
    processLeaked.set(labels, group.leaked);
  }

  const leaks = leaksByPod(snapshot.processes);
  const leaked = gauge(
    'inotop_leaked_watches',
    `Leaked watches by the pod they belong to and how they leaked (gone, unmounted, deleted): the pods with most, in at most ${state.topLeaks} series; pod_name="${OTHER}": the rest summed per form.`,
    LEAK_LABELS,
  );
  for (const leak of exportedLeaks(leaks, state.topLeaks)) leaked.set({ ...leakPodLabels(leak.pod), form: leak.form }, leak.watches);
  gauge('inotop_gone_pods', 'Pods gone from the pod list whose watches are still held, every one counted.').set(gonePods(leaks));

  gauge('inotop_trace_up', 'Whether failed inotify calls are traced (0: not root, no tracefs, or --no-trace).').set(snapshot.trace.state === 'on' ? 1 : 0);
  // Apart from trace_up, so that an alert can tell "off where it was asked for" from "--no-trace".
  gauge('inotop_trace_requested', 'Whether failed inotify calls were asked to be traced (0: --no-trace).').set(
    snapshot.trace.state === 'on' || snapshot.trace.reason !== NO_TRACE_REASON ? 1 : 0,
  );
  const failures = new Counter({
    name: 'inotop_syscall_failures_total',
    help: `Failed inotify calls (ENOSPC, EMFILE, ENFILE, ENOMEM) since the start, by syscall, errno, the limit hit and the command (at most ${MAX_FAILURE_SERIES} label sets; "${OTHER}": later ones).`,
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

type GaugeMaker = <L extends string>(name: string, help: string, labelNames?: readonly L[]) => Gauge<L>;

/**
 * Event queues: how many instances and groups stand in each of EXPORTED_QUEUE_STATES (a shared one
 * once), and the bytes queued unread by the one process group (command, pod) whose queues are in
 * the worst trouble: may be full before not draining, then most bytes. Missing in a recording made
 * before queues were read.
 */
function queueMetrics(snapshot: Snapshot, gauge: GaugeMaker): void {
  const states = new Map<string, QueueState>();
  for (const row of snapshot.processes) {
    for (const fd of row.fds) if (fd.queueState) states.set(fd.instance, fd.queueState);
    for (const fd of row.fanotifyFds) if (fd.queueState) states.set(fd.instance, fd.queueState);
  }
  if (states.size === 0 && !snapshot.processes.some((row) => row.queuedBytes !== undefined)) return;
  const queues = gauge(
    'inotop_queues',
    'inotify instances and fanotify groups by the state of their event queue (not_draining, may_be_full: a reader falling behind; unknown: not read).',
    ['state'],
  );
  for (const state of EXPORTED_QUEUE_STATES) queues.set({ state: state.replaceAll(' ', '_') }, [...states.values()].filter((s) => s === state).length);
  const reader = worstQueueReader(snapshot.processes);
  if (!reader) return;
  const bytes = gauge(
    'inotop_process_queued_bytes',
    'Bytes queued unread on the queues in trouble (not draining, may be full) of the processes of one command in one pod: the group whose are worst (inotop_queues counts them all).',
    GROUP_LABELS,
  );
  bytes.set({ comm: reader.comm, pod_namespace: reader.podNamespace, pod_name: reader.podName }, reader.bytes);
}

/** The process group (command, pod) whose queues are in the worst trouble, with the bytes queued in them; null when none is. */
function worstQueueReader(rows: readonly ProcessRow[]): { comm: string; podNamespace: string; podName: string; full: boolean; bytes: number } | null {
  const readers = new Map<string, { comm: string; podNamespace: string; podName: string; full: boolean; bytes: number }>();
  for (const row of rows) {
    const state = processQueueState(row);
    if (row.queuedBytes === null || row.queuedBytes === undefined || !isQueueTrouble(state)) continue;
    const { podNamespace, podName } = groupPod(row.pod);
    const key = `${row.comm}\0${podNamespace}\0${podName}`;
    let reader = readers.get(key);
    if (!reader) readers.set(key, (reader = { comm: row.comm, podNamespace, podName, full: false, bytes: 0 }));
    reader.full ||= state === 'may be full';
    reader.bytes += row.queuedBytes;
  }
  const ranked = [...readers.values()].sort(
    (a, b) => Number(b.full) - Number(a.full) || b.bytes - a.bytes || compareCodeUnits(a.comm, b.comm) || compareCodeUnits(a.podName, b.podName),
  );
  return ranked[0] ?? null;
}

/**
 * Processes waiting for fanotify permission answers, the longest wait, and the holder of the
 * permission group that can hold the most of them (by command and pod, never pid or fd: an
 * anti-virus that restarts keeps its series).
 */
function permissionWaitMetrics(snapshot: Snapshot, gauge: GaugeMaker): void {
  const waits = snapshot.permissionWaits;
  if (!waits) return;
  gauge('inotop_permission_waiters', 'Processes waiting for a fanotify permission answer (state D in fanotify; at least one refresh old or not).').set(
    waits.processes.length,
  );
  gauge(
    'inotop_permission_wait_oldest_seconds',
    'The longest fanotify permission wait seen, in seconds since inotop first saw it (0: none, or just seen).',
  ).set(waits.processes[0]?.waitingSeconds ?? 0);
  // Groups come most waiters first.
  const group = waits.groups[0];
  if (!group) return;
  const holder = gauge(
    'inotop_permission_group_waiters',
    'The holder of the fanotify permission group that can hold the most waiting processes, by command and pod, and how many of those now wait.',
    GROUP_LABELS,
  );
  const { podNamespace, podName } = groupPod(snapshot.processes.find((row) => row.pid === group.pid)?.pod ?? null);
  holder.set({ comm: group.comm, pod_namespace: podNamespace, pod_name: podName }, group.waiters);
}

const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * prom-client's default metrics of this process (process_cpu_seconds_total,
 * process_resident_memory_bytes, nodejs_*): inotop's own cost, read at each scrape. None with
 * --web.disable-exporter-metrics (about 60 series a node that a fleet may not want), nor in a
 * textfile, where they would describe a short-lived writer.
 */
export function exporterMetricsRegistry(options: ServeOptions, node: string): Registry | null {
  if (options.textfile !== null || !options.exporterMetrics) return null;
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels(node, options.cluster));
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

/**
 * Unread processes by cause, the causes with most first (ties by name), at most MAX_UNREADABLE_SERIES:
 * past that, the last one is OTHER with the rest summed (a process missed for two causes counts in each).
 */
export function exportedCauses(unreadable: Readonly<Record<string, number>>): [string, number][] {
  const ranked = Object.entries(unreadable).sort(([a, x], [b, y]) => y - x || compareCodeUnits(a, b));
  if (ranked.length <= MAX_UNREADABLE_SERIES) return ranked;
  const kept = ranked.slice(0, MAX_UNREADABLE_SERIES - 1);
  const rest = ranked.slice(MAX_UNREADABLE_SERIES - 1).reduce((sum, [, count]) => sum + count, 0);
  return [...kept, [OTHER, rest]];
}

// ---- users ----

/** The share of a limit a user is charged; 0 where the limit is unlimited or not known. */
function share(user: UserRow, field: keyof ChargeCounts): number {
  const limit = user.limits?.[field];
  return limit ? user.charged[field] / limit : 0;
}

/**
 * The users (charge keys) with series of their own. inotify: the one nearest max_user_watches, the
 * one nearest max_user_instances, then the next nearest either, MAX_USERS in all (the node's highest
 * share of each inotify limit is always among them); fanotify: the one nearest a fanotify limit,
 * where any is charged fanotify at all. Ties by uid, then user namespace.
 */
export function exportedUsers(users: readonly UserRow[]): { inotify: UserRow[]; fanotify: UserRow[] } {
  const byTie = (a: UserRow, b: UserRow) => a.uid - b.uid || compareCodeUnits(a.userns ?? '', b.userns ?? '');
  const ranked = (key: (u: UserRow) => number) => [...users].sort((a, b) => key(b) - key(a) || byTie(a, b));
  const watches = (u: UserRow) => share(u, 'watches');
  const instances = (u: UserRow) => share(u, 'instances');
  const chosen = new Set<UserRow>();
  for (const key of [watches, instances]) {
    const first = ranked(key)[0];
    if (first) chosen.add(first);
  }
  for (const user of ranked((u) => Math.max(watches(u), instances(u)))) {
    if (chosen.size >= MAX_USERS) break;
    chosen.add(user);
  }
  const fanotifyHolders = users.filter((u) => u.charged.fanotifyGroups > 0 || u.charged.fanotifyMarks > 0);
  const fanotify =
    fanotifyHolders.length === 0
      ? []
      : [
          [...fanotifyHolders].sort(
            (a, b) =>
              Math.max(share(b, 'fanotifyGroups'), share(b, 'fanotifyMarks')) - Math.max(share(a, 'fanotifyGroups'), share(a, 'fanotifyMarks')) || byTie(a, b),
          )[0]!,
        ];
  return { inotify: [...chosen], fanotify };
}

// ---- process groups ----

/** Processes of one command in one pod: what a restart keeps (a new pid, the same comm and pod). */
export interface ProcessGroup {
  comm: string;
  podNamespace: string;
  podName: string;
  watches: number;
  instances: number;
  leaked: number;
}

/** A group's pod labels: the pod's name, or its uid where the name is not known; empty outside pods. */
function groupPod(pod: PodRef | null): { podNamespace: string; podName: string } {
  return { podNamespace: pod?.namespace ?? '', podName: pod?.name ?? (pod ? pod.uid : '') };
}

/** Processes holding inotify or fanotify summed by (comm, pod namespace, pod name). */
export function processGroups(rows: readonly ProcessRow[]): ProcessGroup[] {
  const groups = new Map<string, ProcessGroup>();
  for (const row of rows) {
    const { podNamespace, podName } = groupPod(row.pod);
    const key = `${row.comm}\0${podNamespace}\0${podName}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { comm: row.comm, podNamespace, podName, watches: 0, instances: 0, leaked: 0 }));
    group.watches += row.watches;
    group.instances += row.instances;
    group.leaked += row.leaked;
  }
  return [...groups.values()];
}

function compareGroups(a: ProcessGroup, b: ProcessGroup): number {
  return compareCodeUnits(a.comm, b.comm) || compareCodeUnits(a.podNamespace, b.podNamespace) || compareCodeUnits(a.podName, b.podName);
}

/**
 * The `top` groups taken in turn from three rankings (most leaked watches, most watches, most
 * instances: the holder of a leak, of the watch limit and of the instance limit are each named),
 * then the rest summed into one group with comm OTHER.
 */
export function exportedGroups(groups: readonly ProcessGroup[], top: number): ProcessGroup[] {
  const ranking = (key: (g: ProcessGroup) => number) => groups.filter((g) => key(g) > 0).sort((a, b) => key(b) - key(a) || compareGroups(a, b));
  const rankings = [ranking((g) => g.leaked), ranking((g) => g.watches), ranking((g) => g.instances)];
  const chosen = new Set<ProcessGroup>();
  for (let depth = 0; chosen.size < top && rankings.some((r) => depth < r.length); depth++) {
    for (const ranked of rankings) {
      const group = ranked[depth];
      if (group && chosen.size < top) chosen.add(group);
    }
  }
  const rest = groups.filter((g) => !chosen.has(g));
  if (rest.length === 0) return [...chosen];
  const other: ProcessGroup = { comm: OTHER, podNamespace: '', podName: '', watches: 0, instances: 0, leaked: 0 };
  for (const g of rest) {
    other.watches += g.watches;
    other.instances += g.instances;
    other.leaked += g.leaked;
  }
  return [...chosen, other];
}

// ---- leaks ----

function leakPodLabels(pod: PodRef | null): { pod_namespace: string; pod_name: string; pod_uid: string } {
  return { pod_namespace: pod?.namespace ?? '', pod_name: pod?.name ?? '', pod_uid: pod?.uid ?? '' };
}

export interface PodLeak {
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

/** Gone pods whose watches are still held. */
export function gonePods(leaks: readonly PodLeak[]): number {
  return new Set(leaks.flatMap((l) => (l.form === 'gone' && l.pod ? [l.pod.uid] : []))).size;
}

const OTHER_POD: PodRef = { uid: '', namespace: '', name: OTHER, container: null, state: 'live', nameSource: null };

/**
 * Whole pods by their leaked watches (all forms together; ties by pod uid: the same ones at every
 * scan), as long as their series fit in `top`; then the rest summed per form into pod_name OTHER,
 * so that sums stay exact and a pod shown is shown whole (its gone cgroup and its unmounted volumes).
 */
export function exportedLeaks(leaks: readonly PodLeak[], top: number): PodLeak[] {
  const pods = new Map<string, { uid: string; watches: number; leaks: PodLeak[] }>();
  for (const leak of leaks) {
    const uid = leak.pod?.uid ?? '';
    let pod = pods.get(uid);
    if (!pod) pods.set(uid, (pod = { uid, watches: 0, leaks: [] }));
    pod.watches += leak.watches;
    pod.leaks.push(leak);
  }
  const ranked = [...pods.values()].sort((a, b) => b.watches - a.watches || compareCodeUnits(a.uid, b.uid));
  const shown: PodLeak[] = [];
  let taken = 0;
  while (taken < ranked.length && shown.length + ranked[taken]!.leaks.length <= top) shown.push(...ranked[taken++]!.leaks);
  const rest = new Map<LeakForm, PodLeak>();
  for (const leak of ranked.slice(taken).flatMap((pod) => pod.leaks)) {
    const sum = rest.get(leak.form);
    if (sum) sum.watches += leak.watches;
    else rest.set(leak.form, { pod: OTHER_POD, form: leak.form, watches: leak.watches });
  }
  const byForm = (a: PodLeak, b: PodLeak) => LEAK_FORMS.indexOf(a.form) - LEAK_FORMS.indexOf(b.form);
  return [...shown.sort((a, b) => compareCodeUnits(a.pod?.uid ?? '', b.pod?.uid ?? '') || byForm(a, b)), ...[...rest.values()].sort(byForm)];
}
