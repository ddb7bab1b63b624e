// Builds container images without a registry: a root filesystem tree made into one layer,
// written as an OCI image-layout tarball that `ctr images import` reads.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUSYBOX = '/bin/busybox';

const OCI_PLATFORM_ARCH: Partial<Record<NodeJS.Architecture, string>> = { x64: 'amd64', arm64: 'arm64' };

interface Blob {
  digest: string;
  size: number;
}

/** The image config's `config` object (OCI image spec: Env, Entrypoint, Cmd, WorkingDir, User, Labels). */
export interface ImageRunConfig {
  Env: string[];
  Entrypoint: string[];
  Cmd: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
}

/** Puts a static busybox at <rootfs>/bin/busybox with a link for each of its applets beside it. */
export function installBusybox(rootfs: string): void {
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
}

/**
 * Writes `<dir>/image.tar` holding one image under every name in `refs` (e.g. the sandbox image
 * and the container image). The image's default command is `sleep infinity`, which is all a
 * pause container does that matters here: keep the pod's namespaces alive.
 */
export function buildBusyboxImage(dir: string, refs: readonly string[]): string {
  const rootfs = join(dir, 'rootfs');
  installBusybox(rootfs);
  // Mount points the runtime binds onto; runc would create them, but a real image has them.
  for (const mountpoint of ['etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, mountpoint), { recursive: true });
  return writeOciImage(dir, rootfs, { Env: ['PATH=/bin'], Entrypoint: ['/bin/sleep'], Cmd: ['infinity'] }, refs);
}

/** Makes `rootfs` (files owned by root) the one layer of an image; returns `<dir>/image.tar`. */
export function writeOciImage(dir: string, rootfs: string, config: ImageRunConfig, refs: readonly string[]): string {
  const arch = OCI_PLATFORM_ARCH[process.arch];
  if (arch === undefined) throw new Error(`no OCI platform name for ${process.arch}`);

  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const addBlob = (content: Buffer): Blob => {
    const digest = createHash('sha256').update(content).digest('hex');
    writeFileSync(join(blobs, digest), content);
    return { digest: `sha256:${digest}`, size: content.length };
  };

  const layerTar = join(dir, 'layer.tar');
  execFileSync('tar', ['--create', '--file', layerTar, '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '.']);
  // Uncompressed: the layer's digest is then also its diff_id, and there is nothing to unzip.
  const layer = addBlob(readFileSync(layerTar));
  const imageConfig = addBlob(
    json({
      architecture: arch,
      os: 'linux',
      config,
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    }),
  );
  const manifest = addBlob(
    json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...imageConfig },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    json({
      schemaVersion: 2,
      manifests: refs.map((ref) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...manifest,
        platform: { architecture: arch, os: 'linux' },
        // containerd takes the full name from its own annotation; the OCI one holds only a tag.
        annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.replace(/^.*:/, '') },
      })),
    }),
  );

  const image = join(dir, 'image.tar');
  execFileSync('tar', ['--create', '--file', image, '-C', layout, '.']);
  return image;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
