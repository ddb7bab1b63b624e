// What inotop fleet asks Prometheus: the raw expressions are the recording rules' own (so the two
// modes read the same figures), the matchers of a cluster regex and a shard group, how many reads
// share the dense columns, and the check of an answer's shape.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { responseBytesFor, shardGroup, shardGroupsFor, shardsOfGroup } from '../../src/fleet/nodes.js';
import { vectorOf } from '../../src/fleet/prometheus.js';
import { CLUSTER_RULES, clusterRulesQuery, matchers, NODE_RULES, nodeQuery } from '../../src/fleet/queries.js';
import { NODE_SHARDS } from '../../src/serve/labels.js';

test("the raw queries are the recording rules' expressions, and every rule is read", () => {
  const file = parseYaml(readFileSync(new URL('../../deploy/prometheus/inotop-fleet-rules.yaml', import.meta.url), 'utf8')) as {
    groups: { rules: { record: string; expr: string }[] }[];
  };
  const exprs = new Map(file.groups.flatMap((group) => group.rules.map((rule) => [rule.record, rule.expr.trim()] as const)));
  const ours = [...Object.values(NODE_RULES), ...Object.values(CLUSTER_RULES)];
  assert.equal(ours.length, exprs.size);
  for (const rule of ours) assert.equal(rule.expr(''), exprs.get(rule.record), rule.record);
});

test('matchers: the cluster regex as a PromQL string, the shards, the first group with the empty one (exporters without the label)', () => {
  assert.equal(matchers({ cluster: null, shards: null }), '');
  assert.equal(matchers({ cluster: 'prod-"eu"\\.1', shards: { shards: [3, 35], unlabelled: true } }), 'cluster=~"prod-\\"eu\\"\\\\.1",node_shard=~"|3|35"');
  assert.equal(matchers({ cluster: null, shards: { shards: [3, 35], unlabelled: false } }), 'node_shard=~"3|35"');
  assert.deepEqual([shardGroup(0, 16).unlabelled, shardGroup(1, 16).unlabelled, shardGroup(15, 16).unlabelled], [true, false, false]);
  assert.equal(nodeQuery('rules', 'leaked', { cluster: 'eu', shards: null }), 'node:inotop_leaked_watches:sum{cluster=~"eu"}');
  assert.match(
    nodeQuery('raw', 'watchesShare', { cluster: null, shards: { shards: [1], unlabelled: true } }),
    /inotop_user_watches\{node_shard=~"\|1"\} \/ inotop_user_watches_limit\{node_shard=~"\|1"\} or inotop_user_watches\{userns="",node_shard=~"\|1"\} \/ ignoring.*inotop_max_user_watches\{node_shard=~"\|1"\}/,
  );
  assert.match(clusterRulesQuery('eu'), /^\{__name__=~"cluster:inotop_nodes:count\|.*",cluster=~"eu"\}$/);
});

test('shard groups: at most about 4,000 nodes a read, every shard in exactly one group', () => {
  assert.deepEqual(
    [shardGroupsFor(50), shardGroupsFor(8000), shardGroupsFor(10_004), shardGroupsFor(100_000), shardGroupsFor(10_000_000)],
    [1, 2, 4, 32, NODE_SHARDS],
  );
  const groups = 16;
  const all = Array.from({ length: groups }, (_, g) => shardsOfGroup(g, groups)).flat();
  assert.deepEqual(
    all.sort((a, b) => a - b),
    Array.from({ length: NODE_SHARDS }, (_, i) => i),
  );
  assert.equal(responseBytesFor(3), 1024 * 1024 + 3 * 1024);
});

test('an answer by its shape: the labels asked for, NaN and infinities as Prometheus writes them', () => {
  const answer = {
    status: 'success',
    data: {
      resultType: 'vector',
      result: [
        { metric: { __name__: 'x', node: 'a', job: 'inotop' }, value: [1, '0.5'] },
        { metric: { node: 'b' }, value: [1, 'NaN'] },
        { metric: {}, value: [1, '+Inf'] },
        { metric: { node: 'd' }, value: [1, '-1e3'] },
      ],
    },
  };
  const samples = vectorOf(answer, ['node', 'cluster'], 'p');
  assert.deepEqual(samples[0], { labels: { node: 'a', cluster: '' }, value: 0.5 });
  assert.ok(Number.isNaN(samples[1]!.value));
  assert.equal(samples[2]!.value, Infinity);
  assert.equal(samples[3]!.value, -1000);
  assert.throws(() => vectorOf({ ...answer, data: { ...answer.data, result: [{ metric: {}, value: [1, ''] }] } }, [], 'p'), /value is not a number/);
});
