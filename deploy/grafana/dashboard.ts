// The Grafana dashboard of `inotop serve`'s series, typed against @grafana/schema (the dashboard
// model and the panels' options); `npm run generate` writes it as deploy/grafana/inotop.json, the
// file users import. test/system/grafana-dashboard.test.ts runs every query of it against a real
// Prometheus scraping inotop serve.
import {
  DashboardCursorSync,
  FieldColorModeId,
  GraphDrawStyle,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  SortOrder,
  StackingMode,
  TableCellHeight,
  ThresholdsMode,
  TooltipDisplayMode,
  VariableRefresh,
  VariableSort,
  VisibilityMode,
  type Dashboard,
  type DataQuery,
  type DataSourceRef,
  type FieldConfigSource,
  type Panel,
  type VariableModel,
} from '@grafana/schema';
import type {
  Options as TableOptions,
  FieldConfig as TableFieldConfig,
} from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type {
  Options as TimeSeriesOptions,
  FieldConfig as TimeSeriesFieldConfig,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import { NODE_RULES } from '../../src/fleet/queries.js';
import { DEFAULT_TOP } from '../../src/serve/args.js';
import { OTHER } from '../../src/serve/labels.js';

/** A query of Grafana's Prometheus data source. */
export interface PrometheusQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  /** One value per series at the dashboard's end time (tables), or a range (graphs). */
  instant: boolean;
  range: boolean;
  format: 'time_series' | 'table';
}

const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
/**
 * Every selector of a node's series: the clusters and nodes picked at the top. Nodes of two clusters
 * may share names, so every sum is by cluster and node (no cluster label: one cluster, '').
 */
const NODE = 'cluster=~"$cluster",node=~"$node"';
const BY_NODE = 'by (cluster, node)';
const NODE_LEGEND = '{{cluster}} {{node}}';

/** Failed calls within `window`: a counter born with its first failures counts whole (increase() would miss them). */
const failuresWithin = (window: string) => {
  const failures = `inotop_syscall_failures_total{${NODE}}`;
  return `(${failures} unless ${failures} offset ${window}) or increase(${failures}[${window}])`;
};

function query(refId: string, expr: string, shape: 'graph' | 'table', legendFormat?: string): PrometheusQuery {
  return {
    refId,
    datasource: DATASOURCE,
    expr,
    ...(legendFormat ? { legendFormat } : {}),
    instant: shape === 'table',
    range: shape === 'graph',
    format: shape === 'table' ? 'table' : 'time_series',
  };
}

/**
 * A panel's options, field config and queries are open records in the dashboard model: each is
 * checked against its own type where it is made, then handed over as the record it is.
 */
const record = <T extends object>(value: T): Record<string, unknown> => value as Record<string, unknown>;
const fieldConfigRecord = <T extends object>(value: FieldConfigSource<T>): FieldConfigSource => value as FieldConfigSource;

const thresholds = (steps: [number | null, string][]) => ({
  mode: ThresholdsMode.Absolute,
  steps: steps.map(([value, color]) => ({ value, color })),
});

function timeseries(
  id: number,
  title: string,
  description: string,
  gridPos: { x: number; y: number; w: number; h: number },
  targets: PrometheusQuery[],
  fieldConfig: FieldConfigSource<TimeSeriesFieldConfig>,
): Panel {
  const options: TimeSeriesOptions = {
    legend: { displayMode: LegendDisplayMode.Table, placement: 'right', showLegend: true, calcs: ['lastNotNull', 'max'] },
    tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
  };
  return {
    id,
    type: 'timeseries',
    title,
    description,
    datasource: DATASOURCE,
    gridPos,
    targets: targets.map(record),
    options: record(options),
    fieldConfig: fieldConfigRecord(fieldConfig),
  };
}

function table(
  id: number,
  title: string,
  description: string,
  gridPos: { x: number; y: number; w: number; h: number },
  targets: PrometheusQuery[],
  columns: { rename: Record<string, string>; hide: string[]; sortBy: string },
  overrides: FieldConfigSource<TableFieldConfig>['overrides'],
): Panel {
  const options: TableOptions = { frameIndex: 0, showHeader: true, cellHeight: TableCellHeight.Sm, sortBy: [{ displayName: columns.sortBy, desc: true }] };
  return {
    id,
    type: 'table',
    title,
    description,
    datasource: DATASOURCE,
    gridPos,
    targets: targets.map(record),
    options: record(options),
    fieldConfig: fieldConfigRecord<TableFieldConfig>({ defaults: {}, overrides }),
    // One row per node (or process): the queries' columns side by side, the labels nobody reads hidden.
    transformations: [
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: {
          excludeByName: Object.fromEntries(['Time', 'job', 'instance', '__name__', ...columns.hide].map((name) => [name, true])),
          renameByName: columns.rename,
        },
      },
    ],
  };
}

/** inotop's meters: yellow above 75% of a limit, red above 90%. */
const METER_THRESHOLDS = thresholds([
  [null, 'green'],
  [0.75, 'yellow'],
  [0.9, 'red'],
]);

/** Each user's watches or instances against the limit the kernel charges them to, per node. */
function usagePanel(id: number, kind: 'watches' | 'instances', x: number, atTheLimit: string): Panel {
  const fieldConfig: FieldConfigSource<TimeSeriesFieldConfig> = {
    defaults: {
      unit: 'percentunit',
      min: 0,
      max: 1,
      color: { mode: FieldColorModeId.PaletteClassic },
      thresholds: METER_THRESHOLDS,
      custom: {
        drawStyle: GraphDrawStyle.Line,
        lineWidth: 1,
        fillOpacity: 0,
        showPoints: VisibilityMode.Never,
        thresholdsStyle: { mode: GraphThresholdsStyleMode.Dashed },
      },
    },
    overrides: [],
  };
  const usage = `inotop_user_${kind}{${NODE}} / ignoring(uid, user, userns) group_left inotop_max_user_${kind}{${NODE}}`;
  return timeseries(
    id,
    `${kind[0]!.toUpperCase()}${kind.slice(1)} against max_user_${kind}, per node and user`,
    `Each user (uid in its user namespace) against the limit the kernel charges its ${kind} to. ${atTheLimit}`,
    { x, y: 8, w: 12, h: 8 },
    [query('A', usage, 'graph', `${NODE_LEGEND} {{user}} (uid {{uid}})`)],
    fieldConfig,
  );
}

const counts = (drawStyle: GraphDrawStyle, stacking = StackingMode.Normal, unit = 'short'): FieldConfigSource<TimeSeriesFieldConfig> => ({
  defaults: {
    unit,
    min: 0,
    decimals: 0,
    color: { mode: FieldColorModeId.PaletteClassic },
    custom: {
      drawStyle,
      lineWidth: 1,
      fillOpacity: drawStyle === GraphDrawStyle.Bars ? 80 : 10,
      showPoints: VisibilityMode.Never,
      stacking: { mode: stacking },
    },
  },
  overrides: [],
});

const percentColumn = (name: string) => ({
  matcher: { id: 'byName', options: name },
  properties: [
    { id: 'unit', value: 'percentunit' },
    { id: 'thresholds', value: METER_THRESHOLDS },
    { id: 'custom.cellOptions', value: { type: 'color-text' } },
  ],
});

/** One line per node: `aggregate` of `metric`'s series by cluster and node. */
function perNodePanel(
  id: number,
  title: string,
  description: string,
  gridPos: { x: number; y: number; w: number; h: number },
  aggregate: 'sum' | 'max',
  metric: string,
  fieldConfig: FieldConfigSource<TimeSeriesFieldConfig> = counts(GraphDrawStyle.Line),
): Panel {
  return timeseries(id, title, description, gridPos, [query('A', `${aggregate} ${BY_NODE} (${metric}{${NODE}})`, 'graph', NODE_LEGEND)], fieldConfig);
}

/** A process group's series: one command in one pod on one node. */
const GROUP = 'cluster, node, comm, pod_namespace, pod_name';
const TOP_GROUPS = `inotop_process_watches{${NODE}}`;

const panels: Panel[] = [
  table(
    1,
    "The fleet's worst nodes",
    'Per node: the highest share of max_user_watches and of max_user_instances any user holds, leaked watches, gone pods still watched, and inotify calls failed in the last 10 minutes. The same figures as `inotop fleet`.',
    { x: 0, y: 0, w: 24, h: 8 },
    [
      // The expressions inotop fleet reads where no recording rules run (its raw mode).
      query('A', NODE_RULES.watchesShare.expr(NODE), 'table'),
      query('B', NODE_RULES.instancesShare.expr(NODE), 'table'),
      query('C', NODE_RULES.leaked.expr(NODE), 'table'),
      query('D', NODE_RULES.gonePods.expr(NODE), 'table'),
      query('E', `sum ${BY_NODE} (${failuresWithin('10m')})`, 'table'),
    ],
    {
      rename: {
        cluster: 'Cluster',
        node: 'Node',
        'Value #A': 'Watches % of limit',
        'Value #B': 'Instances % of limit',
        'Value #C': 'Leaked watches',
        'Value #D': 'Gone pods',
        'Value #E': 'Failed calls (10 m)',
      },
      hide: ['node_shard'],
      sortBy: 'Watches % of limit',
    },
    [percentColumn('Watches % of limit'), percentColumn('Instances % of limit')],
  ),
  usagePanel(2, 'watches', 0, 'At 100% inotify_add_watch fails with ENOSPC ("no space left on device").'),
  usagePanel(3, 'instances', 12, 'At 100% inotify_init fails with EMFILE ("too many open files").'),
  perNodePanel(
    4,
    'Leaked watches',
    'Watches on gone pods, unmounted filesystems or deleted files, per node. `kubectl inotop NODE` names their holders and paths.',
    { x: 0, y: 16, w: 12, h: 8 },
    'sum',
    'inotop_leaked_watches',
  ),
  perNodePanel(
    5,
    'Gone pods still watched',
    "Pods the pod list no longer has whose watches are still held, per node (every one counted, also those past the node's --top-leaks series).",
    { x: 12, y: 16, w: 12, h: 8 },
    'max',
    'inotop_gone_pods',
  ),
  timeseries(
    6,
    'Failed inotify calls, by the limit they ran into',
    "ENOSPC from inotify_add_watch (max_user_watches), EMFILE from inotify_init (max_user_instances, or the process's own RLIMIT_NOFILE), per node. Needs tracing (deploy/tracing-patch.yaml).",
    { x: 0, y: 24, w: 24, h: 8 },
    [query('A', `sum by (cluster, node, limit) (${failuresWithin('$__rate_interval')})`, 'graph', `${NODE_LEGEND} {{limit}}`)],
    counts(GraphDrawStyle.Bars),
  ),
  timeseries(
    8,
    'Event queues losing events or not draining',
    'inotify instances and fanotify groups whose queue may be full (events dropped, IN_Q_OVERFLOW) or has not shrunk over three refreshes (its reader is stuck, busy or gone), per node. inotop_process_queued_bytes names the worst reader, `kubectl inotop NODE` every one.',
    { x: 0, y: 32, w: 12, h: 8 },
    [query('A', `sum by (cluster, node, state) (inotop_queues{${NODE}, state=~"may_be_full|not_draining"})`, 'graph', `${NODE_LEGEND} {{state}}`)],
    counts(GraphDrawStyle.Line),
  ),
  perNodePanel(
    9,
    'Processes waiting for fanotify permission answers',
    "Processes in state D waiting for a permission group's holder to answer (every open or exec on its mount or filesystem waits), per node. A holder that answers keeps it near 0; `kubectl inotop NODE` names the holder.",
    { x: 12, y: 32, w: 6, h: 8 },
    'max',
    'inotop_permission_waiters',
    counts(GraphDrawStyle.Line, StackingMode.None),
  ),
  perNodePanel(
    10,
    'The oldest fanotify permission wait',
    'How long the longest-waiting process has waited for a permission answer, per node (from when inotop first saw it). FanotifyPermissionWaitsStuck fires at 30 s.',
    { x: 18, y: 32, w: 6, h: 8 },
    'max',
    'inotop_permission_wait_oldest_seconds',
    counts(GraphDrawStyle.Line, StackingMode.None, 's'),
  ),
  table(
    7,
    'Top processes by watches',
    `The process groups (one command in one pod: a restart keeps its row) with most watches on the nodes picked. Each node exports its top --top groups by leaked watches, watches and instances (default ${DEFAULT_TOP}), and the rest summed as command ${OTHER}.`,
    { x: 0, y: 40, w: 24, h: 10 },
    [
      query('A', `topk(20, ${TOP_GROUPS})`, 'table'),
      query('B', `inotop_process_instances{${NODE}} and on(${GROUP}) topk(20, ${TOP_GROUPS})`, 'table'),
      query('C', `inotop_process_leaked_watches{${NODE}} and on(${GROUP}) topk(20, ${TOP_GROUPS})`, 'table'),
    ],
    {
      rename: {
        cluster: 'Cluster',
        node: 'Node',
        comm: 'Command',
        pod_namespace: 'Pod namespace',
        pod_name: 'Pod',
        'Value #A': 'Watches',
        'Value #B': 'Instances',
        'Value #C': 'Leaked',
      },
      hide: ['node_shard'],
      sortBy: 'Watches',
    },
    [],
  ),
];

const variables: VariableModel[] = [
  { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus' },
  {
    name: 'cluster',
    label: 'Cluster',
    type: 'query',
    datasource: DATASOURCE,
    // None where no series has a cluster label: All (.*) matches the empty label too.
    query: { query: 'label_values(inotop_build_info, cluster)', refId: 'clusters' },
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    multi: true,
    includeAll: true,
    allValue: '.*',
  },
  {
    name: 'node',
    label: 'Node',
    type: 'query',
    datasource: DATASOURCE,
    query: { query: 'label_values(inotop_build_info{cluster=~"$cluster"}, node)', refId: 'nodes' },
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    multi: true,
    includeAll: true,
    allValue: '.*',
  },
];

export function inotopDashboard(): Dashboard {
  return {
    uid: 'inotop',
    title: 'inotop: inotify watches and leaks',
    description:
      'inotify watches and instances against their limits, leaks, failed calls, event queues and fanotify permission waits, from inotop serve on every node.',
    tags: ['inotop', 'inotify', 'kubernetes'],
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    refresh: '1m',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    templating: { list: variables },
    panels,
  };
}
