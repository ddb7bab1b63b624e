// A recorded tree (DIR/proc) is read as a whole: the node files the pipeline reads besides /proc
// (passwd, pod logs) come from beside it, never from the machine inotop runs on.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Collector } from '../../src/collect/collector.js';
import { nodeRootOf } from '../../src/common/node-root.js';
import { parseFlags } from '../../src/options/flags.js';
import { collectorOptions, NODE_FLAGS, nodeOptions } from '../../src/options/node.js';

const fixture = fileURLToPath(new URL('../../fixtures/node-a', import.meta.url));
const UID = '3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b';

function recordedTree(t: { after: (fn: () => void) => void }, withPasswd: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-tree-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(fixture, 'proc'), join(dir, 'proc'), { recursive: true, verbatimSymlinks: true });
  if (withPasswd) cpSync(join(fixture, 'etc'), join(dir, 'etc'), { recursive: true });
  // pid 300 runs in a pod's cgroup; the pod's log dir, beside the tree, still names it.
  writeFileSync(join(dir, 'proc', '300', 'cgroup'), `0::/kubepods/besteffort/pod${UID}\n`);
  mkdirSync(join(dir, 'var', 'log', 'pods', `shop_leaky-7d9f_${UID}`), { recursive: true });
  return dir;
}

async function snapshotOf(procRoot: string) {
  const node = nodeOptions(parseFlags(NODE_FLAGS, ['--proc', procRoot, '--pods', 'none', '--no-trace']));
  const collector = new Collector(collectorOptions(node));
  try {
    await collector.start();
    return collector.collect('none');
  } finally {
    collector.stop();
  }
}

test('the node root of a procfs root: / for the live /proc, the directory holding any other', () => {
  assert.equal(nodeRootOf('/proc'), '/');
  assert.equal(nodeRootOf('/proc/'), '/');
  assert.equal(nodeRootOf('/host/proc'), '/host');
  assert.equal(nodeRootOf('/tmp/tree/proc/'), '/tmp/tree');
});

test("a recorded tree's pod logs name its pods, not the live node's", async (t) => {
  const dir = recordedTree(t, true);
  const row = (await snapshotOf(join(dir, 'proc'))).processes.find((p) => p.pid === 300);
  assert.ok(row, 'pid 300 is in the snapshot');
  assert.deepEqual([row.pod?.uid, row.pod?.namespace, row.pod?.name, row.pod?.nameSource], [UID, 'shop', 'leaky-7d9f', 'pod-logs']);
});

test("a recorded tree without its etc/passwd shows uids, not the names of the machine's passwd", async (t) => {
  const dir = recordedTree(t, false);
  const users = (await snapshotOf(join(dir, 'proc'))).users.map((user) => user.name);
  // uid 0 is "root" in every passwd there is: only a tree's own could name it here.
  assert.ok(users.includes('0'), users.join(' '));
  assert.ok(!users.includes('root'), users.join(' '));
});
