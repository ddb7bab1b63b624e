// Container images without docker or a registry: root filesystem trees made into one layer each,
// written as an OCI image layout in a tar archive, which `ctr images import`, `skopeo copy
// oci-archive:…` and (unpacked) `crane push --index` read. Several platforms make a multi-arch
// index. The release image (npm run build:image) and the tests' images are written here.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  gzipLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

/** Node's architecture names in OCI's. */
export const OCI_ARCH = { x64: 'amd64', arm64: 'arm64' };

/**
 * Writes `archive`: one image per entry of `images` ({ arch: 'amd64' | 'arm64', rootfs: a
 * directory of files owned by root, config: the image config's `config` object: Env, Entrypoint,
 * Cmd, WorkingDir, User, Labels }), under every name in `refs` (e.g. "registry/inotop:0.1.0"). One
 * image is named directly; several are named through an index of them. Layers are gzipped when
 * `gzip` (a release: smaller to push and pull) and plain tar otherwise (a test: quicker); their
 * files carry `mtime` (seconds), so that the same trees make the same archive.
 */
export function writeOciArchive(archive, images, refs, { gzip = false, mtime = 0, created = new Date(mtime * 1000).toISOString() } = {}) {
  const work = mkdtempSync(`${archive}.layout-`);
  try {
    const blobs = join(work, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const addBlob = (content, mediaType) => {
      const digest = createHash('sha256').update(content).digest('hex');
      writeFileSync(join(blobs, digest), content);
      return { mediaType, digest: `sha256:${digest}`, size: content.length };
    };
    const manifests = images.map(({ arch, rootfs, config }) => {
      const layerTar = join(work, 'layer.tar');
      execFileSync('tar', ['--create', '--file', layerTar, '--sort=name', `--mtime=@${mtime}`, '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '.']);
      const tar = readFileSync(layerTar);
      rmSync(layerTar);
      // The diff_id is the digest of the uncompressed tar; a plain layer's digest is the same.
      const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
      const layer = gzip ? addBlob(gzipSync(tar, { level: 9 }), MEDIA.gzipLayer) : addBlob(tar, MEDIA.layer);
      const imageConfig = addBlob(json({ created, architecture: arch, os: 'linux', config, rootfs: { type: 'layers', diff_ids: [diffId] } }), MEDIA.config);
      const manifest = addBlob(json({ schemaVersion: 2, mediaType: MEDIA.manifest, config: imageConfig, layers: [layer] }), MEDIA.manifest);
      return { ...manifest, platform: { architecture: arch, os: 'linux' } };
    });
    const top = manifests.length === 1 ? manifests[0] : addBlob(json({ schemaVersion: 2, mediaType: MEDIA.index, manifests }), MEDIA.index);
    writeFileSync(join(work, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(work, 'index.json'),
      json({
        schemaVersion: 2,
        mediaType: MEDIA.index,
        manifests: refs.map((ref) => ({
          ...top,
          // containerd takes the full name from its own annotation; the OCI one holds only a tag.
          annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.replace(/^.*:/, '') },
        })),
      }),
    );
    execFileSync('tar', ['--create', '--file', archive, '--sort=name', `--mtime=@${mtime}`, '--owner=0', '--group=0', '--numeric-owner', '-C', work, '.']);
    return archive;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function json(value) {
  return Buffer.from(JSON.stringify(value));
}
