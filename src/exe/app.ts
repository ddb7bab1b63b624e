// The single executable's application: inotop built as the npm package is, its CLI entry and the
// chunks it loads when asked for (a one-shot compiles its entry and one chunk, not the whole
// program), carried as SEA assets under exe/app/ (scripts/build-exe.mjs). Node's module loader
// reads them through hooks that answer for their place inside the executable (as package-fs.ts
// does for the packages' files: a path no file can be below) from the assets, and keeps V8's compiled
// code of each in its compile cache, in a private directory (native-addon.ts's): a start takes each
// module's code as its first start compiled it (Node makes an entry when it compiles the module, so
// the functions compiled only when they first run are compiled again at every start). The cache is
// keyed by each module's URL and source and by Node's version and V8's flags (Node checks both
// before it uses an entry).
import module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { privateDirectories } from './native-addon.js';

/** What is used here of node:module beyond @types/node 20's (Node 23.5 and later; the executable runs the LTS). */
interface LoaderApi {
  registerHooks(hooks: {
    resolve(specifier: string, context: { parentURL?: string }, nextResolve: (specifier: string, context: object) => object): object;
    load(url: string, context: object, nextLoad: (url: string, context: object) => object): object;
  }): unknown;
  enableCompileCache(directory: string): unknown;
}
const loader = module as typeof module & LoaderApi;

/** Where the package's files are, to the modules that read them: the build defines it. */
declare const INOTOP_PACKAGE_INSIDE: string;
/** The assets under which scripts/build-exe.mjs put the application's modules... */
const APP_ASSETS = 'exe/app/';
/** ...and where they are to the module loader. */
const APP_URL = pathToFileURL(`${INOTOP_PACKAGE_INSIDE}/${APP_ASSETS}`).href;

/** The CLI's entry, as src/cli/program.ts's exports: what bin/inotop imports in the npm package. */
export interface AppEntry {
  runProgram(argv: string[]): Promise<void>;
}

/** Makes the loader answer APP_URL's modules from the assets, with the compile cache on, and loads the CLI's entry. */
export function loadApp(): AppEntry {
  enableCompileCache();
  const getAsset = process.getBuiltinModule('node:sea').getAsset;
  loader.registerHooks({
    resolve(specifier, context, nextResolve) {
      // The entry, and the chunks' imports of each other (relative: esbuild writes no other).
      const url = specifier.startsWith(APP_URL)
        ? specifier
        : context.parentURL?.startsWith(APP_URL) && /^\.\.?\//.test(specifier)
          ? new URL(specifier, context.parentURL).href
          : null;
      return url === null ? nextResolve(specifier, context) : { url, shortCircuit: true };
    },
    load(url, context, nextLoad) {
      if (!url.startsWith(APP_URL)) return nextLoad(url, context);
      return { format: 'module', source: getAsset(`${APP_ASSETS}${url.slice(APP_URL.length)}`, 'utf8'), shortCircuit: true };
    },
  });
  // The main script's own import() and require() load only Node's built-in modules: a require of
  // the loader's own loads the rest (an ES module graph without top-level await, as the entry's is).
  return module.createRequire(process.execPath)(`${APP_URL}cli/program.mjs`) as AppEntry;
}

/** In the first private directory there is (--version says which, module.getCompileCacheDir()); without one, every start compiles. */
function enableCompileCache(): void {
  const [directory] = privateDirectories();
  if (directory !== undefined) loader.enableCompileCache(join(directory, 'compile-cache'));
}
