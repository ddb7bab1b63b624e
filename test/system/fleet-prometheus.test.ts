// inotop serve against the real consumers, all on loopback: a Prometheus (Debian's package) scrapes
// it every second and evaluates deploy/prometheus/inotify-rules.yaml while a simulated node leaks a
// pod; a node_exporter reads what --textfile writes; promtool lints the exposition and the rules.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { TEXTFILE_NAME } from '../../src/serve/serve.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { tempDir, undoAtEnd } from '../helpers/cleanup.js';
import { buildFakeNode } from '../helpers/fake-node.js';
import { rootSkip } from '../helpers/inowatch.js';
import { eventually } from '../helpers/eventually.js';
import { freePort, missingBinaries as missing, query, SCRAPES, servedPort, start, startPrometheus, text } from '../helpers/prometheus.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const rulesFile = join(repo, 'deploy/prometheus/inotify-rules.yaml');
const BINARIES = ['/usr/bin/prometheus', '/usr/bin/promtool', '/usr/bin/prometheus-node-exporter'];
const missingBinaries = () => missing(BINARIES);

const skip = rootSkip || missingBinaries();

before(() => {
  if (!skip) ensureBuilt();
});

/** The lines of an exposition that are samples of `name`. */
function samples(exposition: string, name: string): string[] {
  return exposition.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

test('Prometheus scrapes inotop serve and alerts on a leaked pod; node_exporter reads its textfile', { skip, timeout: 90_000 }, async (t) => {
  const node = await buildFakeNode({ pods: 2 });
  undoAtEnd(t, () => node.cleanup());
  const work = tempDir(t, 'inotop-prometheus-');
  const podFlags = ['--pods', 'crictl', '--crictl', join(node.crictlDir, 'crictl'), '--kubelet-root', node.kubeletRoot];

  const serve = start(t, process.execPath, [inotopBin, 'serve', '--listen', '127.0.0.1:0', '--interval', '1', '--top', '5', ...podFlags]);
  const port = await servedPort(serve);
  const inotop = `http://127.0.0.1:${port}`;
  // The pod is seen live first, so that its name is known when it is gone.
  await eventually(async () => assert.ok((await text(`${inotop}/metrics`)).includes('inotop_pod_source_live_pods'), 'a first scan'), SCRAPES);
  const leaky = node.pods[0]!;
  await node.deletePodLeaky(leaky.uid);

  const textfileDir = join(work, 'textfile');
  mkdirSync(textfileDir);
  start(t, process.execPath, [inotopBin, 'serve', '--textfile', textfileDir, '--interval', '1', ...podFlags]);

  const prometheus = await startPrometheus(t, work, {
    rule_files: [rulesFile],
    scrape_configs: [{ job_name: 'inotop', static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
  });
  const exporterPort = await freePort();
  start(t, '/usr/bin/prometheus-node-exporter', [
    '--collector.disable-defaults',
    '--collector.textfile',
    `--collector.textfile.directory=${textfileDir}`,
    `--web.listen-address=127.0.0.1:${exporterPort}`,
  ]);

  // Leaked watches by pod and form: kubelet's volume root and token (unmounted, still mounted in the
  // container) and the pod's cgroup (a gone pod).
  const leaked = await eventually(async () => {
    const result = await query(prometheus, `inotop_leaked_watches{pod_uid="${leaky.uid}"}`);
    assert.equal(result.length, 2, 'the leaked watches in Prometheus');
    return result;
  }, SCRAPES);
  const byForm = Object.fromEntries(leaked.map((s) => [s.metric.form, Number(s.value[1])]));
  assert.deepEqual(byForm, { unmounted: 2, gone: 1 });
  for (const sample of leaked) {
    assert.equal(sample.metric.pod_name, leaky.name);
    assert.equal(sample.metric.pod_namespace, leaky.namespace);
    assert.equal(sample.metric.job, 'inotop');
  }
  // Per process by command and pod, not pid: a restarted kubelet keeps its series.
  const kubelet = await query(prometheus, 'inotop_process_leaked_watches{comm="kubelet"}');
  assert.deepEqual(
    kubelet.map((s) => [s.metric.comm, s.value[1]]),
    [['kubelet', '3']],
  );

  // Per user, against the limit it is charged to.
  const root = await query(prometheus, 'inotop_user_instances{uid="0",user="root"} / ignoring(uid, user) group_left inotop_max_user_instances');
  assert.equal(root.length, 1);
  assert.ok(Number(root[0]!.value[1]) > 0 && Number(root[0]!.value[1]) <= 1, root[0]!.value[1]);
  const watches = await query(prometheus, 'inotop_user_watches{uid="0"}');
  assert.ok(Number(watches[0]?.value[1]) >= 5, 'kubelet alone watches 5 paths per pod');

  // The leak alert is pending: it fires once the leak has lasted its 10 minutes.
  const alert = await eventually(async () => {
    const body = JSON.parse(await text(`${prometheus}/api/v1/alerts`));
    const alerts = body.data.alerts as { labels: Record<string, string>; state: string }[];
    const found = alerts.find((a) => a.labels.alertname === 'InotifyWatchesLeaked' && a.labels.pod_uid === leaky.uid);
    assert.ok(found, `the leak alert: ${JSON.stringify(alerts)}`);
    return found;
  }, SCRAPES);
  assert.equal(alert.state, 'pending');
  const scrapes = await query(prometheus, 'up{job="inotop"}');
  assert.equal(scrapes[0]?.value[1], '1');

  // What was scraped passes promtool's lint.
  const exposition = await text(`${inotop}/metrics`);
  const lint = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  for (const path of ['/healthz', '/-/healthy', '/-/ready']) assert.equal((await fetch(`${inotop}${path}`)).status, 200, path);

  // node_exporter serves the same series from the textfile, and had no trouble reading it.
  const fromTextfile = await eventually(async () => {
    const body = await text(`http://127.0.0.1:${exporterPort}/metrics`);
    assert.ok(
      samples(body, 'inotop_leaked_watches').some((line) => line.includes(leaky.uid)),
      'inotop series from node_exporter',
    );
    return body;
  }, SCRAPES);
  assert.deepEqual(samples(fromTextfile, 'node_textfile_scrape_error'), ['node_textfile_scrape_error 0']);
  assert.ok(samples(fromTextfile, 'inotop_user_instances').length > 0);
  // The textfile serve still writes every second, each time through a temp file renamed over the
  // last: one may be there at any given moment. Left behind, it would be there at every one.
  await eventually(() => assert.deepEqual(readdirSync(textfileDir), [TEXTFILE_NAME], 'no temp file left behind'), SCRAPES);
});

test('promtool: the rules files check, and their unit tests pass', { skip: missingBinaries() }, () => {
  for (const name of ['inotify-rules', 'inotop-fleet-rules']) {
    const check = spawnSync('/usr/bin/promtool', ['check', 'rules', join(repo, `deploy/prometheus/${name}.yaml`)], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const unit = spawnSync('/usr/bin/promtool', ['test', 'rules', join(repo, `deploy/prometheus/${name}.test.yaml`)], { encoding: 'utf8' });
    assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  }
});
