// How bin/inotop loads the compiled CLI (its core script and, when first imported, its parts), and
// how the build makes V8's code for it (scripts/code-cache.mjs): one place for the scripts' files,
// their caches' names and CommonJS's wrapper.
'use strict';
const { closeSync, existsSync, fstatSync, openSync, readSync } = process.getBuiltinModule('node:fs');
const { dirname, join } = process.getBuiltinModule('node:path');

const DIST_CLI = join(__dirname, '..', 'dist', 'cli');
/** The CLI as one CommonJS script (scripts/build.mjs), for V8's code cache. */
const BUNDLE = join(DIST_CLI, 'inotop.cjs');
/** What the CLI's parts require the core as (scripts/one-script.mjs): its registry of modules. */
const CORE_SCRIPT = './inotop.cjs';
/** The CLI as ES modules split in chunks: what runs when there is no code cache for this Node. */
const MODULES = join(DIST_CLI, 'program.js');

/**
 * V8's code of a script of the build's, `name`.cjs in `directory` (by default BUNDLE), after the
 * build's warm runs, made by this Node. V8 takes it only from the same V8 with the same flags: the
 * file is named for the Node that made it, so another Node does not read it at all. The single
 * executable keeps its own of BUNDLE under the same name in `directory` (src/exe/kept-code.ts);
 * the scan's second thread has its own beside its script (bin/worker.cjs).
 */
function codeCacheFile(directory = DIST_CLI, name = 'inotop') {
  return join(directory, `${name}-${process.version}-${process.arch}.cache`);
}

/**
 * CommonJS's wrapper, which the build writes around BUNDLE's code (scripts/one-script.mjs), and
 * inotopImport: import() from this file, for the packages the script imports. In the file, not
 * added at run time: V8 would copy the joined half a megabyte of source once more before taking
 * the code cache.
 */
const WRAPPER = ['(function (exports, require, module, __filename, __dirname, inotopImport) {', '\n})'];
const importFromHere = (specifier) => import(specifier);

/**
 * BUNDLE compiled with V8's code from `cacheFile` (undefined: none) and run (runBundle), its parts
 * (scripts/one-script.mjs buildSplitScript) read beside it when first required, each with V8's code
 * named as codeCacheFile names it for the part where there is such a file. The build writes the
 * scripts in ASCII only: read as latin1, their bytes are the string's as they are, where UTF-8
 * would decode them (some 2 ms of a start). Both files are read into one buffer, the script's
 * first: the cache's half a megabyte then lands on pages already touched, where a buffer of its own
 * would take some 120 page faults more (about 11 µs each on a virtual machine). Code made under
 * other V8 flags is not tried, in the core or a part (madeUnderTheseFlags): `otherFlags` says so of the core's.
 */
function loadBundle(cacheFile, bundle = BUNDLE) {
  const { source, cachedData, otherFlags } = readScript(bundle, cacheFile);
  return { ...runBundle(source, cachedData, bundle, { readPart: partBeside(bundle) }), otherFlags };
}

/** How a part of `bundle` is read: `name` (NAME.cjs) beside it, with V8's code made for this Node where the build made it (and V8's flags are the build's). */
function partBeside(bundle) {
  return (name) => {
    const file = join(dirname(bundle), name);
    const cacheFile = codeCacheFile(dirname(bundle), name.replace(/\.cjs$/, ''));
    return { ...readScript(file, existsSync(cacheFile) ? cacheFile : undefined), filename: file };
  };
}

/**
 * The script at `file` as a latin1 string and V8's code from `cacheFile` (undefined: none, or code
 * made under other V8 flags than this process runs with: `otherFlags`, not tried).
 */
function readScript(file, cacheFile) {
  const bundleFd = openSync(file, 'r');
  const cacheFd = cacheFile === undefined ? -1 : openSync(cacheFile, 'r');
  let source;
  let cachedData;
  try {
    const bundleBytes = fstatSync(bundleFd).size;
    const cacheBytes = cacheFd < 0 ? 0 : fstatSync(cacheFd).size;
    const buffer = Buffer.allocUnsafeSlow(Math.max(bundleBytes, cacheBytes));
    source = buffer.latin1Slice(0, readWhole(bundleFd, buffer, bundleBytes));
    if (cacheFd >= 0) cachedData = buffer.subarray(0, readWhole(cacheFd, buffer, cacheBytes));
  } finally {
    closeSync(bundleFd);
    if (cacheFd >= 0) closeSync(cacheFd);
  }
  const otherFlags = cachedData !== undefined && !madeUnderTheseFlags(cachedData);
  return { source, cachedData: otherFlags ? undefined : cachedData, otherFlags };
}

/** V8's code of an empty script, made under this process's flags when first needed (madeUnderTheseFlags). */
let flagsProbe;

/**
 * Whether V8 would take `code`, V8's code of a script, as to its flags (V8 takes code only under
 * the flags it was made with). Asked of each script of the build's before its code is tried, in
 * the npm package (readScript) and in the single executable (src/exe/main.ts, carried-scripts.ts):
 * code made under other flags is never handed to V8, and a start says so ("rejected by V8" then
 * means a damaged file). Handing it over would cost a compile all the same (V8 checks the flags
 * after compiling the script: as long as a compile without code), and the single executable would
 * then take the code it keeps from V8's in-process cache of that compile (src/exe/main.ts). Flags
 * reach a process only through NODE_OPTIONS and Node's own arguments (none in the single
 * executable, none from bin/inotop's #!): without either, no question (asking costs 0.05–0.4 ms,
 * once a process). V8's code begins with 4-byte words: a magic number, its version's hash, the
 * source's, the flags'; they are compared with those of an empty script's code made now. A wrong
 * guess (another layout) costs only a compile: V8 checks them itself.
 */
function madeUnderTheseFlags(code) {
  if (!process.env.NODE_OPTIONS && process.execArgv.length === 0) return true;
  flagsProbe ??= compileBundle('', undefined, 'flags').createCachedData();
  return code.length >= 16 && flagsProbe.subarray(0, 8).equals(code.subarray(0, 8)) && flagsProbe.subarray(12, 16).equals(code.subarray(12, 16));
}

/**
 * A script written as BUNDLE is (WRAPPER around it), at `filename` to stack traces, compiled with
 * V8's code `cachedData` (undefined: none) and run (runCompiled): its exports, and the script (the
 * build asks it for its code once warm; whether V8 took the code). A cache V8 rejects costs a
 * compile, not a failure. The single executable runs its packages' (src/exe/main.ts).
 */
function runBundle(source, cachedData, filename, packages = {}) {
  return runCompiled(compileBundle(source, cachedData, filename), filename, packages);
}

/** `source` compiled at `filename` with V8's code `cachedData` (undefined: none): script.cachedDataRejected says whether V8 took it. */
function compileBundle(source, cachedData, filename) {
  return new (process.getBuiltinModule('node:vm').Script)(source, { filename, cachedData });
}

/**
 * compileBundle's script run, with `require` and `importPackage` for the packages it requires and
 * imports (by default Node's, from this file: the package's node_modules are the same from bin/ as
 * from dist/cli/, and node:module's createRequire, some 0.5 ms of a start, is not loaded), and
 * `readPart` for its parts: its exports, the script, and the parts loaded so far (`parts`: each
 * one's exports and script, by what the scripts require it as; `requireScript`: require() as the
 * scripts have it). A part, required as './NAME.cjs' when an import() of its modules first runs,
 * is read (readPart(NAME.cjs): its source, V8's code or undefined, its filename), compiled and run
 * once, with the same require(); './inotop.cjs' (CORE_SCRIPT) is the core's registry of its
 * modules (inotopModules()), so that a part shares the core's. The single executable compiles
 * its application's with the first code V8 takes (src/exe/main.ts).
 */
function runCompiled(script, filename, packages = {}) {
  const { require: requirePackage = require, importPackage = importFromHere, readPart } = packages;
  const parts = new Map();
  const module = { exports: {} };
  const requireScript = (specifier) => {
    if (!specifier.startsWith('./')) return requirePackage(specifier);
    if (specifier === CORE_SCRIPT) return module.exports.inotopModules();
    let part = parts.get(specifier);
    if (part === undefined) {
      if (readPart === undefined) throw new Error(`Cannot find module '${specifier}' from ${filename}`);
      const { source, cachedData, filename: partFile } = readPart(specifier.slice(2));
      part = { exports: {}, script: compileBundle(source, cachedData, partFile) };
      // Before it runs: its exports are there to a part it requires that requires it back, as CommonJS's are.
      parts.set(specifier, part);
      part.script.runInThisContext()(part.exports, requireScript, part, partFile, dirname(partFile), importPackage);
    }
    return part.exports;
  };
  script.runInThisContext()(module.exports, requireScript, module, filename, dirname(filename), importPackage);
  return { exports: module.exports, script, parts, requireScript };
}

/** The first `bytes` of the file open at `fd` (a shorter file: what it has) into `buffer`: the count read. */
function readWhole(fd, buffer, bytes) {
  let read = 0;
  for (let n = -1; n !== 0 && read < bytes; read += n) n = readSync(fd, buffer, read, bytes - read, read);
  return read;
}

module.exports = { MODULES, WRAPPER, codeCacheFile, compileBundle, loadBundle, madeUnderTheseFlags, partBeside, runBundle, runCompiled };
