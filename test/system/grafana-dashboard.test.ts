// deploy/grafana/inotop.json against a real Prometheus (Debian's package): it scrapes `inotop serve
// --replay` of both fixtures (a leaky node and a healthy one) and a live `inotop serve` on this
// machine that traces a process running into its fd limit (the fixtures were recorded without the
// trace: failed calls come from the live one). Every query of every panel, and the node variable's,
// is run as Grafana runs it (instant for tables, a range for graphs), and each returns data.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { eventually } from '../helpers/eventually.js';
import { Watcher } from '../helpers/inowatch.js';
import { missingBinaries, SCRAPES, servedPort, start, startPrometheus, text } from '../helpers/prometheus.js';
import { traceSkip } from '../helpers/tracing.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = ['fixtures/leaky-kubelet.jsonl.gz', 'fixtures/healthy-node.jsonl'];
/** The hosts the fixtures were recorded on. */
const FIXTURE_NODES = ['ip-10-0-3-17.ec2.internal', 'ip-10-0-3-42.ec2.internal'];
const LIVE_NODE = 'live-node';
/** The live serve's cluster label; the replays have none (one Prometheus, one cluster labelled). */
const LIVE_CLUSTER = 'live-cluster';

const skip = missingBinaries(['/usr/bin/prometheus']) || traceSkip();

interface Target {
  refId: string;
  expr: string;
  instant: boolean;
  range: boolean;
}
interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  targets: Target[];
  transformations?: { id: string }[];
}
interface DashboardJson {
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

const dashboard = JSON.parse(readFileSync(join(repo, 'deploy/grafana/inotop.json'), 'utf8')) as DashboardJson;

/** Grafana's substitutions: every cluster and node picked (the variables' All value), a rate interval of a few scrapes. */
const grafanaExpr = (expr: string) => expr.replaceAll('$cluster', '.*').replaceAll('$node', '.*').replaceAll('$__rate_interval', '1m');

before(() => {
  if (!skip) ensureBuilt();
});

test('the dashboard shows what the issue asks for, each panel with its queries', () => {
  const titles = dashboard.panels.map((panel) => panel.title);
  for (const wanted of [
    /worst nodes/,
    /max_user_watches, per node and user/,
    /max_user_instances, per node and user/,
    /Leaked watches/,
    /Gone pods/,
    /Failed inotify calls/,
    /Event queues losing events or not draining/,
    /waiting for fanotify permission answers/,
    /oldest fanotify permission wait/,
    /Top processes/,
  ]) {
    assert.ok(
      titles.some((title) => wanted.test(title)),
      `a panel for ${wanted}`,
    );
  }
  for (const panel of dashboard.panels) {
    assert.ok(panel.targets.length > 0, panel.title);
    // Tables read one value per series; graphs a range.
    for (const target of panel.targets) assert.equal(target.instant, panel.type === 'table', `${panel.title} ${target.refId}`);
    if (panel.targets.length > 1) assert.equal(panel.transformations?.[0]?.id, 'merge', `${panel.title}: its queries side by side`);
  }
  assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids unique');
});

test('every query of every panel returns data from Prometheus scraping inotop serve', { skip, timeout: 120_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'inotop-grafana-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const ports: number[] = [];
  for (const fixture of FIXTURES) {
    ports.push(await servedPort(start(t, process.execPath, [inotopBin, 'serve', '--replay', join(repo, fixture), '--listen', '127.0.0.1:0'])));
  }
  const live = start(t, process.execPath, [
    inotopBin,
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--interval',
    '1',
    '--pods',
    'none',
    '--node-name',
    LIVE_NODE,
    '--cluster',
    LIVE_CLUSTER,
  ]);
  const livePort = await servedPort(live);
  ports.push(livePort);
  await eventually(async () => assert.match(await text(`http://127.0.0.1:${livePort}/metrics`), /^inotop_trace_up\{[^}]*\} 1$/m, 'tracing on'), SCRAPES);
  // A process that runs out of fds while it opens inotify instances: EMFILE, RLIMIT_NOFILE.
  const victim = new Watcher({ wrapper: ['prlimit', '--nofile=8', '--'] });
  t.after(() => victim.stop());
  await victim.comm('ino-victim');
  await assert.rejects(async () => {
    for (let i = 0; i < 10; i++) await victim.init();
  }, /EMFILE|Too many open files/);

  const prometheus = await startPrometheus(t, work, {
    scrape_configs: [{ job_name: 'inotop', static_configs: [{ targets: ports.map((port) => `127.0.0.1:${port}`) }] }],
  });
  const api = async (path: string, params: Record<string, string>) => {
    const body = JSON.parse(await text(`${prometheus}/api/v1/${path}?${new URLSearchParams(params)}`)) as {
      status: string;
      data: { result: unknown[] } | string[];
    };
    assert.equal(body.status, 'success');
    return body.data;
  };

  // The cluster variable lists the one cluster labelled; the node variable, every node of the clusters picked (All).
  const variableValues = async (name: string) => {
    const variable = dashboard.templating.list.find((v) => v.name === name)!;
    const match = /^label_values\((.+), (\w+)\)$/.exec(typeof variable.query === 'string' ? variable.query : variable.query.query)!;
    return ((await api(`label/${match[2]}/values`, { 'match[]': grafanaExpr(match[1]!) })) as string[]).sort();
  };
  await eventually(async () => {
    assert.deepEqual(await variableValues('cluster'), [LIVE_CLUSTER]);
    assert.deepEqual(await variableValues('node'), [...FIXTURE_NODES, LIVE_NODE].sort());
  }, SCRAPES);

  // Every panel's queries: the replays end on their last snapshot (12 s for the longer one), and
  // the failures need two scrapes of the live serve; until then a query may still come back empty.
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const expr = grafanaExpr(target.expr);
      const results = await eventually(
        async () => {
          const now = Date.now() / 1000;
          const data = target.instant
            ? ((await api('query', { query: expr })) as { result: unknown[] })
            : ((await api('query_range', { query: expr, start: String(now - 60), end: String(now), step: '2' })) as { result: unknown[] });
          assert.ok(data.result.length > 0, `${panel.title} ${target.refId}: no data from ${expr}`);
          return data.result as { metric: Record<string, string> }[];
        },
        { ...SCRAPES, timeoutMs: 60_000 },
      );
      // Graphs name their series by node: the fixtures' or the live one.
      for (const series of results) {
        if (series.metric.node !== undefined) assert.ok([...FIXTURE_NODES, LIVE_NODE].includes(series.metric.node), series.metric.node);
      }
    }
  }
});
