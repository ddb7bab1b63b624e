// The commit a build is made from, for `inotop --version`: esbuild defines INOTOP_COMMIT with it
// (src/version.ts). "" outside a git checkout (a build from the npm tarball, a docker build).
// INOTOP_VERSION beside it, package.json's: read at build time, not by every start.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function gitCommit(cwd) {
  const git = (...args) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}-dirty`;
  } catch {
    return '';
  }
}

/** esbuild's `define` for the commit and the version of the package at `cwd`. */
export function buildDefine(cwd) {
  const { version } = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
  return { INOTOP_COMMIT: JSON.stringify(gitCommit(cwd)), INOTOP_VERSION: JSON.stringify(version) };
}
