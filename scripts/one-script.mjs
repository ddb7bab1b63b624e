// The CLI as one CommonJS script, for V8's code cache: how the npm package's build (build.mjs)
// writes dist/cli/inotop.cjs and the CommonJS workers' scripts (dist/scan/worker.cjs), and the
// single executable's (build-exe.mjs) the script it carries. bin/launch.cjs loads any of them.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { WRAPPER } = createRequire(import.meta.url)('../bin/launch.cjs');

/**
 * esbuild's options for one CommonJS script whose import.meta.url, dirname and filename are its own
 * (src/sys/libc.ts and src/package-files.ts find the package from them), with fewer bytes to read
 * and hand to V8 at every start (names kept: stack traces stay readable). `define` is the build's
 * own. The URL is made only when asked for: a run that does not ask (a one-shot) does not pay for it
 * (some 0.5 ms).
 */
export function oneScriptOptions(define) {
  return {
    format: 'cjs',
    minifyWhitespace: true,
    minifySyntax: true,
    define: { ...define, 'import.meta.url': 'inotopScript.url', 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename' },
    banner: { js: "const inotopScript = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
  };
}

/**
 * A script as esbuild made it (`output`: an outputFile of a build with write: false), the CLI's or
 * a worker's, written as bin/launch.cjs runs it: in CommonJS's wrapper, its import() of packages
 * through the wrapper's inotopImport. A script of node:vm has no import() of its own (but through
 * an experimental loader, whose code from a cache lost it): the ES-only packages the npm package's
 * imports (execa) come through bin/launch.cjs's.
 */
export function writeScript(output) {
  const text = output.text.replace(/\bimport\(("[^"]+")\)/g, 'inotopImport($1)');
  if (/\bimport\((?!\$\{source\}\)|'tsx\/esm\/api'\))/.test(text)) throw new Error(`${output.path}: an import() not of a package name (see one-script.mjs)`);
  // bin/launch.cjs reads the script as latin1, as it is: esbuild writes ASCII only (its default charset).
  if (/[^\x00-\x7f]/.test(text)) throw new Error(`${output.path}: a character outside ASCII (see bin/launch.cjs)`);
  // Wrapped here, not at every start (bin/launch.cjs).
  writeFileSync(output.path, WRAPPER[0] + text + WRAPPER[1]);
}

/** What bin/launch.cjs calls the core script by, in the parts' require() of it: its registry of the core's modules. */
export const CORE_SCRIPT = 'inotop.cjs';
/** The virtual entry of the split script: the CLI's entry and what a one-shot loads lazily in the ES modules but should find in the core. */
const CORE_ENTRY = 'inotop-core-entry';

/**
 * The CLI as a core CommonJS script (CORE_SCRIPT) and lazily loaded CommonJS parts, each its own
 * script with its own V8 code: a one-shot (--json, -b, check, --version) compiles, deserializes and
 * runs only the core, where one script made closures of every module's functions at every start
 * (esbuild hoists a CommonJS bundle's lazy modules' functions to its top level). `options`: esbuild's
 * (COMMON and oneScriptOptions, its plugins among them); `entries`: the modules of the core's entry,
 * the first exporting runProgram; `outdir`: where the scripts go. Built as ES modules split by esbuild
 * (entryFirst: each module is in one chunk, the core's in one), each chunk then made CommonJS:
 * import() of a part is require() of its script, a part's imports of core modules are property
 * reads of the core's registry (one instance of each module: no part bundles a module of the core),
 * and the core's exports are that registry, made when a part first asks. Output files as esbuild's
 * (path, text), the core's first, and the metafile.
 */
export async function buildSplitScript(options, entries, outdir) {
  const { build, transform } = await import('esbuild');
  const { entryFirst } = await import('./entries.mjs');
  const coreEntry = {
    name: 'core-entry',
    setup(plugin) {
      plugin.onResolve({ filter: new RegExp(`^${CORE_ENTRY}$`) }, () => ({ path: CORE_ENTRY, namespace: CORE_ENTRY }));
      plugin.onLoad({ filter: /.*/, namespace: CORE_ENTRY }, () => ({
        contents: `export * from ${JSON.stringify(entries[0])};\n${entries
          .slice(1)
          .map((entry) => `import ${JSON.stringify(entry)};\n`)
          .join('')}`,
        resolveDir: options.absWorkingDir,
        loader: 'js',
      }));
    },
  };
  const result = await build({
    ...options,
    format: 'esm',
    splitting: true,
    entryPoints: { inotop: CORE_ENTRY },
    outdir,
    chunkNames: '[name]-[hash]',
    write: false,
    metafile: true,
    plugins: [coreEntry, entryFirst(CORE_ENTRY), ...(options.plugins ?? [])],
  });
  const entryPath = Object.keys(result.metafile.outputs).find((path) => result.metafile.outputs[path].entryPoint === `${CORE_ENTRY}:${CORE_ENTRY}`);
  const entryOutput = result.metafile.outputs[entryPath];
  const coreChunks = entryOutput.imports.filter((item) => item.kind === 'import-statement' && !item.external);
  if (coreChunks.length !== 1) throw new Error(`the core entry imports ${coreChunks.length} chunks, not one (see entries.mjs entryFirst)`);
  const base = (path) => path.slice(path.lastIndexOf('/') + 1);
  const coreName = base(coreChunks[0].path);
  // A chunk that only re-exports modules of the core (entryFirst's wrapper of one a one-shot loads
  // lazily in the ES modules, as check's subcommand.ts) is no part: its import() is the core's registry.
  const textOf = (path) => result.outputFiles.find((file) => file.path.endsWith(`/${base(path)}`)).text;
  const inCore = new Set(
    Object.entries(result.metafile.outputs)
      .filter(([path, output]) => {
        if (path === entryPath || base(path) === coreName) return false;
        const chunks = output.imports.filter((item) => item.kind === 'import-statement' && !item.external);
        const onlyWrappers = Object.keys(output.inputs).every((input) => input.startsWith('entry-first:'));
        if (!onlyWrappers || chunks.length !== 1 || base(chunks[0].path) !== coreName) return false;
        if (/\sas\s/.test(textOf(path))) throw new Error(`${path}: re-exports the core's modules under other names (see one-script.mjs)`);
        return true;
      })
      .map(([path]) => base(path)),
  );
  const scriptName = (name) => (name === coreName || inCore.has(name) ? CORE_SCRIPT : name.replace(/\.js$/, '.cjs'));
  // `a as b, c` as [[a, b], [c, c]].
  const names = (list) =>
    list
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map((item) => {
        const [inner, outer = inner] = item.split(/\s+as\s+/);
        return [inner, outer];
      });
  // runProgram as the entry re-exports it from the core's chunk: the chunk's name of it.
  const entryText = textOf(entryPath);
  const imported = new Map(names(/import\s*\{([^}]*)\}\s*from/.exec(entryText)?.[1] ?? '').map(([inChunk, local]) => [local, inChunk]));
  const reexported = new Map(names(/export\s*\{([^}]*)\}/.exec(entryText)?.[1] ?? '').map(([local, as]) => [as, local]));
  const runProgram = imported.get(reexported.get('runProgram'));
  if (runProgram === undefined) throw new Error(`the core entry exports no runProgram: ${entryText}`);
  const scripts = [];
  for (const file of result.outputFiles) {
    const name = base(file.path);
    if (name === base(entryPath) || inCore.has(name) || !name.endsWith('.js')) continue;
    let text = file.text
      // A part loads when first asked for, as its module did: a failure to load is the promise's.
      .replace(/\bimport\("\.\/([^"]+\.js)"\)/g, (_whole, chunk) => `Promise.resolve().then(()=>require(${JSON.stringify(`./${scriptName(chunk)}`)}))`)
      .replace(/\bfrom\s*"\.\/([^"]+\.js)"/g, (_whole, chunk) => `from${JSON.stringify(`./${scriptName(chunk)}`)}`)
      .replace(/\bimport\s*"\.\/([^"]+\.js)"/g, (_whole, chunk) => `import${JSON.stringify(`./${scriptName(chunk)}`)}`);
    let registry = '';
    if (name === coreName) {
      // The core's exports: the registry, made when a part first asks (its getters read the bindings live, as ES modules' imports do).
      const exported = /export\s*\{([^}]*)\}\s*;?\s*$/.exec(text);
      if (exported === null) throw new Error(`${name}: no export list at its end`);
      text = text.slice(0, exported.index);
      const exports = names(exported[1]);
      const runProgramLocal = exports.find(([, as]) => as === runProgram)?.[0];
      if (runProgramLocal === undefined) throw new Error(`${name}: no export of ${runProgram}`);
      const getters = exports.map(([local, as]) => `get ${as}(){return ${local}}`);
      registry = `\nlet inotopRegistry;module.exports={runProgram:${runProgramLocal},inotopModules(){return inotopRegistry??={${getters.join(',')}}}};`;
    }
    const cjs = await transform(`"use strict";${text}`, {
      format: 'cjs',
      platform: 'node',
      target: options.target,
      minifyWhitespace: true,
      minifySyntax: true,
      loader: 'js',
      sourcefile: name,
    });
    scripts.push({ path: `${outdir}/${scriptName(name)}`, text: cjs.code + registry });
  }
  scripts.sort((a, b) => Number(b.path.endsWith(`/${CORE_SCRIPT}`)) - Number(a.path.endsWith(`/${CORE_SCRIPT}`)));
  return { outputFiles: scripts, metafile: result.metafile, coreChunk: coreChunks[0].path };
}
