// Builds container images without a registry: a root filesystem tree made into one layer,
// written as an OCI image-layout tarball that `ctr images import` reads (scripts/oci-image.mjs,
// which writes the release image too).

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { OCI_ARCH, writeOciArchive } from '../../../scripts/oci-image.mjs';

export const BUSYBOX = '/bin/busybox';

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

/** Makes `rootfs` (files owned by root) the one layer of an image for this machine; returns `<dir>/image.tar`. */
export function writeOciImage(dir: string, rootfs: string, config: ImageRunConfig, refs: readonly string[]): string {
  const arch = OCI_ARCH[process.arch as keyof typeof OCI_ARCH];
  if (arch === undefined) throw new Error(`no OCI platform name for ${process.arch}`);
  return writeOciArchive(join(dir, 'image.tar'), [{ arch, rootfs, config }], [...refs]);
}
