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
import { parseAllDocuments } from 'yaml';

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
 * Every document with apiVersion and kind, by file: Prometheus rule files and JSON patches have
 * neither, and a kustomization is kustomize's own input, never sent to an API server.
 */
function kubeObjects(): { file: string; object: KubeObject }[] {
  return yamlFiles(deploy).flatMap((path) =>
    parseAllDocuments(readFileSync(path, 'utf8')).flatMap((doc) => {
      assert.deepEqual(doc.errors, [], path);
      const object = doc.toJS() as KubeObject | null;
      return object && object.apiVersion && object.kind && !object.apiVersion.startsWith('kustomize.config.k8s.io/')
        ? [{ file: relative(deploy, path), object }]
        : [];
    }),
  );
}

test('every Kubernetes object under deploy/ validates against the official schema', async () => {
  const objects = kubeObjects();
  assert.ok(objects.length >= 4, `found ${objects.length}`);
  for (const { file, object } of objects) {
    const where = `${file}: ${object.kind} ${object.metadata?.name}`;
    const models = (await import(`kubernetes-models/${object.apiVersion}`)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = models[object.kind];
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
  const bases = [...dockerfile.matchAll(/^FROM node:(\d+)-/gm)].map((m) => Number(m[1]));
  assert.ok(bases.length === 2 && bases.every((major) => [22, 24, 26].includes(major)), `Node ${bases.join(', ')}`);
  for (const label of ['title', 'description', 'version', 'licenses']) assert.match(dockerfile, new RegExp(`org\\.opencontainers\\.image\\.${label}=`), label);
  const ignore = readFileSync(join(deploy, '..', '.dockerignore'), 'utf8').split('\n');
  assert.ok(ignore.includes('*') && ignore.includes('!src/') && ignore.includes('!bin/'));
  // Whatever the Dockerfile copies from the context must get through the .dockerignore.
  for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
    const top = source!.split('/')[0]!;
    assert.ok(
      ignore.some((line) => line === `!${source}` || line === `!${top}/` || line === `!${top}`),
      `${source} passes .dockerignore`,
    );
  }
});
