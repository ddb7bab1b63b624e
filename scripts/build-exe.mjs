#!/usr/bin/env node
// npm run build:exe [-- --arch x64 --arch arm64]: inotop as one file per architecture,
// dist/exe/inotop-linux-x64 and dist/exe/inotop-linux-arm64, that runs on a node with neither
// Node nor a libc of any kind.
//
// Each is a Node single executable application (node --build-sea) on the current LTS, from the npm
// registry's node-linux-ARCH (stripped of its symbols), whose main script is the bundle of
// src/exe/main.ts, small: it loads the application from the assets (src/exe/app.ts). The
// application is inotop with its dependencies split as the npm package's build splits it
// (entries.mjs's entryFirst): exe/app/cli/program.mjs and the chunks under exe/app/chunks/, so that a
// command compiles only what it runs, and Node's compile cache keeps V8's code of each. What
// inotop reads at run time travels as SEA assets too, under the paths package-files.ts reads:
// package.json, the demo recording, blessed's terminfo; and exe/collect/worker.mjs and
// exe/serve/password-worker.mjs (the worker threads' bundles), exe/koffi.node (koffi's native
// module for the architecture, from the registry's @koromix/koffi-linux-ARCH) and exe/build.json
// (what this script recorded). Then scripts/exe/elf.mjs gives the binary its launcher
// (scripts/exe/launcher.c) with Debian's dynamic loader and the libraries Node links against, so
// that the node's own libc is never used.
//
// Needs, besides npm: gcc and binutils for the machine's architecture, Debian's cross compiler
// and libraries for the other (.ci/run installs them), and tar.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { buildDefine } from './commit.mjs';
import { entryFirst, WORKER_ENTRIES } from './entries.mjs';
import { attachLauncher, ELF_MACHINES } from './exe/elf.mjs';
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

/** When anything that goes into the executables last changed (ms): sources, build scripts, dependencies, assets. */
export function inputsChangedAt() {
  const newest = (path) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return 0;
    if (!stat.isDirectory()) return stat.mtimeMs;
    return readdirSync(path).reduce((latest, entry) => Math.max(latest, newest(join(path, entry))), stat.mtimeMs);
  };
  return Math.max(...['src', 'scripts', 'package.json', 'package-lock.json', ...PACKAGE_ASSETS].map((path) => newest(join(repo, path))));
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
    const output = buildExecutable(arch, bundles, builder);
    console.log(`${relative(repo, output)}: ${(statSync(output).size / 1e6).toFixed(1)} MB`);
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
 * The main script (src/exe/main.ts, which loads the rest) and the worker threads, each one ES
 * module with every dependency in it; the application (src/cli/program.ts) as the npm package's
 * build splits it, its dependencies inside: its entry and chunks, each a file under `app`.
 */
async function bundle() {
  const outdir = join(work, 'bundles');
  rmSync(outdir, { recursive: true, force: true });
  const options = {
    absWorkingDir: repo,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: `node${NODE_TARGET}`,
    // blessed's terminal widget, which inotop never makes, requires these optional packages.
    external: ['term.js', 'pty.js'],
    define: { ...buildDefine(repo), INOTOP_PACKAGE_INSIDE: JSON.stringify(PACKAGE_INSIDE) },
    // require() of Node's built-ins from the bundled CommonJS packages (from anywhere: they are built in).
    banner: { js: "import { createRequire as inotopCreateRequire } from 'node:module'; const require = inotopCreateRequire('/');" },
    logLevel: 'warning',
  };
  await build({
    ...options,
    entryPoints: { main: 'src/exe/main.ts', ...Object.fromEntries(WORKER_ENTRIES.map((entry) => [entry, `src/${entry}.ts`])) },
    outdir,
    plugins: [packageFiles()],
  });
  const app = join(outdir, 'app');
  await build({
    ...options,
    entryPoints: { [APP_ENTRY]: `src/${APP_ENTRY}.ts` },
    outdir: app,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [packageFiles(), entryFirst(join(repo, 'src', `${APP_ENTRY}.ts`))],
  });
  return {
    main: join(outdir, 'main.mjs'),
    workers: Object.fromEntries(WORKER_ENTRIES.map((entry) => [entry, join(outdir, `${entry}.mjs`)])),
    app: Object.fromEntries(filesUnder(app).map((file) => [relative(app, file), file])),
  };
}

/** The application's entry under src/ (src/exe/app.ts loads it as APP_URL's cli/program.mjs). */
const APP_ENTRY = 'cli/program';

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
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
      // A CommonJS module that uses __dirname gets its place in the package, under PACKAGE_INSIDE...
      build.onLoad({ filter: /[\\/]node_modules[\\/].*\.js$/ }, async (args) => {
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

function buildExecutable(arch, bundles, builder) {
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
    addons: { koffi: { asset: 'exe/koffi.node', sha256: createHash('sha256').update(readFileSync(koffi)).digest('hex') } },
  };
  writeFileSync(join(dir, 'build.json'), JSON.stringify(manifest, null, 2));

  const output = executablePath(arch);
  const building = `${output}.building`;
  const config = {
    main: bundles.main,
    mainFormat: 'module',
    executable: node,
    output: building,
    disableExperimentalSEAWarning: true,
    // No useCodeCache: the main script is a few kilobytes, and the application's code is kept by
    // Node's compile cache on either architecture (SEA's code cache is made by the Node that builds).
    assets: {
      ...Object.fromEntries(PACKAGE_ASSETS.map((asset) => [asset, join(repo, asset)])),
      // The worker threads' bundles, as src/package-files.ts's workerAsset() names them.
      ...Object.fromEntries(Object.entries(bundles.workers).map(([entry, bundle]) => [`exe/${entry}.mjs`, bundle])),
      // The application's entry and chunks, as src/exe/app.ts reads them.
      ...Object.fromEntries(Object.entries(bundles.app).map(([file, bundle]) => [`exe/app/${file}`, bundle])),
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
