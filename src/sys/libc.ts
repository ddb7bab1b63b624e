// The one loader of libc through koffi, for the system calls Node does not offer. Each file of
// src/sys declares its calls with `libcBinding` and says, as a Result, why they are unavailable
// (no glibc, no koffi build for this machine, a symbol missing): callers fall back or say so.
// `nodeBinding` declares, the same way, calls of the running Node itself (the V8 API it exports
// for native addons).
//
// Adding a call: a file here named for what it does, with
//   const myCalls = libcBinding('what they are for', (libc) => ({ call: libc.func('int call(int fd)') }));
// its constants beside it (numbers from the kernel's uapi headers, per architecture where they
// differ), a function that returns the call's answer or -errno (never a throw for an errno), and
// any buffer it fills made once and reused: these run per fd and per watch.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { arch } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type Koffi from 'koffi';
import { fail, type Result } from '../common/result.js';
import { shippedAddon } from '../exe/native-addon.js';
import { isSingleExecutable } from '../package-files.js';

export type Libc = ReturnType<typeof Koffi.load>;

let koffi: typeof Koffi | undefined;
let libc: Result<Libc> | undefined;
let node: Result<Libc> | undefined;

/** koffi from the npm package's node_modules, or the single executable's own copy of its native module. */
function loadKoffi(): Result<typeof Koffi> {
  if (!isSingleExecutable()) return { ok: true, value: packagedKoffi() };
  const addon = shippedAddon('koffi');
  return addon.ok ? { ok: true, value: addon.value.exports as typeof Koffi } : addon;
}

/**
 * koffi's native module from node_modules. koffi's own entry loads the one of this platform and
 * wraps it in deprecation shims, importing node:util and node:fs (and through them Node's streams
 * and worker modules) on the way: 10–15 ms of a one-shot run's start. This platform's package is
 * loaded directly; the entry stays the fallback (a platform or layout without such a package).
 * That package's entry in turn compiles and runs a reader of Node's ELF header to choose its glibc
 * or its musl build (2 ms): where Node's program headers name a loader that is not musl's, the
 * glibc build is loaded from where the entry would take it.
 */
function packagedKoffi(): typeof Koffi {
  const platformPackage = `@koromix/koffi-${process.platform}-${process.arch}`;
  try {
    const native = (glibcBuild(platformPackage) ?? packageRequire()(platformPackage)) as typeof Koffi;
    if (typeof native.load === 'function' && typeof native.errno === 'function') return native;
  } catch {
    // Not this layout: the entry finds it.
  }
  return packageRequire()('koffi') as typeof Koffi;
}

/** require() from this module, made when needed: node:module is some 0.5 ms of a start that finds koffi's file itself. */
function packageRequire(): NodeJS.Require {
  return process.getBuiltinModule('node:module').createRequire(import.meta.url);
}

/**
 * The platform package's glibc build (its entry's `linux_ARCH/koffi.node`), loaded where Node runs
 * on glibc; else undefined. Its file is looked for in the node_modules directories that require()
 * would search from here, and loaded as require() loads a native module, without its resolution
 * and module records (some 1.5 ms of a start).
 */
function glibcBuild(platformPackage: string): unknown {
  if (process.platform !== 'linux' || nodeLoader()?.includes('/ld-musl-') !== false) return undefined;
  const build = inNodeModules(join(platformPackage, `linux_${process.arch}`, 'koffi.node'));
  if (build === null) return undefined;
  const module = { exports: {} };
  process.dlopen(module, build);
  return module.exports;
}

/** `relative` in the first node_modules directory, from this module's directory up, that has it (as require() searches them); null: in none. */
function inNodeModules(relative: string): string | null {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const path = join(dir, 'node_modules', relative);
      if (existsSync(path)) return path;
    }
    if (dirname(dir) === dir) return null;
  }
}

const PT_INTERP = 3;

/**
 * The dynamic loader Node's program headers name (PT_INTERP), as koffi's entry reads it; null where
 * the file's first page does not tell (not a 64-bit little-endian ELF, no loader named there, unreadable).
 */
function nodeLoader(): string | null {
  const head = Buffer.alloc(4096);
  try {
    const fd = openSync(process.execPath, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return null;
  const [table, entrySize, entries] = [Number(head.readBigUInt64LE(32)), head.readUInt16LE(54), head.readUInt16LE(56)];
  for (let at = table; at < table + entries * entrySize && at + 40 <= head.length; at += entrySize) {
    if (head.readUInt32LE(at) !== PT_INTERP) continue;
    const [offset, length] = [Number(head.readBigUInt64LE(at + 8)), Number(head.readBigUInt64LE(at + 32))];
    return offset + length <= head.length ? head.toString('latin1', offset, offset + length) : null;
  }
  return null;
}

/** `path` (null: the running program, Node) through koffi, or why not. */
function loadLibrary(path: string | null, name: string): Result<Libc> {
  try {
    if (koffi === undefined) {
      const loaded = loadKoffi();
      if (!loaded.ok) return fail(`cannot load koffi: ${loaded.error}`);
      koffi = loaded.value;
    }
    return { ok: true, value: koffi.load(path) };
  } catch (error) {
    return fail(`cannot load ${name} through koffi: ${(error as Error).message}`);
  }
}

function loadLibc(): Result<Libc> {
  return (libc ??= loadLibrary('libc.so.6', 'libc'));
}

function loadNode(): Result<Libc> {
  return (node ??= loadLibrary(null, 'the running Node'));
}

/**
 * Calls declared once, at the first use: `declare` binds them on libc (and may probe them, throwing
 * when they do not work here). Later uses get the same Result.
 */
export function libcBinding<T>(purpose: string, declare: (libc: Libc) => T): () => Result<T> {
  return binding(loadLibc, purpose, declare);
}

/** As libcBinding, for functions of the running Node's own (C++ names as its dynamic symbol table has them). */
export function nodeBinding<T>(purpose: string, declare: (node: Libc) => T): () => Result<T> {
  return binding(loadNode, purpose, declare);
}

function binding<T>(load: () => Result<Libc>, purpose: string, declare: (library: Libc) => T): () => Result<T> {
  let bound: Result<T> | undefined;
  return () => {
    if (bound === undefined) {
      const loaded = load();
      if (!loaded.ok) bound = loaded;
      else {
        try {
          bound = { ok: true, value: declare(loaded.value) };
        } catch (error) {
          bound = fail(`${purpose}: ${(error as Error).message}`);
        }
      }
    }
    return bound;
  };
}

let memcpy: ((dest: Uint8Array, src: Uint8Array, n: number) => number) | undefined;

/**
 * The address of memory that never moves (an ArrayBuffer's, made once and kept), to pass to calls
 * declared with `intptr_t` where a pointer goes: a Buffer argument costs koffi a lookup of its
 * memory at every call, and the slower call of functions that take pointers. memcpy with nothing
 * to copy returns its destination, which is how koffi tells the address.
 */
export function addressOf(libc: Libc, memory: Uint8Array): number {
  memcpy ??= libc.func('intptr_t memcpy(void *dest, void *src, size_t n)') as (dest: Uint8Array, src: Uint8Array, n: number) => number;
  return memcpy(memory, memory, 0);
}

/** The errno of the last call made through koffi, read right after it. */
export function lastErrno(): number {
  // Only ever after a call, so koffi is loaded.
  return koffi!.errno();
}

/** syscall(2), for calls glibc has no wrapper of (kcmp, open_tree): arguments as (type, value) pairs. */
export type RawSyscall = (number: number, ...typedArguments: unknown[]) => number | bigint;

export const rawSyscall = libcBinding('syscall(2)', (libc) => libc.func('long syscall(long, ...)') as RawSyscall);

/** An argument type of integerSyscall's calls. */
export type IntegerArgument = 'int' | 'uint' | 'long';

/**
 * syscall(2) for a call that takes only integers. Where a variadic call passes integers as a fixed one does (x86-64, arm64 on Linux)
 * syscall is declared with these arguments: koffi then converts each by its declared type, where a
 * variadic call reads a type name per argument at every call (0.5–2 µs a call here, paid per fd
 * by kcmp and the queue reads). Elsewhere, the variadic call naming each argument's type.
 */
export function integerSyscall(libc: Libc, types: readonly IntegerArgument[]): IntegerSyscall {
  if (arch() === 'x64' || arch() === 'arm64') return libc.func(`long syscall(long, ${types.join(', ')})`) as IntegerSyscall;
  const syscall = rawSyscall();
  if (!syscall.ok) throw new Error(syscall.error);
  const call = syscall.value;
  return (number, ...args) => call(number, ...args.flatMap((value, i) => [types[i], value]));
}

/** A call of integerSyscall: the call's number, then its arguments; its answer (-1 and errno on failure). */
export type IntegerSyscall = (number: number, ...args: number[]) => number | bigint;
