// inotop's own files (package.json, fixtures/, dist/): in the npm package, the files in
// the nearest directory above this module's that holds a package.json (the module may run from
// src/ under tsx or from a chunk of the bundle in dist/, at another depth: the path is found, not
// spelled); in the single executable (npm run build:exe), its SEA assets, keyed by the same
// paths. Whatever inotop reads of its own at run time goes through here, so that both builds read
// the same names; its worker threads start here too.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Worker, WorkerOptions } from 'node:worker_threads';

let singleExecutable: boolean | undefined;

/** Whether this is the single executable: Node with inotop's SEA blob. */
export function isSingleExecutable(): boolean {
  singleExecutable ??= process.getBuiltinModule('node:sea')?.isSea() ?? false;
  return singleExecutable;
}

/** A file of the package, e.g. readPackageFile('fixtures/leaky-kubelet.jsonl.gz'). */
export function readPackageFile(relative: string): Buffer {
  if (isSingleExecutable()) return Buffer.from(process.getBuiltinModule('node:sea').getRawAsset(relative) as ArrayBuffer);
  return readFileSync(packagePath(relative));
}

/** Whether the package has the file (the single executable carries only what inotop reads). */
export function hasPackageFile(relative: string): boolean {
  if (!isSingleExecutable()) return existsSync(packagePath(relative));
  try {
    process.getBuiltinModule('node:sea').getRawAsset(relative);
    return true;
  } catch {
    return false; // getRawAsset throws for a key it does not have
  }
}

/** One of the package's files where a file's name is expected (a recording to replay). */
export class PackageFile {
  constructor(readonly relative: string) {}

  read(): Buffer {
    return readPackageFile(this.relative);
  }

  /** Its path in the package, as messages name it. */
  toString(): string {
    return isSingleExecutable() ? this.relative : packagePath(this.relative);
  }
}

/** inotop's worker threads: their entry points under src/, each its own bundle in both builds. */
export const WORKER_ENTRIES = ['collect/worker', 'serve/password-worker', 'scan/worker'] as const;
export type WorkerEntry = (typeof WORKER_ENTRIES)[number];
/**
 * Those the npm package holds as one CommonJS script, dist/ENTRY.cjs (scripts/entries.mjs), run by
 * bin/worker.cjs with V8's code of it from the build: the scan's second thread, which a one-shot
 * waits for, starts some 15 ms sooner without Node's ES module loader.
 */
export const COMMONJS_WORKERS: readonly WorkerEntry[] = ['scan/worker'];

/**
 * The single executable's asset that holds a worker's bundle (scripts/build-exe.mjs): one ES
 * module, or for COMMONJS_WORKERS one CommonJS script (with V8's code of it beside, .cache), run by
 * its thread bootstrap (THREAD_ASSET: src/exe/thread.ts).
 */
export function workerAsset(entry: WorkerEntry): string {
  return `exe/${entry}.${COMMONJS_WORKERS.includes(entry) ? 'cjs' : 'mjs'}`;
}

/** The single executable's bootstrap of a thread whose script is a CommonJS one, as bin/worker.cjs is the npm package's. */
const THREAD_ASSET = 'exe/thread.cjs';

/**
 * A worker thread that runs `entry`: from sources (tsx, as this module is package-files.ts) its
 * .ts, which needs tsx too; in the npm package its bundle in dist/ (the bundle's chunks sit
 * elsewhere than its entry points: the worker's is found from the package), a CommonJS one through
 * bin/worker.cjs; in the single executable its bundle from the assets, a CommonJS one through its
 * thread bootstrap (THREAD_ASSET) as bin/worker.cjs runs it.
 */
export function startWorker(entry: WorkerEntry, options: WorkerOptions = {}): Worker {
  const worker = newWorker(entry, options);
  runningWorkers++;
  worker.once('exit', () => runningWorkers--);
  return worker;
}

let runningWorkers = 0;

/** Worker threads started (startWorker) that have not exited yet: a process that ends at once with one running may end it mid-call (koffi aborts then). */
export function workersRunning(): number {
  return runningWorkers;
}

function newWorker(entry: WorkerEntry, options: WorkerOptions): Worker {
  // Loaded here: a one-shot run starts no thread, and need not load Node's worker modules.
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  if (isSingleExecutable()) {
    if (!COMMONJS_WORKERS.includes(entry)) return new Worker(readPackageFile(workerAsset(entry)).toString('utf8'), { ...options, eval: true });
    return new Worker(readPackageFile(THREAD_ASSET).toString('latin1'), { ...options, eval: true, argv: [workerAsset(entry)] });
  }
  if (import.meta.filename.endsWith('.ts')) {
    // tsx registered in the thread itself: --import in a worker's execArgv does not take.
    const source = JSON.stringify(new URL(`./${entry}.ts`, import.meta.url).href);
    return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); })`, { ...options, eval: true });
  }
  if (!COMMONJS_WORKERS.includes(entry)) return new Worker(packagePath(`dist/${entry}.js`), options);
  return new Worker(packagePath('bin/worker.cjs'), { ...options, argv: [packagePath(`dist/${entry}.cjs`)] });
}

let root: string | undefined;

/** A path inside the npm package, for what must be a file there; the single executable has none. */
export function packagePath(relative: string): string {
  if (isSingleExecutable()) throw new Error(`inotop: the single executable has no package directory (asked for ${relative})`);
  root ??= packageRoot(import.meta.dirname);
  return join(root, relative);
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`inotop: no package.json above ${from}`);
  }
}
