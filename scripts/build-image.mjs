#!/usr/bin/env node
// npm run build:image: dist/exe/inotop-image.tar, inotop's image for amd64 and arm64 and the index
// of both, as an OCI image layout in a tar archive, made from the single executables (npm run
// build:exe first) without docker or a registry (scripts/oci-image.mjs). Each image's root holds
// the executable at /usr/local/bin/inotop, the kubectl plugin beside it, the xterm-256color
// terminfo for the screen, and the empty directories a runtime mounts onto; nothing else (no CA certificates: Node carries
// Mozilla's, for fleet's https). deploy/Dockerfile builds the same layout.
//
//   ctr -n k8s.io images import dist/exe/inotop-image.tar
//   skopeo copy --all oci-archive:dist/exe/inotop-image.tar docker://REGISTRY/inotop:VERSION
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gitCommit } from './commit.mjs';
import { EXE_DIR, executablePath } from './build-exe.mjs';
import { ARCHES, repo } from './npm-packages.mjs';
import { OCI_ARCH, writeOciArchive } from './oci-image.mjs';

const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

/** The image's name as kubelet asks containerd for it (daemonset.yaml's `inotop:VERSION`, normalized). */
export const IMAGE_REF = `docker.io/library/inotop:${pkg.version}`;
export const IMAGE_ARCHIVE = join(EXE_DIR, 'inotop-image.tar');
export const IMAGE_EXECUTABLE = '/usr/local/bin/inotop';
/** The kubectl plugin, for those who take it from the image (README: Deploying it). */
export const IMAGE_KUBECTL_PLUGIN = '/usr/local/bin/kubectl-inotop';

/** The run config deploy/Dockerfile's final stage gives too (a test compares them). */
export const IMAGE_CONFIG = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm-256color'],
  Entrypoint: [IMAGE_EXECUTABLE],
  Cmd: ['serve', '--web.listen-address', ':19742'],
  WorkingDir: '/',
  User: '0',
};

/** deploy/Dockerfile's labels. */
export function imageLabels(commit = gitCommit(repo)) {
  return {
    'org.opencontainers.image.title': 'inotop',
    'org.opencontainers.image.description': pkg.description,
    'org.opencontainers.image.version': pkg.version,
    'org.opencontainers.image.licenses': pkg.license,
    ...(commit ? { 'org.opencontainers.image.revision': commit } : {}),
  };
}

/** Lays out an image's root in `rootfs` around `executable`. */
export function imageRoot(rootfs, executable) {
  mkdirSync(join(rootfs, 'usr/local/bin'), { recursive: true });
  copyFileSync(executable, join(rootfs, IMAGE_EXECUTABLE));
  chmodSync(join(rootfs, IMAGE_EXECUTABLE), 0o755);
  copyFileSync(join(repo, 'deploy/kubectl-inotop'), join(rootfs, IMAGE_KUBECTL_PLUGIN));
  chmodSync(join(rootfs, IMAGE_KUBECTL_PLUGIN), 0o755);
  mkdirSync(join(rootfs, 'usr/share/terminfo/x'), { recursive: true });
  copyFileSync(join(repo, 'node_modules/blessed/usr/xterm-256color'), join(rootfs, 'usr/share/terminfo/x/xterm-256color'));
  for (const mountpoint of ['etc', 'proc', 'sys', 'dev', 'run', 'var']) mkdirSync(join(rootfs, mountpoint), { mode: 0o755 });
  // /var/run is /run, as on the node: inotop looks for CRI-O's socket at /var/run/crio/crio.sock.
  symlinkSync('/run', join(rootfs, 'var/run'));
  mkdirSync(join(rootfs, 'tmp'));
  chmodSync(join(rootfs, 'tmp'), 0o1777);
}

/** The archive of the images for `arches`; gzipped layers unless `gzip` is false (a test's: quicker). */
export function buildImage(arches = Object.keys(ARCHES), archive = IMAGE_ARCHIVE, { gzip = true } = {}) {
  const work = mkdtempSync(join(EXE_DIR, 'image-'));
  try {
    const commit = gitCommit(repo);
    const images = arches.map((arch) => {
      const executable = executablePath(arch);
      if (!existsSync(executable)) throw new Error(`${relative(repo, executable)} is missing: npm run build:exe first`);
      const rootfs = join(work, arch);
      imageRoot(rootfs, executable);
      return { arch: OCI_ARCH[arch], rootfs, config: { ...IMAGE_CONFIG, Labels: imageLabels(commit) } };
    });
    // Fixed times (SOURCE_DATE_EPOCH, else 1970): the same executables make the same archive.
    const mtime = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
    return writeOciArchive(archive, images, [IMAGE_REF], { gzip, mtime });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // --root DIR: only lay out the root of this machine's image in DIR (deploy/Dockerfile's build stage).
  const { values } = parseArgs({ options: { root: { type: 'string' } } });
  if (values.root !== undefined) {
    imageRoot(values.root, executablePath(process.arch));
  } else {
    const archive = buildImage();
    console.log(`${relative(repo, archive)}: ${(statSync(archive).size / 1e6).toFixed(1)} MB (${IMAGE_REF}, linux/amd64 and linux/arm64)`);
  }
}
