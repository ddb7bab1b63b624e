// The flags every command that scans shares (inotop, check, serve): where /proc is and where the
// live pod list comes from. They live below cli/, check/ and serve/, so each means the same everywhere.
import type { CollectorOptions } from '../collect/collector.js';
import { DEFAULT_KUBELET_ROOT, POD_SOURCE_KINDS, podSourceOptions, type PodSourceKind } from '../pods/index.js';
import { oneOf, type FlagSpec, type ParsedFlags } from './flags.js';

/** What a refresh needs of the node flags. */
export type NodeOptions = Omit<CollectorOptions, 'intervalSeconds' | 'record'>;

export const NODE_FLAGS: readonly FlagSpec[] = [
  { long: 'proc', value: 'DIR', help: 'procfs root to scan (default /proc)', complete: 'directory' },
  { long: 'pods', value: 'SOURCE', help: `live pod list from ${POD_SOURCE_KINDS.join(', ')} (default auto)`, complete: { words: POD_SOURCE_KINDS } },
  {
    long: 'runtime-endpoint',
    value: 'unix:///SOCK',
    help: 'container runtime CRI socket (default: $CONTAINER_RUNTIME_ENDPOINT, /etc/crictl.yaml, the usual sockets)',
  },
  { long: 'crictl', value: 'PATH', help: 'crictl binary (default: from PATH)', complete: 'file' },
  { long: 'kubectl', value: 'PATH', help: 'kubectl binary (default: from PATH)', complete: 'file' },
  { long: 'kubelet-root', value: 'DIR', help: `kubelet root directory (default ${DEFAULT_KUBELET_ROOT})`, complete: 'directory' },
  {
    long: 'node',
    // The DaemonSet of inotop 0.1 (deploy/daemonset.yaml) gives serve --node-name.
    aliases: ['node-name'],
    value: 'NAME',
    help: "this node's name: the kubectl pod source's, and serve's node label (default: hostname)",
  },
  { long: 'force-walk', help: 'resolve paths by walking mounts, never by file handle' },
  { long: 'trace', defaultOn: true, help: 'do not trace failed inotify calls (tracefs)' },
];

export function nodeOptions(flags: ParsedFlags): NodeOptions {
  return {
    procRoot: flags.string('proc') ?? '/proc',
    pods: podSourceOptions({
      kind: oneOf<PodSourceKind>('--pods', flags.string('pods') ?? 'auto', POD_SOURCE_KINDS),
      runtimeEndpoint: flags.string('runtime-endpoint'),
      crictlPath: flags.string('crictl'),
      kubectlPath: flags.string('kubectl'),
      kubeletRoot: (flags.string('kubelet-root') ?? DEFAULT_KUBELET_ROOT).replace(/\/+$/, '') || '/',
      nodeName: flags.string('node'),
    }),
    forceWalk: flags.boolean('force-walk') ?? false,
    trace: flags.boolean('trace') !== false,
  };
}

/** Plain data for the collector (and its worker thread). A one-shot run records nothing. */
export function collectorOptions(
  node: NodeOptions,
  refresh: { intervalSeconds: number; record: string | null; appendRecord?: boolean } = { intervalSeconds: 0, record: null },
): CollectorOptions {
  const { procRoot, pods, forceWalk, trace } = node;
  return { procRoot, pods, forceWalk, trace, ...refresh };
}
