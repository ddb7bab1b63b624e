// Where inotop's own files are (package.json, fixtures/, dist/): the nearest directory
// above this module's that holds a package.json. The module may run from src/ (tsx) or from a
// chunk of the bundle in dist/, at another depth, so the path is found, not spelled.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`inotop: no package.json above ${from}`);
  }
}

const ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the package, e.g. packagePath('fixtures/leaky-kubelet.jsonl.gz'). */
export function packagePath(relative: string): string {
  return join(ROOT, relative);
}
