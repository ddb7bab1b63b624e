// The resolve stage: each watch to a path and a mount, across mount namespaces.
export { Resolver, RefreshResolutions, type ResolverOptions } from './resolver.js';
export { parseMountinfo, type MountEntry } from './mountinfo.js';
