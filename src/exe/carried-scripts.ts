// The scripts the single executable carries as SEA assets (scripts/build-exe.mjs), each one
// CommonJS script as the npm package's are, and V8's code of those the build warmed under the Node
// the executable carries: read and run as bin/launch.cjs reads and runs the npm package's, with the
// packages they require, each a script among the assets too, and the parts the application's loads
// lazily. The application's (main.ts) and the scan's second thread's (thread.ts).
import type { Script } from 'node:vm';
import { compileBundle, madeUnderTheseFlags, runBundle, runCompiled } from '../../bin/launch.cjs';

/** Where the package's files are to stack traces and require() (a path no file can be below, as package-fs.ts's): the build defines it. */
declare const INOTOP_PACKAGE_INSIDE: string;

const PACKAGES = 'exe/app/packages/';

const sea = process.getBuiltinModule('node:sea');
const required = new Map<string, unknown>();

/** What a carried script requires and imports: Node's built-in modules, and the packages among the assets, each run once when first asked for. */
export const carriedPackages = { require: requirePackage, importPackage: async (specifier: string) => requirePackage(specifier) };

/** Where the asset `asset` is, to stack traces. */
export function carriedPath(asset: string): string {
  return `${INOTOP_PACKAGE_INSIDE}/${asset}`;
}

/** A script the build wrote, read as latin1 as bin/launch.cjs reads the npm package's: it is ASCII only. */
export function carriedScript(asset: string): string {
  let bytes: ArrayBuffer;
  try {
    bytes = sea.getRawAsset(asset) as ArrayBuffer;
  } catch {
    throw new Error(`Cannot find module '${asset}' in the single executable`);
  }
  return Buffer.from(bytes).toString('latin1');
}

/** The build's V8 code of the script `asset` (SCRIPT.cjs: SCRIPT.cache), the asset's bytes, not copied; undefined where it made none (it does for the architecture it builds on). */
export function carriedCode(asset: string): Buffer | undefined {
  try {
    return Buffer.from(sea.getRawAsset(asset.replace(/\.cjs$/, '.cache')) as ArrayBuffer);
  } catch {
    return undefined; // getRawAsset throws for a key it does not have
  }
}

/**
 * The build's V8 code of `asset` where V8 would take it as to its flags (bin/launch.cjs
 * madeUnderTheseFlags: as the npm package's scripts are read), else undefined: what a part and a
 * thread's script are compiled with.
 */
export function carriedCodeToTry(asset: string): Buffer | undefined {
  const code = carriedCode(asset);
  return code !== undefined && madeUnderTheseFlags(code) ? code : undefined;
}

/** The carried script `asset` compiled with V8's code `code` (undefined: none) and run with the carried packages: its exports, and the script (script.cachedDataRejected: whether V8 took the code). */
export function runCarried(asset: string, code: Buffer | undefined): { exports: unknown; script: Script } {
  return runCompiledCarried(compileBundle(carriedScript(asset), code, carriedPath(asset)) as Script, asset);
}

/**
 * A carried script as compileBundle compiled it, run with the carried packages, and its parts
 * (the application's: scripts/one-script.mjs buildSplitScript) carried beside it, each read when
 * first required, with the build's V8 code of it where it carries that and V8's flags are the
 * build's (carriedCodeToTry; none kept by a start: a part compiles without, as kept-code.ts keeps
 * only the core's).
 */
export function runCompiledCarried(script: Script, asset: string): { exports: unknown; script: Script } {
  const directory = asset.slice(0, asset.lastIndexOf('/') + 1);
  const readPart = (name: string) => {
    const part = `${directory}${name}`;
    return { source: carriedScript(part), cachedData: carriedCodeToTry(part), filename: carriedPath(part) };
  };
  return runCompiled(script, carriedPath(asset), { ...carriedPackages, readPart }) as { exports: unknown; script: Script };
}

function requirePackage(specifier: string): unknown {
  // Node's own first, as require() takes them (without node:module, some 0.5–1.3 ms of a start).
  const builtin = process.getBuiltinModule(specifier);
  if (builtin !== undefined) return builtin;
  if (!required.has(specifier)) {
    const asset = `${PACKAGES}${specifier}.cjs`;
    required.set(specifier, runBundle(carriedScript(asset), undefined, carriedPath(asset), carriedPackages).exports);
  }
  return required.get(specifier);
}
