export {
  podFromPath,
  podRootDirs,
  podFromCgroups,
  shownCgroupPath,
  POD_LOG_ROOT,
  unescapeSystemd,
  pathFromUnitName,
  isPodUid,
  DEFAULT_KUBELET_ROOT,
  type PodIdentity,
} from './layouts.js';
export { parseCrictl, parseKubectl, podListFromCri, podListFromUids, type PodList, type LivePod, type LiveContainer } from './podlist.js';
export {
  PodSource,
  SourceError,
  podSourceOptions,
  DEFAULT_REFRESH_MS,
  DEFAULT_TIMEOUT_MS,
  POD_SOURCE_KINDS,
  type PodSourceKind,
  type PodSourceOptions,
} from './sources.js';
export { createAttribution, PodMemory, type AttributionDeps, type PodAttribution } from './attribute.js';
