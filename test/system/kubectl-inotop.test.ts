// kubectl inotop against a stand-in kubectl (test/helpers/kubectl-debug-stand-in.sh) that records
// its calls and answers in kubectl's formats: kubectl's flags anywhere before `--` (with -n the
// namespace before NODE and inotop's -n after it), the current context's namespace, and only the
// debug pod this run made deleted, also on Ctrl-C.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test, type TestContext } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { KREW_FILES, krewArchive, krewArchiveName } from '../../scripts/krew-archive.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { eventually } from '../helpers/eventually.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const plugin = join(repo, 'deploy/kubectl-inotop');
/** The node's CRI socket, seen from the debug pod (the node's root at /host). */
const RUNTIME = '--env=CONTAINER_RUNTIME_ENDPOINT=unix:///host/run/containerd/containerd.sock';

before(() => ensureBuilt());

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

test("--help and -h: the help on stdout, exit 0, nothing asked of the cluster; after NODE --help is inotop's", (t) => {
  const c = cluster(t, null);
  for (const args of [['--help'], ['-h'], ['--context', 'prod', '--help']]) {
    const result = kubectlInotop(c, args);
    assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stdout, /^usage: kubectl inotop \[--context NAME\]/m);
    assert.match(result.stdout, /INOTOP_IMAGE/);
    assert.equal(result.stderr, '');
  }
  assert.ok(!existsSync(join(c.dir, 'kubectl-calls')), 'nothing asked of the cluster');
  assert.equal(kubectlInotop(c, ['node-a', '--help']).status, 0);
  assert.match(debugCall(c.calls()).call, / -- (?:.* )?inotop --help$/);
});

test('-o json and -o wide reach inotop as kubectl users mean them: one JSON snapshot, every column', (t) => {
  const c = cluster(t, 'team-a');
  for (const [output, check] of [
    ['json', (stdout: string) => assert.equal((JSON.parse(stdout) as { hostname: string }).hostname, 'ip-10-0-3-42.ec2.internal')],
    ['wide', (stdout: string) => assert.match(stdout, /^ +PID USER +INST +WATCHES +ADD\/s +RM\/s +LEAKED +QUEUE POD +COMMAND$/m)],
  ] as const) {
    // kubectl's -o takes any place: after NODE, or before it.
    assert.equal(kubectlInotop(c, [`-o${output}`, 'node-a']).status, 0);
    assert.ok(debugCall(c.calls()).call.endsWith(` inotop -o ${output}`));
    rmSync(join(c.dir, 'kubectl-calls'));
    const result = kubectlInotop(c, ['node-a', '-o', output]);
    assert.equal(result.status, 0, result.stderr);
    const call = debugCall(c.calls()).call;
    assert.ok(call.endsWith(` inotop -o ${output}`), call);
    // What the debug pod runs, run by this checkout's inotop (on a recorded node instead of a live one).
    const args = call.slice(call.lastIndexOf(' inotop ') + ' inotop '.length).split(' ');
    const inotop = spawnSync(process.execPath, [inotopBin, ...args, '--replay', join(repo, 'fixtures/healthy-node.jsonl'), '-n', '1'], {
      encoding: 'utf8',
    });
    assert.equal(inotop.status, 0, inotop.stderr);
    check(inotop.stdout);
    rmSync(join(c.dir, 'kubectl-calls'));
  }
});

test("Ctrl-C while inotop runs: the debug pod of this run is deleted, the colleague's stays", async (t) => {
  const c = cluster(t, 'team-a');
  writeFileSync(join(c.dir, 'debug-mode'), 'hang');
  // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
  const child = spawn(plugin, ['node-a'], { env: c.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  await eventually(() => assert.ok(existsSync(join(c.dir, 'debug-started')), 'kubectl debug started'));
  assert.equal(c.pods().length, 3, 'the debug pod was made');
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  process.kill(-child.pid!, 'SIGINT');
  assert.equal(await exited, 130);
  assert.deepEqual(c.pods(), ['web-1', 'node-debugger-node-a-colle']);
  assert.match(c.calls().at(-1)!, /^-n team-a delete pod node-debugger-node-a-[a-z0-9]{5} --wait=false$/);
});

interface KrewPlugin {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    shortDescription: string;
    platforms: {
      selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values: string[] }[] };
      uri: string;
      sha256: string;
      files?: { from: string; to: string }[];
      bin: string;
    }[];
  };
}

test("the krew manifest: krew's checks (internal/index/validation), its archive is this checkout's, and installs as krew installs it", (t) => {
  const manifestPath = join(repo, 'deploy/krew/inotop.yaml');
  const plugin = parseYaml(readFileSync(manifestPath, 'utf8')) as KrewPlugin;
  // ValidatePlugin, with the name krew takes from the file name.
  assert.equal(plugin.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
  assert.equal(plugin.kind, 'Plugin');
  assert.equal(`${plugin.metadata.name}.yaml`, 'inotop.yaml');
  assert.match(plugin.metadata.name, /^[\w-]+$/);
  assert.ok(plugin.spec.shortDescription && !/[\r\n]/.test(plugin.spec.shortDescription));
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  assert.equal(plugin.spec.version, `v${version}`, "the package version, as krew's semver with a v");
  assert.equal(plugin.spec.platforms.length, 1);
  const [platform] = plugin.spec.platforms as [KrewPlugin['spec']['platforms'][0]];
  const keys = [...Object.keys(platform.selector.matchLabels ?? {}), ...(platform.selector.matchExpressions ?? []).map((e) => e.key)];
  assert.ok(keys.length > 0 && keys.every((key) => key === 'os' || key === 'arch'), `selector keys ${keys.join(', ')}`);
  const oses = platform.selector.matchExpressions!.find((e) => e.key === 'os' && e.operator === 'In')!.values;
  assert.deepEqual(oses.sort(), ['darwin', 'linux'], 'where bash and kubectl are');
  assert.ok(platform.bin && platform.files!.every((op) => op.from && op.to));

  // The archive the release attaches is made from this checkout: its sha256 is the manifest's.
  assert.equal(platform.uri, `https://github.com/inotop/inotop/releases/download/v${version}/${krewArchiveName()}`);
  const archive = krewArchive();
  assert.equal(platform.sha256, createHash('sha256').update(archive).digest('hex'), 'deploy/krew/inotop.yaml: sha256 is stale (npm run generate)');
  assert.deepEqual(krewArchive(), archive, 'the same bytes every time');

  // krew's install: unpack (here with unzip, not our reader), move `files`, link `bin`.
  const dir = mkdtempSync(join(tmpdir(), 'inotop-krew-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, krewArchiveName()), archive);
  const unpacked = join(dir, 'unpacked');
  const unzip = spawnSync('unzip', ['-q', join(dir, krewArchiveName()), '-d', unpacked], { encoding: 'utf8' });
  assert.equal(unzip.status, 0, unzip.stderr);
  const installed = join(dir, 'store', 'inotop', plugin.spec.version);
  mkdirSync(installed, { recursive: true });
  for (const op of platform.files!) copyFileSync(join(unpacked, op.from), join(installed, op.to, op.from));
  const bin = join(installed, platform.bin);
  assert.ok(statSync(bin).mode & 0o100, 'the plugin is executable as unpacked');
  for (const file of KREW_FILES) assert.deepEqual(readFileSync(join(installed, file.name)), readFileSync(join(repo, file.from)), file.name);
  const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: kubectl inotop/m);
});
