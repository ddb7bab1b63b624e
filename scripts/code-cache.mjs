#!/usr/bin/env node
// The build's last step (scripts/build.mjs runs it under the Node that builds): V8's code of
// dist/cli/inotop.cjs, written where bin/inotop looks for it under this Node (bin/launch.cjs:
// dist/cli/inotop-NODE-ARCH.cache). V8 keeps in a script's cache the functions compiled so far,
// so it is made after the one-shots have run once: --version, --json, -b and check, on the fixture
// node (fixtures/node-a; no process of this machine is read), without pods. A run under another
// Node finds no cache of its own and loads the ES modules (bin/inotop).
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { codeCacheFile, loadBundle } = createRequire(import.meta.url)('../bin/launch.cjs');
const fixture = join(root, 'fixtures/node-a/proc');
const none = ['--pods', 'none', '--proc', fixture];
const runs = [
  ['--version'],
  ...(existsSync(fixture)
    ? [
        ['--json', ...none],
        ['-b', ...none],
        ['check', '--no-trace', ...none],
      ]
    : []),
];

// The warm runs' output goes nowhere: build.mjs spawns this with stdout ignored.
const { exports, script } = loadBundle(undefined);
for (const argv of runs) await exports.runProgram(argv);
writeFileSync(codeCacheFile(), script.createCachedData());
// check's verdict (1 or 2 on the fixture node) is not the build's.
process.exitCode = 0;
