// node:fs for the CommonJS packages bundled into the single executable that read files of their
// own package at run time (blessed: its terminfo, when the system has none for $TERM).
// scripts/build-exe.mjs gives each such module a __dirname under PACKAGE_INSIDE_EXECUTABLE, a
// path no file can be below (/proc/self/exe/...), and this module for `fs`: a read there is answered from the assets
// (package-files.ts); every other call is node:fs's own.
import { readFileSync as readFile } from 'node:fs';
import { normalize } from 'node:path';
import { hasPackageFile, readPackageFile } from '../package-files.js';

export * from 'node:fs';

/** Where the package's files are, to those modules ("inside" the executable): the build defines it. */
declare const INOTOP_PACKAGE_INSIDE: string;
const PACKAGE_INSIDE_EXECUTABLE = INOTOP_PACKAGE_INSIDE;

export function readFileSync(path: Parameters<typeof readFile>[0], options?: Parameters<typeof readFile>[1]): string | Buffer {
  const relative =
    typeof path === 'string' && normalize(path).startsWith(`${PACKAGE_INSIDE_EXECUTABLE}/`)
      ? normalize(path).slice(PACKAGE_INSIDE_EXECUTABLE.length + 1)
      : null;
  if (relative === null || !hasPackageFile(relative)) return readFile(path, options);
  const content = readPackageFile(relative);
  const encoding = typeof options === 'string' ? options : options?.encoding;
  return encoding ? content.toString(encoding) : content;
}
