import { readFileSync } from 'node:fs';
import { packagePath } from './package-root.js';

/** From package.json, which ships beside dist/. */
export const VERSION: string = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')).version;
