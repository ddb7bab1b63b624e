#!/usr/bin/env node
// The build: src/ bundled by esbuild into dist/, one entry point for the CLI and one for each
// worker thread (the collector's, serve's password checks), the lazily loaded parts (the screen,
// check, serve, fleet, the CRI client) in chunks of their own. One module to link instead of fifty is most of a one-shot
// run's start-up. Dependencies stay outside the bundle (koffi and blessed load files of their
// own). Types are checked by `npm run typecheck` (tsc), not here.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts', 'src/collect/worker.ts', 'src/serve/password-worker.ts'],
  outbase: 'src',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
