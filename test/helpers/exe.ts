// The single executables (npm run build:exe) and the image made of them (npm run build:image), for
// the tests that run them: each built once, and again only when something that goes into it
// changed, then shared by every test file (the build takes 20–40 s an architecture).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { executablePath, inputsChangedAt } from '../../scripts/build-exe.mjs';
import { buildImage } from '../../scripts/build-image.mjs';
import { toolPrefix, debianPackages } from '../../scripts/exe/runtime.mjs';
import { cacheDir, repo } from '../../scripts/npm-packages.mjs';

export type ExeArch = 'x64' | 'arm64';

/** Why the executable for `arch` cannot be built here, or null. */
export function exeSkipReason(arch: ExeArch): string | null {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64'))
    return `builds run on Linux x64 or arm64; this is ${process.platform} ${process.arch}`;
  for (const tool of [`${toolPrefix(arch)}gcc`, `${toolPrefix(arch)}objcopy`, 'readelf', 'dpkg-query']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is missing: the ${arch} build needs Debian's ${debianPackages(arch).join(' ')} (.ci/run installs them)`;
    }
  }
  return null;
}

/** dist/exe/inotop-linux-ARCH, built first when missing or older than its inputs. */
export function singleExecutable(arch: ExeArch): string {
  const path = executablePath(arch);
  if (!existsSync(path) || statSync(path).mtimeMs < inputsChangedAt()) {
    execFileSync(process.execPath, [join(repo, 'scripts', 'build-exe.mjs'), '--arch', arch], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return path;
}

/**
 * The image archive of both executables (uncompressed layers: quicker to write, and to import),
 * kept in the cache under a name of their sizes and times (and those of the image's other inputs), older
 * ones removed.
 */
export function imageArchive(): string {
  const executables = (['x64', 'arm64'] as const).map(singleExecutable);
  const key = createHash('sha256')
    .update(executables.map((path) => `${path}:${statSync(path).size}:${statSync(path).mtimeMs}`).join('\n'))
    .update(['scripts/build-image.mjs', 'deploy/kubectl-inotop'].map((file) => statSync(join(repo, file)).mtimeMs).join('\n'))
    .digest('hex')
    .slice(0, 16);
  mkdirSync(cacheDir, { recursive: true });
  const archive = join(cacheDir, `inotop-exe-image-${key}.tar`);
  if (existsSync(archive)) return archive;
  for (const name of readdirSync(cacheDir)) if (/^inotop-exe-image-.*\.tar$/.test(name)) rmSync(join(cacheDir, name), { force: true });
  return buildImage(['x64', 'arm64'], archive, { gzip: false });
}
