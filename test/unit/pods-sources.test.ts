// The live pod list from crictl, kubectl and the kubelet's pod dirs, through stand-in commands
// that answer with recorded output or fail the ways the real ones do.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodSource, podSourceOptions, type PodSourceOptions } from '../../src/pods/sources.js';
import { eventually } from '../helpers/eventually.js';
import { installStandIn, setStandInMode } from '../helpers/fake-node.js';
import { startFakeRuntime } from '../helpers/fake-runtime.js';
import { processesIn } from '../helpers/processes.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;
const STATIC_UID = 'b81c3f0e6a4d2957e0c1f8a3d6b42e71';

/** A directory with crictl and kubectl stand-ins answering with the recorded fixtures. */
function standIns(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-pods-'));
  // A source's stand-in may still be writing its calls file as the test ends (stop() kills it but
  // does not wait for it to exit): a retried removal outlasts that write.
  t.after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  installStandIn(dir, 'crictl');
  installStandIn(dir, 'kubectl');
  copyFileSync(join(FIXTURES, 'crictl/pods.json'), join(dir, 'crictl-pods.json'));
  copyFileSync(join(FIXTURES, 'crictl/ps.json'), join(dir, 'crictl-ps.json'));
  copyFileSync(join(FIXTURES, 'kubectl/pods.json'), join(dir, 'kubectl-pods.json'));
  return dir;
}

function source(t: TestContext, options: Partial<PodSourceOptions>): PodSource {
  const pods = new PodSource(podSourceOptions({ kubeletRoot: '/nonexistent/kubelet', ...options }));
  t.after(() => pods.stop());
  return pods;
}

function calls(dir: string, tool: string): string[] {
  const file = join(dir, `${tool}-calls`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}

test('crictl: pods and containers from `crictl pods -o json` and `crictl ps -a -o json`', async (t) => {
  const dir = standIns(t);
  const pods = source(t, { kind: 'crictl', crictlPath: join(dir, 'crictl') });
  assert.equal(pods.list(), null, 'no list before the first refresh');
  await pods.start();
  await pods.ready();
  assert.deepEqual(pods.status(), { source: 'crictl', live: 4, stale: false, error: null });
  assert.deepEqual(calls(dir, 'crictl').sort(), ['pods -o json', 'ps -a -o json']);
  assert.equal(pods.list()?.pods.get(STATIC_UID)?.name, 'kube-apiserver-node-1');
  assert.deepEqual(pods.takeNotes(), []);
});

test('crictl from PATH by default', async (t) => {
  const dir = standIns(t);
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  t.after(() => {
    process.env.PATH = path;
  });
  const pods = source(t, { kind: 'crictl' });
  await pods.refresh();
  assert.equal(pods.status().live, 4);
});

test('crictl missing: no list, the reason said once', async (t) => {
  const pods = source(t, { kind: 'crictl', crictlPath: '/nonexistent/crictl' });
  await pods.refresh();
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'crictl', live: null, stale: false, error: 'crictl: /nonexistent/crictl not found' });
  assert.deepEqual(pods.takeNotes(), ['pods: crictl: /nonexistent/crictl not found']);
  await pods.refresh();
  assert.deepEqual(pods.takeNotes(), []);
});

test('crictl exiting 1 after a good list: the last list is kept, stale, until crictl answers again', async (t) => {
  const dir = standIns(t);
  const pods = source(t, { kind: 'crictl', crictlPath: join(dir, 'crictl') });
  await pods.refresh();
  const good = pods.list();
  setStandInMode(dir, 'crictl', 'fail');
  await pods.refresh();
  await pods.refresh();
  const status = pods.status();
  assert.equal(pods.list(), good);
  assert.equal(status.live, 4);
  assert.equal(status.stale, true);
  assert.match(status.error ?? '', /^crictl pods exited 1: time=.*connect: connection refused/);
  const notes = pods.takeNotes();
  assert.equal(notes.length, 1, 'said once, not per refresh');
  assert.match(notes[0]!, /exited 1.*keeping the last list \(stale\)$/);
  setStandInMode(dir, 'crictl', 'ok');
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'crictl', live: 4, stale: false, error: null });
  assert.notEqual(pods.list(), good, 'a fresh list');
});

test('crictl hanging past the timeout: killed with its children, the refresh ends on time', async (t) => {
  const dir = standIns(t);
  setStandInMode(dir, 'crictl', 'hang');
  const pods = source(t, { kind: 'crictl', crictlPath: join(dir, 'crictl'), timeoutMs: 300 });
  const started = Date.now();
  await pods.refresh();
  const took = Date.now() - started;
  assert.ok(took < 3_000, `refresh took ${took} ms`);
  assert.equal(pods.status().error, 'crictl pods: no answer within 300 ms');
  const groups = readFileSync(join(dir, 'crictl-hang-pids'), 'utf8').trim().split('\n').map(Number);
  assert.ok(groups.length > 0);
  // The stand-in's `sleep` (same process group) is gone too, not only the script.
  assert.deepEqual(processesIn(groups), []);
});

test('crictl printing invalid JSON', async (t) => {
  const dir = standIns(t);
  setStandInMode(dir, 'crictl', 'garbage');
  const pods = source(t, { kind: 'crictl', crictlPath: join(dir, 'crictl') });
  await pods.refresh();
  assert.match(pods.status().error ?? '', /^crictl pods: invalid JSON/);
  assert.equal(pods.status().live, null);
});

test('kubectl: this node only, static pods found by their config hash', async (t) => {
  const dir = standIns(t);
  const pods = source(t, { kind: 'kubectl', kubectlPath: join(dir, 'kubectl'), nodeName: 'node-1' });
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'kubectl', live: 4, stale: false, error: null });
  assert.deepEqual(calls(dir, 'kubectl'), ['get pods -A --field-selector spec.nodeName=node-1 -o json']);
  assert.equal(pods.list()?.pods.get(STATIC_UID)?.name, 'kube-apiserver-node-1');
});

test('kubectl without an API server: the reason is its last line', async (t) => {
  const dir = standIns(t);
  setStandInMode(dir, 'kubectl', 'fail');
  const pods = source(t, { kind: 'kubectl', kubectlPath: join(dir, 'kubectl') });
  await pods.refresh();
  assert.equal(pods.status().error, 'kubectl get exited 1: The connection to the server localhost:8080 was refused - did you specify the right host or port?');
});

test('auto: the first source that answers, and it stays with it', async (t) => {
  const dir = standIns(t);
  const pods = source(t, { kind: 'auto', crictlPath: '/nonexistent/crictl', kubectlPath: join(dir, 'kubectl'), nodeName: 'node-1' });
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'kubectl', live: 4, stale: false, error: null });
  setStandInMode(dir, 'kubectl', 'fail');
  await pods.refresh();
  const status = pods.status();
  assert.equal(status.source, 'kubectl');
  assert.equal(status.stale, true);
  assert.match(status.error ?? '', /^kubectl get exited 1/);
});

test('start() returns once the request is out, before the answer; ready() waits for it', async (t) => {
  const dir = standIns(t);
  setStandInMode(dir, 'kubectl', 'hang');
  const pods = source(t, { kind: 'kubectl', kubectlPath: join(dir, 'kubectl'), timeoutMs: 1_000 });
  await pods.start();
  assert.deepEqual(pods.status(), { source: 'kubectl', live: null, stale: false, error: 'pending' });
  // Started before start() returned (the stand-in notes its call once it runs).
  await eventually(() => assert.equal(calls(dir, 'kubectl').length, 1, 'kubectl started'));
  // ready() waits at most the source's timeout; the refresh ends when its command is killed.
  await pods.ready();
  await pods.refresh();
  assert.match(pods.status().error ?? '', /^kubectl get: no answer within 1000 ms/);
});

test('auto: the sources are tried side by side, and the list is the first in order that answers', async (t) => {
  const dir = standIns(t);
  setStandInMode(dir, 'crictl', 'hang');
  const pods = source(t, {
    kind: 'auto',
    runtimeEndpoint: 'unix:///nonexistent/cri.sock',
    crictlPath: join(dir, 'crictl'),
    kubectlPath: join(dir, 'kubectl'),
    nodeName: 'node-1',
    timeoutMs: 4_000,
  });
  const refreshed = pods.refresh();
  // kubectl answers while crictl still hangs: one did not wait for the other.
  const hungPids = join(dir, 'crictl-hang-pids');
  await eventually(() => assert.ok(calls(dir, 'kubectl').length > 0 && existsSync(hungPids), 'kubectl and crictl started'));
  const hung = readFileSync(hungPids, 'utf8').trim().split('\n').map(Number);
  assert.ok(processesIn(hung).length > 0, 'crictl still running when kubectl started');
  // crictl comes first in the order: its answer is waited for (here, its timeout) before kubectl's is taken.
  await refreshed;
  assert.deepEqual(pods.status(), { source: 'kubectl', live: 4, stale: false, error: null });
  assert.deepEqual(processesIn(hung), [], 'crictl killed');
});

test('auto: where the runtime answers, no command is started', async (t) => {
  const dir = standIns(t);
  const runtime = await startFakeRuntime({
    ListPodSandbox: (_request, answer) => answer(null, { items: [] }),
    ListContainers: (_request, answer) => answer(null, { containers: [] }),
  });
  t.after(runtime.close);
  const pods = source(t, { kind: 'auto', runtimeEndpoint: runtime.endpoint, crictlPath: join(dir, 'crictl'), kubectlPath: join(dir, 'kubectl') });
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'cri', live: 0, stale: false, error: null });
  assert.deepEqual([calls(dir, 'crictl'), calls(dir, 'kubectl')], [[], []]);
});

test("auto: where the runtime answers, the kubelet's pod dirs are not even read", async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inotop-kubelet-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const podsDir = join(root, 'pods');
  mkdirSync(podsDir);
  // A read of the directory shows in its access time (relatime: an access time days old is updated).
  const longAgo = new Date(Date.now() - 10 * 86_400_000);
  const accessed = () => statSync(podsDir).atimeMs > longAgo.getTime() + 1_000;
  utimesSync(podsDir, longAgo, longAgo);
  readdirSync(podsDir);
  if (!accessed()) return t.skip(`${tmpdir()} keeps no access times (noatime): a read of the directory would not show`);
  utimesSync(podsDir, longAgo, longAgo);
  const runtime = await startFakeRuntime({
    ListPodSandbox: (_request, answer) => answer(null, { items: [] }),
    ListContainers: (_request, answer) => answer(null, { containers: [] }),
  });
  t.after(runtime.close);
  const pods = source(t, {
    kind: 'auto',
    runtimeEndpoint: runtime.endpoint,
    crictlPath: '/nonexistent/crictl',
    kubectlPath: '/nonexistent/kubectl',
    kubeletRoot: root,
  });
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'cri', live: 0, stale: false, error: null });
  assert.equal(accessed(), false, `${podsDir} was read`);
});

/** A runtime socket that accepts connections and never answers; its path. Closed with the test. */
async function hungRuntime(t: TestContext): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-cri-'));
  const socket = join(dir, 'hung.sock');
  const connections: Socket[] = [];
  const server = createServer((connection) => connections.push(connection));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(async () => {
    for (const connection of connections) connection.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

test('auto: a runtime that accepts but never answers: the commands start after a head start, crictl is taken at its deadline', async (t) => {
  const dir = standIns(t);
  const socket = await hungRuntime(t);
  const pods = source(t, {
    kind: 'auto',
    runtimeEndpoint: `unix://${socket}`,
    crictlPath: join(dir, 'crictl'),
    kubectlPath: join(dir, 'kubectl'),
    nodeName: 'node-1',
    timeoutMs: 1_000,
  });
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'crictl', live: 4, stale: false, error: null });
});

test('auto: nothing answers, then the kubelet pod dirs do (and the caveat is said)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inotop-kubelet-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const pods = source(t, {
    kind: 'auto',
    runtimeEndpoint: 'unix:///nonexistent/cri.sock',
    crictlPath: '/nonexistent/crictl',
    kubectlPath: '/nonexistent/kubectl',
    kubeletRoot: root,
  });
  await pods.refresh();
  const none = pods.status();
  assert.equal(none.source, 'none');
  assert.equal(none.live, null);
  assert.equal(
    none.error,
    'no pod source answered: CRI unix:///nonexistent/cri.sock: connect ENOENT; crictl: /nonexistent/crictl not found; ' +
      `kubectl: /nonexistent/kubectl not found; kubelet: cannot read ${root}/pods (ENOENT)`,
  );
  assert.equal(pods.takeNotes().length, 1);
  mkdirSync(join(root, 'pods', STATIC_UID), { recursive: true });
  mkdirSync(join(root, 'pods', '0f6d3a2e-5b1c-4d8e-9a7f-3c2b1e0d9f8a'));
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'kubelet', live: 2, stale: false, error: null });
  assert.match(pods.takeNotes().join('\n'), /weakest source: no names, and a deleted pod whose dir is left behind counts as live/);
});

/** Sets environment variables (undefined: unset) for the rest of the test. */
function withEnv(t: TestContext, values: Record<string, string | undefined>): void {
  const before = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const set = (entries: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  set(values);
  t.after(() => set(before));
}

test('auto: kubectl from PATH with no cluster to ask (no kubeconfig, not in a pod) is not started, and the note says why', async (t) => {
  const dir = standIns(t);
  const home = mkdtempSync(join(tmpdir(), 'inotop-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  // In-cluster needs the service account's token too, which this machine has not.
  withEnv(t, { PATH: `${dir}:${process.env.PATH}`, HOME: home, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' });
  const options = { kind: 'auto', runtimeEndpoint: 'unix:///nonexistent/cri.sock', crictlPath: '/nonexistent/crictl', nodeName: 'node-1' } as const;
  const pods = source(t, options);
  await pods.refresh();
  assert.deepEqual(calls(dir, 'kubectl'), [], 'kubectl not started');
  const why = `kubectl: not started: no cluster to ask (no $KUBECONFIG or ${home}/.kube/config, not in a pod with a service account)`;
  assert.ok(pods.status().error?.includes(`crictl: /nonexistent/crictl not found; ${why}; kubelet:`), pods.status().error ?? '');
  assert.match(pods.takeNotes()[0] ?? '', /^pods: no pod source answered: .*kubectl: not started: no cluster to ask/);

  // A $KUBECONFIG that lists no file that exists is no config either.
  withEnv(t, { KUBECONFIG: `${home}/a:${home}/b` });
  const listed = source(t, options);
  await listed.refresh();
  assert.deepEqual(calls(dir, 'kubectl'), []);
  assert.ok(
    listed.status().error?.includes(`kubectl: not started: no cluster to ask (none of $KUBECONFIG's ${home}/a, ${home}/b,`),
    listed.status().error ?? '',
  );

  // One that does, or ~/.kube/config: kubectl is asked, in its turn.
  writeFileSync(join(home, 'b'), 'apiVersion: v1\nkind: Config\n');
  const configured = source(t, options);
  await configured.refresh();
  assert.deepEqual(configured.status(), { source: 'kubectl', live: 4, stale: false, error: null });
  withEnv(t, { KUBECONFIG: undefined });
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), 'apiVersion: v1\nkind: Config\n');
  const homeConfig = source(t, options);
  await homeConfig.refresh();
  assert.equal(homeConfig.status().source, 'kubectl');
  assert.equal(calls(dir, 'kubectl').length, 2);

  // A kubectl named by --kubectl is started as asked, config or not (a wrapper may bring its own).
  rmSync(join(home, '.kube'), { recursive: true });
  const named = source(t, { ...options, kubectlPath: join(dir, 'kubectl') });
  await named.refresh();
  assert.equal(named.status().source, 'kubectl');
  // Asked for by name, kubectl from PATH is started too.
  const asked = source(t, { ...options, kind: 'kubectl' });
  await asked.refresh();
  assert.equal(asked.status().source, 'kubectl');
  assert.equal(calls(dir, 'kubectl').length, 4);
});

/** The timers `body` sets (setTimeout, setInterval), counted while it runs. */
async function timersSetBy(body: () => Promise<void>): Promise<number> {
  const { setTimeout: timeout, setInterval: interval } = globalThis;
  let set = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof timeout>) => (set++, timeout(...args))) as typeof timeout;
  globalThis.setInterval = ((...args: Parameters<typeof interval>) => (set++, interval(...args))) as typeof interval;
  try {
    await body();
  } finally {
    globalThis.setTimeout = timeout;
    globalThis.setInterval = interval;
  }
  return set;
}

test('auto, a one-shot on a node where no source can answer: each tells why at once, nothing is asked, and the list settles with no timer set and before the event loop turns', async (t) => {
  const dir = standIns(t);
  const home = mkdtempSync(join(tmpdir(), 'inotop-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  // kubectl on PATH, but no cluster to ask: as on a machine without one.
  withEnv(t, { PATH: `${dir}:${process.env.PATH}`, HOME: home, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined });
  const kubeletRoot = join(home, 'kubelet');
  const options = podSourceOptions({ kind: 'auto', runtimeEndpoint: 'tcp://127.0.0.1:10010', crictlPath: '/nonexistent/crictl', kubeletRoot });
  const pods = new PodSource(options, true);
  t.after(() => pods.stop());
  const turns: string[] = [];
  setImmediate(() => turns.push('the event loop turned'));
  const timers = await timersSetBy(async () => {
    await pods.start();
    await pods.ready();
  });
  assert.equal(turns.join(), '', 'settled before the event loop turned (no pool thread, no socket, no process)');
  assert.equal(timers, 0, 'no timer set');
  assert.deepEqual(calls(dir, 'kubectl'), []);
  assert.equal(
    pods.status().error,
    'no pod source answered: CRI tcp://127.0.0.1:10010: only unix socket endpoints are supported (unix:///path); crictl: /nonexistent/crictl not found; ' +
      `kubectl: not started: no cluster to ask (no $KUBECONFIG or ${home}/.kube/config, not in a pod with a service account); ` +
      `kubelet: cannot read ${kubeletRoot}/pods (ENOENT)`,
  );

  // Where kubelet's pod dirs are there, they answer as much at once.
  mkdirSync(join(kubeletRoot, 'pods', STATIC_UID), { recursive: true });
  const kubelet = new PodSource(options, true);
  t.after(() => kubelet.stop());
  setImmediate(() => turns.push('the event loop turned'));
  assert.equal(await timersSetBy(() => kubelet.start().then(() => kubelet.ready())), 0, 'no timer set');
  assert.equal(turns.join(), '');
  assert.deepEqual(kubelet.status(), { source: 'kubelet', live: 1, stale: false, error: null });
  await new Promise((resolve) => setImmediate(resolve));

  // A session that goes on still refreshes in the background.
  const session = new PodSource(options, false);
  t.after(() => session.stop());
  assert.equal(await timersSetBy(() => session.start()), 1, 'the refresh timer');
});

test('auto: where the runtime must be asked, nothing after it is taken at once: pending after start(), then the first in order that answers', async (t) => {
  const dir = standIns(t);
  const socket = await hungRuntime(t);
  const root = mkdtempSync(join(tmpdir(), 'inotop-kubelet-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'pods', STATIC_UID), { recursive: true });
  // crictl is not there, but its turn comes only once the runtime has failed: it is not looked for
  // before; kubelet's dirs answer, but are taken only once every source before them failed.
  const pods = source(t, {
    kind: 'auto',
    runtimeEndpoint: `unix://${socket}`,
    crictlPath: '/nonexistent/crictl',
    kubectlPath: join(dir, 'kubectl'),
    nodeName: 'node-1',
    kubeletRoot: root,
    timeoutMs: 1_000,
  });
  await pods.start();
  assert.deepEqual(pods.status(), { source: 'pending', live: null, stale: false, error: null });
  await pods.ready();
  assert.deepEqual(pods.status(), { source: 'kubectl', live: 4, stale: false, error: null });
});

test('a command is looked for in PATH as execa runs it: a file that is not executable, or a directory, is passed over', async (t) => {
  const dir = standIns(t);
  const decoys = mkdtempSync(join(tmpdir(), 'inotop-path-'));
  t.after(() => rmSync(decoys, { recursive: true, force: true }));
  mkdirSync(join(decoys, 'a', 'crictl'), { recursive: true });
  mkdirSync(join(decoys, 'b'));
  writeFileSync(join(decoys, 'b', 'crictl'), '#!/bin/sh\nexit 3\n', { mode: 0o644 });
  withEnv(t, { PATH: `${join(decoys, 'a')}:${join(decoys, 'b')}:${join(decoys, 'none')}:${dir}:${process.env.PATH}` });
  const pods = source(t, { kind: 'crictl' });
  await pods.refresh();
  assert.deepEqual(pods.status(), { source: 'crictl', live: 4, stale: false, error: null });
  withEnv(t, { PATH: `${join(decoys, 'a')}:${join(decoys, 'b')}` });
  const missing = source(t, { kind: 'crictl' });
  await missing.refresh();
  assert.equal(missing.status().error, 'crictl: crictl not found');
});

test('background refresh picks up changes; overlapping refreshes are joined', async (t) => {
  const dir = standIns(t);
  const pods = source(t, { kind: 'crictl', crictlPath: join(dir, 'crictl'), refreshMs: 100 });
  await Promise.all([pods.start(), pods.refresh(), pods.refresh()]);
  assert.equal(calls(dir, 'crictl').length, 2, 'one refresh: one pods and one ps call');
  writeFileSync(join(dir, 'crictl-pods.json'), '{"items":[]}');
  writeFileSync(join(dir, 'crictl-ps.json'), '{}');
  await eventually(() => assert.equal(pods.status().live, 0), { timeoutMs: 2_500 });
  pods.stop();
  const after = calls(dir, 'crictl').length;
  // The clock: a source of the same pace, not stopped, refreshes twice meanwhile.
  const controlDir = standIns(t);
  const control = source(t, { kind: 'crictl', crictlPath: join(controlDir, 'crictl'), refreshMs: 100 });
  await control.start();
  const controlStart = calls(controlDir, 'crictl').length;
  await eventually(() => assert.ok(calls(controlDir, 'crictl').length >= controlStart + 4, 'the running source refreshed twice'));
  assert.equal(calls(dir, 'crictl').length, after, 'no refresh after stop()');
  control.stop();
});

test('cri: a runtime socket that is not there fails fast, and the failure is said once', async (t) => {
  const pods = source(t, { kind: 'cri', runtimeEndpoint: '/nonexistent/containerd.sock' });
  const started = Date.now();
  await pods.refresh();
  await pods.refresh();
  assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
  assert.deepEqual(pods.status(), { source: 'cri', live: null, stale: false, error: 'CRI unix:///nonexistent/containerd.sock: connect ENOENT' });
  assert.deepEqual(pods.takeNotes(), ['pods: CRI unix:///nonexistent/containerd.sock: connect ENOENT']);
});

test('cri: a runtime that accepts but never answers is given up on at the deadline', async (t) => {
  const socket = await hungRuntime(t);
  const pods = source(t, { kind: 'cri', runtimeEndpoint: `unix://${socket}`, timeoutMs: 300 });
  const started = Date.now();
  await pods.refresh();
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 1_500, `took ${elapsed} ms`);
  assert.match(pods.status().error ?? '', /^CRI unix:\/\/.*hung\.sock: List(PodSandbox|Containers): deadline exceeded after 0\.3s$/);
});

for (const kind of ['cri', 'auto'] as const) {
  test(`${kind}, a one-shot: the answers that came while the thread was busy (its scan) are taken in by ready() before the event loop turns, and no timer is set`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inotop-cri-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, 'containerd.sock');
    const answered = join(dir, 'answered');
    // The runtime in a process of its own, as containerd is: it answers while this thread is busy.
    // It replays a containerd's answer to the two calls, and says once that answer is in the socket.
    const runtime = spawn(
      process.execPath,
      [
        '-e',
        `const { createServer } = require('node:net');
       const { readFileSync, writeFileSync } = require('node:fs');
       const [socket, answer, answered] = process.argv.slice(1);
       createServer((c) => c.on('error', () => c.destroy()).resume().end(readFileSync(answer), () => writeFileSync(answered, '')))
         .listen(socket, () => process.stdout.write('listening'));`,
        socket,
        join(FIXTURES, 'cri/containerd-answer.bin'),
        answered,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => void runtime.kill());
    await new Promise((resolve) => runtime.stdout.once('data', resolve));
    // auto as a node runs it: the commands after the runtime wait for its answer, or for their head start.
    const pods = new PodSource(
      podSourceOptions({ kind, runtimeEndpoint: `unix://${socket}`, crictlPath: '/nonexistent/crictl', kubeletRoot: '/nonexistent/kubelet' }),
      true,
    );
    t.after(() => pods.stop());
    let ready = false;
    const timers = await timersSetBy(async () => {
      await pods.start();
      // Busy as a scan is, until the answer is in: no callback of the event loop runs meanwhile.
      const pause = new Int32Array(new SharedArrayBuffer(4));
      for (const until = Date.now() + 10_000; !existsSync(answered) && Date.now() < until;) Atomics.wait(pause, 0, 0, 5);
      assert.ok(existsSync(answered), 'the runtime answered');
      void pods.ready().then(() => (ready = true));
      // Microtasks only: no timer, immediate or socket callback can run between these.
      for (let hop = 0; hop < 1_000 && !ready; hop++) await Promise.resolve();
    });
    assert.equal(ready, true, 'ready() settled without a turn of the event loop');
    // The calls' deadlines, the bound of the wait for the list, the commands' head start: each
    // would have started Node's timers (some 0.5 ms of a one-shot) for a wait that never came.
    assert.equal(timers, 0, 'no timer set');
    assert.deepEqual(pods.status(), { source: 'cri', live: 3, stale: false, error: null });
  });
}

test('cri: only unix sockets', async (t) => {
  const pods = source(t, { kind: 'cri', runtimeEndpoint: 'tcp://127.0.0.1:10010' });
  await pods.refresh();
  assert.match(pods.status().error ?? '', /^CRI tcp:\/\/127\.0\.0\.1:10010: only unix socket endpoints are supported/);
});

test('none: no source, no error, nothing run', async (t) => {
  const pods = source(t, { kind: 'none' });
  await pods.start();
  assert.deepEqual(pods.status(), { source: 'none', live: null, stale: false, error: null });
  assert.equal(pods.list(), null);
});
