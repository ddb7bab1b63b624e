// The node a procfs root belongs to: every other file of it (passwd, pod logs) is read under the
// same root, so that a recorded tree (DIR/proc beside DIR/etc, DIR/var) is read as a whole and
// never mixed with the live node's files.
import { dirname, join } from 'node:path';

/** "/" for the live /proc; the directory that holds it otherwise (/host for /host/proc). */
export function nodeRootOf(procRoot: string): string {
  const normalized = procRoot.replace(/\/+$/, '') || '/';
  return normalized === '/proc' ? '/' : dirname(normalized);
}

/** A node path (absolute, as on the node) under the node of `procRoot`. */
export function nodePath(procRoot: string, path: string): string {
  return join(nodeRootOf(procRoot), path);
}
