import { readPackageFile } from './package-files.js';

/** The commit the build was made from: esbuild defines it (scripts/build.mjs); undefined under tsx. */
declare const INOTOP_COMMIT: string | undefined;

/** From package.json, which ships beside dist/ (the single executable carries it as an asset). */
export const VERSION: string = JSON.parse(readPackageFile('package.json').toString('utf8')).version;

/** The git commit of the build ("-dirty" with changes not committed), or null when unknown (sources, no git). */
export const COMMIT: string | null = typeof INOTOP_COMMIT === 'string' && INOTOP_COMMIT !== '' ? INOTOP_COMMIT : null;
