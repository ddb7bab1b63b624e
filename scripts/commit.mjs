// The commit a build is made from, for `inotop --version`: esbuild defines INOTOP_COMMIT with it
// (src/version.ts). "" outside a git checkout (a build from the npm tarball, a docker build).
import { execFileSync } from 'node:child_process';

export function gitCommit(cwd) {
  const git = (...args) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}-dirty`;
  } catch {
    return '';
  }
}

/** esbuild's `define` for it. */
export function commitDefine(cwd) {
  return { INOTOP_COMMIT: JSON.stringify(gitCommit(cwd)) };
}
