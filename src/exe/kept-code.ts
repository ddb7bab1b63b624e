// V8's code of the application's script, kept by the single executable where it carries none that
// V8 takes: the build makes code only under the Node of its own architecture (the arm64 file built
// on x64 carries none), and V8 takes code only under the flags it was made with. Such a start makes
// V8's code of the script as it exits (so it holds the functions the run compiled) into the first
// private directory (native-addon.ts's), and the next start takes it from there as the carried
// code is taken (main.ts). The file is named as the npm package's (bin/launch.cjs codeCacheFile:
// for the Node and its architecture) and begins with the script's hash, which the build recorded
// (build.json), and the code's: V8 checks only a script's length, and without a debug build no
// checksum of the code, so another build's code or a damaged file would be run. Such a file, or one
// V8 rejects, costs a compile and is written again; never a failure.
import { closeSync } from 'node:fs';
import type { Script } from 'node:vm';
import { codeCacheFile } from '../../bin/launch.cjs';
import { buildManifest } from './manifest.js';
import { openChecked, privateDirectories, readAll, sha256Hex, writeOnce } from './native-addon.js';

/** The script's sha256 and the code's, in hex, before the code. */
const HEADER_BYTES = 128;

export interface KeptCode {
  /** Where it is kept (null: no private directory, `problem` says why). */
  path: string | null;
  /** V8's code as kept for this very script, if the file holds it whole. */
  code?: Buffer;
  /** Why there is none. */
  problem?: string;
}

/** V8's code an earlier start kept for this build's script, or why there is none. */
export function keptCode(): KeptCode {
  const passedOver: { directory: string; reason: string }[] = [];
  const [directory] = privateDirectories(passedOver);
  if (directory === undefined)
    return { path: null, problem: `no private directory to keep it in (${passedOver.map((p) => `${p.directory}: ${p.reason}`).join('; ')})` };
  const path = codeCacheFile(directory);
  try {
    const fd = openChecked(path);
    if (fd === null) return { path, problem: 'none kept yet' };
    let file: Buffer;
    try {
      file = readAll(fd);
    } finally {
      closeSync(fd);
    }
    if (file.length <= HEADER_BYTES) return { path, problem: 'damaged' };
    const code = file.subarray(HEADER_BYTES);
    const header = file.subarray(0, HEADER_BYTES).toString('latin1');
    if (header.slice(0, 64) !== buildManifest().app.sha256) return { path, problem: "another build's" };
    if (header.slice(64) !== sha256Hex(code)) return { path, problem: 'damaged' };
    return { path, code };
  } catch (error) {
    return { path, problem: (error as Error).message };
  }
}

/**
 * V8's code of `script` as it is now (with every function the run compiled), kept at `path` for the
 * next start: written beside and renamed. Called as the process exits, after its output: a failure
 * (a full disk, a directory gone) only leaves the next start to compile, and is said nowhere.
 */
export function keepCode(path: string, script: Script): void {
  try {
    const code = script.createCachedData();
    const header = Buffer.from(buildManifest().app.sha256 + sha256Hex(code), 'latin1');
    writeOnce(path, Buffer.concat([header, code]), 0o400);
  } catch {
    // the next start compiles, as this one did
  }
}
