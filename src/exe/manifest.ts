// What scripts/build-exe.mjs recorded about the single executable it made (the asset
// exe/build.json): the loader and libraries the launcher runs Node on, with the Debian packages
// they came from, the native modules carried, with the hash each must have, and the application
// script's hash (the key of V8's code kept for it, kept-code.ts).
import { readPackageFile } from '../package-files.js';

export interface BuildManifest {
  /** The dynamic loader first, then the libraries preloaded. */
  runtime: { file: string; package: string; version: string }[];
  addons: Record<string, { asset: string; sha256: string }>;
  app: { sha256: string };
}

let manifest: BuildManifest | undefined;

export function buildManifest(): BuildManifest {
  manifest ??= JSON.parse(readPackageFile('exe/build.json').toString('utf8')) as BuildManifest;
  return manifest;
}
