// The one loader of libc through koffi, for the system calls Node does not offer. Each file of
// src/sys declares its calls with `libcBinding` and says, as a Result, why they are unavailable
// (no glibc, no koffi build for this machine, a symbol missing): callers fall back or say so.
//
// Adding a call: a file here named for what it does, with
//   const myCalls = libcBinding('what they are for', (libc) => ({ call: libc.func('int call(int fd)') }));
// its constants beside it (numbers from the kernel's uapi headers, per architecture where they
// differ), a function that returns the call's answer or -errno (never a throw for an errno), and
// any buffer it fills made once and reused: these run per fd and per watch.
import { createRequire } from 'node:module';
import type Koffi from 'koffi';
import { fail, type Result } from '../common/result.js';
import { shippedAddon } from '../exe/native-addon.js';
import { isSingleExecutable } from '../package-files.js';

export type Libc = ReturnType<typeof Koffi.load>;

let koffi: typeof Koffi | undefined;
let libc: Result<Libc> | undefined;

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
 */
function packagedKoffi(): typeof Koffi {
  const require = createRequire(import.meta.url);
  try {
    const native = require(`@koromix/koffi-${process.platform}-${process.arch}`) as typeof Koffi;
    if (typeof native.load === 'function' && typeof native.errno === 'function') return native;
  } catch {
    // Not this layout: the entry finds it.
  }
  return require('koffi') as typeof Koffi;
}

function loadLibc(): Result<Libc> {
  if (libc === undefined) {
    try {
      const loaded = loadKoffi();
      if (!loaded.ok) libc = fail(`cannot load koffi: ${loaded.error}`);
      else {
        koffi = loaded.value;
        libc = { ok: true, value: koffi.load('libc.so.6') };
      }
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
  // Only ever after a call, so koffi is loaded.
  return koffi!.errno();
}

/** syscall(2), for calls glibc has no wrapper of (kcmp, open_tree): arguments as (type, value) pairs. */
export type RawSyscall = (number: number, ...typedArguments: unknown[]) => number | bigint;

export const rawSyscall = libcBinding('syscall(2)', (libc) => libc.func('long syscall(long, ...)') as RawSyscall);
