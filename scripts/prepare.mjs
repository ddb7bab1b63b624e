#!/usr/bin/env node
// npm's `prepare`: `npm install` in a checkout builds dist/. Packing (npm pack, npm publish)
// builds afresh in `prepack` instead, so this does nothing then; registry installs never run
// `prepare` (the tarball carries dist/), so users' installs run no inotop script at all.
//
// Without esbuild (npm install --omit=dev) there is nothing to build with: say so and go on;
// bin/inotop explains the same when it is run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const esbuild = `${root}node_modules/esbuild/package.json`;

if (process.env.npm_command === 'pack' || process.env.npm_command === 'publish') process.exit(0);
if (!existsSync(esbuild)) {
  process.stderr.write('inotop: dist/ not built: esbuild is not installed (npm install --include=dev, then npm run build)\n');
  process.exit(0);
}
const result = spawnSync(process.execPath, [`${root}scripts/build.mjs`], { stdio: 'inherit' });
process.exit(result.status ?? 1);
