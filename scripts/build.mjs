#!/usr/bin/env node
// The build: src/ bundled by esbuild into dist/, one entry point for the CLI and one for each
// worker thread (the collector's, serve's password checks), the lazily loaded parts (the screen,
// check, serve, fleet, the CRI client) in chunks of their own. One module to link instead of fifty is most of a one-shot
// run's start-up. Dependencies stay outside the bundle (koffi and blessed load files of their
// own). Types are checked by `npm run typecheck` (tsc), not here. dist/exe (npm run build:exe)
// is left alone.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { commitDefine } from './commit.mjs';
import { WORKER_ENTRIES } from './entries.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const entry of existsSync(`${root}dist`) ? readdirSync(`${root}dist`, { withFileTypes: true }).filter((e) => e.name !== 'exe') : []) {
  rmSync(`${root}dist/${entry.name}`, { recursive: true, force: true });
}
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/program.ts', ...WORKER_ENTRIES.map((entry) => `src/${entry}.ts`)],
  outbase: 'src',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  define: commitDefine(root),
  logLevel: 'warning',
});
