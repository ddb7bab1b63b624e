// Benchmark of the resolve stage: N distinct watched directories (each parent holds 100 leaves,
// all watched) on a tmpfs and on the root filesystem; time of one resolve() cold (new Resolver,
// empty caches) and warm (caches from the refresh before), by file handle and by forced walk.
// Needs root. Run: node --import tsx bench/resolve.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ScanResult } from '../src/model/types.js';
import { Resolver, type ResolverOptions } from '../src/resolve/index.js';
import { scan } from '../src/scan/index.js';
import { isRoot, Watcher } from '../test/helpers/inowatch.js';

const SIZES = [2_000, 20_000];
const LEAVES_PER_PARENT = 100;
const WARM_RUNS = 5;

interface Row {
  filesystem: string;
  watches: number;
  method: string;
  coldMs: number;
  warmMs: number;
  notes: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timed(resolver: Resolver, result: ScanResult): { ms: number; notes: string[]; unresolved: number } {
  const started = performance.now();
  const resolutions = resolver.resolve(result);
  resolutions.prepare(result.processes, 'all');
  const ms = performance.now() - started;
  let unresolved = 0;
  for (const proc of result.processes) {
    for (const instance of proc.instances) {
      const list = instance.watches;
      for (let i = 0; i < list.length; i++) if (resolutions.get(proc, list.sdev[i]!, list.ino[i]!).status !== 'ok') unresolved++;
    }
  }
  return { ms, notes: resolutions.notes, unresolved };
}

function measure(filesystem: string, result: ScanResult, method: string, options: ResolverOptions): Row {
  const watches = result.processes.reduce((sum, proc) => sum + proc.instances.reduce((n, instance) => n + instance.watches.length, 0), 0);
  const resolver = new Resolver(options);
  try {
    const cold = timed(resolver, result);
    const warm: number[] = [];
    let last = cold;
    for (let i = 0; i < WARM_RUNS; i++) {
      last = timed(resolver, result);
      warm.push(last.ms);
    }
    const notes = [...new Set([...cold.notes, ...last.notes])];
    if (last.unresolved > 0) notes.push(`${last.unresolved} not ok`);
    return { filesystem, watches, method, coldMs: cold.ms, warmMs: median(warm), notes: notes.join('; ') };
  } finally {
    resolver.close();
  }
}

async function benchTree(filesystem: string, base: string, size: number): Promise<Row[]> {
  const parents = Math.ceil(size / LEAVES_PER_PARENT);
  const tree = join(base, `tree-${size}`);
  for (let p = 0; p < parents; p++) {
    for (let l = 0; l < LEAVES_PER_PARENT; l++) mkdirSync(join(tree, `p${p}`, `leaf${l}`), { recursive: true });
  }
  const watcher = new Watcher();
  try {
    const fd = await watcher.init();
    for (let p = 0; p < parents; p++) await watcher.watchDir(fd, join(tree, `p${p}`));
    const full = scan({ procRoot: '/proc' });
    const result = { ...full, processes: full.processes.filter((proc) => proc.pid === watcher.pid) };
    return [measure(filesystem, result, 'handle', { procRoot: '/proc' }), measure(filesystem, result, 'walk', { procRoot: '/proc', forceWalk: true })];
  } finally {
    await watcher.stop();
    rmSync(tree, { recursive: true, force: true });
  }
}

function printTable(rows: Row[]): void {
  const header = ['filesystem', 'watches', 'method', 'cold ms', 'warm ms', 'notes'];
  const cells = rows.map((row) => [row.filesystem, String(row.watches), row.method, row.coldMs.toFixed(1), row.warmMs.toFixed(1), row.notes]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)));
  const format = (line: string[]): string =>
    line
      .map((cell, i) => (i === 1 || i === 3 || i === 4 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(format(header));
  for (const line of cells) console.log(format(line));
}

async function main(): Promise<void> {
  if (!isRoot) {
    console.log("bench/resolve: skipped, needs root (other processes' watches, open_by_handle_at, mounts)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'inotop-bench-resolve-'));
  const tmpfs = join(dir, 'tmpfs');
  mkdirSync(tmpfs);
  execFileSync('mount', ['-t', 'tmpfs', 'inotop-bench', tmpfs]);
  const rows: Row[] = [];
  try {
    for (const size of SIZES) rows.push(...(await benchTree('tmpfs', tmpfs, size)));
    for (const size of SIZES) rows.push(...(await benchTree('root fs', dir, size)));
  } finally {
    execFileSync('umount', ['-l', tmpfs]);
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(rows);
  console.log('cold: new Resolver, empty caches (dentries still cached by the kernel); warm: median of the next refreshes');
}

await main();
