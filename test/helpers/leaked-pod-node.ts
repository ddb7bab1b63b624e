// A node with a real leak, as check, npd and the screen meet it: containerd answering CRI, a
// process named kubelet watching two pods' volumes, and (leak()) one pod deleted while a process
// stays in its mount namespace. Everything stops when the test ends, whether it passed or not.
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { undoAtEnd } from './cleanup.js';
import { startContainerd, type Containerd, type HarnessPod } from './containerd.js';
import { KubeletWatcher } from './kubelet-watcher.js';

export interface LeakedPodNode {
  runtime: Containerd;
  kubeletRoot: string;
  web: HarnessPod;
  leaky: HarnessPod;
  /** inotop's flags for this node's pods: this containerd, where a node's would be found at its default socket. */
  podFlags: readonly string[];
  /** Deletes `leaky` while a process stays in its mount namespace: its token volume, etc-hosts and cgroup dir leak. */
  leak(): Promise<void>;
}

export async function startLeakedPodNode(t: TestContext): Promise<LeakedPodNode> {
  const runtime = await startContainerd();
  // The runtime's stop() also kills what stays in a pod's mount namespace.
  undoAtEnd(t, () => runtime.stop());
  const kubelet = await KubeletWatcher.start();
  undoAtEnd(t, () => kubelet.stop());
  const kubeletRoot = join(runtime.dir, 'kubelet');
  const web = await runtime.runPod({ name: 'web', namespace: 'shop', kubeletRoot });
  const leaky = await runtime.runPod({ name: 'leaky', namespace: 'shop', kubeletRoot });
  for (const pod of [web, leaky]) await kubelet.watchPod(pod);
  return {
    runtime,
    kubeletRoot,
    web,
    leaky,
    podFlags: ['--runtime-endpoint', runtime.endpoint, '--kubelet-root', kubeletRoot],
    leak: async () => {
      await runtime.holdMountNamespace(leaky);
      await runtime.deletePod(leaky);
    },
  };
}
