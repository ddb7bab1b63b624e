// The verdict per target and per process, from hand-made scans and resolutions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PodsStatus, Resolution, ScannedProcess } from '../../src/model/types.js';
import { createAttribution, PodMemory, POD_MEMORY_MS, podNameFromEtcHosts } from '../../src/pods/attribute.js';
import { parseCrictl, parseKubectl, type PodList } from '../../src/pods/podlist.js';

const WEB = '5e2a9c71-0b3d-4f6a-8e1c-7d9b2a4f6c30';
const WEB_CONTAINER = '4c491ea025ebd3fcc06acf6c5220d520b4f086653c9182c3901f541df9eb2c99';
const STATIC_UID = 'b81c3f0e6a4d2957e0c1f8a3d6b42e71';
const GONE = 'd9e8f7a6-1b2c-4d3e-8f4a-5b6c7d8e9f01';
const GONE_CONTAINER = 'a'.repeat(64);
const KUBELET_ROOT = '/var/lib/kubelet';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
const crictlList = () => parseCrictl(fixture('crictl/pods.json'), fixture('crictl/ps.json'));
const fresh = (list: PodList | null): PodsStatus => ({ source: 'crictl', live: list?.count ?? null, stale: false, error: null });

function proc(pid: number, cgroups: string[] = ['0::/system.slice/kubelet.service']): ScannedProcess {
  return {
    pid,
    ppid: 1,
    startTime: 0,
    uid: 0,
    user: 'root',
    comm: 'kubelet',
    cmdline: '',
    userns: null,
    mntns: null,
    cgroups,
    instances: [],
    fanotifyGroups: [],
  };
}

function resolution(fields: Partial<Resolution>): Resolution {
  return { path: null, mountpoint: null, mountpointRemembered: false, fstype: 'tmpfs', status: 'ok', reason: null, heldBy: [], ...fields };
}

const volume = (uid: string) => `${KUBELET_ROOT}/pods/${uid}/volumes/kubernetes.io~projected/kube-api-access-x7k2p`;
const kubelet = proc(100);

interface AttributionOptions {
  status?: PodsStatus;
  memory?: PodMemory;
  cgroups?: Record<number, string[]>;
  /** Default: the list was taken after the scan. */
  listTakenAt?: number;
  scannedAt?: number;
  /** Files as processes see them, by pid and path. */
  files?: Record<number, Record<string, string>>;
  podLogDirs?: string[];
}

function attribution(list: PodList | null, options: AttributionOptions = {}) {
  return createAttribution(list, options.status ?? fresh(list), options.memory ?? new PodMemory(), {
    kubeletRoot: KUBELET_ROOT,
    cgroupsOf: (pid) => options.cgroups?.[pid] ?? [],
    listTakenAt: options.listTakenAt ?? 1,
    scannedAt: options.scannedAt ?? 0,
    readFileOf: (pid, path) => options.files?.[pid]?.[path] ?? null,
    podLogDirs: () => options.podLogDirs ?? [],
  });
}

test('a process in a pod cgroup: its pod, container name from the list, live', () => {
  const a = attribution(crictlList());
  const web = proc(200, [`11:memory:/kubepods/burstable/pod${WEB}/${WEB_CONTAINER}`, '0::/']);
  assert.deepEqual(a.processPod(web), { uid: WEB, namespace: 'shop', name: 'web-6b8f7c9d5-q4zlm', container: 'web', state: 'live', nameSource: 'list' });
  assert.equal(a.processPod(kubelet), null);
  const orphan = proc(201, [
    `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${GONE.replaceAll('-', '_')}.slice/cri-containerd-${GONE_CONTAINER}.scope`,
  ]);
  assert.deepEqual(a.processPod(orphan), { uid: GONE, namespace: null, name: null, container: null, state: 'gone', nameSource: null });
});

test('targets by path or mount point: live, gone, not a pod', () => {
  const a = attribution(crictlList());
  const live = a.targetPod('0:45', resolution({ path: volume(WEB), mountpoint: volume(WEB) }));
  assert.deepEqual(live, { uid: WEB, namespace: 'shop', name: 'web-6b8f7c9d5-q4zlm', container: null, state: 'live', nameSource: 'list' });
  const gone = a.targetPod('0:46', resolution({ path: volume(GONE), mountpoint: volume(GONE) }));
  assert.equal(gone?.state, 'gone');
  const container = a.targetPod('254:0', resolution({ path: `${KUBELET_ROOT}/pods/${WEB}/containers/istio-proxy/8c044d29`, mountpoint: '/', fstype: 'ext4' }));
  assert.equal(container?.container, 'istio-proxy');
  const deleted = a.targetPod('0:45', resolution({ path: null, mountpoint: volume(WEB), status: 'deleted' }));
  assert.equal(deleted?.uid, WEB, 'a deleted file inside a volume: from the mount point');
  assert.equal(a.targetPod('254:0', resolution({ path: '/etc/kubernetes/kubelet.conf', mountpoint: '/' })), null);
  assert.equal(a.targetPod('254:0', null), null);
});

test('cgroup and runtime-dir targets: the container id names the pod through the list', () => {
  const a = attribution(crictlList());
  const cgroup = a.targetPod('0:30', resolution({ path: `/sys/fs/cgroup/kubepods/burstable/pod${WEB}/${WEB_CONTAINER}/memory.events`, fstype: 'cgroup2' }));
  assert.deepEqual(cgroup, { uid: WEB, namespace: 'shop', name: 'web-6b8f7c9d5-q4zlm', container: 'web', state: 'live', nameSource: 'list' });
  const runtime = a.targetPod(
    '0:24',
    resolution({ path: `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${WEB_CONTAINER}/rootfs/etc`, fstype: 'overlay' }),
  );
  assert.equal(runtime?.uid, WEB);
  assert.equal(runtime?.container, 'web');
  const unknownId = a.targetPod('0:24', resolution({ path: `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${'b'.repeat(64)}/rootfs` }));
  assert.equal(unknownId, null, 'a container id no list ever had names no pod');
});

test('static pods: the node knows them by config hash, kubectl by the mirror pod', () => {
  const list = parseKubectl(fixture('kubectl/pods.json'));
  const a = attribution(list);
  const pod = a.targetPod('254:0', resolution({ path: `${KUBELET_ROOT}/pods/${STATIC_UID}/etc-hosts`, mountpoint: '/' }));
  assert.deepEqual(pod, { uid: STATIC_UID, namespace: 'kube-system', name: 'kube-apiserver-node-1', container: null, state: 'live', nameSource: 'list' });
  const cgroup = a.processPod(
    proc(300, [
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${STATIC_UID}.slice/cri-containerd-${'2613d2fb51b11dbc34d490b180a8b0b68595908303eb78e531c91a344e4823fd'}.scope`,
    ]),
  );
  assert.equal(cgroup?.state, 'live');
  assert.equal(cgroup?.container, 'kube-apiserver');
});

test('unmounted: from the mount point in the holder namespace when that is a pod path', () => {
  const a = attribution(crictlList(), { cgroups: { 400: [`0::/kubepods/pod${WEB}`] } });
  // node-exporter-like holder: sees the host at /rootfs, its own cgroup is another (live) pod's.
  const pod = a.targetPod(
    '0:46',
    resolution({
      status: 'unmounted',
      path: `/rootfs${volume(GONE)}`,
      mountpoint: `/rootfs${volume(GONE)}`,
      heldBy: [{ pid: 400, comm: 'node_exporter', mountpoint: `/rootfs${volume(GONE)}`, boundFrom: [] }],
    }),
  );
  assert.equal(pod?.uid, GONE);
  assert.equal(pod?.state, 'gone');
});

test('unmounted: from the holder process own pod (a container holding its deleted pod volume)', () => {
  const a = attribution(crictlList(), { cgroups: { 500: ['12:pids:/kubepods/burstable/pod' + GONE + '/' + GONE_CONTAINER] } });
  const pod = a.targetPod(
    '0:46',
    resolution({
      status: 'unmounted',
      path: '/var/run/secrets/kubernetes.io/serviceaccount',
      mountpoint: '/var/run/secrets/kubernetes.io/serviceaccount',
      heldBy: [
        { pid: 499, comm: 'not-a-pod', mountpoint: '/mnt/x', boundFrom: [] },
        { pid: 500, comm: 'app', mountpoint: '/var/run/secrets/kubernetes.io/serviceaccount', boundFrom: [] },
      ],
    }),
  );
  assert.deepEqual(pod, { uid: GONE, namespace: null, name: null, container: null, state: 'gone', nameSource: null });
});

test('unmounted: from the pod files bound into the holder namespace (something entered only the mount namespace)', () => {
  const a = attribution(crictlList(), { cgroups: { 600: ['4:memory:/user.slice', '0::/user.slice/session-3.scope'] } });
  const holder = (boundFrom: string[]) => ({ pid: 600, comm: 'sleep', mountpoint: '/var/run/secrets/kubernetes.io/serviceaccount', boundFrom });
  const unmounted = (boundFrom: string[]) =>
    a.targetPod('0:46', resolution({ status: 'unmounted', path: '/var/run/secrets/kubernetes.io/serviceaccount', heldBy: [holder(boundFrom)] }));
  const podFiles = [`${KUBELET_ROOT}/pods/${GONE}/etc-hosts`, `${KUBELET_ROOT}/pods/${GONE}/containers/app/5f0c2a1e`, '/etc/resolv.conf'];
  assert.deepEqual(unmounted(podFiles), { uid: GONE, namespace: null, name: null, container: null, state: 'gone', nameSource: null });
  assert.equal(unmounted([...podFiles, `${KUBELET_ROOT}/pods/${WEB}/etc-hosts`]), null, 'files of two pods name neither');
  assert.equal(unmounted(['/etc/resolv.conf']), null);
});

test('unmounted: from the mount point remembered earlier, by the resolver or by the session memory', () => {
  const memory = new PodMemory();
  const list = crictlList();
  const a = attribution(list, { memory });
  const remembered = a.targetPod('0:47', resolution({ status: 'unmounted', mountpoint: volume(GONE), mountpointRemembered: true }));
  assert.equal(remembered?.uid, GONE);

  // First seen mounted at a pod path, then unmounted with no holder path, no remembered mount point.
  attribution(list, { memory }).targetPod('0:48', resolution({ path: volume(WEB), mountpoint: volume(WEB) }));
  const later = attribution(list, { memory }).targetPod(
    '0:48',
    resolution({ status: 'unmounted', heldBy: [{ pid: 9, comm: 'x', mountpoint: '/mnt', boundFrom: [] }] }),
  );
  assert.equal(later?.uid, WEB);
  assert.equal(attribution(list, { memory }).targetPod('0:49', resolution({ status: 'unmounted' })), null, 'nothing known');
});

test('a pod missing from a list older than the scan that first saw it is unknown until a newer list tells', () => {
  const memory = new PodMemory();
  const empty = parseCrictl('{"items":[]}', '{}');
  const first = attribution(empty, { memory, listTakenAt: 10, scannedAt: 20 });
  assert.equal(first.targetPod('0:45', resolution({ path: volume(WEB) }))?.state, 'unknown', 'maybe made after the list');
  assert.equal(first.needsNewerList(), true);

  const created = attribution(crictlList(), { memory, listTakenAt: 30, scannedAt: 40 });
  assert.equal(created.targetPod('0:45', resolution({ path: volume(WEB) }))?.state, 'live');
  assert.equal(created.needsNewerList(), false);

  attribution(empty, { memory, listTakenAt: 10, scannedAt: 20 }).targetPod('0:46', resolution({ path: volume(GONE) }));
  const deleted = attribution(empty, { memory, listTakenAt: 30, scannedAt: 40 });
  assert.equal(deleted.targetPod('0:46', resolution({ path: volume(GONE) }))?.state, 'gone', 'a list taken after it was first seen misses it');
  assert.equal(deleted.needsNewerList(), false);
});

test('a pod that left the list keeps the name it had while it was live', () => {
  const memory = new PodMemory();
  const before = crictlList();
  attribution(before, { memory });
  const after = parseCrictl('{"items":[]}', '{}');
  const a = attribution(after, { memory });
  const pod = a.targetPod('0:45', resolution({ path: volume(WEB), mountpoint: volume(WEB) }));
  assert.deepEqual(pod, { uid: WEB, namespace: 'shop', name: 'web-6b8f7c9d5-q4zlm', container: null, state: 'gone', nameSource: 'memory' });
  const runtime = a.targetPod('0:24', resolution({ path: `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${WEB_CONTAINER}/rootfs` }));
  assert.equal(runtime?.uid, WEB, 'container ids seen earlier still name their pod');
  assert.equal(runtime?.state, 'gone');
});

test('no source answered: unknown; a stale list: gone only when a fresh list already missed the pod', () => {
  assert.equal(attribution(null).targetPod('0:45', resolution({ path: volume(WEB) }))?.state, 'unknown');
  assert.deepEqual(attribution(null).status, { source: 'crictl', live: null, stale: false, error: null });

  const memory = new PodMemory();
  const list = crictlList();
  const judged = attribution(list, { memory }).targetPod('0:46', resolution({ path: volume(GONE) }));
  assert.equal(judged?.state, 'gone');
  const stale: PodsStatus = { source: 'crictl', live: list.count, stale: true, error: 'crictl pods exited 1' };
  const a = attribution(list, { memory, status: stale });
  assert.equal(a.targetPod('0:46', resolution({ path: volume(GONE) }))?.state, 'gone');
  const NEW = '11111111-2222-4333-8444-555555555555';
  assert.equal(a.targetPod('0:50', resolution({ path: volume(NEW) }))?.state, 'unknown', 'may have been created since');
  assert.equal(a.targetPod('0:45', resolution({ path: volume(WEB) }))?.state, 'live');
});

test('the session forgets a gone pod once nothing has named it for an hour, and not before', () => {
  const memory = new PodMemory();
  const list = crictlList();
  const hour = POD_MEMORY_MS;
  // Seen alive, with its name; then gone from the list, still watched for a while.
  attribution(list, { memory, scannedAt: 0 }).targetPod('0:45', resolution({ path: volume(WEB), mountpoint: volume(WEB) }));
  const empty = parseCrictl('{"items":[]}', '{}');
  const watchedAt = hour / 2;
  assert.equal(
    attribution(empty, { memory, listTakenAt: watchedAt, scannedAt: watchedAt }).targetPod('0:45', resolution({ path: volume(WEB) }))?.name,
    'web-6b8f7c9d5-q4zlm',
  );
  memory.forgetUnnamed(watchedAt + hour - 1);
  assert.equal(memory.pod(WEB)?.name, 'web-6b8f7c9d5-q4zlm', 'named less than an hour ago: kept');
  assert.equal(memory.device('0:45')?.uid, WEB);
  memory.forgetUnnamed(watchedAt + hour + 1);
  assert.equal(memory.pod(WEB), undefined, 'an hour after the last watch named it: forgotten');
  assert.equal(memory.isGone(WEB), false);
  assert.equal(memory.device('0:45'), undefined, 'with the devices of its volumes');
  // A pod the list still has is never forgotten.
  const kept = new PodMemory();
  attribution(list, { memory: kept, scannedAt: 0 }).targetPod('0:45', resolution({ path: volume(WEB) }));
  kept.forgetUnnamed(10 * hour);
  assert.equal(kept.pod(WEB)?.name, 'web-6b8f7c9d5-q4zlm');
});

// As kubelet writes it (pkg/kubelet/kubelet_pods.go managedHostsFileContent).
const LOCALHOST =
  '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
const podHosts = (tail: string) => `# Kubernetes-managed hosts file.\n${LOCALHOST}${tail}`;

test("a pod's name from its etc-hosts: the pod IP's line, FQDN or not, host aliases after it", () => {
  assert.equal(podNameFromEtcHosts(podHosts('10.244.1.17\tapi-hxagp\n')), 'api-hxagp');
  assert.equal(podNameFromEtcHosts(podHosts('10.244.1.17\tdb-0.db.shop.svc.cluster.local\tdb-0\n')), 'db-0');
  assert.equal(podNameFromEtcHosts(podHosts('10.244.1.17\tapi-hxagp\nfd00::17\tapi-hxagp\n')), 'api-hxagp', 'dual stack');
  assert.equal(podNameFromEtcHosts(podHosts('10.244.1.17\tapi-hxagp\n\n# Entries added by HostAliases.\n10.0.0.9\tfoo.remote\tbar\n')), 'api-hxagp');
  assert.equal(
    podNameFromEtcHosts(`# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n10.0.0.4 node-1\n`),
    null,
    "host network: the node's file",
  );
  assert.equal(podNameFromEtcHosts(podHosts('')), null, 'no pod IP line');
  assert.equal(podNameFromEtcHosts('127.0.0.1 localhost\n10.1.1.1 box\n'), null, 'not kubelet-managed');
});

test('a gone pod no list named: from its log dir, then from its holders etc-hosts; remembered, with the source', () => {
  const memory = new PodMemory();
  const unmounted = (pid: number) =>
    resolution({
      status: 'unmounted',
      path: '/var/run/secrets/kubernetes.io/serviceaccount',
      heldBy: [{ pid, comm: 'sleep', mountpoint: '/x', boundFrom: [`${KUBELET_ROOT}/pods/${GONE}/etc-hosts`] }],
    });
  const hosts = { 600: { '/etc/hosts': podHosts('10.244.1.17\tleaky\n') } };
  const byHosts = attribution(crictlList(), { memory, files: hosts }).targetPod('0:46', unmounted(600));
  assert.deepEqual(byHosts, { uid: GONE, namespace: null, name: 'leaky', container: null, state: 'gone', nameSource: 'etc-hosts' });
  // The holder exited: the session remembers.
  const later = attribution(crictlList(), { memory }).targetPod('0:46', unmounted(601));
  assert.deepEqual([later?.name, later?.nameSource], ['leaky', 'etc-hosts']);

  const byLogs = attribution(crictlList(), { files: hosts, podLogDirs: [`shop_leaky-7d9f_${GONE}`, `shop_web_${WEB}`, 'junk'] }).targetPod(
    '0:46',
    unmounted(600),
  );
  assert.deepEqual(byLogs, { uid: GONE, namespace: 'shop', name: 'leaky-7d9f', container: null, state: 'gone', nameSource: 'pod-logs' });
  const none = attribution(crictlList()).targetPod('0:46', unmounted(600));
  assert.deepEqual([none?.uid, none?.name, none?.nameSource], [GONE, null, null], 'the uid, when nothing on the node names it');
});

test('a live pod is never looked up on the node: the list names it', () => {
  let reads = 0;
  const a = createAttribution(crictlList(), fresh(crictlList()), new PodMemory(), {
    kubeletRoot: KUBELET_ROOT,
    cgroupsOf: () => [],
    listTakenAt: 1,
    scannedAt: 0,
    readFileOf: () => (reads++, null),
    podLogDirs: () => (reads++, []),
  });
  assert.equal(a.targetPod('0:46', resolution({ path: volume(WEB), mountpoint: volume(WEB) }))?.nameSource, 'list');
  assert.equal(reads, 0);
});
