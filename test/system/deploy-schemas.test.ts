// Every Kubernetes object under deploy/ against the official schemas: kubernetes-models ships
// validators generated from Kubernetes' OpenAPI spec (this version has the 1.34 fields), compiled
// with ajv (types, enums, required fields; those schemas do not refuse unknown fields). Then what
// the manifests must say for an operator: Pod Security, Linux nodes only, a priority class that
// exists, AppArmor as a field.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const deploy = fileURLToPath(new URL('../../deploy', import.meta.url));

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/**
 * Inputs of tools that are never sent to an API server: kustomize's kustomization, and krew's
 * plugin manifest (test/system/kubectl-inotop.test.ts checks it as krew does).
 */
const NOT_API_OBJECTS = ['kustomize.config.k8s.io/', 'krew.googlecontainertools.github.com/'];

/** Every document with apiVersion and kind, by file: Prometheus rule files and JSON patches have neither. */
function kubeObjects(): { file: string; object: KubeObject }[] {
  return yamlFiles(deploy).flatMap((path) =>
    parseAllDocuments(readFileSync(path, 'utf8')).flatMap((doc) => {
      assert.deepEqual(doc.errors, [], path);
      const object = doc.toJS() as KubeObject | null;
      return object && object.apiVersion && object.kind && !NOT_API_OBJECTS.some((prefix) => object.apiVersion.startsWith(prefix))
        ? [{ file: relative(deploy, path), object }]
        : [];
    }),
  );
}

type Model = new (data: unknown) => { validate(): void };

/**
 * The model of an apiVersion and kind: Kubernetes' own from kubernetes-models, the Prometheus
 * Operator's (its CRDs' OpenAPI schemas) from @kubernetes-models/prometheus-operator.
 */
async function modelOf(apiVersion: string, kind: string): Promise<Model | undefined> {
  const module = apiVersion.startsWith('monitoring.coreos.com/') ? `@kubernetes-models/prometheus-operator/${apiVersion}` : `kubernetes-models/${apiVersion}`;
  return ((await import(module)) as Record<string, Model>)[kind];
}

test("every Kubernetes object under deploy/ validates against the official schema (the Operator's CRDs for its kinds)", async () => {
  const objects = kubeObjects();
  assert.ok(objects.length >= 6, `found ${objects.length}`);
  for (const { file, object } of objects) {
    const where = `${file}: ${object.kind} ${object.metadata?.name}`;
    const Model = await modelOf(object.apiVersion, object.kind);
    assert.ok(Model, `${where}: no schema for ${object.apiVersion} ${object.kind}`);
    assert.doesNotThrow(() => new Model(object).validate(), where);
  }
});

test('a wrong object fails: the validation is real', async () => {
  const { DaemonSet } = await import('kubernetes-models/apps/v1');
  const daemonSet = kubeObjects().find((o) => o.object.kind === 'DaemonSet')!.object as unknown as {
    spec: { template: { spec: { containers: { imagePullPolicy?: string; ports: { containerPort: unknown }[] }[] } } };
  };
  const broken = structuredClone(daemonSet);
  broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'nineteen';
  assert.throws(() => new DaemonSet(broken as never).validate(), /containerPort/);
  const badPolicy = structuredClone(daemonSet);
  badPolicy.spec.template.spec.containers[0]!.imagePullPolicy = 'Sometimes';
  assert.throws(() => new DaemonSet(badPolicy as never).validate(), /imagePullPolicy/);
});

test('the DaemonSet as an operator expects: privileged Pod Security namespace, Linux nodes, its priority class, AppArmor field only', () => {
  const objects = kubeObjects().map((o) => o.object);
  const namespace = objects.find((o) => o.kind === 'Namespace')!;
  assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
  const daemonSet = objects.find((o) => o.kind === 'DaemonSet') as KubeObject & {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a pod spec read back from YAML and probed field by field
    spec: { template: { metadata: KubeObject['metadata']; spec: Record<string, any> } };
  };
  assert.equal(daemonSet.metadata.namespace, namespace.metadata.name);
  const pod = daemonSet.spec.template.spec;
  assert.deepEqual(pod.nodeSelector, { 'kubernetes.io/os': 'linux' });
  const priority = objects.find((o) => o.kind === 'PriorityClass' && o.metadata.name === pod.priorityClassName);
  assert.ok(priority, `PriorityClass ${pod.priorityClassName} is in deploy/`);
  assert.ok((priority as unknown as { value: number }).value < 1_000_000_000, 'below the system-* classes');
  const annotations = Object.keys(daemonSet.spec.template.metadata.annotations ?? {});
  assert.deepEqual(
    annotations.filter((a) => a.startsWith('container.apparmor.security.beta.kubernetes.io/')),
    [],
    'no deprecated AppArmor annotation',
  );
  const container = pod.containers[0];
  assert.equal(container.securityContext.appArmorProfile.type, 'Unconfined');
  // The node name comes from the downward API and reaches serve's --node-name.
  assert.deepEqual(container.env.find((e: { name: string }) => e.name === 'NODE_NAME').valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
  assert.equal(container.args[container.args.indexOf('--node-name') + 1], '$(NODE_NAME)');
  assert.equal(container.livenessProbe.httpGet.path, '/-/healthy');
  assert.equal(container.readinessProbe.httpGet.path, '/-/ready');
});

test('the Dockerfile: a supported Node LTS, OCI labels, a .dockerignore', () => {
  const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
  // Node builds the single executable; the image itself is FROM scratch.
  const bases = [...dockerfile.matchAll(/^FROM node:(\d+)-/gm)].map((m) => Number(m[1]));
  assert.ok(bases.length === 1 && bases.every((major) => [22, 24, 26].includes(major)), `Node ${bases.join(', ')}`);
  assert.match(dockerfile, /^FROM scratch$/m);
  for (const label of ['title', 'description', 'version', 'licenses']) assert.match(dockerfile, new RegExp(`org\\.opencontainers\\.image\\.${label}=`), label);
  const ignore = readFileSync(join(deploy, '..', '.dockerignore'), 'utf8').split('\n');
  assert.ok(ignore.includes('*') && ignore.includes('!src/'));
  // Whatever the Dockerfile copies from the context must get through the .dockerignore.
  for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
    const top = source!.split('/')[0]!;
    assert.ok(
      ignore.some((line) => line === `!${source}` || line === `!${top}/` || line === `!${top}`),
      `${source} passes .dockerignore`,
    );
  }
});

test("tracing-patch.yaml: the node's tracefs, and --trace in place of the manifest's --no-trace; refused where the args changed", async () => {
  const daemonSet = kubeObjects().find((o) => o.object.kind === 'DaemonSet')!.object as unknown as {
    spec: { template: { spec: { containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string }[] } } };
  };
  const patch = parseYaml(readFileSync(join(deploy, 'tracing-patch.yaml'), 'utf8')) as Operation[];
  const patched = fastJsonPatch.applyPatch(structuredClone(daemonSet), patch, true, false).newDocument;
  const [before] = daemonSet.spec.template.spec.containers;
  const [after] = patched.spec.template.spec.containers;
  // The DaemonSet has no tracefs: it does not ask for tracing, so that InotopTraceOff stays quiet.
  assert.ok(before!.args.includes('--no-trace'));
  assert.deepEqual(
    after!.args,
    before!.args.map((arg) => (arg === '--no-trace' ? '--trace' : arg)),
  );
  assert.deepEqual(
    after!.volumeMounts.find((m) => m.name === 'tracefs'),
    { name: 'tracefs', mountPath: '/sys/kernel/tracing' },
  );
  const { DaemonSet } = await import('kubernetes-models/apps/v1');
  assert.doesNotThrow(() => new DaemonSet(patched as never).validate());
  // Args changed since: the patch fails rather than replacing another argument.
  const changed = structuredClone(daemonSet);
  changed.spec.template.spec.containers[0]!.args = changed.spec.template.spec.containers[0]!.args.filter((arg) => arg !== '--no-trace');
  assert.throws(() => fastJsonPatch.applyPatch(changed, patch, true, false), /Test operation failed/);
});

test("the Prometheus Operator: the PrometheusRule holds the rules file's groups, the PodMonitor scrapes the DaemonSet as the alerts expect", async () => {
  const objects = kubeObjects().map((o) => o.object);
  const rule = objects.find((o) => o.kind === 'PrometheusRule') as KubeObject & { spec: { groups: unknown } };
  const rulesFile = parseYaml(readFileSync(join(deploy, 'prometheus/inotify-rules.yaml'), 'utf8')) as { groups: unknown };
  assert.deepEqual(rule.spec.groups, rulesFile.groups, 'one source: the rules file');

  const daemonSet = objects.find((o) => o.kind === 'DaemonSet') as KubeObject & {
    spec: { template: { metadata: KubeObject['metadata']; spec: { containers: { ports: { name: string }[] }[] } } };
  };
  const monitor = objects.find((o) => o.kind === 'PodMonitor') as KubeObject & {
    spec: {
      selector: { matchLabels: Record<string, string> };
      namespaceSelector: { matchNames: string[] };
      jobLabel: string;
      podMetricsEndpoints: { port: string; honorLabels: boolean; relabelings: { sourceLabels: string[]; targetLabel: string }[] }[];
    };
  };
  const podLabels = daemonSet.spec.template.metadata.labels!;
  for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(podLabels[key], value, `selects the DaemonSet's pods: ${key}`);
  assert.deepEqual(monitor.spec.namespaceSelector.matchNames, [daemonSet.metadata.namespace]);
  assert.equal(monitor.metadata.namespace, daemonSet.metadata.namespace);
  // The alerts read up{job="inotop"} and name its node.
  assert.equal(podLabels[monitor.spec.jobLabel], 'inotop');
  assert.match(readFileSync(join(deploy, 'prometheus/inotify-rules.yaml'), 'utf8'), /up\{job="inotop"\}/);
  const [endpoint] = monitor.spec.podMetricsEndpoints;
  const ports = daemonSet.spec.template.spec.containers[0]!.ports;
  assert.ok(
    ports.some((port) => port.name === endpoint!.port),
    `port ${endpoint!.port} is the container's`,
  );
  assert.deepEqual(endpoint!.relabelings, [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }]);
  assert.equal(endpoint!.honorLabels, true, "inotop's own node label kept, not renamed exported_node");

  // The CRD schemas refuse what the Operator refuses.
  const BadRule = (await modelOf('monitoring.coreos.com/v1', 'PrometheusRule'))!;
  const badRule = structuredClone(rule) as unknown as { spec: { groups: { rules: { for?: string }[] }[] } };
  badRule.spec.groups[0]!.rules[0]!.for = '5 minutes';
  assert.throws(() => new BadRule(badRule).validate(), /for/);
  const BadMonitor = (await modelOf('monitoring.coreos.com/v1', 'PodMonitor'))!;
  const badMonitor = structuredClone(monitor) as unknown as { spec: { podMetricsEndpoints: { interval: string }[] } };
  badMonitor.spec.podMetricsEndpoints[0]!.interval = 'half a minute';
  assert.throws(() => new BadMonitor(badMonitor).validate(), /interval/);
});
