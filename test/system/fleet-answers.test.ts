// inotop fleet against answers no healthy Prometheus gives: a local HTTP server stands in for a
// broken or hostile Prometheus-compatible API (what cannot be made of a real one). Wrong-shaped
// vectors, a 50 MB answer, a body that stalls, an error with escapes: each is one line on stderr
// and exit 1 for -b and --json, an error in the screen's header while it keeps running; memory
// stays bounded. And the screen's reads never overlap, however often r is pressed; a read takes
// one group of node shards, and a cycle of them every node.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { compareNodes, FleetReader, type NodeRow } from '../../src/fleet/nodes.js';
import { nodeShard } from '../../src/serve/labels.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { undoAtEnd } from '../helpers/cleanup.js';
import { missingBinaries } from '../helpers/prometheus.js';
import { TmuxPane } from '../helpers/tmux.js';

const skip = missingBinaries(['/usr/bin/tmux', '/usr/bin/time']);
const CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

type Handler = (request: IncomingMessage, response: ServerResponse, query: string) => void | Promise<void>;

/** A server on loopback answering /api/v1/query with `handler`; its URL. Closed when the test ends. */
async function standIn(t: TestContext, handler: Handler): Promise<string> {
  const server = createServer((request, response) => {
    const query = new URL(request.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    void handler(request, response, query);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  undoAtEnd(t, () => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (response: ServerResponse, body: unknown, status = 200) => {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
};
const vector = (result: unknown) => ({ status: 'success', data: { resultType: 'vector', result } });
/** A healthy answer: one node of each dense column. */
const oneNode = (query: string) => vector(query.includes('__name__') ? [] : [{ metric: { node: 'node-a', node_shard: '1' }, value: [1, '0.5'] }]);

/** `inotop fleet` run by GNU time: its exit, output and peak RSS. */
async function fleet(prometheus: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; maxRssMb: number }> {
  const child = spawn('/usr/bin/time', ['-q', '-f', 'maxrss=%M', process.execPath, inotopBin, 'fleet', '--prometheus', prometheus, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, 'exit')) as [number | null];
  const rss = /maxrss=(\d+)\n?$/.exec(stderr);
  return { status, stdout, stderr: stderr.replace(/maxrss=\d+\n?$/, ''), maxRssMb: Number(rss?.[1]) / 1024 };
}

/** One line, visible, naming the problem; no stack trace. */
function assertOneLine(stderr: string, message: RegExp): void {
  assert.match(stderr, /^inotop fleet: [^\n]*\n$/, JSON.stringify(stderr));
  assert.match(stderr, message);
  assert.ok(!CONTROLS.test(stderr.trimEnd()), JSON.stringify(stderr));
  assert.doesNotMatch(stderr, /\n\s+at /);
}

test('wrong-shaped answers: one line naming what is wrong, exit 1, never a TypeError', { skip, timeout: 60_000 }, async (t) => {
  ensureBuilt();
  const shapes: [string, unknown, RegExp][] = [
    ['result "abc"', { status: 'success', data: { resultType: 'vector', result: 'abc' } }, /result is not a list/],
    ['result [null]', vector([null]), /result\[0\] has no metric/],
    ['value null', vector([{ metric: { node: 'n' }, value: null }]), /result\[0\]\.value is not \[time, "number"\]/],
    ['value "x"', vector([{ metric: { node: 'n' }, value: [1, 'x'] }]), /result\[0\]\.value is not a number/],
    ['label 7', vector([{ metric: { node: 7 }, value: [1, '1'] }]), /result\[0\]\.metric\.node is not text/],
    ['a matrix', { status: 'success', data: { resultType: 'matrix', result: [] } }, /resultType matrix, not vector/],
    ['no data', { status: 'success' }, /no data/],
    ['a list', [1, 2], /not an object/],
  ];
  for (const [what, answer, message] of shapes) {
    // The clusters' query answers well; the nodes' queries get the broken shape.
    const prometheus = await standIn(t, (_, response, query) => json(response, query.includes('__name__') ? vector([]) : answer));
    for (const mode of ['-b', '--json']) {
      const run = await fleet(prometheus, mode);
      assert.equal(run.status, 1, `${what} ${mode}: ${run.stderr}`);
      assertOneLine(run.stderr, message);
      assert.equal(run.stdout, '');
    }
  }
});

test("Prometheus's error text and not-JSON: visible, one line", { skip, timeout: 60_000 }, async (t) => {
  const error = await standIn(t, (_, response) =>
    json(response, { status: 'error', errorType: 'bad_data', error: 'bad \x1b]0;pwned\x07\x1b[2J query\n' }, 400),
  );
  assertOneLine((await fleet(error, '-b')).stderr, /bad \\x1b\]0;pwned\\x07\\x1b\[2J query\\n/);
  const html = await standIn(t, (_, response) => {
    response.writeHead(502, { 'Content-Type': 'text/html' });
    response.end('<html>bad gateway</html>');
  });
  assertOneLine((await fleet(html, '--json')).stderr, /answered 502 without JSON: is it a Prometheus\?/);
});

test(
  'a 50 MB answer: refused past --max-response-bytes (in proportion to the fleet), read no further, memory bounded',
  { skip, timeout: 120_000 },
  async (t) => {
    let sent = 0;
    let closedEarly = false;
    const prometheus = await standIn(t, async (request, response, query) => {
      if (query.includes('__name__') || query.startsWith('count')) return json(response, vector([{ metric: {}, value: [1, '3'] }]));
      // A vector of 50 MB, written as fast as it is read, without a Content-Length.
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"status":"success","data":{"resultType":"vector","result":[');
      const element = JSON.stringify({ metric: { node: 'x'.repeat(900) }, value: [1, '1'] });
      request.socket.on('close', () => (closedEarly = sent < 50e6));
      for (sent = 0; sent < 50e6 && !response.destroyed;) {
        const chunk = Array.from({ length: 100 }, () => element).join(',') + ',';
        sent += chunk.length;
        if (!response.write(chunk)) await once(response, 'drain').catch(() => undefined);
      }
      response.end('{"metric":{},"value":[1,"1"]}]}}');
    });
    // Three nodes: 1 MiB and 3 KiB an answer.
    const run = await fleet(prometheus, '-b');
    assert.equal(run.status, 1, run.stderr);
    assertOneLine(run.stderr, /answered more than 1,051,648 bytes to one query \(--max-response-bytes\)/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(closedEarly, `the client hung up after ${sent} bytes`);
    assert.ok(run.maxRssMb < 150, `peak RSS ${run.maxRssMb.toFixed(0)} MB (395 MB before the bound)`);
    const asked = await fleet(prometheus, '--json', '--max-response-bytes', '5000');
    assertOneLine(asked.stderr, /more than 5,000 bytes/);
  },
);

test('a body that stalls: "Prometheus took longer than N s", not "without JSON"', { skip, timeout: 60_000 }, async (t) => {
  const prometheus = await standIn(t, (_, response, query) => {
    if (query.includes('__name__') || query.startsWith('count')) return json(response, vector([]));
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.write('{"status":"success","data":{"resultType":"vector","result":[');
    // ...and nothing more.
  });
  const run = await fleet(prometheus, '-b', '--query-timeout', '1');
  assert.equal(run.status, 1);
  assertOneLine(run.stderr, /Prometheus took longer than 1 s \(--query-timeout\)/);
});

test('the screen: a broken answer is an error in the header and the screen goes on; reads never overlap', { skip, timeout: 90_000 }, async (t) => {
  let inFlight = 0;
  let overlapped = false;
  let reads = 0;
  let broken = true;
  const prometheus = await standIn(t, async (_, response, query) => {
    // A read starts with the clusters' query; any other request of an earlier read still out is an overlap.
    if (query.includes('__name__')) {
      if (inFlight > 0) overlapped = true;
      reads++;
    }
    inFlight++;
    await new Promise((resolve) => setTimeout(resolve, 150));
    inFlight--;
    json(response, broken && !query.includes('__name__') ? vector([null]) : oneNode(query));
  });
  const pane = new TmuxPane([process.execPath, inotopBin, 'fleet', '--prometheus', prometheus, '-d', '0.2'], { width: 120, height: 24 });
  undoAtEnd(t, () => pane.kill());
  await pane.waitFor(/wrong shape: result\[0\] has no metric/, 'the error in the header');
  broken = false;
  for (let i = 0; i < 30; i++) pane.type('r');
  await pane.waitFor(/node-a +50%/, 'the next read shows the node');
  const before = reads;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.ok(reads > before, 'reads go on at -d');
  assert.equal(overlapped, false, 'no read started while another was out');
  pane.type('q');
  await pane.waitFor(/EXIT=0/, 'q quits');
});

test('reads by shard group: a cycle reads every node once, uncompressed; the nodes without node_shard come with the first group; a node gone from its group drops out, a new one takes its place in the order', async (t) => {
  // 10,000 nodes: four groups of 16 shards. The answers are the recording rules', as Prometheus selects them by node_shard.
  const named = (node: string) => ({ node, shard: String(nodeShard(node)) });
  let nodes = [...Array.from({ length: 10_000 }, (_, i) => named(`node-${String(i).padStart(5, '0')}`)), { node: 'old-exporter', shard: '' }];
  const encodings = new Set<string | undefined>();
  const prometheus = await standIn(t, (request, response, query) => {
    encodings.add(request.headers['accept-encoding']);
    if (query.startsWith('{__name__=~'))
      return json(response, vector([{ metric: { __name__: 'cluster:inotop_nodes:count' }, value: [1, String(nodes.length)] }]));
    const shards = /node_shard=~"([^"]*)"/.exec(query)?.[1]?.split('|');
    const value = query.startsWith('node:inotop_last_scrape') ? '1700000000' : '1';
    const picked = nodes.filter((n) => !shards || shards.includes(n.shard));
    json(response, vector(picked.map((n) => ({ metric: { node: n.node, ...(n.shard ? { node_shard: n.shard } : {}) }, value: [1, value] }))));
  });
  const reader = new FleetReader({ prometheus, cluster: null, timeoutMs: 10_000, maxResponseBytes: null });
  const cycle = async () => {
    const reads = [];
    for (let i = 0; i < 4; i++) reads.push(await reader.read());
    return reads;
  };
  const names = (rows: readonly NodeRow[]) => rows.map((row) => row.node);
  const inOrder = (list: typeof nodes) => names(list.map((n) => ({ ...n, cluster: '' }) as NodeRow).sort(compareNodes));

  const first = await cycle();
  assert.deepEqual(
    first.map((read) => [read.shardGroups, read.complete, read.nodes]),
    [
      [4, false, 10_001],
      [4, false, 10_001],
      [4, false, 10_001],
      [4, true, 10_001],
    ],
  );
  const firstGroup = new Set(names(first[0]!.rows));
  assert.ok(firstGroup.has('old-exporter'), 'the node without node_shard, with the first group');
  assert.ok(firstGroup.size > 2000 && firstGroup.size < 3000, `${firstGroup.size} nodes in the first group`);
  assert.deepEqual(names(first[3]!.rows), inOrder(nodes), 'every node once, in node order');

  // One node goes, one comes (in another group), and the old exporter goes.
  const gone = nodes[1234]!;
  const come = named('node-01234a');
  nodes = [...nodes.filter((n) => n !== gone && n.shard !== ''), come];
  const second = await cycle();
  assert.deepEqual(names(second[3]!.rows), inOrder(nodes));
  assert.equal(second[3]!.rows.length, 10_000);
  // Answers uncompressed: compressing them cost Prometheus more than the bytes saved are worth here.
  assert.deepEqual([...encodings], ['identity']);
});
