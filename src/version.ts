import { readPackageFile } from './package-files.js';

/** The commit the build was made from and package.json's version: esbuild defines them (scripts/commit.mjs); undefined under tsx. */
declare const INOTOP_COMMIT: string | undefined;
declare const INOTOP_VERSION: string | undefined;

/** package.json's version: the build's, else read from package.json (under tsx). */
export const VERSION: string = typeof INOTOP_VERSION === 'string' ? INOTOP_VERSION : JSON.parse(readPackageFile('package.json').toString('utf8')).version;

/** The git commit of the build ("-dirty" with changes not committed), or null when unknown (sources, no git). */
export const COMMIT: string | null = typeof INOTOP_COMMIT === 'string' && INOTOP_COMMIT !== '' ? INOTOP_COMMIT : null;
