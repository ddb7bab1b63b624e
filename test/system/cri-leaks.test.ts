// Leaks as they really happen: pods created and deleted on a real containerd through CRI, a
// kubelet-like process watching them, inotop following through its native CRI pod source (no
// crictl on this machine). A process that entered a pod container's mount namespace and stayed
// keeps that pod's watches alive after the pod is deleted: the token volume unmounted on the host,
// etc-hosts deleted but pinned, and (the kernel's doing, not the namespace's) the pod cgroup dir.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Collector } from '../../src/collect/collector.js';
import { podSourceOptions } from '../../src/pods/sources.js';
import type { ProcessRow, Snapshot } from '../../src/model/types.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { containerdSkipReason, startContainerd, type Containerd, type HarnessPod } from '../helpers/containerd.js';
import { eventually } from '../helpers/eventually.js';
import { KubeletWatcher } from '../helpers/kubelet-watcher.js';
import { describeTarget, rowOf, targetAt } from '../helpers/targets.js';

const execFileAsync = promisify(execFile);
const skip = containerdSkipReason();

describe('pods on a real containerd, followed through CRI', { skip: skip ?? false }, () => {
  let runtime: Containerd;
  let kubelet: KubeletWatcher;
  let collector: Collector;
  let holder: number;
  let kubeletRoot: string;
  let web: HarnessPod;
  let worker: HarnessPod;
  let leaky: HarnessPod;
  const watchedCgroupDirs: string[] = [];

  before(async () => {
    ensureBuilt();
    runtime = await startContainerd();
    kubeletRoot = join(runtime.dir, 'kubelet');
    kubelet = await KubeletWatcher.start();
    collector = new Collector({
      procRoot: '/proc',
      pods: podSourceOptions({ kind: 'cri', runtimeEndpoint: runtime.endpoint, kubeletRoot }),
      forceWalk: false,
      trace: false,
      record: null,
      intervalSeconds: 1,
    });
  });

  after(async () => {
    collector?.stop();
    await kubelet?.stop();
    const dir = runtime?.dir;
    await runtime?.stop();
    if (dir === undefined) return;
    assert.equal(existsSync(dir), false, 'harness dir removed');
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), false, 'no mount left');
    for (const cgroupDir of watchedCgroupDirs) assert.equal(existsSync(cgroupDir), false, `${cgroupDir} removed`);
  });

  /** One refresh of inotop's pipeline, with the pod list fetched anew first. */
  async function refresh(): Promise<{ snapshot: Snapshot; kubeletRow: ProcessRow }> {
    await collector.refreshPods();
    const snapshot = collector.collect('all');
    return { snapshot, kubeletRow: rowOf(snapshot, kubelet.pid) };
  }

  it('runs with no crictl installed', () => {
    assert.notEqual(spawnSync('which', ['crictl']).status, 0, 'crictl is on PATH: this test is about doing without it');
  });

  it('sees three live pods through CRI, their watches live, nothing leaked', async () => {
    web = await runtime.runPod({ name: 'web', namespace: 'shop', kubeletRoot });
    worker = await runtime.runPod({ name: 'worker', namespace: 'batch', kubeletRoot, containerName: 'crunch' });
    leaky = await runtime.runPod({ name: 'leaky', namespace: 'shop', kubeletRoot });
    for (const pod of [web, worker, leaky]) watchedCgroupDirs.push((await kubelet.watchPod(pod)).cgroupDir);
    await collector.start();

    const { snapshot, kubeletRow } = await refresh();
    assert.deepEqual(snapshot.pods, { source: 'cri', live: 3, stale: false, error: null });
    assert.equal(kubeletRow.watches, 9);
    assert.equal(kubeletRow.leaked, 0);
    assert.equal(kubeletRow.pod, null, 'kubelet runs in no pod');
    for (const pod of [web, worker, leaky]) {
      for (const [what, path] of watchedPaths(kubelet, pod)) {
        const target = targetAt(kubeletRow, path);
        assert.equal(target.status, 'ok', `${pod.name} ${what}: ${describeTarget(target)}`);
        assert.deepEqual(
          target.pod,
          { uid: pod.uid, namespace: pod.namespace, name: pod.name, container: null, state: 'live', nameSource: 'list' },
          `${pod.name} ${what}`,
        );
        assert.equal(target.leak, null);
      }
    }
  });

  it('a pod deleted cleanly takes its watches with it (the cgroup dir one, kubelet removes itself)', async () => {
    const watches = kubelet.watchesOf(worker);
    await runtime.deletePod(worker);
    // The kernel drops the watches of the unmounted and deleted inodes asynchronously.
    const live = await eventually(
      () => {
        const wds = kubelet.liveWds();
        assert.ok(!wds.includes(watches.tokenVolume) && !wds.includes(watches.etcHosts), `the watches did not settle: ${wds.join(', ')}`);
        return wds;
      },
      { intervalMs: 20 },
    );
    assert.ok(live.includes(watches.cgroup), 'the kernel keeps the watch of a removed cgroup dir');
    await kubelet.forgetCgroup(worker);

    const { snapshot, kubeletRow } = await refresh();
    assert.equal(snapshot.pods.live, 2);
    assert.equal(kubeletRow.watches, 6);
    assert.equal(kubeletRow.leaked, 0);
    assert.deepEqual(kubeletRow.targets.filter((target) => target.leak !== null || target.pod?.state !== 'live').map(describeTarget), [], 'nothing flagged');
  });

  it('a pod whose mount namespace something stayed in leaks its watches in three forms, each counted and attributed', async () => {
    holder = await runtime.holdMountNamespace(leaky);
    await runtime.deletePod(leaky);
    const watches = kubelet.watchesOf(leaky);
    assert.deepEqual(
      [watches.tokenVolume, watches.etcHosts, watches.cgroup].filter((wd) => kubelet.liveWds().includes(wd)),
      [watches.tokenVolume, watches.etcHosts, watches.cgroup],
      'all three watches survive the deletion',
    );

    const { snapshot, kubeletRow } = await refresh();
    assert.equal(snapshot.pods.live, 1);
    const gone = { uid: leaky.uid, namespace: 'shop', name: 'leaky', container: null, state: 'gone', nameSource: 'memory' };

    const token = targetAt(kubeletRow, '/var/run/secrets/kubernetes.io/serviceaccount');
    assert.equal(token.status, 'unmounted', describeTarget(token));
    assert.equal(token.leak, 'unmounted');
    assert.deepEqual(token.heldBy, [holder]);
    assert.equal(token.holders[0]?.comm, 'busybox');
    assert.deepEqual(token.pod, gone);

    const etcHosts = targetAt(kubeletRow, leaky.etcHosts);
    assert.equal(etcHosts.status, 'deleted', describeTarget(etcHosts));
    assert.equal(etcHosts.leak, 'deleted');
    assert.deepEqual(
      etcHosts.holders.map((h) => [h.pid, h.mountpoint]),
      [[holder, '/etc/hosts']],
      'the namespace whose bind mount pins it',
    );
    assert.deepEqual(etcHosts.pod, gone);

    const cgroup = targetAt(kubeletRow, watches.cgroupDir);
    assert.equal(cgroup.status, 'deleted', describeTarget(cgroup));
    assert.match(cgroup.reason ?? '', /ESTALE/);
    assert.equal(cgroup.leak, 'deleted');
    assert.deepEqual(cgroup.pod, gone);

    assert.equal(kubeletRow.watches, 6);
    assert.equal(kubeletRow.leaked, 3, 'exactly the three watches of the deleted pod');
    assert.deepEqual(kubeletRow.leakHolders, [{ pid: holder, comm: 'busybox' }], 'the one namespace that keeps them');
    // As the screen gets every row but the selected one: counts and holders without target rows.
    const countsOnly = rowOf(collector.collect(new Set()), kubelet.pid);
    assert.deepEqual([countsOnly.targets.length, countsOnly.leaked, countsOnly.leakHolders], [0, 3, [{ pid: holder, comm: 'busybox' }]]);
    for (const [what, path] of watchedPaths(kubelet, web)) {
      const target = targetAt(kubeletRow, path);
      assert.equal(target.leak, null, `live pod's ${what}: ${describeTarget(target)}`);
      assert.equal(target.pod?.state, 'live');
    }
  });

  it('a fresh inotop after the leak finds the pod from the files bound into the kept namespace', async () => {
    assert.equal(
      readFileSync(`/proc/${holder}/cgroup`, 'utf8').includes('kubepods'),
      false,
      'the holder is in no pod cgroup: only its mount namespace names the pod',
    );
    const snapshot = await inotopJson(['--pods', 'cri', '--runtime-endpoint', runtime.endpoint]);
    assert.deepEqual(snapshot.pods, { source: 'cri', live: 1, stale: false, error: null });
    const row = rowOf(snapshot, kubelet.pid);
    const token = targetAt(row, '/var/run/secrets/kubernetes.io/serviceaccount');
    assert.equal(token.status, 'unmounted');
    assert.deepEqual(
      token.pod,
      { uid: leaky.uid, namespace: null, name: null, container: null, state: 'gone', nameSource: null },
      "a host-network pod: its etc-hosts is the node's, its log dir removed",
    );
    assert.equal(targetAt(row, leaky.etcHosts).pod?.uid, leaky.uid);
    // A cgroup dir already removed when inotop starts has no path left to name its pod by.
    const cgroup = row.targets.find((target) => target.fstype === 'cgroup' && target.path === null);
    assert.equal(cgroup?.status, 'deleted', row.targets.map(describeTarget).join('\n'));
    assert.equal(row.leaked, 3);
    assert.deepEqual(
      row.targets.filter((target) => target.pod?.uid === web.uid).map((target) => [target.status, target.pod?.state, target.leak]),
      [
        ['ok', 'live', null],
        ['ok', 'live', null],
        ['ok', 'live', null],
      ],
    );
  });

  it('--pods auto takes CRI first when it answers', async () => {
    const snapshot = await inotopJson(['--pods', 'auto', '--runtime-endpoint', runtime.endpoint]);
    assert.deepEqual(snapshot.pods, { source: 'cri', live: 1, stale: false, error: null });
  });

  it('--pods cri with no runtime socket: the pod source says why, the scan goes on', async () => {
    const missing = `unix://${join(runtime.dir, 'missing.sock')}`;
    const snapshot = await inotopJson(['--pods', 'cri', '--runtime-endpoint', missing]);
    assert.deepEqual(snapshot.pods, { source: 'cri', live: null, stale: false, error: `CRI ${missing}: connect ENOENT` });
    assert.equal(rowOf(snapshot, kubelet.pid).watches, 6);
  });

  it('a pod on the pod network deleted before inotop starts is named from its etc-hosts, as its holder sees it', async () => {
    const api = await runtime.runPod({ name: 'api-hxagp', namespace: 'shop', kubeletRoot, podIp: '10.244.1.17' });
    watchedCgroupDirs.push((await kubelet.watchPod(api)).cgroupDir);
    const apiHolder = await runtime.holdMountNamespace(api);
    await runtime.deletePod(api);
    const snapshot = await inotopJson(['--pods', 'cri', '--runtime-endpoint', runtime.endpoint]);
    const row = rowOf(snapshot, kubelet.pid);
    const token = row.targets.find((target) => target.pod?.uid === api.uid && target.status === 'unmounted');
    assert.ok(token, row.targets.map(describeTarget).join('\n'));
    assert.deepEqual(token.pod, { uid: api.uid, namespace: null, name: 'api-hxagp', container: null, state: 'gone', nameSource: 'etc-hosts' });
    assert.deepEqual(
      new Map(row.watchedPods?.filter((entry) => entry.pod.state === 'gone').map((entry) => [entry.pod.name ?? entry.pod.uid, entry.leaked])),
      new Map([
        ['api-hxagp', 2],
        [leaky.uid, 2],
      ]),
      'the cgroup dirs, removed before inotop started, name no pod',
    );
    assert.deepEqual(
      row.leakHolders?.map((h) => h.pid).sort((a, b) => a - b),
      [holder, apiHolder].sort((a, b) => a - b),
    );
  });

  /** One run of the CLI, as a user would start it, on the kubelet-like process only. */
  async function inotopJson(args: string[]): Promise<Snapshot> {
    const { stdout } = await execFileAsync(
      process.execPath,
      [inotopBin, '--json', '--targets', '--kubelet-root', kubeletRoot, '-p', String(kubelet.pid), ...args],
      { timeout: 20_000 },
    );
    return JSON.parse(stdout) as Snapshot;
  }
});

function watchedPaths(kubelet: KubeletWatcher, pod: HarnessPod): [string, string][] {
  return [
    ['token volume', pod.tokenVolume],
    ['etc-hosts', pod.etcHosts],
    ['cgroup dir', kubelet.watchesOf(pod).cgroupDir],
  ];
}
