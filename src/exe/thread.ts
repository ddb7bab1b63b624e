// A worker thread of the single executable whose script it carries as one CommonJS script (the
// scan's second thread: src/package-files.ts startWorker names the asset in the worker's argv), run
// as bin/worker.cjs runs the npm package's: with V8's code of it that the build made under the Node
// the executable carries (scripts/code-cache.mjs's warm thread), compiled without it where it was
// made under other V8 flags than NODE_OPTIONS gives (not tried: bin/launch.cjs madeUnderTheseFlags)
// or V8 rejects it. An ES module evaluated from its source, as the thread ran before, went
// through Node's ES module loader and compiled every function it ran.
import { carriedCodeToTry, runCarried } from './carried-scripts.js';

const [asset] = process.argv.slice(2);
if (asset === undefined) throw new Error('a thread of the single executable started without its script');
runCarried(asset, carriedCodeToTry(asset));
