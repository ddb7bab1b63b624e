// A process named kubelet watching what the real one (with its cAdvisor) watches of each pod:
// the token volume's root, etc-hosts and the pod cgroup dir.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HarnessPod } from './containerd.js';
import { Watcher } from './inowatch.js';

/**
 * The pod's cgroup dir in one hierarchy: the v1 pids controller on a v1 or hybrid host, the
 * unified root on a v2 one.
 */
export function podCgroupDir(pod: HarnessPod): string {
  const dir = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup'].map((hierarchy) => join(hierarchy, pod.cgroupParent)).find((path) => existsSync(path));
  if (dir === undefined) throw new Error(`no cgroup dir of pod ${pod.name} (${pod.cgroupParent})`);
  return dir;
}

/** The wds of one pod's watches, and the cgroup dir watched (it is gone once the pod is). */
export interface PodWatches {
  tokenVolume: number;
  etcHosts: number;
  cgroup: number;
  cgroupDir: string;
}

export class KubeletWatcher {
  private readonly pods = new Map<string, PodWatches>();

  private constructor(
    private readonly watcher: Watcher,
    private readonly fd: number,
  ) {}

  static async start(): Promise<KubeletWatcher> {
    const watcher = new Watcher();
    try {
      await watcher.comm('kubelet');
      return new KubeletWatcher(watcher, await watcher.init());
    } catch (error) {
      await watcher.stop();
      throw error;
    }
  }

  get pid(): number {
    return this.watcher.pid;
  }

  /** Watches of a pod by what they watch. */
  watchesOf(pod: HarnessPod): PodWatches {
    const watches = this.pods.get(pod.uid);
    if (!watches) throw new Error(`pod ${pod.name} is not watched`);
    return watches;
  }

  async watchPod(pod: HarnessPod): Promise<PodWatches> {
    const cgroupDir = podCgroupDir(pod);
    const watches = {
      tokenVolume: await this.watcher.watch(this.fd, pod.tokenVolume),
      etcHosts: await this.watcher.watch(this.fd, pod.etcHosts),
      cgroup: await this.watcher.watch(this.fd, cgroupDir),
      cgroupDir,
    };
    this.pods.set(pod.uid, watches);
    return watches;
  }

  /**
   * The kernel keeps a watch on a removed cgroup dir (kernfs sends no IN_IGNORED): cAdvisor
   * removes it itself when it sees the dir go. A kubelet that does not, leaks it.
   */
  async forgetCgroup(pod: HarnessPod): Promise<void> {
    await this.watcher.send(`rm ${this.fd} ${this.watchesOf(pod).cgroup}`);
  }

  /** The wds the kernel still has in this instance (fdinfo; printed in hex). */
  liveWds(): number[] {
    const fdinfo = readFileSync(`/proc/${this.pid}/fdinfo/${this.fd}`, 'utf8');
    return [...fdinfo.matchAll(/^inotify wd:([0-9a-f]+) /gm)].map((match) => parseInt(match[1]!, 16));
  }

  stop(): Promise<void> {
    return this.watcher.stop();
  }
}
