// The live pod list every source produces: from CRI's messages, and the pure parsers of crictl's
// and kubectl's JSON.

import { isPodUid } from './layouts.js';

export interface LivePod {
  /** The pod's uid as its source knows it (for a static pod from kubectl: the mirror pod's). */
  uid: string;
  namespace: string | null;
  name: string | null;
}

export interface LiveContainer {
  pod: LivePod;
  /** Container name; null for a sandbox. */
  name: string | null;
}

export interface PodList {
  /** Pods by every uid the node knows them by: their own and, for static pods, the config hash. */
  pods: Map<string, LivePod>;
  /** Containers and sandboxes by id. */
  containers: Map<string, LiveContainer>;
  /** Distinct pods (config-hash aliases not counted). */
  count: number;
}

/** Output a source printed but that is not what the format promises. */
export class FormatError extends Error {}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const HASH_ANNOTATION = 'kubernetes.io/config.hash';

class PodListBuilder {
  private readonly pods = new Map<string, LivePod>();
  private readonly containers = new Map<string, LiveContainer>();
  private count = 0;

  /** Adds a pod (once per uid) and returns the entry for it. */
  pod(uid: string, namespace: string | null, name: string | null): LivePod {
    const known = this.pods.get(uid);
    if (known) return known;
    const pod = { uid, namespace, name };
    this.pods.set(uid, pod);
    this.count++;
    return pod;
  }

  /** Another uid the same pod is known by on the node (a static pod's config hash). */
  alias(uid: string, pod: LivePod): void {
    if (isPodUid(uid) && !this.pods.has(uid)) this.pods.set(uid, pod);
  }

  container(id: string, pod: LivePod, name: string | null): void {
    if (id !== '') this.containers.set(id, { pod, name });
  }

  build(): PodList {
    return { pods: this.pods, containers: this.containers, count: this.count };
  }
}

/** The fields of a CRI PodSandbox a pod list needs: what cri/messages.ts decodes of one. */
export interface SandboxEntry {
  id: string;
  uid: string;
  namespace: string;
  name: string;
  annotations: Record<string, string>;
}

/** The fields of a CRI Container a pod list needs: what cri/messages.ts decodes of one. */
export interface ContainerEntry {
  id: string;
  podSandboxId: string;
  /** metadata.name */
  name: string;
  labels: Record<string, string>;
}

/**
 * What the runtime says over CRI (ListPodSandbox, ListContainers). Every sandbox listed counts as
 * live, ready or not: a NotReady sandbox is also what a completed pod that still exists looks
 * like, and kubelet removes the sandboxes of deleted pods soon after. A container finds its pod
 * by kubelet's io.kubernetes.pod.* labels or, without them, by its sandbox. Runtime dirs and
 * container cgroups are named by these ids: that is how they resolve to their pod.
 */
export function podListFromCri(sandboxes: readonly SandboxEntry[], containers: readonly ContainerEntry[]): PodList {
  const list = new PodListBuilder();
  const bySandbox = new Map<string, LivePod>();
  for (const sandbox of sandboxes) {
    if (sandbox.uid === '') continue;
    const pod = list.pod(sandbox.uid, orNull(sandbox.namespace), orNull(sandbox.name));
    bySandbox.set(sandbox.id, pod);
    list.container(sandbox.id, pod, null);
    const hash = sandbox.annotations[HASH_ANNOTATION];
    if (hash !== undefined) list.alias(hash, pod);
  }
  for (const container of containers) {
    const labels = container.labels;
    const uid = labels['io.kubernetes.pod.uid'];
    const pod = uid
      ? list.pod(uid, orNull(labels['io.kubernetes.pod.namespace']), orNull(labels['io.kubernetes.pod.name']))
      : bySandbox.get(container.podSandboxId);
    if (pod === undefined) continue;
    list.container(container.id, pod, orNull(labels['io.kubernetes.container.name']) ?? orNull(container.name));
  }
  return list.build();
}

/**
 * `crictl pods -o json` and `crictl ps -a -o json`: the same CRI messages as protojson
 * (lowerCamelCase keys, enums as names, int64 as strings, empty fields left out).
 */
export function parseCrictl(podsJson: string, containersJson: string): PodList {
  const sandboxes = arrayField(parseObject(podsJson, 'crictl pods'), 'items', 'crictl pods').map((sandbox): SandboxEntry => {
    const metadata = objectField(sandbox, 'metadata');
    return {
      id: stringField(sandbox, 'id') ?? '',
      uid: stringField(metadata, 'uid') ?? '',
      namespace: stringField(metadata, 'namespace') ?? '',
      name: stringField(metadata, 'name') ?? '',
      annotations: stringMap(objectField(sandbox, 'annotations')),
    };
  });
  const containers = arrayField(parseObject(containersJson, 'crictl ps'), 'containers', 'crictl ps').map((container): ContainerEntry => ({
    id: stringField(container, 'id') ?? '',
    podSandboxId: stringField(container, 'podSandboxId') ?? '',
    name: stringField(objectField(container, 'metadata'), 'name') ?? '',
    labels: stringMap(objectField(container, 'labels')),
  }));
  return podListFromCri(sandboxes, containers);
}

/**
 * `kubectl get pods -A --field-selector spec.nodeName=NODE -o json`. A static pod appears as its
 * mirror pod, whose uid differs from the one on the node: the node's (the config hash) is in the
 * kubernetes.io/config.mirror annotation. Terminating and finished pods still exist: live.
 */
export function parseKubectl(json: string): PodList {
  const list = new PodListBuilder();
  for (const item of arrayField(parseObject(json, 'kubectl'), 'items', 'kubectl')) {
    const metadata = objectField(item, 'metadata');
    const uid = stringField(metadata, 'uid');
    if (uid === null) continue;
    const pod = list.pod(uid, stringField(metadata, 'namespace'), stringField(metadata, 'name'));
    const annotations = objectField(metadata, 'annotations');
    for (const key of [MIRROR_ANNOTATION, HASH_ANNOTATION]) {
      const hash = stringField(annotations, key);
      if (hash !== null) list.alias(hash, pod);
    }
    const status = objectField(item, 'status');
    for (const field of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
      for (const container of optionalArray(status, field)) {
        // "containerd://<id>", "cri-o://<id>", "docker://<id>"
        const id = stringField(container, 'containerID')?.replace(/^[a-z-]+:\/\//, '');
        if (id !== undefined) list.container(id, pod, stringField(container, 'name'));
      }
    }
  }
  return list.build();
}

/** The kubelet's pod dirs: uids only, no names. */
export function podListFromUids(uids: Iterable<string>): PodList {
  const list = new PodListBuilder();
  for (const uid of uids) if (isPodUid(uid)) list.pod(uid, null, null);
  return list.build();
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseObject(text: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${what}: invalid JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new FormatError(`${what}: expected a JSON object`);
  return value;
}

/** A list field; protojson leaves an empty list out altogether. */
function arrayField(object: JsonObject, key: string, what: string): JsonObject[] {
  const value = object[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new FormatError(`${what}: "${key}" is not a list`);
  return value.filter(isObject);
}

function optionalArray(object: JsonObject, key: string): JsonObject[] {
  const value = object[key];
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function objectField(object: JsonObject, key: string): JsonObject {
  const value = object[key];
  return isObject(value) ? value : {};
}

function stringField(object: JsonObject, key: string): string | null {
  const value = object[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

function stringMap(object: JsonObject): Record<string, string> {
  return Object.fromEntries(Object.entries(object).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** CRI leaves an unset string empty. */
function orNull(value: string | undefined): string | null {
  return value ? value : null;
}
