import { dirname } from 'node:path';

// The bundles' entry points under src/, for the npm package's build (build.mjs) and the single
// executable's (build-exe.mjs), and how the npm package's ES modules split their lazy modules. The worker threads' must be
// src/package-files.ts's WORKER_ENTRIES, which starts them (a unit test checks that they are).
export const WORKER_ENTRIES = ['collect/worker', 'serve/password-worker', 'scan/worker'];
/**
 * Those the npm package's build writes as one CommonJS script (dist/ENTRY.cjs), not ES modules: a
 * worker that loads no ES module starts without Node's ES module loader (src/package-files.ts's
 * COMMONJS_WORKERS). Not the collector's, which awaits at its top level.
 */
export const COMMONJS_WORKERS = ['scan/worker'];

/**
 * The CLI's CommonJS core (one-script.mjs buildSplitScript): its entry, with runProgram, and the
 * modules a one-shot loads lazily in the ES modules but finds in the core: check's (subcommand.ts).
 */
export const CORE_ENTRIES = ['src/cli/program.ts', 'src/cli/subcommand.ts'];

/**
 * Start-up is mostly module loading: a one-shot run should load its entry and one chunk, not a
 * dozen. esbuild puts a module in a chunk per set of entry points that reach it, so every lazily
 * imported module is reached through a wrapper that imports the entry (`entry`, its path) first:
 * what the entry loads at start is then reached from every entry point alike, and lands in one chunk.
 */
export function entryFirst(entry) {
  return {
    name: 'entry-first',
    setup(plugin) {
      plugin.onResolve({ filter: /^\./ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.namespace === 'entry-first') return undefined;
        const resolved = await plugin.resolve(args.path, { kind: 'import-statement', resolveDir: args.resolveDir, importer: args.importer });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return { path: resolved.path, namespace: 'entry-first' };
      });
      plugin.onLoad({ filter: /.*/, namespace: 'entry-first' }, (args) => ({
        contents: `import ${JSON.stringify(entry)};\nexport * from ${JSON.stringify(args.path)};\n`,
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
    },
  };
}
