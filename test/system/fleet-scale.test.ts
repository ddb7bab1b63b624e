// inotop fleet against a real Prometheus holding 10,004 nodes: the inotop_* series of real
// `serve --replay` scrapes copied to two clusters that share node names (every tenth node leaks,
// some fail scans, a few lag, four have hostile names), backfilled with promtool
// (test/helpers/fleet-tsdb.ts). Raw queries first; then the recording rules loaded, and the view
// says it reads them. Every node's every figure is checked against what was written; the screen is
// driven under tmux (the last node, its gone pods, its detail scrolled; the filter; the sort).
// Timings are the bench's (npm run bench -- --fleet), not this test's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { compareCodeUnits } from '../../src/common/compare.js';
import { displayWidth } from '../../src/common/width.js';
import { FleetReader, shardsOfGroup, type JsonNode, type NodeRow } from '../../src/fleet/nodes.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { tempDir, undoAtEnd } from '../helpers/cleanup.js';
import { eventually } from '../helpers/eventually.js';
import { fleetTsdb, realScrapes, PROMTOOL, type ExpectedNode } from '../helpers/fleet-tsdb.js';
import { missingBinaries, PROMETHEUS, startPrometheus } from '../helpers/prometheus.js';
import { TmuxPane } from '../helpers/tmux.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const rules = join(repo, 'deploy/prometheus/inotop-fleet-rules.yaml');
const skip = missingBinaries([PROMETHEUS, PROMTOOL, '/usr/bin/tmux']);

const HOSTILE = ['\x1b]0;pwned\x07', '{red-fg}braces{/red-fg}', '\x1b[31mred', 'ノード-名前'];
/** Control characters a terminal would act on. */
const CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function fleet(prometheus: string, ...args: string[]): Run {
  const run = spawnSync(process.execPath, [inotopBin, 'fleet', '--prometheus', prometheus, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The title says how many nodes there are, not `2,501 read of 10,004 nodes` (the first of the four groups). */
const everyNodeRead = (screen: string) => screen.includes('10,004 nodes') && !screen.includes(' read of ');

const key = (cluster: string | null, node: string) => `${cluster ?? ''}\0${node}`;

/** Every node read, and each with the figures written for it. */
function assertRows(rows: readonly (JsonNode | NodeRow)[], expected: readonly ExpectedNode[]): void {
  assert.equal(rows.length, expected.length, 'every node, once');
  const byKey = new Map(rows.map((row) => [key(row.cluster === '' ? null : row.cluster, row.node), row]));
  for (const want of expected) {
    const row = byKey.get(key(want.cluster, want.node));
    assert.ok(row, `${want.cluster}/${want.node} is listed`);
    const at = typeof row.lastScrapeAt === 'string' ? Date.parse(row.lastScrapeAt) : row.lastScrapeAt;
    const same =
      Math.abs(row.maxWatchesShare! - want.maxWatchesShare!) < 1e-9 &&
      Math.abs(row.maxInstancesShare! - want.maxInstancesShare!) < 1e-9 &&
      row.leaked === want.leaked &&
      row.gonePods === want.gonePods &&
      row.failures === want.failures &&
      at === want.lastScrapeAt;
    if (!same) assert.fail(`${want.cluster}/${JSON.stringify(want.node)}: read ${JSON.stringify(row)}, written ${JSON.stringify(want)}`);
  }
}

test('inotop fleet at 10,004 nodes of two clusters in a real Prometheus', { skip, timeout: 600_000 }, async (t) => {
  ensureBuilt();
  const work = tempDir(t, 'inotop-fleet-scale-');
  const templates = await realScrapes(repo);
  const at = Math.floor(Date.now() / 1000);
  const { nodes: expected } = await fleetTsdb(work, { nodesPerCluster: 5000, clusters: ['eu', 'us'], hostileNames: HOSTILE, at }, templates);
  // The backfilled samples are one scrape: looked back on for an hour, as if scraped all along.
  const prometheus = await startPrometheus(t, work, {}, ['--query.lookback-delta=1h', '--web.enable-lifecycle']);
  await eventually(async () => assert.equal((await fetch(`${prometheus}/-/ready`)).status, 200), { timeoutMs: 60_000, intervalMs: 200 });
  const leaky = expected.filter((n) => n.leaked > 0);
  assert.ok(leaky.length > 900 && leaky.length < 1100, `${leaky.length} leaky nodes`);

  await t.test('raw series: every node and figure, clusters kept apart, --cluster, sorting, and it says so', () => {
    const json = fleet(prometheus, '--json');
    assert.equal(json.status, 0, json.stderr);
    const read = JSON.parse(json.stdout) as { queries: string; clusters: { cluster: string; nodes: number }[]; nodes: JsonNode[] };
    assert.equal(read.queries, 'raw');
    assertRows(read.nodes, expected);
    assert.deepEqual(
      read.clusters.map((c) => [c.cluster, c.nodes]),
      [
        ['eu', 5004],
        ['us', 5000],
      ],
    );
    // The same name in both clusters: two rows with figures of their own, not one summed.
    const twins = read.nodes.filter((n) => n.node === 'ip-10-0-0-3.ec2.internal');
    assert.deepEqual(twins.map((n) => n.cluster).sort(), ['eu', 'us']);
    assert.notEqual(twins[0]!.leaked, twins[1]!.leaked);

    const us = JSON.parse(fleet(prometheus, '--json', '--cluster', 'u.').stdout) as { nodes: JsonNode[] };
    assertRows(
      us.nodes,
      expected.filter((n) => n.cluster === 'us'),
    );

    const batch = fleet(prometheus, '-b', '-s', 'leaked');
    assert.equal(batch.status, 0, batch.stderr);
    assert.match(batch.stderr, /from raw series: no recording rules/);
    const lines = batch.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^CLUSTER +NODE +WATCHES% +INST% +LEAKED +GONE PODS +FAILURES +LAST SCRAPE$/);
    assert.equal(lines.length, 1 + expected.length);
    const most = Math.max(...expected.map((n) => n.leaked));
    const first = expected.filter((n) => n.leaked === most).sort((a, b) => compareCodeUnits(a.cluster, b.cluster) || compareCodeUnits(a.node, b.node))[0]!;
    assert.match(lines[1]!, new RegExp(`^${first.cluster} +${first.node.replace(/\./g, '\\.')} `), 'most leaked first, ties in node order');
  });

  await t.test('hostile names: -b and --json show escapes, never act on them; a Prometheus error is made visible', () => {
    const batch = fleet(prometheus, '-b', '-F', 'pwn|red|ノ');
    assert.equal(batch.status, 0, batch.stderr);
    assert.ok(!CONTROLS.test(batch.stdout), JSON.stringify(batch.stdout));
    assert.ok(batch.stdout.includes('\\x1b]0;pwned\\x07') && batch.stdout.includes('\\x1b[31mred') && batch.stdout.includes('{red-fg}braces'));
    const json = fleet(prometheus, '--json', '-F', 'pwn');
    assert.ok(!CONTROLS.test(json.stdout), JSON.stringify(json.stdout));
    assert.equal((JSON.parse(json.stdout) as { nodes: JsonNode[] }).nodes[0]!.node, HOSTILE[0]);
    // Prometheus quotes a bad regex back in its error, raw.
    const error = fleet(prometheus, '-b', '--cluster', '\x1b]0;pwned\x07(');
    assert.equal(error.status, 1);
    assert.ok(!CONTROLS.test(error.stderr), JSON.stringify(error.stderr));
    assert.match(error.stderr, /^inotop fleet: .*missing closing \).*\\x1b\]0;pwned\\x07\(.*\n$/);
  });

  await t.test('the recording rules loaded: the view reads them, says so, and reads the same figures', async () => {
    writeFileSync(join(work, 'prometheus.yml'), JSON.stringify({ global: { scrape_interval: '1s', evaluation_interval: '2s' }, rule_files: [rules] }));
    assert.equal((await fetch(`${prometheus}/-/reload`, { method: 'POST' })).status, 200);
    const read = await eventually(
      () => {
        const json = fleet(prometheus, '--json');
        assert.equal(json.status, 0, json.stderr);
        const parsed = JSON.parse(json.stdout) as { queries: string; clusters: { cluster: string; leaked: number; gonePods: number }[]; nodes: JsonNode[] };
        assert.equal(parsed.queries, 'rules');
        assert.equal(parsed.nodes.length, expected.length, 'the rules have run over every node');
        return parsed;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    assertRows(read.nodes, expected);
    for (const cluster of read.clusters) {
      const mine = expected.filter((n) => n.cluster === cluster.cluster);
      assert.equal(
        cluster.leaked,
        mine.reduce((sum, n) => sum + n.leaked, 0),
      );
      assert.equal(
        cluster.gonePods,
        mine.reduce((sum, n) => sum + n.gonePods, 0),
      );
    }
    assert.doesNotMatch(fleet(prometheus, '-b').stderr, /raw series/);
  });

  await t.test('reading a shard group at a time: the first read has its group, and from the fourth every read has every node right', async () => {
    const reader = new FleetReader({ prometheus, cluster: null, timeoutMs: 30_000, maxResponseBytes: null });
    const first = await reader.read();
    assert.equal(first.shardGroups, 4, '10,004 nodes: four reads to read every node anew');
    assert.equal(first.complete, false);
    assert.equal(first.nodes, expected.length, 'the nodes there are, from the rules, before they are read');
    const group = new Set(shardsOfGroup(0, 4));
    assertRows(
      first.rows,
      expected.filter((node) => group.has(node.shard)),
    );
    for (let i = 2; i <= 6; i++) {
      const read = await reader.read();
      assert.equal(read.mode, 'rules');
      assert.equal(read.complete, i >= 4, `read ${i}`);
      if (read.complete) assertRows(read.rows, expected);
    }
  });

  await t.test('the screen: the last node, its gone pods, its detail scrolled; the filter as typed; the sort', async (t) => {
    // 16 lines: a node's detail is longer than its page.
    const pane = new TmuxPane([process.execPath, inotopBin, 'fleet', '--prometheus', prometheus, '-s', 'leaked'], { width: 150, height: 16 });
    undoAtEnd(t, () => pane.kill());
    await pane.waitFor((text) => /10,004 nodes in 2 clusters .*from the recording rules/.test(text) && everyNodeRead(text), 'every node', 60_000);
    // Inverted: the most leaked node is the last row.
    const most = Math.max(...expected.map((n) => n.leaked));
    const last = expected.filter((n) => n.leaked === most).sort((a, b) => compareCodeUnits(a.cluster, b.cluster) || compareCodeUnits(a.node, b.node))[0]!;
    pane.type('I');
    await pane.waitFor(/LEAKED▲|LEAKED\^/, 'the sort inverted');
    pane.type('G');
    const bottom = await pane.waitFor((screen) => {
      const lines = screen.trimEnd().split('\n');
      return lines.at(-2)!.includes(last.node) && lines.at(-2)!.startsWith(last.cluster);
    }, 'the last node on the screen');
    assert.match(bottom, new RegExp(`${last.node.replace(/\./g, '\\.')} .* ${most.toLocaleString('en-US')} `));
    pane.keys('Enter');
    const opened = await pane.waitFor(new RegExp(`Gone pods still watched: ${last.gonePods}`), "the last node's gone pods");
    assert.match(opened, new RegExp(`cluster ${last.cluster}, node ${last.node.replace(/\./g, '\\.')}`));
    assert.match(opened, /ci\/runner-\w+/, 'a gone pod by name');
    const total = Number(/lines 1–\d+ of (\d+)/.exec(opened)![1]);
    pane.keys('PageDown');
    await pane.waitFor(/lines [2-9]\d*–/, 'the detail scrolled');
    pane.keys('End');
    await pane.waitFor(new RegExp(`–${total} of ${total}`), 'the detail scrolled to its end');
    await pane.waitFor(/kubelet/, 'the process groups at the end');
    pane.keys('Escape');
    await pane.waitFor(/CLUSTER +NODE/, 'back to the table');

    pane.keys('/');
    pane.type('ip-10-0-1-2');
    const matching = expected.filter((n) => /ip-10-0-1-2/i.test(n.node));
    await pane.waitFor(new RegExp(`${matching.length.toLocaleString('en-US')} of 10,004 nodes`), 'filtered as typed');
    pane.keys('Enter');
    const filtered = await pane.waitFor(new RegExp(`filter /ip-10-0-1-2/: ${matching.length.toLocaleString('en-US')} of 10,004`), 'the filter kept');
    const rows = filtered.split('\n').filter((line) => /^(eu|us) /.test(line));
    assert.ok(rows.length > 5 && rows.every((line) => line.includes('ip-10-0-1-2')), filtered);
    pane.type('>');
    const byGone = await pane.waitFor(/GONE PODS▲|GONE PODS\^/, 'sorted by gone pods');
    const fewestGone = Math.min(...matching.map((n) => n.gonePods));
    const firstRow = byGone.split('\n').find((line) => /^(eu|us) /.test(line))!;
    // GONE PODS, FAILURES, LAST SCRAPE.
    assert.match(firstRow, new RegExp(` ${fewestGone} +\\d+ +\\d+[smh] ago`), 'still inverted: the fewest gone pods first');
    pane.type('q');
    await pane.waitFor(/EXIT=0/, 'q quits');
  });

  await t.test('the screen: hostile names shown as text, the title untouched, columns aligned', async (t) => {
    const pane = new TmuxPane([process.execPath, inotopBin, 'fleet', '--prometheus', prometheus, '-F', 'pwn|red|ノ', '-s', 'node'], { width: 120, height: 20 });
    undoAtEnd(t, () => pane.kill());
    const title = () => spawnSync('tmux', ['-L', pane.socket, 'display-message', '-p', '-t', '0', '#{pane_title}'], { encoding: 'utf8' }).stdout.trim();
    const screen = await pane.waitFor((text) => text.includes('\\x1b[31mred') && everyNodeRead(text), 'the hostile nodes, every node read');
    assert.notEqual(title(), 'pwned');
    const rows = screen.split('\n').filter((line) => /^eu /.test(line));
    assert.equal(rows.length, 4, screen);
    assert.ok(screen.includes('{red-fg}braces{/red-fg}'), 'braces are text, not tags');
    // tmux in this test's locale shows a wide character as '?': those rows are the unit test's.
    const ends = rows
      .filter((line) => !line.includes('?'))
      .map((line) => {
        const share = /\d+% /.exec(line)!;
        return displayWidth(line.slice(0, share.index + share[0].length));
      });
    assert.equal(new Set(ends).size, 1, rows.join('\n'));
    assert.equal(expected.find((n) => n.node === HOSTILE[2])!.leaked, 0, 'a row without a style of its own');
    const painted = pane
      .screen(true)
      .split('\n')
      .find((line) => line.includes('31mred'))!;
    assert.ok(!/\x1b\[(?:[\d;]*;)?31m/.test(painted.replace('\\x1b[31mred', '')), JSON.stringify(painted));
    pane.type('q');
    await pane.waitFor(/EXIT=0/, 'q quits');
  });
});
