// kubectl inotop against a stand-in kubectl (test/helpers/kubectl-debug-stand-in.sh) that records
// its calls and answers in kubectl's formats: kubectl's flags anywhere before `--` (with -n the
// namespace before NODE and inotop's -n after it), the current context's namespace, and only the
// debug pod this run made deleted, also on Ctrl-C.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const plugin = join(repo, 'deploy/kubectl-inotop');
/** The node's CRI socket, seen from the debug pod (the node's root at /host). */
const RUNTIME = '--env=CONTAINER_RUNTIME_ENDPOINT=unix:///host/run/containerd/containerd.sock';

interface Cluster {
  dir: string;
  env: NodeJS.ProcessEnv;
  calls(): string[];
  pods(): string[];
}

/** A stand-in kubectl first on PATH; a colleague's debug pod on the same node already there. */
function cluster(t: TestContext, contextNamespace: string | null): Cluster {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-kubectl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(repo, 'test/helpers/kubectl-debug-stand-in.sh'), join(dir, 'kubectl'));
  chmodSync(join(dir, 'kubectl'), 0o755);
  if (contextNamespace !== null) writeFileSync(join(dir, 'context-namespace'), contextNamespace);
  writeFileSync(join(dir, 'pods'), 'web-1 -\nnode-debugger-node-a-colle 1700000000-4242-77\n');
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}:${process.env.PATH}`, INOTOP_IMAGE: 'registry.example/inotop:1' };
  delete env.INOTOP_NAMESPACE;
  const lines = (file: string) => readFileSync(join(dir, file), 'utf8').trim().split('\n').filter(Boolean);
  return { dir, env, calls: () => lines('kubectl-calls'), pods: () => lines('pods').map((line) => line.split(' ')[0]!) };
}

function kubectlInotop(c: Cluster, args: string[]) {
  return spawnSync(plugin, args, { encoding: 'utf8', env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The run id the debug call carried, and that call with the id and the random pod name made plain. */
function debugCall(calls: string[]): { run: string; call: string } {
  const call = calls.find((c) => / debug node\//.test(` ${c}`))!;
  const run = /--env=INOTOP_RUN=(\S+)/.exec(call)![1]!;
  return { run, call: call.replace(run, 'RUN') };
}

test("kubectl inotop NODE: the context's namespace, a debug pod running inotop with the arguments, only that pod deleted", (t) => {
  const c = cluster(t, 'team-a');
  const result = kubectlInotop(c, ['node-a', '-b', '-n', '1']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'inotop output\n');
  const calls = c.calls();
  const { run, call } = debugCall(calls);
  assert.equal(calls[0], 'config view --minify -o jsonpath={..namespace}');
  assert.equal(
    call,
    `-n team-a debug node/node-a --profile=sysadmin --image=registry.example/inotop:1 --env=INOTOP_RUN=RUN ${RUNTIME} --quiet --attach -- inotop -b -n 1`,
  );
  assert.match(calls[2]!, new RegExp(`^-n team-a get pods -o go-template=.*\\(eq \\.value "${run}"\\)`));
  assert.match(calls[3]!, /^-n team-a delete pod node-debugger-node-a-[a-z0-9]{5} --wait=false$/);
  assert.equal(calls.length, 4);
  // The colleague's debug pod on the same node stays.
  assert.deepEqual(c.pods(), ['web-1', 'node-debugger-node-a-colle']);
});

test("kubectl flags anywhere before `--`: -n is the namespace before NODE and inotop's after it", (t) => {
  const c = cluster(t, 'team-a');
  const result = kubectlInotop(c, ['--context', 'prod', '-n', 'kube-system', 'node-a', '--kubeconfig=/etc/k.conf', '-b', '-n', '3', '--', '--context', 'x']);
  assert.equal(result.status, 0, result.stderr);
  const calls = c.calls();
  // Namespace given: the context's is not asked.
  assert.ok(!calls.some((call) => call.includes('config view')));
  assert.equal(
    debugCall(calls).call,
    `--context=prod --kubeconfig=/etc/k.conf -n kube-system debug node/node-a --profile=sysadmin --image=registry.example/inotop:1 --env=INOTOP_RUN=RUN ${RUNTIME} --quiet --attach -- inotop -b -n 3 --context x`,
  );
  assert.ok(calls.slice(1).every((call) => call.startsWith('--context=prod --kubeconfig=/etc/k.conf -n kube-system ')));

  const equals = cluster(t, null);
  assert.equal(kubectlInotop(equals, ['--namespace=ops', '--context=prod', 'node-b', '--json']).status, 0);
  assert.match(debugCall(equals.calls()).call, new RegExp(`^--context=prod -n ops debug node/node-b .* ${RUNTIME} --quiet .* -- inotop --json$`));

  // A context without a namespace: default.
  const none = cluster(t, null);
  assert.equal(kubectlInotop(none, ['node-c', '-b']).status, 0);
  assert.match(debugCall(none.calls()).call, /^-n default debug node\/node-c /);
});

test("the image: INOTOP_IMAGE, else the one inotop's DaemonSet runs (deploy/kustomization.yaml names it), else inotop:VERSION", (t) => {
  const deployed = cluster(t, 'team-a');
  delete deployed.env.INOTOP_IMAGE;
  writeFileSync(join(deployed.dir, 'daemonset-image'), 'registry.example/team/inotop:0.1.0');
  assert.equal(kubectlInotop(deployed, ['--context=prod', 'node-a', '-b']).status, 0);
  const calls = deployed.calls();
  assert.equal(calls[0], '--context=prod -n inotop get daemonset inotop -o jsonpath={.spec.template.spec.containers[0].image}');
  assert.match(debugCall(calls).call, / --image=registry\.example\/team\/inotop:0\.1\.0 /);

  const none = cluster(t, 'team-a');
  delete none.env.INOTOP_IMAGE;
  assert.equal(kubectlInotop(none, ['node-a', '-b']).status, 0);
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  assert.match(debugCall(none.calls()).call, new RegExp(` --image=inotop:${version.replaceAll('.', '\\.')} `));
});

test('mistakes: no NODE, an inotop flag before NODE, a flag without its value', (t) => {
  const c = cluster(t, null);
  for (const args of [[], ['-b', 'node-a'], ['--context']]) {
    const result = kubectlInotop(c, args);
    assert.equal(result.status, 2, args.join(' '));
    assert.match(result.stderr, /usage: kubectl inotop|needs a value/);
  }
  assert.ok(!existsSync(join(c.dir, 'kubectl-calls')), 'nothing asked of the cluster');
});

test("Ctrl-C while inotop runs: the debug pod of this run is deleted, the colleague's stays", async (t) => {
  const c = cluster(t, 'team-a');
  writeFileSync(join(c.dir, 'debug-mode'), 'hang');
  // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
  const child = spawn(plugin, ['node-a'], { env: c.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  for (let i = 0; i < 100 && !existsSync(join(c.dir, 'debug-started')); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(c.pods().length, 3, 'the debug pod was made');
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  process.kill(-child.pid!, 'SIGINT');
  assert.equal(await exited, 130);
  assert.deepEqual(c.pods(), ['web-1', 'node-debugger-node-a-colle']);
  assert.match(c.calls().at(-1)!, /^-n team-a delete pod node-debugger-node-a-[a-z0-9]{5} --wait=false$/);
});
