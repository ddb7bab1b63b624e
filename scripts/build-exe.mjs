#!/usr/bin/env node
// npm run build:exe [-- --arch x64 --arch arm64]: inotop as one file per architecture,
// dist/exe/inotop-linux-x64 and dist/exe/inotop-linux-arm64, that runs on a node with neither
// Node nor a libc of any kind.
//
// Each is a Node single executable application (node --build-sea) on the current LTS, from the npm
// registry's node-linux-ARCH (stripped of its symbols), whose main script is the bundle of
// src/exe/main.ts, one small CommonJS script: it runs the application from the assets. The application is the npm
// package's CLI scripts as one-script.mjs writes them, the core exe/app/inotop.cjs and its lazily
// loaded parts exe/app/PART.cjs, with V8's code of each after the build's warm runs (code-cache.mjs)
// under the Node the executable carries, exe/app/inotop.cache and exe/app/PART.cache (the other
// architecture's Node run under qemu-user: without it, that file carries none), and each package it requires as a script of its own, exe/app/packages/NAME.cjs. What
// inotop reads at run time travels as SEA assets too, under the paths package-files.ts reads:
// package.json, the demo recording, blessed's terminfo; and exe/collect/worker.mjs and
// exe/serve/password-worker.mjs (worker threads' bundles, ES modules), exe/scan/worker.cjs (the
// scan's second thread's script, written as the application's, with V8's code of it after its
// warm run, exe/scan/worker.cache, both run by the thread's bootstrap exe/thread.cjs), exe/koffi.node (koffi's native module for the architecture, from the registry's
// @koromix/koffi-linux-ARCH) and exe/build.json (what this script recorded). Then
// scripts/exe/elf.mjs gives the binary its launcher (scripts/exe/launcher.c) with Debian's dynamic
// loader and the libraries Node links against, so that the node's own libc is never used.
//
// Needs, besides npm: gcc and binutils for the machine's architecture, Debian's cross compiler
// and libraries for the other (.ci/run installs them), and tar; and for the other's V8 code,
// qemu-user (Debian's qemu-user-static; no binfmt_misc needed).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { basename, dirname, extname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { buildDefine } from './commit.mjs';
import { COMMONJS_WORKERS, CORE_ENTRIES, WORKER_ENTRIES } from './entries.mjs';
import { attachLauncher, ELF_MACHINES } from './exe/elf.mjs';
import { buildSplitScript, oneScriptOptions, writeScript } from './one-script.mjs';
import { buildLauncher, debianPackages, runtimeFiles, toolPrefix } from './exe/runtime.mjs';
import { ARCHES, extract, installedVersion, nodePackage, npmPackage, repo } from './npm-packages.mjs';

/** Where bundled CommonJS packages find their own files (src/exe/package-fs.ts answers reads there). */
const PACKAGE_INSIDE = '/proc/self/exe';
/** The package's files inotop reads at run time, carried under the same paths. */
const PACKAGE_ASSETS = [
  'package.json',
  'fixtures/leaky-kubelet.jsonl.gz',
  // blessed's fallbacks where the system has no terminfo for $TERM (a node's console is `linux`).
  'node_modules/blessed/usr/xterm-256color',
  'node_modules/blessed/usr/xterm',
  'node_modules/blessed/usr/linux',
];

export const EXE_DIR = join(repo, 'dist', 'exe');
const work = join(EXE_DIR, 'build');

export function executablePath(arch) {
  return join(EXE_DIR, `inotop-linux-${arch}`);
}

/**
 * The executable for `arch` as built, and the Node binary it was made from (its symbols intact),
 * or null when there is none (the bench compares the two; it builds and downloads nothing).
 */
export function builtExecutable(arch) {
  const path = executablePath(arch);
  if (!existsSync(path)) return null;
  const config = join(work, arch, 'sea-config.json');
  if (!existsSync(config)) return null;
  const node = JSON.parse(readFileSync(config, 'utf8')).executable.replace(/-stripped$/, '');
  return existsSync(node) ? { path, node } : null;
}

/** When anything that goes into the executables last changed (ms): sources, bin/launch.cjs, build scripts, dependencies, assets. */
export function inputsChangedAt() {
  const newest = (path) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return 0;
    if (!stat.isDirectory()) return stat.mtimeMs;
    return readdirSync(path).reduce((latest, entry) => Math.max(latest, newest(join(path, entry))), stat.mtimeMs);
  };
  return Math.max(...['src', 'bin', 'scripts', 'package.json', 'package-lock.json', ...PACKAGE_ASSETS].map((path) => newest(join(repo, path))));
}

async function main() {
  const { values } = parseArgs({ options: { arch: { type: 'string', multiple: true } } });
  const arches = values.arch ?? Object.keys(ARCHES);
  for (const arch of arches) if (!(arch in ARCHES)) throw new Error(`--arch ${arch}: one of ${Object.keys(ARCHES).join(', ')}`);
  for (const arch of arches) checkTools(arch);
  mkdirSync(work, { recursive: true });
  const started = performance.now();
  const bundles = await bundle();
  const builder = nodeBinary(process.arch, { strip: false });
  for (const arch of arches) {
    const code = applicationCode(arch, bundles);
    const output = buildExecutable(arch, bundles, builder, code.assets);
    console.log(`${relative(repo, output)}: ${(statSync(output).size / 1e6).toFixed(1)} MB, ${code.said}`);
  }
  console.log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function checkTools(arch) {
  const prefix = toolPrefix(arch);
  for (const tool of [`${prefix}gcc`, `${prefix}objcopy`, `${prefix}nm`, `${prefix}strip`, 'readelf', 'dpkg-query', 'tar']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} not found: the ${arch} build needs Debian's ${debianPackages(arch).join(' ')} (apt-get install; .ci/run does)`);
    }
  }
}

/**
 * The main script (src/exe/main.ts) and the worker threads, each one ES module with every
 * dependency in it; the application: the npm package's CLI script (src/cli/program.ts as
 * one-script.mjs writes it, its packages outside), and each package it requires as one CommonJS
 * script of its own, written the same way (the other packages outside), which src/exe/main.ts
 * runs when the application first requires it: a one-shot requires none.
 */
async function bundle() {
  const outdir = join(work, 'bundles');
  rmSync(outdir, { recursive: true, force: true });
  const common = {
    absWorkingDir: repo,
    bundle: true,
    platform: 'node',
    target: `node${NODE_TARGET}`,
    // blessed's terminal widget, which inotop never makes, requires these optional packages.
    external: ['term.js', 'pty.js'],
    define: { ...buildDefine(repo), INOTOP_PACKAGE_INSIDE: JSON.stringify(PACKAGE_INSIDE) },
    logLevel: 'warning',
  };
  const moduleWorkers = WORKER_ENTRIES.filter((entry) => !COMMONJS_WORKERS.includes(entry));
  await build({
    ...common,
    entryPoints: Object.fromEntries(moduleWorkers.map((entry) => [entry, `src/${entry}.ts`])),
    outdir,
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    // require() of Node's built-ins from the bundled CommonJS packages (from anywhere: they are built in).
    banner: { js: "import { createRequire as inotopCreateRequire } from 'node:module'; const require = inotopCreateRequire('/');" },
    plugins: [packageFiles()],
  });
  // The main script and the bootstrap of the CommonJS workers' threads: CommonJS, which Node runs
  // without its ES module loader, requiring its built-ins whole (an ES module's import of node:fs
  // goes through a facade that reads every export, and so loads Node's streams and fs/promises).
  await build({
    ...common,
    ...oneScriptOptions(common.define),
    entryPoints: { main: 'src/exe/main.ts', thread: 'src/exe/thread.ts' },
    outdir,
    outExtension: { '.js': '.cjs' },
    plugins: [packageFiles()],
  });
  // The CommonJS workers' scripts, written as the application's, for V8's code of each.
  const workerScripts = await build({
    ...common,
    ...oneScriptOptions(common.define),
    packages: 'external',
    entryPoints: Object.fromEntries(COMMONJS_WORKERS.map((entry) => [entry, `src/${entry}.ts`])),
    outdir,
    outExtension: { '.js': '.cjs' },
    write: false,
  });
  // The CLI's core and its parts, as the npm package's (one-script.mjs buildSplitScript).
  const cli = await buildSplitScript(
    { ...common, ...oneScriptOptions(common.define), packages: 'external' },
    CORE_ENTRIES.map((entry) => join(repo, entry)),
    join(outdir, 'app'),
  );
  const packages = [
    ...new Set(
      Object.values(cli.metafile.outputs)
        .flatMap((output) => output.imports)
        .filter(({ external, path }) => external && !isBuiltin(path))
        .map(({ path }) => path),
    ),
  ];
  const packageScripts = await build({
    ...common,
    ...oneScriptOptions(common.define),
    entryPoints: Object.fromEntries(packages.map((name) => [name, name])),
    outdir: join(outdir, 'app', 'packages'),
    outExtension: { '.js': '.cjs' },
    write: false,
    plugins: [packageFiles(), requiredAtRunTime(packages)],
  });
  const scripts = [...cli.outputFiles, ...packageScripts.outputFiles, ...workerScripts.outputFiles];
  for (const script of scripts) {
    mkdirSync(dirname(script.path), { recursive: true });
    writeScript(script);
  }
  return {
    main: join(outdir, 'main.cjs'),
    thread: join(outdir, 'thread.cjs'),
    workers: Object.fromEntries(WORKER_ENTRIES.map((entry) => [entry, join(outdir, `${entry}.${COMMONJS_WORKERS.includes(entry) ? 'cjs' : 'mjs'}`)])),
    app: cli.outputFiles[0].path,
    parts: cli.outputFiles.slice(1).map(({ path }) => path),
    packages: Object.fromEntries(packageScripts.outputFiles.map(({ path }) => [relative(join(outdir, 'app', 'packages'), path), path])),
  };
}

/** A package's script leaves out the other packages the application requires: src/exe/main.ts gives it theirs, one instance of each. */
function requiredAtRunTime(packages) {
  return {
    name: 'required-at-run-time',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) =>
        args.kind !== 'entry-point' && packages.includes(args.path) ? { path: args.path, external: true } : undefined,
      );
    },
  };
}

/**
 * CommonJS packages that read files of their own get a place in the package, under PACKAGE_INSIDE,
 * and an fs that reads there from the assets (src/exe/package-fs.ts).
 */
function packageFiles() {
  const ownFiles = new Set();
  return {
    name: 'package-files',
    setup(build) {
      // A CommonJS module that uses __dirname (a package's, bin/launch.cjs) gets its place in the package, under PACKAGE_INSIDE...
      build.onLoad({ filter: /[\\/]node_modules[\\/].*\.js$|[\\/]bin[\\/]launch\.cjs$/ }, async (args) => {
        const original = await readFile(args.path, 'utf8');
        const source = args.path.endsWith(BLESSED_WIDGETS.file) ? replaceOnce(original, BLESSED_WIDGETS.from, BLESSED_WIDGETS.to, args.path) : original;
        const file = relative(repo, args.path);
        const ownPlace = /\b__(dirname|filename)\b/.test(source);
        if (!ownPlace && source === original) return undefined;
        if (ownPlace) ownFiles.add(args.path);
        const names = ownPlace
          ? `var __filename = ${JSON.stringify(`${PACKAGE_INSIDE}/${file}`)}, __dirname = ${JSON.stringify(`${PACKAGE_INSIDE}/${dirname(file)}`)};\n`
          : '';
        return { contents: names + source, loader: 'js', resolveDir: dirname(args.path) };
      });
      // ...and an fs that reads there from the assets.
      build.onResolve({ filter: /^(node:)?fs$/ }, (args) => (ownFiles.has(args.importer) ? { path: join(repo, 'src/exe/package-fs.ts') } : undefined));
    },
  };
}

/**
 * blessed requires its widgets by a name it builds, './widgets/' + name: esbuild bundles every file
 * the pattern matches, keyed with their extension, which the name lacks.
 */
const BLESSED_WIDGETS = { file: 'node_modules/blessed/lib/widget.js', from: "require('./widgets/' + file)", to: "require('./widgets/' + file + '.js')" };

function replaceOnce(source, from, to, path) {
  if (source.split(from).length !== 2) throw new Error(`${path}: expected ${from} once (a new blessed? see build-exe.mjs)`);
  return source.replace(from, to);
}

/**
 * V8's code of the application's script after the warm runs of the npm package's build
 * (code-cache.mjs), of each of its parts once run, and of the scan's second thread's script after
 * its warm run, made by the Node the executable for `arch` carries, unstripped (V8 takes the code
 * only from the same V8 with the same flags): run here for the build machine's architecture, and
 * for the other under qemu-user (qemu-aarch64-static for arm64 on x64; Debian's qemu-user-static),
 * with the cross libraries the build carries as its root for libraries, and koffi's native module
 * for that architecture where the scripts look for it: some 4 s, not 0.3 as natively. Each is
 * carried beside its script, SCRIPT.cache (src/exe/carried-scripts.ts). A run of the executable
 * whose V8 rejects it compiles the script (src/exe/main.ts, src/exe/thread.ts). Where qemu-user is
 * missing, the file carries no code, and says so: `said`.
 */
function applicationCode(arch, bundles) {
  const dir = join(work, 'code', arch);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const node = nodeBinary(arch, { strip: false });
  let command = [node];
  let how = 'made here';
  if (arch !== process.arch) {
    const qemu = qemuFor(arch);
    if (qemu === null)
      return {
        assets: {},
        said: `no V8 code: ${QEMU[arch].command} is missing (apt-get install qemu-user-static), so inotop's scripts compile at run time (its first start keeps V8's code of its core for the next; the parts compile at each start)`,
      };
    command = [qemu, '-L', `/usr/${ARCHES[arch].debian}`, node];
    how = `made under ${basename(qemu)}`;
    foreignKoffi(arch);
  }
  const cache = (script) => join(dir, relative(dirname(dirname(bundles.app)), script).replace(/\.cjs$/, '.cache'));
  const thread = bundles.workers['scan/worker'];
  mkdirSync(dirname(cache(bundles.app)), { recursive: true });
  mkdirSync(dirname(cache(thread)), { recursive: true });
  const started = performance.now();
  execFileSync(command[0], [...command.slice(1), join(repo, 'scripts', 'code-cache.mjs'), bundles.app, cache(bundles.app), thread, cache(thread)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 600_000,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const assets = {
    'exe/app/inotop.cache': cache(bundles.app),
    ...Object.fromEntries(bundles.parts.map((part) => [`exe/app/${basename(cache(part))}`, cache(part)])),
  };
  for (const [asset, file] of Object.entries(assets)) if (!existsSync(file)) throw new Error(`code-cache.mjs for ${arch}: no ${file} (${asset})`);
  // Made where the fixture node is (code-cache.mjs's warm thread reads it).
  if (existsSync(cache(thread))) assets['exe/scan/worker.cache'] = cache(thread);
  return { assets, said: `V8's code ${how} (${seconds} s)` };
}

/** qemu-user for each architecture, as Debian's qemu-user-static names it. */
const QEMU = { x64: { command: 'qemu-x86_64-static' }, arm64: { command: 'qemu-aarch64-static' } };

/** The path of qemu-user for `arch` (on PATH), or null. */
function qemuFor(arch) {
  try {
    return execFileSync('sh', ['-c', `command -v ${QEMU[arch].command}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * koffi's native module for `arch` (not the build machine's), where src/sys/libc.ts looks for
 * it from the build's scripts (a node_modules above them: @koromix/koffi-linux-ARCH, as npm would
 * install it), for the warm runs under qemu-user.
 */
function foreignKoffi(arch) {
  const name = `koffi-linux-${arch}`;
  const scope = join(work, 'node_modules', '@koromix');
  rmSync(join(scope, name), { recursive: true, force: true });
  extract(npmPackage(`@koromix/${name}`, installedVersion('koffi')), 'package', join(scope, `${name}.tmp`));
  renameSync(join(scope, `${name}.tmp`, 'package'), join(scope, name));
  rmSync(join(scope, `${name}.tmp`), { recursive: true, force: true });
}

/** esbuild's target: the LTS line the executables run. */
const NODE_TARGET = 22;

/** Node's binary for `arch` from the registry's tarball, extracted once (and stripped of its symbols when asked). */
function nodeBinary(arch, { strip }) {
  const tarball = nodePackage(arch);
  const dir = join(work, 'node', relative(dirname(tarball), tarball).replace(/\.tgz$/, ''));
  const binary = join(dir, 'package', 'bin', 'node');
  if (!existsSync(binary)) extract(tarball, 'package/bin/node', dir);
  if (!strip) return binary;
  const stripped = `${binary}-stripped`;
  if (!existsSync(stripped)) {
    execFileSync(`${toolPrefix(arch)}strip`, ['--strip-all', '-o', `${stripped}.tmp`, binary]);
    renameSync(`${stripped}.tmp`, stripped);
  }
  return stripped;
}

function sha256File(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function buildExecutable(arch, bundles, builder, codeAssets) {
  const dir = join(work, arch);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const koffiVersion = installedVersion('koffi');
  const koffiTarball = npmPackage(`@koromix/koffi-linux-${arch}`, koffiVersion);
  const koffi = extract(koffiTarball, `package/${ARCHES[arch].koffiDir}/koffi.node`, join(dir, 'koffi'));
  const node = nodeBinary(arch, { strip: true });
  const runtime = runtimeFiles(arch, [node, koffi]);
  const manifest = {
    runtime: runtime.map(({ file, package: name, version }) => ({ file, package: name, version })),
    addons: { koffi: { asset: 'exe/koffi.node', sha256: sha256File(koffi) } },
    // What V8's code a start keeps is kept for (src/exe/kept-code.ts): this script and no other.
    app: { sha256: sha256File(bundles.app) },
  };
  writeFileSync(join(dir, 'build.json'), JSON.stringify(manifest, null, 2));

  const output = executablePath(arch);
  const building = `${output}.building`;
  const config = {
    main: bundles.main,
    mainFormat: 'commonjs',
    executable: node,
    output: building,
    disableExperimentalSEAWarning: true,
    // No useCodeCache: the main script is a few kilobytes (and SEA's code cache holds only the
    // functions its compiling made, not those of warm runs: exe/app/inotop.cache holds those).
    assets: {
      ...Object.fromEntries(PACKAGE_ASSETS.map((asset) => [asset, join(repo, asset)])),
      // The worker threads' bundles, as src/package-files.ts's workerAsset() names them, and the
      // bootstrap of those that are CommonJS scripts (THREAD_ASSET).
      ...Object.fromEntries(Object.entries(bundles.workers).map(([entry, bundle]) => [`exe/${entry}${extname(bundle)}`, bundle])),
      'exe/thread.cjs': bundles.thread,
      // The application, as src/exe/main.ts reads it, and V8's code of the scripts (carried-scripts.ts).
      'exe/app/inotop.cjs': bundles.app,
      ...Object.fromEntries(bundles.parts.map((part) => [`exe/app/${basename(part)}`, part])),
      ...Object.fromEntries(Object.entries(bundles.packages).map(([file, script]) => [`exe/app/packages/${file}`, script])),
      ...codeAssets,
      'exe/build.json': join(dir, 'build.json'),
      'exe/koffi.node': koffi,
    },
  };
  writeFileSync(join(dir, 'sea-config.json'), JSON.stringify(config, null, 2));
  execFileSync(builder, ['--build-sea', join(dir, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
  attachLauncher(building, {
    ...buildLauncher(arch),
    machine: ELF_MACHINES[arch],
    members: runtime.map(({ file, data }) => ({ name: file, data })),
  });
  chmodSync(building, 0o755);
  renameSync(building, output);
  return output;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
