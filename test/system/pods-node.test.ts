// End to end on the real kernel: a simulated node (test/helpers/fake-node.ts) scanned, resolved
// and attributed; pods deleted the way leaks happen and the way they should.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { PodRef, ProcessRow, Snapshot, TargetRow } from '../../src/model/types.js';
import { buildSnapshot } from '../../src/model/snapshot.js';
import { createAttribution, PodMemory } from '../../src/pods/attribute.js';
import { PodSource, podSourceOptions, type PodSourceOptions } from '../../src/pods/sources.js';
import { Resolver } from '../../src/resolve/index.js';
import { uptimeMs } from '../../src/deadline.js';
import { scan } from '../../src/scan/index.js';
import { eventually } from '../helpers/eventually.js';
import { buildFakeNode, type FakeNode, type FakePod } from '../helpers/fake-node.js';
import { rootSkip } from '../helpers/inowatch.js';

interface Session {
  node: FakeNode;
  snapshot(): Promise<Snapshot>;
}

async function session(t: TestContext, driver: 'cgroupfs' | 'systemd', source: (node: FakeNode) => Partial<PodSourceOptions>): Promise<Session> {
  const node = await buildFakeNode({ pods: 3, staticPods: 1, cgroupDriver: driver });
  t.after(() => node.cleanup());
  const pods = new PodSource(podSourceOptions(source(node)));
  t.after(() => pods.stop());
  const memory = new PodMemory();
  const resolver = new Resolver({ procRoot: '/proc' });
  return {
    node,
    async snapshot() {
      // Taken for this scan: judges even the pods the scan is the first to see.
      const scannedAt = uptimeMs();
      await pods.refresh();
      const scanned = scan({ procRoot: '/proc' });
      const attribution = createAttribution(pods.list(), pods.status(), memory, {
        kubeletRoot: node.kubeletRoot,
        cgroupsOf: (pid) => readLines(`/proc/${pid}/cgroup`),
        notes: pods.takeNotes(),
        listTakenAt: pods.listTakenAt(),
        scannedAt,
      });
      const resolutions = resolver.resolve(scanned);
      resolutions.prepare(scanned.processes, 'all');
      return buildSnapshot(scanned, resolutions, attribution, 'all');
    },
  };
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

function row(snapshot: Snapshot, pid: number): ProcessRow {
  const found = snapshot.processes.find((p) => p.pid === pid);
  assert.ok(found, `process ${pid} not in the snapshot`);
  return found;
}

function describe(target: TargetRow): string {
  return `${target.dev}/${target.ino} ${target.status} ${target.path ?? target.mountpoint ?? '?'} pod=${target.pod?.uid ?? '-'}:${target.pod?.state ?? '-'}`;
}

/** kubelet's targets belonging to `pod`, by what they are. */
function targetsOf(kubelet: ProcessRow, pod: FakePod): TargetRow[] {
  return kubelet.targets.filter((t) => t.pod?.uid === pod.uid);
}

function expectPod(ref: PodRef | null, pod: FakePod, state: PodRef['state'], what: string): void {
  assert.ok(ref, `${what}: no pod`);
  assert.equal(ref.uid, pod.uid, what);
  assert.equal(ref.state, state, what);
}

async function scenario(s: Session): Promise<void> {
  const { node } = s;
  const [staticPod, leaky, clean] = node.pods as [FakePod, FakePod, FakePod];

  // All pods alive: every pod-related watch attributed and live, nothing leaked.
  const before = await s.snapshot();
  assert.equal(before.pods.error, null);
  assert.equal(before.pods.stale, false);
  const kubelet = row(before, node.kubelet.pid);
  assert.equal(kubelet.comm, 'kubelet');
  assert.equal(kubelet.pod, null, 'kubelet is in no pod');
  assert.equal(kubelet.leaked, 0, kubelet.targets.map(describe).join('\n'));
  const podPaths = (pod: FakePod) => [pod.volume, pod.tokenFile, pod.etcHosts, pod.logFile, pod.podCgroup];
  for (const pod of node.pods) {
    for (const path of podPaths(pod)) {
      const target = kubelet.targets.find((tr) => tr.path === path);
      assert.ok(target, `no target at ${path}:\n${kubelet.targets.map(describe).join('\n')}`);
      expectPod(target.pod, pod, 'live', path);
      assert.equal(target.leak, null, path);
    }
    const log = kubelet.targets.find((tr) => tr.path === pod.logFile)!;
    assert.deepEqual([log.pod?.namespace, log.pod?.name, log.pod?.container], [pod.namespace, pod.name, pod.containerName]);
    const volume = kubelet.targets.find((tr) => tr.path === pod.volume)!;
    assert.equal(volume.pod?.name, pod.name, 'names come from the pod list');
    const container = row(before, pod.container.pid);
    assert.deepEqual(container.pod, {
      uid: pod.uid,
      namespace: pod.namespace,
      name: pod.name,
      container: pod.containerName,
      state: 'live',
      nameSource: 'list',
    });
  }
  for (const path of [...node.sharedFiles, join(node.kubeletRoot, 'pods')]) {
    const target = kubelet.targets.find((tr) => tr.path === path);
    assert.ok(target, `no target at ${path}`);
    assert.equal(target.pod, null, `${path} belongs to no pod`);
  }

  // A leak: gone from the list, unmounted and removed on the host, still mounted in its container.
  await node.deletePodLeaky(leaky.uid);
  // A proper deletion: nothing of it may stay.
  await node.deletePodClean(clean.uid);
  const after = await eventually(async () => {
    const snapshot = await s.snapshot();
    const k = row(snapshot, node.kubelet.pid);
    assert.deepEqual(targetsOf(k, clean).map(describe), [], 'the cleanly deleted pod left watches');
    assert.equal(targetsOf(k, leaky).length, 3, `leaked pod:\n${k.targets.map(describe).join('\n')}`);
    return snapshot;
  });
  const k = row(after, node.kubelet.pid);
  const leakedTargets = targetsOf(k, leaky);
  for (const target of leakedTargets) {
    assert.equal(target.pod?.state, 'gone', describe(target));
    assert.equal(target.pod?.name, leaky.name, 'the name it had while it was live');
  }
  const unmounted = leakedTargets.filter((tr) => tr.status === 'unmounted');
  assert.equal(unmounted.length, 2, 'volume root and token, kept alive by the container');
  for (const target of unmounted) {
    assert.equal(target.leak, 'unmounted');
    assert.equal(target.holders[0]?.pid, leaky.container.pid, describe(target));
    assert.ok(target.holders[0]?.mountpoint.startsWith(leaky.mountInContainer), target.holders[0]?.mountpoint);
  }
  const cgroup = leakedTargets.find((tr) => tr.path === leaky.podCgroup);
  assert.ok(cgroup, 'the pod cgroup stays while the container is in it');
  assert.equal(cgroup.leak, 'gone');
  assert.equal(k.leaked, 3);

  const container = row(after, leaky.container.pid);
  assert.deepEqual(container.pod, {
    uid: leaky.uid,
    namespace: leaky.namespace,
    name: leaky.name,
    container: leaky.containerName,
    state: 'gone',
    nameSource: 'memory',
  });
  assert.ok(!after.processes.some((p) => p.pid === clean.container.pid), 'the clean pod container is gone');

  // Nothing alive is flagged.
  for (const target of k.targets.filter((tr) => tr.pod?.uid === staticPod.uid)) {
    assert.equal(target.pod?.state, 'live', describe(target));
    assert.equal(target.leak, null, describe(target));
  }
  assert.equal(row(after, staticPod.container.pid).pod?.state, 'live');
  assert.equal(row(after, staticPod.container.pid).leaked, 0);
  assert.equal(after.pods.live, 1);
}

test('simulated node, cgroupfs driver, crictl on PATH: leaked pods flagged, live ones not', { skip: rootSkip }, async (t) => {
  const path = process.env.PATH;
  t.after(() => {
    process.env.PATH = path;
  });
  const s = await session(t, 'cgroupfs', (node) => {
    process.env.PATH = `${node.crictlDir}:${path}`;
    return { kind: 'auto', kubeletRoot: node.kubeletRoot };
  });
  await scenario(s);
});

test('simulated node, systemd driver, kubectl (static pod as a mirror pod): leaked pods flagged, live ones not', { skip: rootSkip }, async (t) => {
  const s = await session(t, 'systemd', (node) => ({
    kind: 'kubectl',
    kubectlPath: join(node.crictlDir, 'kubectl'),
    nodeName: node.nodeName,
    kubeletRoot: node.kubeletRoot,
  }));
  await scenario(s);
});
