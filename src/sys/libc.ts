// The one loader of libc through koffi, for the system calls Node does not offer. Each file of
// src/sys declares its calls with `libcBinding` and says, as a Result, why they are unavailable
// (no glibc, no koffi build for this machine, a symbol missing): callers fall back or say so.
//
// Adding a call: a file here named for what it does, with
//   const myCalls = libcBinding('what they are for', (libc) => ({ call: libc.func('int call(int fd)') }));
// its constants beside it (numbers from the kernel's uapi headers, per architecture where they
// differ), a function that returns the call's answer or -errno (never a throw for an errno), and
// any buffer it fills made once and reused: these run per fd and per watch.
import type Koffi from 'koffi';
import { fail, type Result } from '../common/result.js';

export type Libc = ReturnType<typeof Koffi.load>;

let koffi: typeof Koffi | undefined;

/**
 * koffi's native module. koffi's own entry loads the one of this platform and wraps it in
 * deprecation shims, importing node:util and node:fs (and through them Node's streams and worker
 * modules) on the way: 10–15 ms of a one-shot run's start. This platform's package is loaded
 * directly; the entry stays the fallback (a platform or layout without such a package).
 */
function loadKoffi(): typeof Koffi {
  if (koffi) return koffi;
  const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  try {
    koffi = require(`@koromix/koffi-${process.platform}-${process.arch}`) as typeof Koffi;
    if (typeof koffi.load !== 'function' || typeof koffi.errno !== 'function') throw new Error('not the native module');
  } catch {
    koffi = require('koffi') as typeof Koffi;
  }
  return koffi;
}

let libc: Result<Libc> | undefined;

function loadLibc(): Result<Libc> {
  if (libc === undefined) {
    try {
      libc = { ok: true, value: loadKoffi().load('libc.so.6') };
    } catch (error) {
      libc = fail(`cannot load libc through koffi: ${(error as Error).message}`);
    }
  }
  return libc;
}

/**
 * Calls declared once, at the first use: `declare` binds them on libc (and may probe them, throwing
 * when they do not work here). Later uses get the same Result.
 */
export function libcBinding<T>(purpose: string, declare: (libc: Libc) => T): () => Result<T> {
  let bound: Result<T> | undefined;
  return () => {
    if (bound === undefined) {
      const loaded = loadLibc();
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

/** The errno of the last call made through koffi, read right after it. */
export function lastErrno(): number {
  return loadKoffi().errno();
}

/** syscall(2), for calls glibc has no wrapper of (kcmp, open_tree): arguments as (type, value) pairs. */
export type RawSyscall = (number: number, ...typedArguments: unknown[]) => number | bigint;

export const rawSyscall = libcBinding('syscall(2)', (libc) => libc.func('long syscall(long, ...)') as RawSyscall);
