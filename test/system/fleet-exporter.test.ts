// inotop serve as an exporter and inotop fleet across nodes, against the real Prometheus on
// loopback: a scrape over TLS with basic auth (a self-signed certificate made with openssl, a
// bcrypt hash), and three `serve --replay` instances of three recordings that `inotop fleet` reads
// back as one row per node. Replays need no root: what they serve comes from the recordings.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { parseAllDocuments } from 'yaml';
import { leaksByPod, seriesBudget } from '../../src/serve/metrics.js';
import type { JsonNode } from '../../src/fleet/nodes.js';
import type { Snapshot } from '../../src/model/types.js';
import { readRecording } from '../../src/record/reader.js';
import { RecordingWriter } from '../../src/record/writer.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { tempDir, undoAtEnd } from '../helpers/cleanup.js';
import { eventually } from '../helpers/eventually.js';
import { scrapeReplay } from '../helpers/fleet-tsdb.js';
import { missingBinaries, PROMETHEUS, query, SCRAPES, servedPort, start, startPrometheus, text } from '../helpers/prometheus.js';
import { pod, proc, snapshot, targets, user } from '../helpers/rows.js';
import { TmuxPane } from '../helpers/tmux.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const skip = missingBinaries([PROMETHEUS, '/usr/bin/promtool', '/usr/bin/openssl', '/usr/bin/curl']);

before(() => {
  if (!skip) ensureBuilt();
});

test(
  'serve over TLS with basic auth: Prometheus scrapes it; without the password 401; health, readiness, process metrics, the node label',
  { skip, timeout: 60_000 },
  async (t) => {
    const work = tempDir(t, 'inotop-exporter-');
    const cert = join(work, 'cert.pem');
    const key = join(work, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=inotop-test',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const password = 'scrape-secret';
    // Relative file names: exporter-toolkit reads them relative to the config file.
    writeFileSync(
      join(work, 'web.yml'),
      ['tls_server_config:', '  cert_file: cert.pem', '  key_file: key.pem', 'basic_auth_users:', `  prometheus: ${bcrypt.hashSync(password, 10)}`, ''].join(
        '\n',
      ),
    );
    const recording = join(repo, 'fixtures/healthy-node.jsonl');
    const serve = start(t, process.execPath, [
      inotopBin,
      'serve',
      '--replay',
      recording,
      '--web.listen-address',
      '127.0.0.1:0',
      '--web.config.file',
      join(work, 'web.yml'),
    ]);
    const port = await servedPort(serve);
    assert.match(serve.output(), /serving https:\/\//);
    const host = readRecording(recording).header.hostname;

    const prometheus = await startPrometheus(t, work, {
      scrape_configs: [
        {
          job_name: 'inotop',
          scheme: 'https',
          tls_config: { ca_file: cert },
          basic_auth: { username: 'prometheus', password },
          static_configs: [{ targets: [`127.0.0.1:${port}`] }],
        },
      ],
    });
    const up = await eventually(async () => {
      const result = await query(prometheus, 'up{job="inotop"}');
      assert.equal(result[0]?.value[1], '1', 'a good scrape over TLS');
      return result;
    }, SCRAPES);
    assert.equal(up.length, 1);
    const build = await eventually(async () => {
      const result = await query(prometheus, 'inotop_build_info');
      assert.ok(result.length > 0, 'inotop_build_info');
      return result;
    }, SCRAPES);
    assert.equal(build[0]!.metric.node, host, "a replay names the recording's host");
    // prom-client's process metrics: inotop's own RSS and CPU, with the node label too.
    const rss = await query(prometheus, 'process_resident_memory_bytes{job="inotop"}');
    assert.equal(rss[0]?.metric.node, host);
    assert.ok(Number(rss[0]!.value[1]) > 10_000_000, rss[0]!.value[1]);
    assert.equal((await query(prometheus, 'process_cpu_seconds_total{job="inotop"}')).length, 1);
    const unlabelled = await query(prometheus, '{job="inotop", node=""}');
    assert.deepEqual(
      [...new Set(unlabelled.map((s) => s.metric.__name__))].sort(),
      ['scrape_duration_seconds', 'scrape_samples_post_metric_relabeling', 'scrape_samples_scraped', 'scrape_series_added', 'up'],
      "every series inotop serves has the node label (Prometheus's own scrape series have none)",
    );

    // Directly, with curl trusting the self-signed certificate.
    const curl = (...args: string[]) =>
      spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', cert, ...args], { encoding: 'utf8' }).stdout;
    const base = `https://127.0.0.1:${port}`;
    assert.equal(curl(`${base}/metrics`), '401');
    assert.equal(curl('-u', 'prometheus:wrong', `${base}/metrics`), '401');
    assert.equal(curl('-u', `nobody:${password}`, `${base}/metrics`), '401');
    for (const path of ['/metrics', '/-/healthy', '/-/ready', '/healthz']) assert.equal(curl('-u', `prometheus:${password}`, `${base}${path}`), '200', path);
    assert.equal(curl('-u', `prometheus:${password}`, `${base}/nothing`), '404');
    assert.equal(curl(`http://127.0.0.1:${port}/metrics`), '000', 'no plain HTTP on a TLS port');

    // The whole exposition, process metrics included, passes promtool's lint.
    const exposition = spawnSync('curl', ['-s', '--cacert', cert, '-u', `prometheus:${password}`, `${base}/metrics`], { encoding: 'utf8' }).stdout;
    assert.match(exposition, /^process_resident_memory_bytes\{node=/m);
    const lint = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  },
);

test('serve refuses a web config it does not understand, and says why', { skip }, (t) => {
  const work = tempDir(t, 'inotop-exporter-');
  const cases: [string, RegExp][] = [
    ['tls_server_config:\n  cert_file: missing.pem\n  key_file: missing.pem\n', /cannot read cert_file missing\.pem/],
    ['basic_auth_users:\n  prometheus: plaintext\n', /basic_auth_users\.prometheus is not a bcrypt hash/],
    ['tls_config:\n  cert_file: x\n', /unknown field 'tls_config'/],
  ];
  for (const [yaml, message] of cases) {
    writeFileSync(join(work, 'web.yml'), yaml);
    const result = spawnSync(process.execPath, [inotopBin, 'serve', '--web.config.file', join(work, 'web.yml'), '--listen', '127.0.0.1:0'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 1, yaml);
    assert.match(result.stderr, message);
  }
});

/** A third recording, small: one user near the watch limit and one gone pod's leak. */
function smallRecording(path: string): void {
  const leaky = proc(4242, { comm: 'fluent-bit', user: 'root', targets: [...targets(7, 1, { pod: pod('logs-7f9c', 'gone', 'logging') }), ...targets(3, 100)] });
  const base = snapshot([leaky]);
  const rows = (time: string, watches: number): Snapshot => ({
    ...base,
    time,
    hostname: 'node-small',
    users: [user(0, 100, watches)],
    pods: { source: 'cri', live: 3, stale: false, error: null },
  });
  const writer = new RecordingWriter(path, { intervalSeconds: 1, inotopVersion: 'test' });
  writer.append(rows('2026-11-27T10:00:00.000Z', 7000));
  writer.append(rows('2026-11-27T10:00:01.000Z', 7800));
  writer.close();
}

/** The row `inotop fleet` should show for a recording: from its last snapshot, which serve holds. */
function expectedRow(path: string): Omit<JsonNode, 'lastScrapeAt' | 'failures' | 'cluster'> {
  const recording = readRecording(path);
  const last = recording.snapshots.at(-1)!;
  const leaks = leaksByPod(last.processes);
  const max = (kind: 'watches' | 'instances', limit: number) => Math.max(...last.users.map((u) => u[kind] / limit));
  return {
    node: recording.header.hostname,
    maxWatchesShare: max('watches', last.limits.maxUserWatches!),
    maxInstancesShare: max('instances', last.limits.maxUserInstances!),
    leaked: leaks.reduce((sum, l) => sum + l.watches, 0),
    gonePods: new Set(leaks.filter((l) => l.form === 'gone').map((l) => l.pod?.uid)).size,
  };
}

test('inotop fleet: one row per node from Prometheus scraping three serve --replay', { skip, timeout: 90_000 }, async (t) => {
  const work = tempDir(t, 'inotop-exporter-');
  const small = join(work, 'small.jsonl');
  smallRecording(small);
  const recordings = [join(repo, 'fixtures/leaky-kubelet.jsonl.gz'), join(repo, 'fixtures/healthy-node.jsonl'), small];
  const ports: number[] = [];
  for (const recording of recordings) {
    ports.push(await servedPort(start(t, process.execPath, [inotopBin, 'serve', '--replay', recording, '--listen', '127.0.0.1:0'])));
  }
  const prometheus = await startPrometheus(t, work, {
    scrape_configs: [{ job_name: 'inotop', static_configs: [{ targets: ports.map((port) => `127.0.0.1:${port}`) }] }],
  });
  const expected = recordings.map(expectedRow).sort((a, b) => a.node.localeCompare(b.node));
  assert.equal(new Set(expected.map((e) => e.node)).size, 3, 'three recordings of three hosts');
  assert.ok(expected.some((e) => e.leaked > 0) && expected.some((e) => e.leaked === 0));

  const fleet = (...args: string[]) =>
    spawnSync(process.execPath, [inotopBin, 'fleet', '--prometheus', prometheus, ...args], { encoding: 'utf8', timeout: 20_000 });
  // The replays end on their last snapshot (the longest recording lasts 12 s): wait for those.
  const nodes = await eventually(
    () => {
      const run = fleet('--json', '-s', 'node');
      assert.equal(run.status, 0, run.stderr);
      const rows = (JSON.parse(run.stdout) as { nodes: JsonNode[] }).nodes;
      const seen = rows.map(({ lastScrapeAt: _, failures: __, cluster: ___, ...row }) => row);
      assert.equal(seen.length, 3, "every replay's last snapshot in Prometheus");
      for (const [i, row] of seen.entries()) {
        const want = expected[i]!;
        assert.equal(row.node, want.node);
        assert.ok(Math.abs(row.maxWatchesShare! - want.maxWatchesShare!) < 1e-9, `${row.node} watches share`);
        assert.ok(Math.abs(row.maxInstancesShare! - want.maxInstancesShare!) < 1e-9, `${row.node} instances share`);
        assert.deepEqual([row.leaked, row.gonePods], [want.leaked, want.gonePods], row.node);
      }
      return rows;
    },
    { ...SCRAPES, timeoutMs: 60_000 },
  );
  for (const row of nodes) {
    assert.deepEqual(Object.keys(row), ['cluster', 'node', 'maxWatchesShare', 'maxInstancesShare', 'leaked', 'gonePods', 'failures', 'lastScrapeAt']);
    assert.equal(row.cluster, null, 'no cluster label set');
    assert.equal(row.failures, 0);
    assert.ok(Date.now() - Date.parse(row.lastScrapeAt) < 30_000, row.lastScrapeAt);
    assert.ok(row.maxWatchesShare! >= 0 && row.maxWatchesShare! <= 1);
  }
  const smallRow = nodes.find((n) => n.node === 'node-small')!;
  assert.deepEqual([smallRow.leaked, smallRow.gonePods], [7, 1]);

  // -b: a table, most-used first by default; no FAILURES column while no node has failures.
  const table = fleet('-b');
  assert.equal(table.status, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^NODE +WATCHES% +INST% +LEAKED +GONE PODS +LAST SCRAPE$/);
  assert.equal(lines.length, 4);
  assert.match(lines[1]!, /^node-small +95% +78% +7 +1 +\d+s ago$/);
  assert.deepEqual(
    fleet('-b', '-F', 'ec2')
      .stdout.trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/ +/)[0]),
    nodes
      .filter((n) => n.node.includes('ec2'))
      .sort((a, b) => b.maxWatchesShare! - a.maxWatchesShare!)
      .map((n) => n.node),
  );

  // The screen: the same rows, and the main screen's keys (filter, sort, Enter, Esc, q).
  const pane = new TmuxPane([process.execPath, inotopBin, 'fleet', '--prometheus', prometheus], { width: 120, height: 30 });
  undoAtEnd(t, () => pane.kill());
  const rowOrder = (screen: string) =>
    screen
      .split('\n')
      .map((line) => nodes.find((n) => line.trimStart().startsWith(n.node))?.node)
      .filter((node) => node !== undefined);
  const byShare = nodes.slice().sort((a, b) => b.maxWatchesShare! - a.maxWatchesShare!);
  const showsInOrder = (order: string[], what: string) => pane.waitFor((text) => rowOrder(text).join(' ') === order.join(' '), what);
  await showsInOrder(
    byShare.map((n) => n.node),
    'most-used first',
  );
  pane.keys('<');
  await showsInOrder(
    expected.map((e) => e.node),
    '< sorts by the column to the left: node',
  );
  pane.type('I');
  await showsInOrder(expected.map((e) => e.node).reverse(), 'I inverts it');
  pane.keys('/');
  pane.type('small');
  pane.keys('Enter');
  await showsInOrder(['node-small'], 'filtered');
  pane.keys('Enter');
  const screen = await pane.waitFor(/kubectl inotop node-small/, "the node's detail");
  assert.match(screen, /Gone pods still watched: 1\n.*\n +7 gone 7 +logging\/logs-7f9c/);
  assert.match(screen, /Processes by command and pod/);
  pane.keys('Escape');
  await pane.waitFor((text) => !text.includes('kubectl inotop node-small') && rowOrder(text).length === 1, 'back to the filtered nodes');
  pane.keys('Escape');
  await pane.waitFor((text) => rowOrder(text).length === 3, 'the filter cleared');
  pane.keys('q');
  await pane.waitFor(/EXIT=0/, 'q quits');

  // A Prometheus that is not there: a clear error, exit 1.
  const down = spawnSync(process.execPath, [inotopBin, 'fleet', '--prometheus', 'http://127.0.0.1:1', '-b'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(down.status, 1);
  assert.match(down.stderr, /^inotop fleet: cannot reach http:\/\/127\.0\.0\.1:1/);
  // Series of one node are there to open it (the screen's Enter).
  assert.ok((await query(prometheus, 'inotop_process_watches{node="node-small"}')).length > 0);
  assert.ok((await text(`${prometheus}/api/v1/targets`)).includes('"health":"up"'));
});

test("the DaemonSet's serve arguments keep a leaky node within the series budget (and --top 20 would not)", { skip, timeout: 60_000 }, async () => {
  const daemonSet = parseAllDocuments(readFileSync(join(repo, 'deploy/daemonset.yaml'), 'utf8'))
    .map((doc) => doc.toJS())
    .find((doc) => doc.kind === 'DaemonSet');
  const args: string[] = daemonSet.spec.template.spec.containers[0].args;
  assert.equal(args[0], 'serve');
  // As the manifest runs it, on a port of the test's own and with a node name for $(NODE_NAME).
  const listen = args.indexOf('--web.listen-address');
  const manifest = args.filter((_, i) => i > 0 && i !== listen && i !== listen + 1).map((arg) => arg.replace('$(NODE_NAME)', 'node-a'));
  const recording = join(repo, 'fixtures/leaky-kubelet.jsonl.gz');
  // The replay's last snapshot: its 101 gone pods, 155 processes in as many pods.
  const { gonePods } = expectedRow(recording);
  const ended = (samples: { name: string; value: number }[]) => samples.some((s) => s.name === 'inotop_gone_pods' && s.value === gonePods);
  const [asShipped, topTwenty] = await Promise.all([scrapeReplay(recording, ended, manifest), scrapeReplay(recording, ended, [...manifest, '--top', '20'])]);
  assert.ok(asShipped.length <= seriesBudget(), `${asShipped.length} inotop_* series with ${manifest.join(' ')}; the budget is ${seriesBudget()}`);
  assert.ok(topTwenty.length > seriesBudget(), `the replay is leaky enough to break the budget: ${topTwenty.length} series with --top 20`);
});
