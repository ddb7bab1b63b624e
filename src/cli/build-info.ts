// `inotop --version`: which inotop this is and what it runs on. The single executable says which
// directory its native module loads from, and which it passed over (src/exe/native-addon.ts).
import { addonPlace } from '../exe/native-addon.js';
import { buildManifest } from '../exe/manifest.js';
import { isSingleExecutable, packagePath } from '../package-files.js';
import { COMMIT, VERSION } from '../version.js';

/** What bin/inotop and the single executable (src/exe/main.ts) say of V8's code from the build (and the executable's kept code): which, and whether V8 took it. */
export interface CodeCacheNote {
  text: string;
  /** Whether the next start compiles less: V8 took code from a file, or the single executable keeps this start's. */
  kept: boolean;
}

let codeCache: CodeCacheNote | null = null;

export function noteCodeCache(note: CodeCacheNote): void {
  codeCache = note;
}

export function versionText(): string {
  const lines: [string, string][] = [
    ['commit', COMMIT ?? 'unknown (not built from a git checkout)'],
    ['node', `${process.version} (${process.platform} ${process.arch})`],
  ];
  if (isSingleExecutable()) {
    lines.push(['build', `single executable: ${process.execPath}`]);
    const [loader, ...libraries] = buildManifest().runtime;
    const libc = buildManifest().runtime.find((library) => library.file === 'libc.so.6');
    lines.push([
      'runtime',
      `${loader?.file ?? '?'} and ${libraries.length} libraries from Debian (${libc ? `${libc.package} ${libc.version}` : '?'}), in the file: the node's libc is not used`,
    ]);
    // Where a scan loads it from, found without loading it (a dlopen is most of what --version would cost more).
    const koffi = addonPlace('koffi');
    if (koffi.ok) {
      lines.push(['native', `koffi loads from ${koffi.value.path}`]);
      for (const { directory, reason } of koffi.value.passedOver) lines.push(['', `(not ${directory}: ${reason})`]);
    } else {
      lines.push(['native', `koffi not loaded: ${koffi.error}`]);
    }
  } else {
    lines.push(['build', `npm package: ${packagePath('')}`]);
  }
  if (codeCache !== null) lines.push(['cache', codeCache.text]);
  // V8's code of inotop's modules, kept by Node from Node 22.8 on where the operator sets NODE_COMPILE_CACHE (bin/inotop).
  // node:module asked for only here: every run loads this file, --version alone reads it (some 0.5 ms of a start).
  const module = process.getBuiltinModule('node:module') as { getCompileCacheDir?: () => string | undefined };
  const compileCache = module.getCompileCacheDir?.();
  const label = codeCache === null ? 'cache' : '';
  if (compileCache) lines.push([label, `compiled code kept in ${compileCache}`]);
  else if (!codeCache?.kept) lines.push([label, 'compiled code not kept: each start compiles']);
  return `inotop ${VERSION}\n${lines.map(([name, text]) => `${name.padEnd(8)}${text}`.trimEnd()).join('\n')}\n`;
}
