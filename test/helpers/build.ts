// Tests that run the CLI run the compiled one, as a user would: build it once if sources changed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const inotopBin = join(repo, 'bin', 'inotop');

function newestMtime(dir: string, suffix: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, suffix));
    else if (entry.name.endsWith(suffix)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const dist = join(repo, 'dist');
  if (existsSync(dist) && newestMtime(dist, '.js') >= newestMtime(join(repo, 'src'), '.ts')) return;
  execFileSync(process.execPath, [join(repo, 'scripts', 'build.mjs')], { stdio: 'inherit' });
}
