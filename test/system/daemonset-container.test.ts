// The DaemonSet's container, run for real: inotop's image as `npm run build:image` makes it (the
// single executable and a terminfo; deploy/Dockerfile builds the same), imported with `ctr images
// import` under the name the manifest gives, and run on a real containerd through CRI with the pod
// spec of deploy/daemonset.yaml itself (test/helpers/daemonset.ts translates it as kubelet
// does), on a node with a kubelet root at /var/lib/kubelet made shared as kubelet makes it.
// From inside it must see what inotop sees on the host, answer /metrics on the node's network,
// pin no pod volume, and say why it cannot trace.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it, test } from 'node:test';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { parse } from 'yaml';
import type { Snapshot } from '../../src/model/types.js';
import { inotopBin } from '../helpers/build.js';
import { containerdSkipReason, startContainerd, type Containerd, type HarnessPod } from '../helpers/containerd.js';
import { IMAGE_CONFIG, IMAGE_KUBECTL_PLUGIN, imageLabels } from '../../scripts/build-image.mjs';
import { NODE_LTS_MAJOR } from '../../scripts/npm-packages.mjs';
import { installBusybox, writeOciImage } from '../helpers/containerd/image.js';
import { exeSkipReason, imageArchive } from '../helpers/exe.js';
import { criPodFromManifest, daemonSetManifest, nodeRun, probeUrl, runtimeDirs, type ManifestPodSpec } from '../helpers/daemonset.js';
import { eventually } from '../helpers/eventually.js';
import { inowatchBinary, Watcher } from '../helpers/inowatch.js';
import { KubeletWatcher } from '../helpers/kubelet-watcher.js';
import { fdsOn, mountIdIn } from '../helpers/mount-fds.js';
import { describeTarget, essentials, rowOf, targetAt } from '../helpers/targets.js';

const execFileAsync = promisify(execFile);
const KUBELET_ROOT = '/var/lib/kubelet';
const NODE_NAME = 'inotop-test-node';
/** The app pod's image: busybox and a static inowatch, which watches a file of that image. */
const APP_IMAGE = 'inotop.test/app:1';
const APP_WATCHED = '/bin/inowatch';
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function skipReason(): string | null {
  const containerd = containerdSkipReason();
  if (containerd !== null) return containerd;
  const exe = exeSkipReason('x64') ?? exeSkipReason('arm64');
  if (exe !== null) return exe;
  // The test makes the node's kubelet root itself, at the path the manifest mounts.
  if (existsSync(KUBELET_ROOT)) return `${KUBELET_ROOT} exists: this machine looks like a real node, whose pods the test would mix with`;
  return null;
}
const skip = skipReason();

test('deploy/Dockerfile builds what build:image makes: root from the executable, entrypoint, command, user, workdir, env, labels; the manifest names the version', () => {
  const dockerfile = readFileSync(new URL('../../deploy/Dockerfile', import.meta.url), 'utf8');
  const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const instruction = (name: string) => [...final.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((match) => match[1]!);
  assert.deepEqual(instruction('FROM'), ['scratch']);
  assert.deepEqual(instruction('COPY'), ['--from=build /rootfs/ /']);
  assert.match(dockerfile, /^RUN node scripts\/build-exe\.mjs --arch "\$\(node -p process\.arch\)" && node scripts\/build-image\.mjs --root \/rootfs$/m);
  assert.deepEqual(
    instruction('ENTRYPOINT').map((value) => JSON.parse(value) as string[]),
    [IMAGE_CONFIG.Entrypoint],
  );
  assert.deepEqual(
    instruction('CMD').map((value) => JSON.parse(value) as string[]),
    [IMAGE_CONFIG.Cmd],
  );
  assert.deepEqual(instruction('USER'), [IMAGE_CONFIG.User]);
  assert.deepEqual(instruction('WORKDIR'), [IMAGE_CONFIG.WorkingDir]);
  assert.deepEqual(
    instruction('ENV').flatMap((value) => value.split(/\s+/)),
    IMAGE_CONFIG.Env,
  );
  // The labels (a docker build has no git: no revision).
  const labels = final.slice(final.indexOf('LABEL '), final.indexOf('\nCOPY'));
  assert.deepEqual([...labels.matchAll(/(org\.opencontainers\.image\.[a-z.]+)=/g)].map((match) => match[1]).sort(), Object.keys(imageLabels('')).sort());
  assert.match(dockerfile, new RegExp(`^FROM node:${NODE_LTS_MAJOR}-bookworm AS build$`, 'm'));
  // The kubectl plugin in the root build-image.mjs lays out (it reads the file from the build stage).
  assert.match(dockerfile, /^COPY deploy\/kubectl-inotop deploy\/$/m);
  // The manifest's image is this version's, and the kustomization names it.
  assert.equal(daemonSetManifest().spec.template.spec.containers[0]!.image, `inotop:${version}`);
  const kustomization = parse(readFileSync(new URL('../../deploy/kustomization.yaml', import.meta.url), 'utf8')) as { resources: string[]; images: object[] };
  assert.deepEqual(kustomization.resources, ['daemonset.yaml']);
  assert.deepEqual(kustomization.images, [{ name: 'inotop', newName: 'inotop', newTag: version }]);
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
    const tarball = imageArchive();
    imageMs = Math.round(performance.now() - started);
    runtime = await startContainerd();
    // The release's archive, both architectures; CRI finds the manifest's `inotop:VERSION` in it.
    await runtime.importImage(tarball);
    const appRoot = join(runtime.dir, 'app-image', 'rootfs');
    installBusybox(appRoot);
    copyFileSync(inowatchBinary({ static: true }), join(appRoot, APP_WATCHED));
    await runtime.importImage(
      writeOciImage(join(runtime.dir, 'app-image'), appRoot, { Env: ['PATH=/bin'], Entrypoint: [APP_WATCHED], Cmd: ['watching', APP_WATCHED] }, [APP_IMAGE]),
    );
    // As kubelet does with its root, and as systemd's shared mounts make /run/containerd on a
    // node: HostToContainer mounts of them need a shared (or slave) mount to follow.
    await runtime.sharedMount(KUBELET_ROOT);
    await runtime.sharedMount(runtime.runDir);
    await runtime.sharedMount(nodeRun(runtime));
    kubelet = await KubeletWatcher.start();

    // The node's state, all in place before inotop starts: serve's first scan has it.
    web = await runtime.runPod({ name: 'web', namespace: 'shop', kubeletRoot: KUBELET_ROOT });
    await kubelet.watchPod(web);
    app = await runtime.runPod({
      name: 'app',
      namespace: 'shop',
      kubeletRoot: KUBELET_ROOT,
      image: APP_IMAGE,
    });
    await eventually(() => assert.equal(inotifyWatchCount(app.container.pid), 1, "the app's one inotify watch"), { timeoutMs: 10_000 });
    leaky = await runtime.runPod({ name: 'leaky', namespace: 'shop', kubeletRoot: KUBELET_ROOT });
    await kubelet.watchPod(leaky);
    holder = await runtime.holdMountNamespace(leaky);
    await runtime.deletePod(leaky);

    inotop = await runInotopPod(manifest!);
  });

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
        hostPaths: { ...runtimeDirs(runtime), ...hostPaths },
        // As kubelet passes it: containerd makes it docker.io/library/inotop:VERSION, the archive's name.
        image: manifestContainer!.image,
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
    const result = await runtime.execSync(pod.container.id, [...IMAGE_CONFIG.Entrypoint, ...args]);
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

  it('runs as the manifest says: host pid namespace, only the three capabilities, seccomp, no new privileges, read-only root', async () => {
    const pid = inotop.container.pid;
    assert.equal(readlinkNs(pid, 'pid'), readlinkNs(process.pid, 'pid'), 'hostPID');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
    const CAP_DAC_READ_SEARCH = 2;
    const CAP_SYS_PTRACE = 19;
    const CAP_SYS_ADMIN = 21;
    const expected = ((1n << BigInt(CAP_DAC_READ_SEARCH)) | (1n << BigInt(CAP_SYS_PTRACE)) | (1n << BigInt(CAP_SYS_ADMIN))).toString(16).padStart(16, '0');
    assert.deepEqual(
      [field('CapEff'), field('CapPrm'), field('CapBnd')],
      [expected, expected, expected],
      'SYS_PTRACE, DAC_READ_SEARCH and SYS_ADMIN, nothing else',
    );
    assert.equal(field('NoNewPrivs'), '1', 'allowPrivilegeEscalation: false');
    assert.equal(field('Seccomp'), '2', 'seccomp RuntimeDefault: a filter');
    assert.equal(field('Uid')?.split(/\s/)[0], '0');

    // The single executable puts back the command line (the launcher's loader ran it) and its name.
    // (ARGV0, then the arguments as one title over what the launcher's loader was given.)
    const args = manifestContainer!.args!.map((arg) => arg.replace('$(NODE_NAME)', NODE_NAME));
    await eventually(
      () => {
        assert.deepEqual(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean), [...IMAGE_CONFIG.Entrypoint, args.join(' ')]);
        assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8'), 'inotop\n');
      },
      { timeoutMs: 30_000 },
    );
    // The image carries the kubectl plugin, executable, for users who take it from there.
    assert.deepEqual(readFileSync(`/proc/${pid}/root${IMAGE_KUBECTL_PLUGIN}`), readFileSync(new URL('../../deploy/kubectl-inotop', import.meta.url)));
    assert.ok(statSync(`/proc/${pid}/root${IMAGE_KUBECTL_PLUGIN}`).mode & 0o111);

    // The root read-only; each hostPath mount read-only, and a slave of the host's shared mount (HostToContainer).
    const mountinfo = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n');
    assert.match(mountinfo.find((entry) => entry.split(' ')[4] === '/')!.split(' ')[5]!, /^ro\b/, 'read-only root');
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
    // By command and pod, not pid (a restart keeps the series): kubelet outside any pod.
    assert.equal(sample('inotop_process_watches', 'comm="kubelet"', 'pod_name=""'), 6);
    assert.equal(sample('inotop_process_leaked_watches', 'comm="kubelet"', 'pod_name=""'), 3);
    assert.equal(sample('inotop_pod_source_up', 'source="cri"'), 1, 'the CRI socket through the runtime-socket-dir mount');
    // Its own pod too once the runtime has recorded its start, which serve's first scan may precede.
    assert.ok(sample('inotop_pod_source_live_pods', 'source="cri"') >= 2, 'web and app');
    assert.ok(sample('inotop_leaked_watches', `pod_uid="${leaky.uid}"`) > 0, 'the gone pod');
    assert.equal(sample('inotop_trace_up'), 0, 'serve runs with --no-trace (see the header)');
  });

  it("sees what inotop on the host sees: the processes, kubelet's watches, paths in other pods, the gone pod and its holder", async () => {
    const pids = [kubelet.pid, app.container.pid, holder];
    const [inside, host] = await Promise.all([inotopInside(pids), inotopOnHost(pids)]);
    assert.deepEqual(essentials(inside), essentials(host));
    // RuntimeDefault allows pidfd_getfd with CAP_SYS_PTRACE, which the manifest gives: every queue is read.
    for (const snapshot of [inside, host]) {
      const queues = snapshot.processes.flatMap((row) => row.fds.map((fd) => fd.queuedBytes));
      assert.ok(queues.length > 0 && queues.every((bytes) => typeof bytes === 'number'), `queues read: ${JSON.stringify(queues)} ${snapshot.notes.join('; ')}`);
    }
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

  // Each volume kubelet mounts has a copy in inotop's mount namespace (HostToContainer), and the
  // kernel checks the copy for users before it unmounts the node's volume (propagate_mount_busy,
  // fs/pnode.c): an fd of inotop's on it fails the umount with EBUSY. CAP_SYS_ADMIN lets inotop
  // look through a detached clone of its copy instead, which no umount waits for. Without it (the
  // manifest before), its fds were on the copy itself, in every round it was seen looking.
  it("fails no umount of a pod volume made the moment inotop inside looks into it: it looks through clones of its own copy, never the copy or the node's mount", async (t) => {
    const ROUNDS = 8;
    const FILES = 2000;
    const shipper = new Watcher();
    const instance = await (async () => {
      await shipper.comm('fluent-bit');
      return shipper.init();
    })();
    // A pod-path filesystem is resolved at every refresh, with or without --targets: -b's table stays small.
    const args = ['-b', '-n', '100000', '-d', '0.1', '-p', String(shipper.pid), '--pods', 'none', '-o', 'pid,watches'];
    const run = runtime.execSync(inotop.container.id, [...IMAGE_CONFIG.Entrypoint, ...args], 300);
    const rounds = { looking: 0, busy: [] as string[], onTheMount: [] as string[] };
    let looker: number | undefined;
    const volumes: string[] = [];
    try {
      // Its process: in inotop's mount namespace, not serve.
      await eventually(
        () => {
          looker = allPids().find(
            (pid) =>
              pid !== inotop.container.pid &&
              readlinkNs(pid, 'mnt') === inotop.container.mntns &&
              readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('100000'),
          );
          assert.ok(looker, 'inotop -b running in the container');
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      for (let round = 0; round < ROUNDS; round++) {
        const volume = join(web.podDir, 'volumes', 'kubernetes.io~empty-dir', `race-${round}-${randomBytes(3).toString('hex')}`);
        volumes.push(volume);
        mkdirSync(volume, { recursive: true });
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'inotop-race-volume', volume]);
        const dev = statSync(volume).dev;
        const nodeMount = mountIdIn(process.pid, volume)!;
        const copy = mountIdIn(inotop.container.pid, volume);
        assert.ok(copy !== null && copy !== nodeMount, `a copy of ${volume} in inotop's mount namespace`);
        for (let f = 0; f < FILES; f++) closeSync(openSync(join(volume, `f${f}`), 'w'));
        await shipper.watchDir(instance, volume);
        let looking = false;
        for (const end = Date.now() + 3000; !looking && Date.now() < end; await sleep(1)) {
          const fds = fdsOn(looker!, dev).map(({ mountId }) => mountId);
          looking = fds.length > 0;
          for (const mountId of fds) {
            if (mountId === nodeMount || mountId === copy) rounds.onTheMount.push(`${volume}: an fd on ${mountId === copy ? 'its copy' : "the node's mount"}`);
          }
        }
        if (looking) rounds.looking++;
        const result = spawnSync('umount', [volume], { encoding: 'utf8' });
        if (result.status !== 0) {
          rounds.busy.push(`${volume}: ${result.stderr.trim()}`);
          execFileSync('umount', ['--lazy', volume]);
        }
        assert.equal(mountSources(inotop.container.pid).includes('inotop-race-volume'), false, 'the unmount reached the container');
      }
    } finally {
      if (looker !== undefined) spawnSync('kill', ['-TERM', String(looker)]);
      await run.catch(() => undefined);
      await shipper.stop();
      for (const volume of volumes) if (mountIdIn(process.pid, volume) !== null) execFileSync('umount', ['--lazy', volume]);
    }
    t.diagnostic(`umounts while it had the volume open: ${rounds.looking} of ${ROUNDS}; failed: ${rounds.busy.length}`);
    assert.deepEqual(rounds.onTheMount, [], "inotop's fds on the volume's mount or its copy (not a clone of its own)");
    assert.deepEqual(rounds.busy, [], `${rounds.busy.length} of ${ROUNDS} umounts failed`);
    assert.ok(rounds.looking >= ROUNDS / 2, `umounts while it had the volume open: ${rounds.looking} of ${ROUNDS}`);
  });

  it('a run inside traces failed calls through a detached tracefs of its own (CAP_SYS_ADMIN), which the manifest says', async () => {
    // Two refreshes: a one-shot run does not trace at all. The pod has no tracefs mounted.
    assert.equal(readFileSync(`/proc/${inotop.container.pid}/mountinfo`, 'utf8').includes(' - tracefs '), false, 'no tracefs in the pod');
    const inside = await inotopInside([kubelet.pid], ['-n', '2', '-d', '0.2']);
    assert.equal(inside.trace?.state, 'on', inside.trace?.reason ?? '');
    const header = readFileSync(new URL('../../deploy/daemonset.yaml', import.meta.url), 'utf8');
    assert.match(header, /CAP_SYS_ADMIN is control of the node's\n#\s+kernel tracing too/, 'the manifest says what CAP_SYS_ADMIN grants for tracing');
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
      ['k3s', { '/run/containerd': join(nodeRun(runtime), 'k3s-node', 'containerd'), '/run/k3s/containerd': runtime.runDir }],
      ['CRI-O', { '/run/containerd': join(nodeRun(runtime), 'crio-node', 'containerd'), '/run/crio': crioDir }],
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
