// V8's optimizing compiler (TurboFan) held back while a one-shot's scan is small. On an idle node
// it would compile the scan's hottest functions (the watch-line parser, the fd links' and
// directories' readers) when the scan is nearly over: under Node 20, some 60–80 ms of another
// core's CPU and 700 page faults (~12 µs each on the project's machine) in a run of 0.2 s, for
// code that then runs a few ms. A scan that turns out big releases it after its first
// OPTIMIZER_HELD_WORK fds and watch lines, a few ms of work, and every scan releases it when it
// ends: the rest of the run, and any later scan, is compiled as V8 sees fit.
import { nodeBinding } from './libc.js';

/** Fds listed plus watch lines read (fdinfo bytes / WATCH_LINE_BYTES) after which a scan is big enough for optimized code to pay. */
export const OPTIMIZER_HELD_WORK = 10_000;

/** About the length of a watch line as the kernel prints it (with its file handle). */
export const WATCH_LINE_BYTES = 100;

/**
 * V8's flags set at run time as node:v8's setFlagsFromString sets them: v8::V8::SetFlagsFromString,
 * which Node exports for native addons. node:v8 itself loads Node's streams on its way, 5–10 ms of
 * a one-shot's start.
 */
const v8Flags = nodeBinding(
  "V8's SetFlagsFromString",
  (node) => node.func('void _ZN2v82V818SetFlagsFromStringEPKcm(const char *flags, size_t length)') as (flags: string, length: number) => void,
);

/** V8 flags given to Node that decide about the optimizer: they are the operator's, and left alone. */
const OPTIMIZER_FLAGS = /--(no[-_])?(turbofan|opt|jitless)\b/;

let held = false;
let workLeft = 0;

/** Turns V8's optimizing compiler off until OPTIMIZER_HELD_WORK units of work are done (optimizerWork) or releaseOptimizer. */
export function holdOptimizer(): void {
  if (held || OPTIMIZER_FLAGS.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) return;
  if (!setFlag('--no-turbofan')) return;
  held = true;
  workLeft = OPTIMIZER_HELD_WORK;
}

/** `units` of a scan's work done (fds listed, watch lines read): past OPTIMIZER_HELD_WORK the optimizer is released. */
export function optimizerWork(units: number): void {
  if (held && (workLeft -= units) <= 0) releaseOptimizer();
}

/** Turns V8's optimizing compiler back on, if holdOptimizer turned it off. */
export function releaseOptimizer(): void {
  if (!held) return;
  held = false;
  setFlag('--turbofan');
}

function setFlag(flag: string): boolean {
  const set = v8Flags();
  if (set.ok) set.value(flag, flag.length);
  return set.ok;
}
