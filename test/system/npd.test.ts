// node-problem-detector as released (v1.36.0): the plugin configs under deploy/node-problem-detector
// use only that release's fields and pass its Validate(); every rule's command line runs exactly
// as configured under the plugin contract (process group killed at the timeout, stdout trimmed
// and cut at max_output_length, exit 0 OK, 1 problem, else unknown); the patch for its DaemonSet
// validates, and its init container's command (in inotop's image) copies the single executable
// there, which runs the rules in a root with nothing else in it (no Node, no libc).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import fastJsonPatch from 'fast-json-patch';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { buildSnapshot } from '../../src/model/snapshot.js';
import { scan } from '../../src/scan/index.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { containerdSkipReason } from '../helpers/containerd.js';
import { BUSYBOX } from '../helpers/containerd/image.js';
import { eventually } from '../helpers/eventually.js';
import { startLeakedPodNode } from '../helpers/leaked-pod-node.js';
import { exeSkipReason, singleExecutable } from '../helpers/exe.js';
import { IMAGE_CONFIG, imageRoot } from '../../scripts/build-image.mjs';
import { rootSkip, Watcher } from '../helpers/inowatch.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const npdDir = join(repo, 'deploy/node-problem-detector');
const CONFIGS = ['inotify-limits-monitor.json', 'inotify-leaks-monitor.json'];
/** Where the configs expect inotop: the image's /opt/inotop, and the emptyDir there in the patched pod. */
const INSTALL_PATH = '/opt/inotop/bin/inotop';

// Fields of the custom plugin monitor at v1.36.0: CustomPluginConfig, pluginGlobalConfig and
// CustomRule in pkg/custompluginmonitor/types (json tags).
const RELEASED_FIELDS = {
  config: ['plugin', 'pluginConfig', 'source', 'conditions', 'rules', 'metricsReporting'],
  pluginConfig: ['invoke_interval', 'timeout', 'max_output_length', 'concurrency', 'enable_message_change_based_condition_update', 'skip_initial_status'],
  rule: ['type', 'condition', 'reason', 'path', 'args', 'timeout'],
  condition: ['type', 'reason', 'message'],
};
/** v1.36.0's defaults (ApplyConfiguration). */
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_OUTPUT_LENGTH = 80;

interface Rule {
  type: 'temporary' | 'permanent';
  condition?: string;
  reason: string;
  path: string;
  args?: string[];
  timeout?: string;
}

interface PluginConfig {
  plugin: string;
  pluginConfig: {
    invoke_interval?: string;
    timeout?: string;
    max_output_length?: number;
    concurrency?: number;
    enable_message_change_based_condition_update?: boolean;
  };
  source: string;
  conditions: { type: string; reason: string; message: string }[];
  rules: Rule[];
}

const readConfig = (name: string) => JSON.parse(readFileSync(join(npdDir, name), 'utf8')) as PluginConfig;

/** Go's time.ParseDuration, for the units a config uses (h, m, s, ms), in milliseconds. */
function goDuration(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  assert.equal(parts.map((p) => p[0]).join(''), text, `not a Go duration: ${text}`);
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * units[unit!]!, 0);
}

const globalTimeoutMs = (config: PluginConfig) => (config.pluginConfig.timeout ? goDuration(config.pluginConfig.timeout) : DEFAULT_TIMEOUT_MS);
/** plugin.run(): the rule's timeout when it is below the global one, else the global one. */
const ruleTimeoutMs = (config: PluginConfig, rule: Rule) => Math.min(rule.timeout ? goDuration(rule.timeout) : Infinity, globalTimeoutMs(config));

interface RuleResult {
  /** What node-problem-detector makes of it: 0 OK, 1 NonOK, 2 Unknown. */
  status: 0 | 1 | 2;
  exitCode: number | null;
  /** stdout, trimmed, before the cut at max_output_length. */
  output: string;
  timedOut: boolean;
  stderr: string;
}

/**
 * Runs `argv` as plugin.run() does at v1.36.0: in its own process group (Setpgid), the group
 * SIGKILLed at `timeoutMs`, stdout and stderr read to the end.
 */
function runAsPlugin(argv: string[], timeoutMs: number, env: NodeJS.ProcessEnv): Promise<RuleResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      const status = exitCode === 0 ? 0 : exitCode === 1 ? 1 : 2;
      resolve({ status, exitCode, output: stdout.trim(), timedOut, stderr });
    });
  });
}

/** The rule's own command line, with the install path mapped to this checkout's bin/inotop. */
function ruleArgv(rule: Rule): string[] {
  assert.equal(rule.path, INSTALL_PATH, 'every rule runs inotop where the patch puts it');
  return [inotopBin, ...(rule.args ?? [])];
}

/** node-problem-detector's environment here: `#!/usr/bin/env node` finds this Node. */
const pluginEnv = (): NodeJS.ProcessEnv => ({ PATH: `${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin` });

/** The contract every run must keep, whatever the node's state. */
function assertContract(config: PluginConfig, rule: Rule, result: RuleResult): void {
  const where = `${rule.reason}: ${JSON.stringify(result)}`;
  assert.equal(result.timedOut, false, `killed at the timeout: ${where}`);
  assert.ok(result.exitCode === 0 || result.exitCode === 1 || result.exitCode === 2, where);
  assert.ok(!result.output.includes('\n'), `one line: ${where}`);
  assert.ok(result.output.length > 0, `a message: ${where}`);
  const max = config.pluginConfig.max_output_length ?? DEFAULT_MAX_OUTPUT_LENGTH;
  // inotop fits the message itself: node-problem-detector's cut would land mid-word.
  assert.ok(Buffer.byteLength(result.output) <= max, `at most ${max} bytes: ${where}`);
}

before(() => ensureBuilt());

test('the plugin configs: only v1.36.0 fields, its Validate() passes, limits and leaks apart with their own intervals', () => {
  const configs = CONFIGS.map(readConfig);
  for (const [index, config] of configs.entries()) {
    const where = CONFIGS[index]!;
    for (const key of Object.keys(config)) assert.ok(RELEASED_FIELDS.config.includes(key), `${where}: ${key} is not in v1.36.0`);
    for (const key of Object.keys(config.pluginConfig))
      assert.ok(RELEASED_FIELDS.pluginConfig.includes(key), `${where}: pluginConfig.${key} is not in v1.36.0`);
    for (const condition of config.conditions) for (const key of Object.keys(condition)) assert.ok(RELEASED_FIELDS.condition.includes(key), `${where}: ${key}`);
    for (const rule of config.rules) {
      // A per-rule invoke_interval came after v1.36.0: that release ignores it without a word.
      for (const key of Object.keys(rule)) assert.ok(RELEASED_FIELDS.rule.includes(key), `${where}: rule field ${key} is not in v1.36.0`);
      assert.ok(['temporary', 'permanent'].includes(rule.type));
    }
    // Validate(): the custom plugin, no rule timeout above the global one, permanent rules with a default condition.
    assert.equal(config.plugin, 'custom');
    assert.ok(globalTimeoutMs(config) <= DEFAULT_TIMEOUT_MS);
    for (const rule of config.rules) {
      if (rule.timeout) assert.ok(goDuration(rule.timeout) <= globalTimeoutMs(config), `${where}: rule timeout above the global one is refused`);
      if (rule.type === 'permanent')
        assert.ok(
          config.conditions.some((c) => c.type === rule.condition),
          `${where}: ${rule.condition} has no default condition`,
        );
    }
    assert.equal(config.pluginConfig.max_output_length, DEFAULT_MAX_OUTPUT_LENGTH);
  }
  const [limits, leaks] = configs as [PluginConfig, PluginConfig];
  assert.notEqual(limits.source, leaks.source);
  assert.deepEqual(
    limits.rules.map((r) => [r.type, r.condition]),
    [['permanent', 'InotifyPressure']],
  );
  assert.deepEqual(
    leaks.rules.map((r) => [r.type, r.reason]),
    [['temporary', 'InotifyWatchesLeaked']],
  );
  // The limits are cheap (a scan) and a condition; leaks need paths and pods, an event now and then.
  assert.equal(goDuration(limits.pluginConfig.invoke_interval!), 60_000);
  assert.equal(goDuration(leaks.pluginConfig.invoke_interval!), 300_000);
  assert.ok(limits.rules[0]!.args!.includes('--fail-on-leaked=false'));
  // The condition's message follows the verdict (which user, how close): without the option,
  // node-problem-detector updates a condition only when its status changes, and keeps the first message.
  assert.equal(limits.pluginConfig.enable_message_change_based_condition_update, true);
  assert.ok(['--instances-threshold=off', '--watches-threshold=off', '--fail-on-leaked=true'].every((a) => leaks.rules[0]!.args!.includes(a)));
  // The README beside them names the release.
  assert.match(readFileSync(join(npdDir, 'README.md'), 'utf8'), /node-problem-detector v1\.36\.0/);
});

test('every rule, run exactly as configured: exit 0, 1 or 2 within its timeout, one line within max_output_length', async () => {
  for (const name of CONFIGS) {
    const config = readConfig(name);
    for (const rule of config.rules) {
      const result = await runAsPlugin(ruleArgv(rule), ruleTimeoutMs(config, rule), pluginEnv());
      assertContract(config, rule, result);
    }
  }
});

test('the plugin contract is enforced here as node-problem-detector enforces it: a slow rule is killed', async () => {
  const result = await runAsPlugin(['/bin/sh', '-c', 'sleep 5 & echo started; wait'], 300, pluginEnv());
  assert.equal(result.timedOut, true);
  assert.equal(result.status, 2);
});

test('the limits rule, as configured, reports a user at 90% of max_user_instances (the sysctl lowered, then restored)', { skip: rootSkip }, async (t) => {
  const config = readConfig('inotify-limits-monitor.json');
  const rule = config.rules[0]!;
  const watcher = new Watcher();
  t.after(() => watcher.stop());
  // Enough instances of root's that its use + 2 is still at least 90% of the limit.
  const rootInstances = () => buildSnapshot(scan(), null, null, 'none').users.find((u) => u.uid === 0 && u.userns === null)?.instances ?? 0;
  while (rootInstances() < 20) await watcher.init();
  const sysctl = '/proc/sys/fs/inotify/max_user_instances';
  const old = readFileSync(sysctl, 'utf8');
  const limit = rootInstances() + 2;
  let result: RuleResult;
  writeFileSync(sysctl, `${limit}\n`);
  try {
    result = await runAsPlugin(ruleArgv(rule), ruleTimeoutMs(config, rule), pluginEnv());
  } finally {
    writeFileSync(sysctl, old);
  }
  assertContract(config, rule, result);
  assert.equal(result.status, 1, JSON.stringify(result));
  assert.match(result.output, new RegExp(`^user root: \\d+/${limit} inotify instances`));
});

/** node-problem-detector's DaemonSet at v1.36.0 (deployment/node-problem-detector.yaml), the fields the patch relies on. */
function upstreamDaemonSet() {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'node-problem-detector', namespace: 'kube-system', labels: { app: 'node-problem-detector' } },
    spec: {
      selector: { matchLabels: { app: 'node-problem-detector' } },
      template: {
        metadata: { labels: { app: 'node-problem-detector' } },
        spec: {
          containers: [
            {
              name: 'node-problem-detector',
              command: [
                '/node-problem-detector',
                '--logtostderr',
                '--config.system-log-monitor=/config/kernel-monitor.json,/config/readonly-monitor.json,/config/docker-monitor.json',
              ],
              image: 'registry.k8s.io/node-problem-detector/node-problem-detector:v0.8.19',
              resources: { limits: { cpu: UPSTREAM_CPU, memory: UPSTREAM_MEMORY }, requests: { cpu: UPSTREAM_CPU, memory: UPSTREAM_MEMORY } },
              securityContext: { privileged: true },
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              volumeMounts: [
                { name: 'log', mountPath: '/var/log', readOnly: true },
                { name: 'kmsg', mountPath: '/dev/kmsg', readOnly: true },
                { name: 'localtime', mountPath: '/etc/localtime', readOnly: true },
                { name: 'config', mountPath: '/config', readOnly: true },
              ],
            },
          ],
          serviceAccountName: 'node-problem-detector',
          volumes: [
            { name: 'log', hostPath: { path: '/var/log/' } },
            { name: 'kmsg', hostPath: { path: '/dev/kmsg' } },
            { name: 'localtime', hostPath: { path: '/etc/localtime' } },
            { name: 'config', configMap: { name: 'node-problem-detector-config' } },
          ],
        },
      },
    },
  };
}

/** Upstream's resources for node-problem-detector's container (deployment/node-problem-detector.yaml): its own. */
const UPSTREAM_CPU = '10m';
const UPSTREAM_MEMORY = '80Mi';

interface Container {
  name: string;
  image: string;
  command: string[];
  resources: { limits: { cpu: string; memory: string }; requests: { cpu: string; memory: string } };
  env: { name: string; value?: string }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }[];
  securityContext: { capabilities?: { add?: string[] } };
}

function patchedDaemonSet() {
  const operations = parseYaml(readFileSync(join(npdDir, 'daemonset-patch.yaml'), 'utf8'));
  const patched = fastJsonPatch.applyPatch(upstreamDaemonSet(), operations, true, false).newDocument;
  return patched as unknown as {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- volumes as the patch writes them, probed field by field
    spec: { template: { spec: { hostPID: boolean; initContainers: Container[]; containers: Container[]; volumes: Record<string, any>[] } } };
  };
}

/** A Kubernetes quantity in bytes (Mi, Gi) or in cores (m). */
function quantity(text: string): number {
  const match = /^(\d+)(Mi|Gi|m)?$/.exec(text);
  assert.ok(match, `a quantity this test reads: ${text}`);
  const scale = { Mi: 2 ** 20, Gi: 2 ** 30, m: 1 / 1000 }[match[2] as 'Mi' | 'Gi' | 'm'] ?? 1;
  return Number(match[1]) * scale;
}

/**
 * Runs `argv` under runAsPlugin in a memory and CPU cgroup of its own (cgroup v1 or v2) with
 * `memoryBytes` and `cores` as limits: the rule's peak memory, and whether the kernel killed it.
 */
async function runInCgroup(
  argv: string[],
  timeoutMs: number,
  memoryBytes: number,
  cores: number,
): Promise<RuleResult & { peakBytes: number; oomKilled: boolean }> {
  const name = `inotop-npd-test-${process.pid}`;
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const dirs = v2 ? [join('/sys/fs/cgroup', name)] : [join('/sys/fs/cgroup/memory', name), join('/sys/fs/cgroup/cpu', name)];
  for (const dir of dirs) mkdirSync(dir);
  try {
    const period = 100_000;
    if (v2) {
      writeFileSync(join(dirs[0]!, 'memory.max'), String(memoryBytes));
      writeFileSync(join(dirs[0]!, 'cpu.max'), `${Math.round(cores * period)} ${period}`);
    } else {
      writeFileSync(join(dirs[0]!, 'memory.limit_in_bytes'), String(memoryBytes));
      writeFileSync(join(dirs[1]!, 'cpu.cfs_period_us'), String(period));
      writeFileSync(join(dirs[1]!, 'cpu.cfs_quota_us'), String(Math.round(cores * period)));
    }
    const joinAll = dirs.map((dir) => `echo $$ > '${dir}/cgroup.procs'`).join(' && ');
    const result = await runAsPlugin(['/bin/sh', '-c', `${joinAll} && exec "$@"`, 'sh', ...argv], timeoutMs, pluginEnv());
    const read = (file: string) => readFileSync(join(dirs[0]!, file), 'utf8');
    const peakBytes = Number(read(v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
    const oomKilled = v2 ? /^oom_kill [1-9]/m.test(read('memory.events')) : /^oom_kill [1-9]/m.test(read('memory.oom_control'));
    return { ...result, peakBytes, oomKilled };
  } finally {
    for (const dir of dirs) rmdirSync(dir);
  }
}

const daemonSetYaml = () =>
  parseAllDocuments(readFileSync(join(repo, 'deploy/daemonset.yaml'), 'utf8'))
    .map((doc) => doc.toJS())
    .find((doc) => doc.kind === 'DaemonSet');

test("the patch for node-problem-detector's DaemonSet: validates, and gives its container inotop, hostPID, the capabilities, the mounts, the configs", async () => {
  const patched = patchedDaemonSet();
  const { DaemonSet } = await import('kubernetes-models/apps/v1');
  assert.doesNotThrow(() => new DaemonSet(patched as never).validate());
  const pod = patched.spec.template.spec;
  assert.equal(pod.hostPID, true);
  const [init] = pod.initContainers;
  const npd = pod.containers[0]!;
  const inotopContainer = daemonSetYaml().spec.template.spec.containers[0];
  assert.equal(init!.image, inotopContainer.image, 'the same image as the DaemonSet');
  const shared = pod.volumes.find((v) => v.emptyDir)!;
  const mountOf = (container: Container, volume: string) => container.volumeMounts.find((m) => m.name === volume);
  assert.equal(mountOf(npd, shared.name)!.mountPath, '/opt/inotop');
  assert.equal(mountOf(npd, shared.name)!.readOnly, true);
  // What inotop's own DaemonSet grants, and its host mounts with the same propagation.
  assert.deepEqual(npd.securityContext.capabilities!.add, inotopContainer.securityContext.capabilities.add);
  const hostPaths = daemonSetYaml()
    .spec.template.spec.volumes.filter((v: { hostPath?: object }) => v.hostPath)
    .map((v: { name: string }) => v.name);
  for (const mount of inotopContainer.volumeMounts.filter((m: { name: string }) => hostPaths.includes(m.name))) {
    const ours = npd.volumeMounts.find((m) => m.mountPath === mount.mountPath);
    assert.deepEqual([ours?.readOnly, ours?.mountPropagation], [true, 'HostToContainer'], mount.mountPath);
  }
  const env = Object.fromEntries(npd.env.map((e) => [e.name, e.value]));
  assert.ok(env.PATH!.startsWith('/opt/inotop/bin:'));
  // Neither names the runtime's socket: inotop finds it among the runtime directories mounted above.
  assert.equal(env.CONTAINER_RUNTIME_ENDPOINT, undefined);
  assert.ok(!inotopContainer.env.some((e: { name: string }) => e.name === 'CONTAINER_RUNTIME_ENDPOINT'));
  for (const volume of daemonSetYaml().spec.template.spec.volumes.filter((v: { hostPath?: unknown }) => v.hostPath)) {
    assert.ok(
      pod.volumes.some((v) => JSON.stringify(v.hostPath) === JSON.stringify(volume.hostPath)),
      `${volume.hostPath.path} as the DaemonSet has it`,
    );
  }

  // The flag names both configs, at the ConfigMap's mount; kustomize makes that ConfigMap from the files.
  const flag = npd.command.find((arg) => arg.startsWith('--config.custom-plugin-monitor='))!;
  const paths = flag.slice(flag.indexOf('=') + 1).split(',');
  const configMount = npd.volumeMounts.find((m) => m.name === pod.volumes.find((v) => v.configMap?.name === 'inotop-node-problem-detector')!.name)!;
  assert.deepEqual(
    paths,
    CONFIGS.map((name) => join(configMount.mountPath, name)),
  );
  assert.ok(!configMount.mountPath.startsWith('/config/'), 'not inside the read-only /config mount');
  const kustomization = parseYaml(readFileSync(join(npdDir, 'kustomization.yaml'), 'utf8'));
  assert.deepEqual(kustomization.configMapGenerator, [{ name: 'inotop-node-problem-detector', files: CONFIGS }]);
  assert.equal(kustomization.patches[0].path, 'daemonset-patch.yaml');
  assert.equal(kustomization.patches[0].target.name, 'node-problem-detector');
  assert.match(kustomization.resources[0], /node-problem-detector\/\/deployment\?ref=v1\.36\.0$/);

  // The image's executable copies itself where the rules look for it.
  assert.deepEqual(init!.command, [IMAGE_CONFIG.Entrypoint[0], 'install', '--dest', join(mountOf(init!, shared.name)!.mountPath, 'bin')]);
  assert.equal(INSTALL_PATH, join(mountOf(npd, shared.name)!.mountPath, 'bin', 'inotop'));
});

/**
 * `argv` run by chroot into ROOT inside a new mount namespace, after `setup` (sh, run there first)
 * bound what the root needs into it: nothing it mounts is seen outside, nor left behind.
 */
function chrootArgv(setup: string[], root: string, env: Record<string, string>, argv: string[]): string[] {
  const environment = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const script = ['set -e', ...setup, 'exec /usr/bin/env -i "$@"'].join('\n');
  return ['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', ...environment, '/usr/sbin/chroot', root, ...argv];
}

const bind = (from: string, to: string, flags = '--bind') => `mount ${flags} '${from}' '${to}'`;

test(
  "node-problem-detector's container as patched has room for both rules at once, on a node with CRI and a leak: each runs within its share of the memory (the limit less upstream's own, halved) and the CPU limit, in its timeout",
  { skip: rootSkip || (containerdSkipReason() ?? false), timeout: 180_000 },
  async (t) => {
    const { resources } = patchedDaemonSet().spec.template.spec.containers[0]!;
    assert.equal(resources.requests.memory, resources.limits.memory, 'memory requested as limited: a node never overcommits it');
    const share = (quantity(resources.limits.memory) - quantity(UPSTREAM_MEMORY)) / 2;
    const cores = quantity(resources.limits.cpu);
    assert.ok(quantity(resources.requests.cpu) >= quantity(UPSTREAM_CPU) && cores > quantity(resources.requests.cpu));

    // The node: containerd answering CRI, kubelet watching two pods' volumes, one pod deleted while
    // a process stays in its mount namespace (a leak the leaks rule must name).
    const node = await startLeakedPodNode(t);
    await node.leak();
    // The rules as configured, pointed at this containerd where a node's would be found at its default socket.
    const onThisNode = node.podFlags;
    // Once a check outside the cgroup sees the leak, the rules are run inside it.
    await eventually(
      () => {
        const seen = spawnSync(process.execPath, [inotopBin, 'check', '--instances-threshold=off', '--watches-threshold=off', '--pods', 'cri', ...onThisNode], {
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.equal(seen.status, 1, seen.stdout + seen.stderr);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    for (const name of CONFIGS) {
      const config = readConfig(name);
      for (const rule of config.rules) {
        const result = await runInCgroup([...ruleArgv(rule), ...onThisNode], ruleTimeoutMs(config, rule), share, cores);
        assert.equal(result.oomKilled, false, `${rule.reason}: killed for memory at ${share} bytes`);
        assertContract(config, rule, result);
        assert.ok(result.peakBytes <= share, `${rule.reason}: peak ${result.peakBytes} bytes`);
        if (rule.args?.includes('--fail-on-leaked=true')) {
          assert.equal(result.status, 1, `${rule.reason}: the leak found: ${JSON.stringify(result)}`);
          assert.match(result.output, /leaked watch/, rule.reason);
        }
      }
    }
  },
);

test(
  "node-problem-detector's pod, as patched: the init container's copy runs every rule in a root with only busybox",
  { skip: rootSkip || (exeSkipReason('x64') ?? false), timeout: 300_000 },
  async (t) => {
    const pod = patchedDaemonSet().spec.template.spec;
    const init = pod.initContainers[0]!;
    const npd = pod.containers[0]!;
    const work = mkdtempSync(join(tmpdir(), 'inotop-npd-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const emptyDir = join(work, 'emptydir');
    mkdirSync(emptyDir);

    // The init container: inotop's image (build:image's root around the x64 single executable),
    // the emptyDir at its mount, /proc (the executable's launcher needs it); its command as written.
    const initRoot = join(work, 'init-root');
    imageRoot(initRoot, singleExecutable('x64'));
    mkdirSync(join(initRoot, init.volumeMounts[0]!.mountPath), { recursive: true });
    const initSetup = [bind('/proc', join(initRoot, 'proc'), '--rbind'), bind(emptyDir, join(initRoot, init.volumeMounts[0]!.mountPath))];
    const imageEnv = Object.fromEntries(IMAGE_CONFIG.Env.map((entry) => entry.split(/=(.*)/s).slice(0, 2)));
    const [unshare, ...initArgs] = chrootArgv(initSetup, initRoot, imageEnv, init.command);
    const installed = spawnSync(unshare!, initArgs, { encoding: 'utf8', timeout: 120_000 });
    assert.equal(installed.status, 0, installed.stderr);
    assert.match(installed.stdout, /^inotop copied to \/install/);

    // node-problem-detector's container: busybox (for /bin/sh and /usr/bin/env) and nothing else of
    // an OS, the emptyDir at /opt/inotop, the configs at their mount, the host's /proc (hostPID).
    const npdRoot = join(work, 'npd-root');
    const mountOf = (volume: string) => npd.volumeMounts.find((m) => m.name === volume)!.mountPath;
    const sharedMount = mountOf(pod.volumes.find((v) => v.emptyDir)!.name);
    const configMount = mountOf(pod.volumes.find((v) => v.configMap?.name === 'inotop-node-problem-detector')!.name);
    for (const dir of ['bin', 'usr/bin', 'proc', 'sys', 'dev', 'tmp', sharedMount.slice(1), configMount.slice(1)])
      mkdirSync(join(npdRoot, dir), { recursive: true });
    copyFileSync(BUSYBOX, join(npdRoot, 'bin/busybox'));
    for (const applet of ['sh', 'env']) symlinkSync('/bin/busybox', join(npdRoot, applet === 'env' ? 'usr/bin/env' : 'bin/sh'));
    for (const name of CONFIGS) copyFileSync(join(npdDir, name), join(npdRoot, configMount, name));
    // No libc, no loader, no Node: what runs comes from the copy.
    assert.deepEqual(readdirSync(npdRoot).sort(), ['bin', 'dev', 'etc', 'opt', 'proc', 'sys', 'tmp', 'usr']);
    assert.match(spawnSync('file', ['-L', BUSYBOX], { encoding: 'utf8' }).stdout, /statically linked/);
    const npdSetup = [
      ...['proc', 'sys', 'dev'].map((dir) => bind(`/${dir}`, join(npdRoot, dir), '--rbind')),
      bind(emptyDir, join(npdRoot, sharedMount)),
      `mount -o remount,bind,ro '${join(npdRoot, sharedMount)}'`,
    ];
    const npdEnv = Object.fromEntries(npd.env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));

    const flag = npd.command.find((arg) => arg.startsWith('--config.custom-plugin-monitor='))!;
    for (const path of flag.slice(flag.indexOf('=') + 1).split(',')) {
      const config = JSON.parse(readFileSync(join(npdRoot, path), 'utf8')) as PluginConfig;
      for (const rule of config.rules) {
        const inPod = await runAsPlugin(chrootArgv(npdSetup, npdRoot, npdEnv, [rule.path, ...(rule.args ?? [])]), ruleTimeoutMs(config, rule), {
          PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
        });
        assertContract(config, rule, inPod);
        // As on the host, for the same node (and the same runtime endpoint).
        const onHost = await runAsPlugin(ruleArgv(rule), ruleTimeoutMs(config, rule), {
          ...pluginEnv(),
          CONTAINER_RUNTIME_ENDPOINT: npdEnv.CONTAINER_RUNTIME_ENDPOINT,
        });
        assert.equal(inPod.status, onHost.status, `${rule.reason}: in the pod ${inPod.output}; on the host ${onHost.output}`);
        assert.equal(inPod.output.replace(/\d+%|<1%/g, 'N%'), onHost.output.replace(/\d+%|<1%/g, 'N%'));
      }
    }
  },
);
