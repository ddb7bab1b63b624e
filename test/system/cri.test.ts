// The native CRI client: endpoint discovery, failures that must not hang, and a real containerd
// with runc creating, listing, deleting and leaking pods the way a node does.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CriClient, CriError, normalizeEndpoint, resolveRuntimeEndpoint } from '../../src/pods/cri/client.js';
import { parseMountinfo, type MountEntry } from '../../src/resolve/mountinfo.js';
import { eventually } from '../helpers/eventually.js';
import { containerdSkipReason, startContainerd, type Containerd } from '../helpers/containerd.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'inotop-cri-test-'));
}

async function rejection(promise: Promise<unknown>): Promise<CriError> {
  const error = await promise.then(
    () => assert.fail('expected the call to fail'),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof CriError, `expected a CriError, got ${String(error)}`);
  return error;
}

describe('runtime endpoint discovery', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = join(dir, 'crictl.yaml');
  const missingYaml = join(dir, 'missing.yaml');
  const first = join(dir, 'first.sock');
  const second = join(dir, 'second.sock');
  writeFileSync(yaml, 'image-endpoint: unix:///ignored.sock\nruntime-endpoint: "unix:///from/yaml.sock"  # comment\ntimeout: 2\n');
  writeFileSync(second, '');

  it('takes the flag first, then CONTAINER_RUNTIME_ENDPOINT, then crictl.yaml, then sockets', () => {
    const env = { CONTAINER_RUNTIME_ENDPOINT: 'unix:///from/env.sock' };
    const sockets = [first, second];
    assert.deepEqual(resolveRuntimeEndpoint({ flag: 'unix:///from/flag.sock', env, crictlYamlPath: yaml, sockets }), {
      endpoint: 'unix:///from/flag.sock',
      from: 'flag',
    });
    assert.deepEqual(resolveRuntimeEndpoint({ env, crictlYamlPath: yaml, sockets }), { endpoint: 'unix:///from/env.sock', from: 'env' });
    assert.deepEqual(resolveRuntimeEndpoint({ env: {}, crictlYamlPath: yaml, sockets }), { endpoint: 'unix:///from/yaml.sock', from: 'crictl.yaml' });
    assert.deepEqual(resolveRuntimeEndpoint({ env: {}, crictlYamlPath: missingYaml, sockets }), { endpoint: `unix://${second}`, from: 'socket' });
  });

  it('skips empty settings and finds nothing when no socket exists', () => {
    const emptyYaml = join(dir, 'empty.yaml');
    writeFileSync(emptyYaml, 'runtime-endpoint: ""\n');
    assert.equal(resolveRuntimeEndpoint({ flag: '', env: { CONTAINER_RUNTIME_ENDPOINT: ' ' }, crictlYamlPath: emptyYaml, sockets: [first] }), null);
  });

  it('accepts unix:///path, unix:/path and a bare path, and refuses other schemes', () => {
    assert.equal(normalizeEndpoint('unix:///run/x.sock'), 'unix:///run/x.sock');
    assert.equal(normalizeEndpoint('unix:/run/x.sock'), 'unix:///run/x.sock');
    assert.equal(normalizeEndpoint('/run/x.sock'), 'unix:///run/x.sock');
    assert.throws(() => normalizeEndpoint('tcp://127.0.0.1:1234'), /only unix socket endpoints/);
  });
});

// Over both transports: Node's net (the screen, the exporter) and system calls (a one-shot).
for (const oneShot of [false, true]) {
  describe(`CRI client failures, over ${oneShot ? 'system calls (a one-shot)' : "Node's net"}`, () => {
    const dir = tempDir();
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reports a missing socket at once', async () => {
      const client = new CriClient(join(dir, 'missing.sock'), { oneShot });
      const started = Date.now();
      const error = await rejection(client.listPodSandboxes());
      client.close();
      assert.equal(error.failure, 'ENOENT');
      assert.equal(error.message, `CRI unix://${join(dir, 'missing.sock')}: connect ENOENT`);
      assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
    });

    it('reports a socket path nobody listens on', async () => {
      const stale = join(dir, 'stale.sock');
      writeFileSync(stale, '');
      const client = new CriClient(stale, { oneShot });
      const error = await rejection(client.listPodSandboxes());
      client.close();
      assert.equal(error.failure, 'ECONNREFUSED');
    });

    it('gives up at the deadline on a runtime that accepts but never answers', async () => {
      const socket = join(dir, 'silent.sock');
      const held: Socket[] = [];
      const server = createServer((connection) => held.push(connection));
      await new Promise<void>((resolve) => server.listen(socket, resolve));
      const client = new CriClient(socket, { timeoutMs: 300, oneShot });
      const started = Date.now();
      try {
        const error = await rejection(client.listContainers());
        const elapsed = Date.now() - started;
        assert.equal(error.failure, 'deadline');
        assert.equal(error.message, `CRI unix://${socket}: ListContainers: deadline exceeded after 0.3s`);
        assert.ok(elapsed >= 250 && elapsed < 1_500, `took ${elapsed} ms`);
        assert.ok(held.length > 0, 'the client connected');
      } finally {
        client.close();
        for (const connection of held) connection.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
}

const skip = containerdSkipReason();

describe('a real containerd through CRI', { skip: skip ?? false }, () => {
  let runtime: Containerd;
  let client: CriClient;
  const holders: ChildProcess[] = [];

  before(async () => {
    runtime = await startContainerd();
    client = new CriClient(runtime.endpoint);
  });

  after(async () => {
    client?.close();
    for (const holder of holders) holder.kill('SIGKILL');
    const dir = runtime?.dir;
    await runtime?.stop();
    if (dir === undefined) return;
    assert.equal(existsSync(dir), false, 'temp dir removed');
    assert.deepEqual(mountpointsUnder(dir), [], 'no mount left');
    assert.deepEqual(processesWithArgument(runtime.socket), [], 'no containerd or shim left');
  });

  it('answers Version as containerd speaking CRI v1', async () => {
    const version = await runtime.client.version();
    assert.equal(version.runtimeName, 'containerd');
    assert.equal(version.apiVersion, 'v1');
    assert.match(version.runtimeVersion, /\d+\.\d+/);
  });

  it('lists the pods and containers it runs, with kubelet metadata, and puts them in the pod cgroup', async () => {
    const web = await runtime.runPod({ name: 'web', namespace: 'shop' });
    const worker = await runtime.runPod({ name: 'worker', namespace: 'batch', containerName: 'crunch' });

    const sandboxes = await client.listPodSandboxes();
    for (const pod of [web, worker]) {
      const sandbox = sandboxes.find((s) => s.id === pod.sandboxId);
      assert.ok(sandbox, `sandbox of ${pod.name} listed`);
      assert.deepEqual({ uid: sandbox.uid, name: sandbox.name, namespace: sandbox.namespace }, { uid: pod.uid, name: pod.name, namespace: pod.namespace });
    }

    const containers = await client.listContainers();
    for (const pod of [web, worker]) {
      const container = containers.find((c) => c.id === pod.container.id);
      assert.ok(container, `container of ${pod.name} listed`);
      assert.equal(container.podSandboxId, pod.sandboxId);
      assert.equal(container.name, pod.container.name);
      assert.deepEqual(container.labels, {
        'io.kubernetes.pod.uid': pod.uid,
        'io.kubernetes.pod.name': pod.name,
        'io.kubernetes.pod.namespace': pod.namespace,
        'io.kubernetes.container.name': pod.container.name,
      });

      const cgroups = readFileSync(`/proc/${pod.container.pid}/cgroup`, 'utf8').trim().split('\n');
      const expected = `/kubepods/burstable/pod${pod.uid}/${pod.container.id}`;
      assert.ok(cgroups.length > 0 && cgroups.every((line) => line.endsWith(`:${expected}`)), cgroups.join('\n'));

      const mounts = mountinfoOf(pod.container.pid);
      assert.ok(mounts.some((m) => m.mountpoint === '/var/run/secrets/kubernetes.io/serviceaccount' && m.fstype === 'tmpfs'));
      assert.ok(mounts.some((m) => m.mountpoint === '/etc/hosts' && m.root === pod.etcHosts && !m.rootDeleted));
      assert.ok(mounts.some((m) => m.mountpoint === '/dev/termination-log' && m.root === pod.terminationLog));
    }

    await runtime.deletePod(web);
    assert.ok(!(await client.listPodSandboxes()).some((s) => s.id === web.sandboxId), 'sandbox gone');
    assert.ok(!(await client.listContainers()).some((c) => c.id === web.container.id), 'container gone');
    assert.equal(existsSync(`/proc/${web.container.pid}`), false, 'container process gone');
    assert.equal(existsSync(web.podDir), false, 'pod dir removed');
    assert.deepEqual(podCgroupDirs(web.uid), [], 'pod cgroup removed');
    assert.deepEqual(mountpointsUnder(web.podDir), [], 'token volume unmounted');
    assert.ok(podCgroupDirs(worker.uid).length > 0, 'the other pod is untouched');
  });

  it('answers a one-shot client (system calls, no node:net) the same lists as the long-running one', async () => {
    const pod = await runtime.runPod({ name: 'once', namespace: 'shop' });
    const oneShot = new CriClient(runtime.endpoint, { oneShot: true });
    try {
      const [sandboxes, containers] = await Promise.all([oneShot.listPodSandboxes(), oneShot.listContainers()]);
      // containerd lists from its maps: in no set order.
      const byId = <T extends { id: string }>(items: T[]): T[] => [...items].sort((a, b) => a.id.localeCompare(b.id));
      assert.deepEqual(byId(sandboxes), byId(await client.listPodSandboxes()));
      assert.deepEqual(byId(containers), byId(await client.listContainers()));
      assert.ok(sandboxes.some((s) => s.id === pod.sandboxId && s.uid === pod.uid));
      assert.ok(containers.some((c) => c.id === pod.container.id && c.podSandboxId === pod.sandboxId));
    } finally {
      oneShot.close();
      await runtime.deletePod(pod);
    }
  });

  it('leaves a deleted pod’s token volume and etc-hosts pinned in a mount namespace something stayed in', async () => {
    const pod = await runtime.runPod({ name: 'leaky', namespace: 'shop' });
    // Enters only the container's mount namespace and stays in its own cgroup.
    const holder = spawn('nsenter', ['--target', String(pod.container.pid), '--mount', '/bin/busybox', 'sleep', 'infinity'], { stdio: 'ignore' });
    holders.push(holder);
    await eventually(() => assert.equal(readlinkOrNull(`/proc/${holder.pid}/ns/mnt`), `mnt:[${pod.container.mntns}]`), { intervalMs: 20 });

    await runtime.deletePod(pod);

    const kept = mountinfoOf(holder.pid!);
    const token = kept.find((m) => m.mountpoint === '/var/run/secrets/kubernetes.io/serviceaccount');
    assert.equal(token?.fstype, 'tmpfs', 'token volume still mounted in the kept namespace');
    assert.equal(mountpointsUnder(pod.tokenVolume).length, 0, 'but unmounted on the host');
    const hosts = kept.find((m) => m.mountpoint === '/etc/hosts');
    assert.deepEqual({ root: hosts?.root, rootDeleted: hosts?.rootDeleted }, { root: pod.etcHosts, rootDeleted: true }, 'etc-hosts pinned though deleted');
    assert.equal(existsSync(pod.etcHosts), false);
    assert.deepEqual(podCgroupDirs(pod.uid), [], 'pod cgroup removed');
  });
});

function mountinfoOf(pid: number | 'self'): MountEntry[] {
  return parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

function mountpointsUnder(dir: string): string[] {
  return mountinfoOf('self')
    .map((m) => m.mountpoint)
    .filter((mountpoint) => mountpoint === dir || mountpoint.startsWith(`${dir}/`));
}

/** The pod's cgroup dirs in every hierarchy (v1 controllers, or the v2 root). */
function podCgroupDirs(uid: string): string[] {
  const hierarchies = ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((name) => join('/sys/fs/cgroup', name))];
  return hierarchies.map((hierarchy) => join(hierarchy, 'kubepods', 'burstable', `pod${uid}`)).filter((path) => existsSync(path));
}

/** Live (not zombie) processes that have `value` among their arguments. */
function processesWithArgument(value: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(value);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
