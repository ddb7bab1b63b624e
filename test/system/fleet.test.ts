// inotop check and serve as a fleet meets them: flags, verdict messages and metrics; the
// node-problem-detector contract on the real kernel (limits lowered for the test, a simulated node
// that leaks a pod, the DaemonSet's capabilities only); and the deploy files, read the way
// Kubernetes, node-problem-detector, Prometheus and kubectl read them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import type { CheckOptions } from '../../src/check/args.js';
import { parseSubcommandArgs } from '../../src/cli/subcommand.js';
import { DEFAULT_PORT, DEFAULT_TOP, DEFAULT_TOP_LEAKS, type ServeOptions } from '../../src/serve/args.js';
import { fitMessage, judgeLeaks, judgeLimits, MAX_MESSAGE_LENGTH } from '../../src/check/check.js';
import { FailureTotals, renderMetrics } from '../../src/serve/metrics.js';
import { buildSnapshot } from '../../src/model/snapshot.js';
import { DEFAULT_RUNTIME_SOCKETS } from '../../src/pods/cri/client.js';
import type { SyscallFailure, UserRow } from '../../src/model/types.js';
import { UsageError } from '../../src/options/flags.js';
import { scan } from '../../src/scan/index.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { tempDir, undoAtEnd } from '../helpers/cleanup.js';
import { eventually } from '../helpers/eventually.js';
import { containerdSkipReason } from '../helpers/containerd.js';
import { buildFakeNode } from '../helpers/fake-node.js';
import { rootSkip, Watcher } from '../helpers/inowatch.js';
import { startLeakedPodNode } from '../helpers/leaked-pod-node.js';
import { LIMITS, pod, proc, snapshot, target, targets, user } from '../helpers/rows.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixture = join(repo, 'fixtures/node-a/proc');
const deployFile = (path: string) => readFileSync(join(repo, 'deploy', path), 'utf8');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The compiled CLI, as node-problem-detector runs it; `prefix` runs it under another command (setpriv). */
function inotop(args: string[], prefix: string[] = []): Run {
  const started = performance.now();
  const [command, ...rest] = [...prefix, process.execPath, inotopBin, ...args];
  const result = spawnSync(command!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: performance.now() - started };
}

/** One line on stdout, at most 80 characters: node-problem-detector's message. */
function verdictLine(run: Run): string {
  assert.match(run.stdout, /^[^\n]*\n$/, `one line on stdout: ${JSON.stringify(run.stdout)} (stderr: ${run.stderr})`);
  const line = run.stdout.trimEnd();
  assert.ok(line.length <= MAX_MESSAGE_LENGTH, line);
  return line;
}

before(() => ensureBuilt());

test('check and serve flags: defaults, thresholds, the shared pod and proc flags, mistakes', () => {
  const check = (argv: string[]) => (parseSubcommandArgs('check', argv) as { options: CheckOptions }).options;
  const defaults = check([]);
  assert.deepEqual([defaults.instancesThreshold, defaults.watchesThreshold, defaults.failOnLeaked, defaults.podsTimeoutMs], [0.9, 0.9, true, 2000]);
  const custom = check(['--instances-threshold', '75%', '--watches-threshold=off', '--fail-on-leaked=false', '--proc', '/host/proc', '--pods', 'none']);
  assert.deepEqual([custom.instancesThreshold, custom.watchesThreshold, custom.failOnLeaked], [0.75, null, false]);
  assert.deepEqual([custom.shared.procRoot, custom.shared.pods.kind], ['/host/proc', 'none']);
  assert.equal(check(['--runtime-endpoint', 'unix:///run/crio/crio.sock']).shared.pods.runtimeEndpoint, 'unix:///run/crio/crio.sock');
  assert.equal(check(['--fail-on-leaked']).failOnLeaked, true);
  assert.equal(check(['--instances-threshold=80']).instancesThreshold, 0.8);

  const serve = (argv: string[]) => (parseSubcommandArgs('serve', argv) as { options: ServeOptions }).options;
  const serveDefaults = serve([]);
  assert.deepEqual(
    [
      serveDefaults.listen,
      serveDefaults.intervalMs,
      serveDefaults.top,
      serveDefaults.topLeaks,
      serveDefaults.textfile,
      serveDefaults.webConfigFile,
      serveDefaults.shared.pods.nodeName,
      serveDefaults.cluster,
      serveDefaults.exporterMetrics,
    ],
    [{ host: null, port: DEFAULT_PORT }, 15_000, DEFAULT_TOP, DEFAULT_TOP_LEAKS, null, null, null, null, true],
  );
  const fleetServe = serve(['--cluster', 'eu-1', '--web.disable-exporter-metrics', '--top', '8', '--top-leaks', '0']);
  assert.deepEqual([fleetServe.cluster, fleetServe.exporterMetrics, fleetServe.top, fleetServe.topLeaks], ['eu-1', false, 8, 0]);
  assert.deepEqual(serve(['--listen', '[::1]:0', '--interval=1', '--top', '0']).listen, { host: '::1', port: 0 });
  assert.equal(serve(['--textfile', '/var/lib/node_exporter']).textfile, '/var/lib/node_exporter');
  assert.deepEqual(serve(['--web.listen-address', ':9000']).listen, { host: null, port: 9000 });
  // Outside the 9100-9999 range of Prometheus's port allocations, which is fully allocated.
  assert.ok(DEFAULT_PORT < 9100 || DEFAULT_PORT > 9999);
  assert.equal(parseSubcommandArgs('serve', ['-h']).command, 'help');

  for (const [command, argv] of [
    ['check', ['--instances-threshold', '0%']],
    ['check', ['--watches-threshold', '120%']],
    ['check', ['--fail-on-leaked=maybe']],
    ['check', ['--json']],
    ['check', ['-b']],
    ['check', ['extra']],
    ['check', ['--pods', 'docker']],
    ['serve', ['--listen', 'localhost']],
    ['serve', ['--listen', '127.0.0.1:70000']],
    ['serve', ['--interval', '0']],
    ['serve', ['--top', '-1']],
    ['serve', ['--record', 'x.jsonl']],
    ['serve', ['--textfile']],
    ['serve', ['--cluster', '']],
    ['serve', ['--top-leaks', 'many']],
  ] as const) {
    assert.throws(() => parseSubcommandArgs(command, [...argv]), UsageError, `${command} ${argv.join(' ')}`);
  }
});

test('verdicts: the worst user or leaking process named, then how many more; at most 80 characters', () => {
  const limits = LIMITS;
  const both = { instances: 0.9, watches: 0.9 };
  assert.deepEqual(judgeLimits([user(0, 60, 100)], limits, both), { problem: null, unknown: null, summary: 'highest use 47% of instances, 1% of watches' });
  assert.equal(judgeLimits([user(0, 121, 100), user(1000, 10, 100)], limits, both).problem, 'user root: 121/128 inotify instances');
  // By name, as passwd has it; by uid where it has none (the scan then names the user by the number).
  assert.equal(judgeLimits([{ ...user(1000, 121, 100), name: 'app' }], limits, both).problem, 'user app: 121/128 inotify instances');
  assert.equal(judgeLimits([user(5000, 121, 100)], limits, both).problem, 'uid 5000: 121/128 inotify instances');
  // A user namespace's user is held against its namespace's own limit where set, not the host's.
  const ownLimit = (watches: number): UserRow => ({
    ...user(1000, 1, 8000, '4026532999'),
    limits: { instances: null, watches, fanotifyGroups: null, fanotifyMarks: null },
  });
  // Worst first: 8000/8192 beats 116/128; the other counts as one more.
  assert.equal(judgeLimits([user(0, 116, 100), ownLimit(8192)], limits, both).problem, 'uid 1000 in userns 4026532999: 8000/8192 inotify watches (+1 more)');
  // Unlimited there (or not read): its charge is judged at its owner's level only.
  assert.equal(judgeLimits([user(1000, 1, 8000, '4026532999')], limits, both).problem, null);
  // Root charged for two user namespaces below it: named, with where the charge comes from.
  const namespaces = [
    { userns: '4026532173', uid: 200000, instances: 20, watches: 40, fanotifyGroups: 0, fanotifyMarks: 0, pods: [] },
    { userns: '4026532174', uid: 300000, instances: 10, watches: 20, fanotifyGroups: 0, fanotifyMarks: 0, pods: [] },
  ];
  const root: UserRow = { ...user(0, 101, 100), charged: { instances: 131, watches: 160, fanotifyGroups: 0, fanotifyMarks: 0 }, fromNamespaces: namespaces };
  assert.equal(judgeLimits([root], limits, both).problem, 'user root: 131/128 inotify instances, 30 from 2 userns');
  assert.equal(judgeLimits([user(0, 128, 8192)], limits, { instances: null, watches: null }).problem, null);
  assert.match(judgeLimits([user(0, 1, 1)], { ...limits, maxUserWatches: null }, both).unknown ?? '', /max_user_watches not readable/);

  assert.equal(judgeLeaks([proc(1, { targets: targets(3) })]), null);
  const gone = (name: string, n: number, from: number) => targets(n, from, { pod: pod(name, 'gone') });
  const kubelet = proc(812, { comm: 'kubelet', targets: [...gone('web-1', 4, 1), ...gone('web-2', 2, 10), ...targets(5, 20)] });
  assert.equal(judgeLeaks([kubelet]), 'kubelet holds 6 leaked watches of 2 gone pods');
  const deleted = proc(900, { comm: 'tail', targets: [target(1, { status: 'deleted', leak: 'deleted' })] });
  assert.equal(judgeLeaks([deleted]), 'tail holds 1 leaked watch (deleted)');
  assert.equal(judgeLeaks([deleted, kubelet]), 'kubelet holds 6 leaked watches of 2 gone pods (+1 more process)');
  const unmountedOfLivePod = proc(5, { comm: 'containerd-shim', targets: [target(1, { pod: pod('db'), status: 'unmounted', leak: 'unmounted' })] });
  assert.equal(judgeLeaks([unmountedOfLivePod]), 'containerd-shim holds 1 leaked watch of 1 pod');

  assert.equal(fitMessage(`${'x'.repeat(100)}\nsecond line`).length, MAX_MESSAGE_LENGTH);
  assert.match(fitMessage('x'.repeat(100)), /\.\.\.$/);
});

test('check on a recorded tree: 0 with the use, 1 over a threshold, 2 when it cannot tell or a flag is wrong', () => {
  const ok = inotop(['check', '--proc', fixture, '--pods', 'none']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(verdictLine(ok), 'ok: highest use 5% of instances, <1% of watches; no leaked watches');
  const over = inotop(['check', '--proc', fixture, '--pods', 'none', '--instances-threshold', '4%']);
  assert.equal(over.status, 1, over.stderr);
  assert.equal(verdictLine(over), 'user root: 6/128 inotify instances');
  const unreadable = inotop(['check', '--proc', '/nonexistent/proc']);
  assert.equal(unreadable.status, 2);
  assert.match(verdictLine(unreadable), /^cannot tell: cannot read \/nonexistent\/proc/);
  const badFlag = inotop(['check', '--json']);
  assert.equal(badFlag.status, 2);
  assert.match(verdictLine(badFlag), /^inotop check: no option --json/);
  const help = inotop(['check', '--help']);
  assert.equal(help.status, 0);
  for (const flag of ['--instances-threshold', '--watches-threshold', '--fail-on-leaked', '--pods-timeout', '--kubelet-root'])
    assert.ok(help.stdout.includes(flag), flag);
});

const INOTIFY_SYSCTLS = '/proc/sys/fs/inotify';

/** Runs `body` with an inotify sysctl set to `value`; the old value is back before this returns or throws. */
function withSysctl<T>(name: 'max_user_instances' | 'max_user_watches', value: number, body: () => T): T {
  const path = join(INOTIFY_SYSCTLS, name);
  const old = readFileSync(path, 'utf8');
  writeFileSync(path, `${value}\n`);
  try {
    return body();
  } finally {
    writeFileSync(path, old);
  }
}

test("check against the real limits: the sysctls lowered to just above root's use, then restored", { skip: rootSkip }, async (t) => {
  // Root holds at least 4 instances and 151 watches of its own, whatever else runs: with the
  // limits below, that is above the 50% threshold however little the rest of the machine holds.
  const files = tempDir(t, 'inotop-limits-');
  const watcher = new Watcher();
  undoAtEnd(t, () => watcher.stop());
  for (let i = 0; i < 150; i++) writeFileSync(join(files, String(i)), '');
  await watcher.watchDir(await watcher.init(), files);
  for (let i = 0; i < 3; i++) await watcher.watch(await watcher.init(), tmpdir());
  const root = () => buildSnapshot(scan(), null, null, 'none').users.find((u) => u.uid === 0 && u.userns === null)!;

  // Just above the current use: another process making two new instances meanwhile still can. The
  // 50% threshold keeps the verdict clear of root's use moving while the check runs; --no-trace
  // keeps it about the limits (another root process failing meanwhile would come first).
  const instancesLimit = root().instances + 2;
  const instances = withSysctl('max_user_instances', instancesLimit, () =>
    inotop(['check', '--no-trace', '--fail-on-leaked=false', '--instances-threshold', '50%', '--watches-threshold', 'off']),
  );
  assert.equal(instances.status, 1, instances.stdout + instances.stderr);
  assert.match(verdictLine(instances), new RegExp(`^user root: \\d+/${instancesLimit} inotify instances`));

  const watchesLimit = root().watches + 100;
  const watches = withSysctl('max_user_watches', watchesLimit, () =>
    inotop(['check', '--no-trace', '--fail-on-leaked=false', '--instances-threshold', 'off', '--watches-threshold', '50%']),
  );
  assert.equal(watches.status, 1, watches.stdout + watches.stderr);
  assert.match(verdictLine(watches), new RegExp(`^user root: \\d+/${watchesLimit} inotify watches`));
});

/** Each try of a check run is a whole inotop process. */
const CHECK_RUNS = { timeoutMs: 15_000, intervalMs: 100 };

/** The capabilities deploy/daemonset.yaml grants. */
function daemonSetCapabilities(): string[] {
  const daemonSet = parseAllDocuments(deployFile('daemonset.yaml'))
    .map((doc) => doc.toJS())
    .find((doc) => doc.kind === 'DaemonSet');
  return daemonSet.spec.template.spec.containers[0].securityContext.capabilities.add;
}

/** setpriv: root, with nothing but `capabilities` (names as in a pod spec). */
function onlyCapabilities(capabilities: string[]): string[] {
  const keep = capabilities.map((c) => `,+${c.toLowerCase()}`).join('');
  return ['setpriv', '--inh-caps=-all', '--ambient-caps=-all', `--bounding-set=-all${keep}`, '--'];
}

test('check on a simulated node: ok, a hung pod source costs only --pods-timeout, a leaked pod is named', { skip: rootSkip }, async (t) => {
  const node = await buildFakeNode({ pods: 2 });
  undoAtEnd(t, () => node.cleanup());
  const podFlags = ['--pods', 'crictl', '--crictl', join(node.crictlDir, 'crictl'), '--kubelet-root', node.kubeletRoot];
  const leakCheck = (extra: string[] = [], prefix: string[] = []) =>
    inotop(['check', '--instances-threshold=off', '--watches-threshold=off', ...podFlags, ...extra], prefix);

  const healthy = leakCheck();
  assert.equal(healthy.status, 0, healthy.stdout + healthy.stderr);
  assert.equal(verdictLine(healthy), 'ok: no leaked watches');

  node.setMode('crictl', 'hang');
  const hung = leakCheck(['--pods-timeout', '0.5']);
  node.setMode('crictl', 'ok');
  assert.equal(hung.status, 2, hung.stdout + hung.stderr);
  assert.equal(verdictLine(hung), 'cannot tell leaks of gone pods: no pod list within 0.5 s');
  assert.ok(hung.ms < 4000, `node-problem-detector's 5 s: took ${Math.round(hung.ms)} ms`);

  const leaky = node.pods[0]!;
  await node.deletePodLeaky(leaky.uid);
  const leaked = await eventually(() => {
    const run = leakCheck();
    assert.equal(run.status, 1, run.stdout + run.stderr);
    return run;
  }, CHECK_RUNS);
  // Volume root and token (unmounted, kept by the container) and the pod cgroup (gone pod).
  assert.equal(verdictLine(leaked), 'kubelet holds 3 leaked watches of 1 gone pod');

  // The DaemonSet's capabilities are all the verdict needs.
  const asDaemonSet = leakCheck([], onlyCapabilities(daemonSetCapabilities()));
  assert.equal(asDaemonSet.status, 1, asDaemonSet.stdout + asDaemonSet.stderr);
  assert.equal(verdictLine(asDaemonSet), verdictLine(leaked));
});

test(
  'check on a real containerd: a pod deleted while a process stays in its mount namespace',
  { skip: containerdSkipReason() ?? false, timeout: 120_000 },
  async (t) => {
    const node = await startLeakedPodNode(t);
    const leakCheck = () => inotop(['check', '--instances-threshold=off', '--watches-threshold=off', '--pods', 'cri', ...node.podFlags]);

    const healthy = leakCheck();
    assert.equal(healthy.status, 0, healthy.stdout + healthy.stderr);
    assert.equal(verdictLine(healthy), 'ok: no leaked watches');

    await node.leak();
    // Token volume (unmounted), etc-hosts (deleted, pinned by the bind mount) and the pod cgroup dir.
    const leaked = await eventually(() => {
      const run = leakCheck();
      assert.equal(run.status, 1, run.stdout + run.stderr);
      return run;
    }, CHECK_RUNS);
    assert.equal(verdictLine(leaked), 'kubelet holds 3 leaked watches of 1 gone pod');
  },
);

test('check without CAP_SYS_PTRACE cannot see other processes, and says so', { skip: rootSkip }, () => {
  const run = inotop(['check', '--pods', 'none'], onlyCapabilities(['DAC_READ_SEARCH']));
  assert.equal(run.status, 2, run.stdout);
  // What the scan missed, and what lifts it.
  assert.match(verdictLine(run), /^cannot tell: \d+ of \d+ processes not read \(EACCES \d+\): needs root$/);
});

test('the DaemonSet: hostPID, the capabilities its header explains and no others, read-only host mounts, a scrape Service', () => {
  const text = deployFile('daemonset.yaml');
  const docs = parseAllDocuments(text).map((doc) => {
    assert.deepEqual(doc.errors, []);
    return doc.toJS();
  });
  const daemonSet = docs.find((d) => d.kind === 'DaemonSet');
  const service = docs.find((d) => d.kind === 'Service');
  assert.ok(daemonSet && service && docs.some((d) => d.kind === 'Namespace'));
  const podSpec = daemonSet.spec.template.spec;
  assert.equal(podSpec.hostPID, true);
  assert.equal(podSpec.hostNetwork, undefined, 'the pod network is enough to be scraped');
  const [container] = podSpec.containers;
  const security = container.securityContext;
  assert.deepEqual(security.capabilities.drop, ['ALL']);
  assert.deepEqual([...security.capabilities.add].sort(), ['DAC_READ_SEARCH', 'SYS_ADMIN', 'SYS_PTRACE']);
  const header = text
    .split('\n')
    .filter((line) => line.startsWith('#'))
    .join('\n');
  for (const capability of security.capabilities.add) assert.match(header, new RegExp(`CAP_${capability}: `), capability);
  assert.match(header, /Mount namespaces are not entered/);
  assert.match(header, /CAP_SYS_ADMIN: so that inotop never fails kubelet's unmount of a pod volume/);
  assert.equal(security.privileged, undefined);
  assert.equal(security.allowPrivilegeEscalation, false);
  assert.equal(security.readOnlyRootFilesystem, true);
  assert.equal(security.appArmorProfile.type, 'Unconfined');

  // Every host path is mounted read-only, and kubelet's with HostToContainer.
  const hostVolumes = new Map<string, string>(
    podSpec.volumes.filter((v: { hostPath?: unknown }) => v.hostPath).map((v: { name: string; hostPath: { path: string } }) => [v.name, v.hostPath.path]),
  );
  assert.deepEqual([...hostVolumes.values()].sort(), ['/run/containerd', '/run/crio', '/run/k3s/containerd', '/var/lib/kubelet']);
  for (const mount of container.volumeMounts.filter((m: { name: string }) => hostVolumes.has(m.name))) {
    assert.equal(mount.readOnly, true, mount.name);
    assert.equal(mount.mountPropagation, 'HostToContainer', mount.name);
    assert.equal(mount.mountPath, hostVolumes.get(mount.name), 'host paths keep their names: watched paths are matched by them');
  }
  // No socket named: the cri source tries its usual sockets, and each runtime's directory is mounted (/var/run is /run).
  assert.ok(!container.env.some((e: { name: string }) => e.name === 'CONTAINER_RUNTIME_ENDPOINT'));
  for (const socket of DEFAULT_RUNTIME_SOCKETS.filter((path) => !path.includes('cri-dockerd'))) {
    assert.ok([...hostVolumes.values()].includes(dirname(socket).replace(/^\/var\/run\//, '/run/')), socket);
  }

  // Its arguments are valid `inotop serve` arguments, and the port they name is the one exposed.
  assert.equal(container.args[0], 'serve');
  const serve = parseSubcommandArgs('serve', container.args.slice(1));
  assert.equal(serve.command, 'serve');
  const port = container.ports.find((p: { name: string }) => p.name === 'metrics').containerPort;
  assert.equal(serve.options.listen.port, port);
  // The node label and the kubectl pod source's node: the downward API's spec.nodeName.
  assert.equal(serve.options.shared.pods.nodeName, '$(NODE_NAME)');
  assert.deepEqual(container.readinessProbe.httpGet, { path: '/-/ready', port: 'metrics' });
  assert.deepEqual(container.livenessProbe.httpGet, { path: '/-/healthy', port: 'metrics' });
  assert.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory);

  assert.equal(service.spec.clusterIP, 'None');
  const podLabels = daemonSet.spec.template.metadata.labels;
  for (const [key, value] of Object.entries(service.spec.selector)) assert.equal(podLabels[key], value);
  assert.equal(service.spec.ports[0].targetPort, 'metrics');
  assert.equal(Number(service.metadata.annotations['prometheus.io/port']), port);
});

test('the image runs inotop serve with valid arguments', () => {
  const dockerfile = deployFile('Dockerfile');
  // The single executable by path, as the image test/system/daemonset-container.test.ts builds and runs.
  assert.match(dockerfile, /^ENTRYPOINT \["\/usr\/local\/bin\/inotop"\]$/m);
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  assert.equal(parseSubcommandArgs('serve', cmd.slice(1)).command, 'serve');
  assert.match(dockerfile, /^COPY --from=build \/rootfs\/ \/$/m, "the root build-image.mjs lays out, as the image's");
});

interface AlertRule {
  alert: string;
  expr: string;
  annotations: { summary: string; description: string };
}
const alertRules = (): AlertRule[] =>
  (parseYaml(deployFile('prometheus/inotify-rules.yaml')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((group) => group.rules);

test('the alert and recording rules use only metrics that inotop serve exports', async () => {
  // A reader whose queue does not drain and a process waiting for a permission answer: their series too.
  const leaking = proc(1, { targets: targets(1, 1, { pod: pod('web', 'gone') }) });
  leaking.fds = leaking.fds.map((fd) => ({ ...fd, queuedBytes: 3200, queueState: 'not draining' }));
  leaking.queuedBytes = 3200;
  const permissionWaits = {
    processes: [{ pid: 2, comm: 'cat', waitingSeconds: 41, pod: null, syscall: 'openat', path: null, threads: 1, heldBy: [3] }],
    groups: [{ pid: 3, comm: 'avscan', fd: 5, marks: [{ markType: 'mount' as const, path: '/', mask: 0x10000 }], mask: 0x10000, waiters: 1 }],
    incomplete: null,
  };
  const failures = new FailureTotals();
  const at = '2026-01-01T00:00:00.000Z';
  const failure: SyscallFailure = {
    pid: 1,
    comm: 'app',
    uid: 0,
    user: 'root',
    pod: null,
    syscall: 'inotify_add_watch',
    errno: 'ENOSPC',
    count: 1,
    new: 1,
    limit: 'max_user_watches',
    limitUid: 0,
    limitUserns: null,
    fdLimit: null,
    firstAt: at,
    lastAt: at,
  };
  failures.add([failure]);
  const exported = await renderMetrics({
    node: 'node-a',
    cluster: null,
    snapshot: { ...snapshot([leaking]), pods: { source: 'cri', live: 1, stale: false, error: null }, trace: { state: 'on', reason: null }, permissionWaits },
    scanFailures: 0,
    lastFailure: null,
    top: 1,
    topLeaks: 1,
    failures,
  });
  const names = new Set(exported.split('\n').flatMap((line) => (line.startsWith('# TYPE ') ? [line.split(' ')[2]] : [])));
  for (const file of ['prometheus/inotify-rules.yaml', 'prometheus/inotop-fleet-rules.yaml']) {
    const rules = parseYaml(deployFile(file)) as { groups: { rules: { expr: string }[] }[] };
    // Names inside recorded ones (node:inotop_leaked_watches:sum) are the rules' own.
    const used = rules.groups.flatMap((group) => group.rules.flatMap((rule) => rule.expr.match(/(?<![:\w])inotop_[a-z_]+/g) ?? []));
    assert.ok(used.length >= 5, file);
    for (const name of used) assert.ok(names.has(name), `${file}: ${name} is not exported`);
  }
});

test("every alert names the node it is about, and promtool's tests fire each one", () => {
  const rules = alertRules();
  for (const rule of rules) {
    // absent() has no series, so no node, to name.
    if (rule.expr.startsWith('absent(')) continue;
    assert.match(rule.annotations.summary, /\{\{ \$labels\.node \}\}/, rule.alert);
  }
  const unitTests = parseYaml(deployFile('prometheus/inotify-rules.test.yaml')) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const fired = new Set(unitTests.tests.flatMap((t) => t.alert_rule_test.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname)));
  const quiet = new Set(unitTests.tests.flatMap((t) => t.alert_rule_test.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname)));
  for (const rule of rules) {
    assert.ok(fired.has(rule.alert), `${rule.alert}: no promtool test where it fires`);
    assert.ok(quiet.has(rule.alert), `${rule.alert}: no promtool test where it stays quiet`);
  }
});
