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
