#!/usr/bin/env node
// The build: src/ bundled by esbuild into dist/, the CLI and each worker thread (the collector's,
// serve's password checks) their own bundle (a worker is another isolate: it shares no module with
// the CLI), the lazily loaded parts (the screen, check, serve, fleet, recordings) in chunks of their own.
// Dependencies stay outside the bundle (koffi and blessed load files of their own). Types are
// checked by `npm run typecheck` (tsc), not here. dist/exe (npm run build:exe) is left alone.
//
// Start-up is mostly module loading: a one-shot run loads its entry and one chunk, not a dozen
// (entries.mjs's entryFirst). The CLI is also built as CommonJS scripts, a core dist/cli/inotop.cjs
// (what a one-shot runs) and the parts it loads lazily (dist/cli/PART.cjs: one-script.mjs
// buildSplitScript), with V8's code of each made by the Node that builds (code-cache.mjs):
// bin/inotop runs those under the same Node, the ES modules under any other. So is the scan's second thread's script
// (dist/scan/worker.cjs, bin/worker.cjs runs it), under any Node.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildDefine } from './commit.mjs';
import { COMMONJS_WORKERS, CORE_ENTRIES, entryFirst, WORKER_ENTRIES } from './entries.mjs';
import { buildSplitScript, oneScriptOptions, writeScript } from './one-script.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { codeCacheFile } = createRequire(import.meta.url)('../bin/launch.cjs');

const BUILTIN_IMPORT = /^import \{([^}]*)\} from '(node:[a-z_/]+)';$/gm;

/**
 * `import { a, b as c } from 'node:x'` as `const { a, b: c } = process.getBuiltinModule('node:x')`.
 * Node makes an ES module's import of a builtin through a facade that reads every one of its
 * exports, getters included: node:fs's stream classes and `promises` load Node's streams and
 * fs/promises that way, in every run. getBuiltinModule gives the CommonJS object, read only for
 * what is named. Imports come first in each file, so the constants are there before any use.
 */
function builtinsWithoutFacades() {
  return {
    name: 'builtins-without-facades',
    setup(plugin) {
      plugin.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        const contents = source.replace(BUILTIN_IMPORT, (_whole, names, module) => {
          const values = names
            .split(',')
            .map((name) => name.trim())
            .filter((name) => name !== '' && !name.startsWith('type '))
            .map((name) => name.replace(/\s+as\s+/, ': '));
          return values.length === 0 ? '' : `const { ${values.join(', ')} } = process.getBuiltinModule('${module}');`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}

for (const entry of existsSync(`${root}dist`) ? readdirSync(`${root}dist`, { withFileTypes: true }).filter((e) => e.name !== 'exe') : []) {
  rmSync(`${root}dist/${entry.name}`, { recursive: true, force: true });
}
const CLI_ENTRY = 'src/cli/program.ts';
const COMMON = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', packages: 'external', define: buildDefine(root), logLevel: 'warning' };
for (const entry of [CLI_ENTRY, ...WORKER_ENTRIES.filter((worker) => !COMMONJS_WORKERS.includes(worker)).map((worker) => `src/${worker}.ts`)]) {
  // Not the workers': the collector's entry awaits at its top level (the collector's start, which may import
  // the recording writer), and a lazy module that imported it would wait for it: a deadlock.
  const plugins = entry === CLI_ENTRY ? [entryFirst(`${root}${entry}`), builtinsWithoutFacades()] : [builtinsWithoutFacades()];
  await build({ ...COMMON, entryPoints: [entry], outbase: 'src', outdir: 'dist', chunkNames: 'chunks/[name]-[hash]', splitting: true, format: 'esm', plugins });
}
// Builtins from getBuiltinModule in the scripts too: CommonJS's require() of one goes through Node's
// module loader (its resolution hooks, its diagnostics channel) at every call, some 10 µs each once
// warm, where getBuiltinModule is a lookup.
const ONE_SCRIPT = { ...COMMON, ...oneScriptOptions(COMMON.define), plugins: [builtinsWithoutFacades()] };
// The workers that start as one CommonJS script (entries.mjs), written as the CLI's is, for V8's code cache.
for (const worker of COMMONJS_WORKERS) {
  const script = await build({ ...ONE_SCRIPT, entryPoints: [`src/${worker}.ts`], outfile: `dist/${worker}.cjs`, write: false });
  mkdirSync(dirname(script.outputFiles[0].path), { recursive: true });
  writeScript(script.outputFiles[0]);
}
// The CLI as a core script and lazily loaded parts (one-script.mjs buildSplitScript), each with V8's
// code of its own: a one-shot loads the core only. check comes with the core, as the ES modules'
// entry loads it with its subcommands' module.
const split = await buildSplitScript(
  ONE_SCRIPT,
  CORE_ENTRIES.map((entry) => `${root}${entry}`),
  `${root}dist/cli`,
);
for (const output of split.outputFiles) writeScript(output);
const cache = spawnSync(process.execPath, [`${root}scripts/code-cache.mjs`], { stdio: ['ignore', 'ignore', 'inherit'] });
if (cache.status !== 0) throw new Error(`scripts/code-cache.mjs exited ${cache.status ?? cache.signal}`);
// A warm run that ended the process (as only bin/inotop's may: src/signals.ts) would leave none, and every start compiling.
if (!existsSync(codeCacheFile())) throw new Error(`scripts/code-cache.mjs wrote no ${codeCacheFile()}`);
