// Pod identity from node paths and cgroups, and the parsers of crictl's and kubectl's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { podFromCgroups, podFromPath, pathFromUnitName, shownCgroupPath, unescapeSystemd } from '../../src/pods/layouts.js';
import { parseCrictl, parseKubectl, podListFromCri, podListFromUids, FormatError } from '../../src/pods/podlist.js';

const UID = '5e2a9c71-0b3d-4f6a-8e1c-7d9b2a4f6c30';
const STATIC_UID = 'b81c3f0e6a4d2957e0c1f8a3d6b42e71';
const CID = '4c491ea025ebd3fcc06acf6c5220d520b4f086653c9182c3901f541df9eb2c99';

function fixture(path: string): string {
  return readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
}

test('kubelet pod dirs: volumes, containers, etc-hosts, plugins', () => {
  const base = `/var/lib/kubelet/pods/${UID}`;
  assert.deepEqual(podFromPath(`${base}/volumes/kubernetes.io~projected/kube-api-access-x7k2p`), { uid: UID });
  assert.deepEqual(podFromPath(`${base}/volumes/kubernetes.io~projected/kube-api-access-x7k2p/..2026_11_27_10_00_00.123456789/token`), { uid: UID });
  assert.deepEqual(podFromPath(`${base}/volumes/kubernetes.io~secret/webhook-cert/tls.crt`), { uid: UID });
  assert.deepEqual(podFromPath(`${base}/volumes/kubernetes.io~configmap/config`), { uid: UID });
  assert.deepEqual(podFromPath(`${base}/containers/istio-proxy/8c044d29`), { uid: UID, container: 'istio-proxy' });
  assert.deepEqual(podFromPath(`${base}/etc-hosts`), { uid: UID });
  assert.deepEqual(podFromPath(`${base}/plugins/kubernetes.io~empty-dir/wrapped_kube-api-access-x7k2p/ready`), { uid: UID });
  assert.deepEqual(podFromPath(base), { uid: UID });
  assert.deepEqual(podFromPath(`/var/lib/kubelet/pods/${STATIC_UID}/etc-hosts`), { uid: STATIC_UID });
});

test('kubelet root: --kubelet-root (k0s), and the host root seen from a container at /rootfs', () => {
  const k0s = `/var/lib/k0s/kubelet/pods/${UID}/volumes/kubernetes.io~projected/kube-api-access-abcde`;
  assert.deepEqual(podFromPath(k0s, '/var/lib/k0s/kubelet'), { uid: UID });
  assert.deepEqual(podFromPath(`/rootfs/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~secret/s`), { uid: UID });
  assert.deepEqual(podFromPath(`/data/kubelet/pods/${UID}/etc-hosts`, '/data/kubelet'), { uid: UID });
  assert.equal(podFromPath(`/data/kubelet/pods/${UID}/etc-hosts`), null, 'another root is not a pod path by default');
});

test('not pod paths', () => {
  for (const path of [
    '/var/lib/kubelet/pods',
    '/var/lib/kubelet/config.yaml',
    '/var/lib/kubelet/pods/not-a-uid/etc-hosts',
    '/var/lib/kubelet/pki/kubelet.crt',
    '/etc/kubernetes/manifests/kube-apiserver.yaml',
    '/sys/fs/cgroup/memory/kubepods/burstable',
    '/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice',
    '/home/pod5e2a9c71-0b3d-4f6a-8e1c-7d9b2a4f6c30/notes',
    '/var/log/pods',
    '/var/log/syslog',
    '/run/containerd/io.containerd.runtime.v2.task/k8s.io/short/rootfs',
    '/',
  ]) {
    assert.equal(podFromPath(path), null, path);
  }
});

test('cgroupfs driver, v1 and v2, with and without container and QoS level', () => {
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/memory/kubepods/burstable/pod${UID}/${CID}/memory.usage_in_bytes`), { uid: UID, containerId: CID });
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/cpu,cpuacct/kubepods/besteffort/pod${UID}`), { uid: UID });
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/kubepods/pod${UID}/${CID}/memory.events`), { uid: UID, containerId: CID });
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/pids/kubepods/burstable/pod${STATIC_UID}`), { uid: STATIC_UID });
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/kubepods/burstable/pod${UID}/crio-${CID}`), { uid: UID, containerId: CID });
  // kind: --cgroup-root=/kubelet
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/kubelet/kubepods/burstable/pod${UID}/${CID}`), { uid: UID, containerId: CID });
});

test('systemd driver: slices with _ for -, runtime scopes, v1 and v2', () => {
  const sliceUid = UID.replaceAll('-', '_');
  assert.deepEqual(
    podFromPath(`/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${sliceUid}.slice/cri-containerd-${CID}.scope/memory.events`),
    { uid: UID, containerId: CID },
  );
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/memory/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${sliceUid}.slice/crio-${CID}.scope`), {
    uid: UID,
    containerId: CID,
  });
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/kubepods.slice/kubepods-pod${sliceUid}.slice/docker-${CID}.scope`), { uid: UID, containerId: CID });
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/kubepods.slice/kubepods-pod${STATIC_UID}.slice`), { uid: STATIC_UID });
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${sliceUid}.slice/crio-conmon-${CID}.scope`), {
    uid: UID,
    containerId: CID,
  });
  // kind: kubelet.slice/kubelet-kubepods.slice/...
  assert.deepEqual(
    podFromPath(`/sys/fs/cgroup/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${sliceUid}.slice`),
    { uid: UID },
  );
});

test('systemd mount units of pod volumes, escaped with \\x2d and \\x7e', () => {
  const escapedUid = UID.replaceAll('-', '\\x2d');
  const unit = `var-lib-kubelet-pods-${escapedUid}-volumes-kubernetes.io\\x7eprojected-kube\\x2dapi\\x2daccess\\x2dx7k2p.mount`;
  assert.equal(pathFromUnitName(unit), `/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~projected/kube-api-access-x7k2p`);
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/systemd/system.slice/${unit}`), { uid: UID });
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/system.slice/${unit}/cgroup.events`), { uid: UID });
  const k0s = `var-lib-k0s-kubelet-pods-${escapedUid}-volumes-kubernetes.io\\x7esecret-cert.mount`;
  assert.deepEqual(podFromPath(`/sys/fs/cgroup/system.slice/${k0s}`, '/var/lib/k0s/kubelet'), { uid: UID });
  assert.equal(podFromPath('/sys/fs/cgroup/system.slice/var-lib-docker-overlay2.mount'), null);
});

test('systemd unescaping: \\xHH bytes, multi-byte UTF-8, text without escapes', () => {
  assert.equal(unescapeSystemd('kube\\x2dapi\\x2daccess'), 'kube-api-access');
  assert.equal(unescapeSystemd('kubernetes.io\\x7eprojected'), 'kubernetes.io~projected');
  assert.equal(unescapeSystemd('caf\\xc3\\xa9'), 'café');
  assert.equal(unescapeSystemd('plain_name'), 'plain_name');
});

test('logs: /var/log/pods and /var/log/containers', () => {
  assert.deepEqual(podFromPath(`/var/log/pods/shop_web-6b8f7c9d5-q4zlm_${UID}/istio-proxy/0.log`), {
    uid: UID,
    namespace: 'shop',
    name: 'web-6b8f7c9d5-q4zlm',
    container: 'istio-proxy',
  });
  assert.deepEqual(podFromPath(`/var/log/pods/kube-system_kube-apiserver-node-1_${STATIC_UID}`), {
    uid: STATIC_UID,
    namespace: 'kube-system',
    name: 'kube-apiserver-node-1',
  });
  assert.deepEqual(podFromPath(`/var/log/containers/web-6b8f7c9d5-q4zlm_shop_istio-proxy-${CID}.log`), {
    name: 'web-6b8f7c9d5-q4zlm',
    namespace: 'shop',
    container: 'istio-proxy',
    containerId: CID,
  });
  assert.deepEqual(podFromPath(`/host/var/log/pods/shop_web-6b8f7c9d5-q4zlm_${UID}/web/3.log`)?.uid, UID);
  assert.equal(podFromPath('/var/log/pods/garbage'), null);
  assert.equal(podFromPath('/var/log/containers/not-a-container.log'), null);
});

test('runtime dirs: containerd task and CRI dirs, CRI-O userdata', () => {
  for (const path of [
    `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${CID}/rootfs/etc/passwd`,
    `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${CID}`,
    `/run/containerd/io.containerd.grpc.v1.cri/sandboxes/${CID}/hostname`,
    `/run/containerd/io.containerd.grpc.v1.cri/containers/${CID}/io/1234/stdout`,
    `/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${CID}/shm`,
    `/run/containers/storage/overlay-containers/${CID}/userdata/resolv.conf`,
    `/var/lib/containers/storage/overlay-containers/${CID}/userdata/config.json`,
    `/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/${CID}/rootfs`,
  ]) {
    assert.deepEqual(podFromPath(path), { containerId: CID }, path);
  }
  assert.equal(podFromPath(`/run/containerd/io.containerd.runtime.v2.task/moby/${CID}`), null, 'not the k8s.io namespace');
});

test('process cgroups: v1 (every hierarchy repeats the pod), v2, systemd, not in a pod', () => {
  const v1 = [
    '12:pids:/kubepods/burstable/pod' + UID + '/' + CID,
    '11:memory:/kubepods/burstable/pod' + UID + '/' + CID,
    '1:name=systemd:/kubepods/burstable/pod' + UID + '/' + CID,
    '0::/',
  ];
  assert.deepEqual(podFromCgroups(v1), { uid: UID, containerId: CID });
  const sliceUid = UID.replaceAll('-', '_');
  assert.deepEqual(podFromCgroups([`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${sliceUid}.slice/cri-containerd-${CID}.scope`]), {
    uid: UID,
    containerId: CID,
  });
  // The pause process and conmon sit in the pod cgroup beside the containers.
  assert.deepEqual(podFromCgroups([`0::/kubepods/besteffort/pod${UID}`]), { uid: UID });
  // Only one hierarchy names the container: that one wins.
  assert.deepEqual(podFromCgroups([`4:memory:/kubepods/pod${UID}`, `3:pids:/kubepods/pod${UID}/${CID}`]), { uid: UID, containerId: CID });
  assert.equal(podFromCgroups(['0::/system.slice/kubelet.service']), null);
  assert.equal(podFromCgroups(['9:name=systemd:/', '4:memory:/process_api/cc16c8a8', '0::/']), null);
  assert.equal(podFromCgroups([]), null);
  assert.equal(podFromCgroups(['garbage']), null);
});

test('crictl: pods and containers, NotReady sandboxes, static pods by config hash', () => {
  const list = parseCrictl(fixture('crictl/pods.json'), fixture('crictl/ps.json'));
  assert.equal(list.count, 4);
  assert.deepEqual(list.pods.get(UID), { uid: UID, namespace: 'shop', name: 'web-6b8f7c9d5-q4zlm' });
  assert.equal(list.pods.get(STATIC_UID)?.name, 'kube-apiserver-node-1');
  assert.ok(list.pods.has('c4d0e8a2-7f13-4b6e-a9d5-1e8c3b7f2a64'), 'a NotReady sandbox (finished Job pod) still exists');
  assert.deepEqual(list.containers.get(CID), { pod: list.pods.get(UID), name: 'web' });
  const sandbox = 'ec3fb1f463e5b9c626970d88e53926070f4b0cd40422987cd38c2c7a316ff31e';
  assert.deepEqual(list.containers.get(sandbox), { pod: list.pods.get(UID), name: null });
  assert.equal(list.containers.get('e5773d83cbcdedb2c80ad4ba1b21c5be92916ff7b509c69bf56102c430d29da5')?.name, 'istio-init', 'exited containers count (ps -a)');
});

test('crictl: empty lists (protojson leaves them out), invalid JSON, wrong shapes', () => {
  assert.equal(parseCrictl('{}', '{}').count, 0);
  assert.equal(parseCrictl('{"items":[]}', '{"containers":[]}').count, 0);
  assert.throws(() => parseCrictl('{"items": [', '{}'), FormatError);
  assert.throws(() => parseCrictl('[]', '{}'), FormatError);
  assert.throws(() => parseCrictl('{"items": {}}', '{}'), FormatError);
  assert.throws(() => parseCrictl('{}', 'time="..." level=fatal'), FormatError);
});

test('CRI: sandboxes are pods, static ones also by config hash; containers by labels or by their sandbox', () => {
  const sandbox = (id: string, uid: string, name: string, annotations: Record<string, string> = {}) => ({
    id,
    uid,
    name,
    namespace: 'kube-system',
    annotations,
  });
  const sandboxId = 'a'.repeat(64);
  const list = podListFromCri(
    [
      sandbox(sandboxId, UID, 'web'),
      sandbox('b'.repeat(64), STATIC_UID, 'etcd-node-1', { 'kubernetes.io/config.hash': STATIC_UID }),
      sandbox('c'.repeat(64), '', 'not made by kubelet'),
    ],
    [
      { id: CID, podSandboxId: sandboxId, name: 'web', labels: {} },
      {
        id: 'd'.repeat(64),
        podSandboxId: 'e'.repeat(64),
        name: 'sidecar',
        labels: { 'io.kubernetes.pod.uid': STATIC_UID, 'io.kubernetes.container.name': 'etcd' },
      },
      { id: 'f'.repeat(64), podSandboxId: 'unknown', name: 'stray', labels: {} },
    ],
  );
  assert.equal(list.count, 2);
  assert.deepEqual(list.pods.get(UID), { uid: UID, namespace: 'kube-system', name: 'web' });
  assert.deepEqual(list.containers.get(sandboxId), { pod: list.pods.get(UID), name: null });
  assert.deepEqual(list.containers.get(CID), { pod: list.pods.get(UID), name: 'web' }, 'by its sandbox, named by its metadata');
  assert.deepEqual(list.containers.get('d'.repeat(64)), { pod: list.pods.get(STATIC_UID), name: 'etcd' }, 'by labels, named by them');
  assert.equal(list.containers.has('f'.repeat(64)), false, 'a container of no known sandbox names no pod');
});

test('kubectl: mirror pods of static pods map to the config hash, container ids lose their scheme', () => {
  const list = parseKubectl(fixture('kubectl/pods.json'));
  assert.equal(list.count, 4);
  const apiserver = list.pods.get(STATIC_UID);
  assert.equal(apiserver?.name, 'kube-apiserver-node-1', 'found by the hash the node knows it by');
  assert.equal(apiserver?.uid, '3a9f1b7c-2e4d-4c8a-b6f0-9d1e5a7c3b28', 'the mirror pod');
  assert.equal(list.pods.get(UID)?.name, 'web-6b8f7c9d5-q4zlm', 'terminating pods still exist');
  assert.equal(list.containers.get(CID)?.name, 'web');
  assert.equal(list.containers.get('e5773d83cbcdedb2c80ad4ba1b21c5be92916ff7b509c69bf56102c430d29da5')?.name, 'istio-init');
  assert.throws(() => parseKubectl('error: You must be logged in to the server (Unauthorized)'), FormatError);
});

test('kubelet pod dirs as a list: uids only', () => {
  const list = podListFromUids([UID, STATIC_UID, 'lost+found']);
  assert.equal(list.count, 2);
  assert.deepEqual(list.pods.get(UID), { uid: UID, namespace: null, name: null });
});

test('the cgroup shown for a holder: the unified path, else the first v1 path that says more than the root', () => {
  assert.equal(shownCgroupPath([`0::/kubepods/besteffort/pod${UID}`]), `/kubepods/besteffort/pod${UID}`);
  // A hybrid host: the unified hierarchy holds everything at its root.
  assert.equal(shownCgroupPath(['4:memory:/kubepods/pod1', '1:name=systemd:/system.slice', '0::/']), '/kubepods/pod1');
  assert.equal(shownCgroupPath(['0::/']), '/');
  assert.equal(shownCgroupPath(['garbage', '']), null);
  assert.equal(shownCgroupPath([]), null);
});
