// Arguments of C calls, built without a string per call where calls run per fd and per entry.
import { encodePathBytes } from '../model/path-bytes.js';

const NUL = Buffer.of(0);

/**
 * Writes `value` (≥ 0) in decimal at `at`, no NUL after it; returns the offset after its last digit.
 * A digit is dropped by an exact division: V8's interpreter, which runs this in a one-shot (once
 * per fd), keeps its result a small integer, where Math.floor(value / 10) boxes the fraction first
 * (some 75 KB of garbage over an idle node's 1,100 fds).
 */
export function writeDecimal(buffer: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = (rest - (rest % 10)) / 10) digits++;
  for (let i = digits - 1, rest = value; i >= 0; i--, rest = (rest - (rest % 10)) / 10) buffer[at + i] = 0x30 + (rest % 10);
  return at + digits;
}

/** A path for a `const char *` argument: as it is, or its exact bytes when it holds escaped ones (model/path-bytes.ts). */
export function cPath(path: string): string | Buffer {
  return /[\udc80-\udcff]/.test(path) ? Buffer.concat([encodePathBytes(path), NUL]) : path;
}
