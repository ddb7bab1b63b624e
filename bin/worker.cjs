// A worker thread whose script the npm package holds as one CommonJS script (src/package-files.ts
// startWorker: the scan's second thread, dist/scan/worker.cjs, named in the worker's argv), run as
// bin/inotop runs the CLI's: with V8's code of it that the build made under this Node beside it
// (bin/launch.cjs codeCacheFile), compiled where there is none (another Node) or V8 rejects it.
// The thread runs its first line some 50 ms after it is asked for, most of it Node's own start of
// a thread; compiling the script and the functions its reading first runs are a few ms of the rest.
// The build's warm run (scripts/code-cache.mjs) names a second file: V8's code of the script as it
// is once the script has run, written there.
'use strict';
const { existsSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { basename, dirname } = process.getBuiltinModule('node:path');
const { codeCacheFile, loadBundle } = module.require('./launch.cjs');

const [scriptFile, keepCodeAt] = process.argv.slice(2);
const cacheFile = codeCacheFile(dirname(scriptFile), basename(scriptFile, '.cjs'));
const { script } = loadBundle(keepCodeAt === undefined && existsSync(cacheFile) ? cacheFile : undefined, scriptFile);
if (keepCodeAt !== undefined) writeFileSync(keepCodeAt, script.createCachedData());
