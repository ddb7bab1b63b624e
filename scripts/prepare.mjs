#!/usr/bin/env node
// npm's `prepare`: builds dist/ when inotop is installed from a checkout or from git. Packing
// (npm pack, npm publish) builds in `prepack` instead, so this does nothing then. Registry
// installs never run it: the tarball carries dist/.
//
// For a global install from git (npm install -g git+https://...), npm prepares the clone with
// a nested `npm install` that inherits --global and so installs no devDependencies: tsc is
// missing. Then this installs them into the clone first, and builds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = `${root}node_modules/typescript/bin/tsc`;

if (process.env.npm_command === 'pack' || process.env.npm_command === 'publish') process.exit(0);

if (!existsSync(tsc)) {
  if (process.env.npm_config_global !== 'true') {
    process.stderr.write('inotop: cannot build dist/: typescript is not installed (npm install --include=dev)\n');
    process.exit(1);
  }
  // Local to the clone, whatever the inherited global settings say.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_config_(global|prefix|location)$/i.test(name)));
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const args = ['install', '--prefix', root, '--include=dev', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund'];
  run(npm[0], [...npm.slice(1), ...args], env);
}
run(process.execPath, [tsc, '-p', `${root}tsconfig.json`], process.env);

function run(command, args, env) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
