// Reading procfs cheaply and without throwing on the races that are normal there.
import { closeSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';

/** Errors that mean "this process or fd is gone": skipped silently. */
const VANISHED = new Set(['ENOENT', 'ESRCH', 'ENOTDIR']);

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

export function isVanished(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && VANISHED.has(code);
}

export function isPermissionDenied(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EACCES' || code === 'EPERM';
}

// procfs files report size 0, so fs.readFileSync grows a buffer per file. One reused buffer
// (doubled when a big fdinfo needs it) avoids that allocation on every read.
let buffer = Buffer.allocUnsafe(1 << 16);

/** Reads a procfs file; throws like fs on errors. fdinfo is ASCII, so latin1 (faster) fits it. */
export function readProcText(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.toString(encoding, 0, length);
  } finally {
    closeSync(fd);
  }
}

/** Like readProcText, null when the file is missing or unreadable. */
export function readProcTextOrNull(path: string): string | null {
  try {
    return readProcText(path);
  } catch {
    return null;
  }
}

export function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** Numeric entries of a /proc directory (pids, fds), in ascending order. */
export function listNumericEntries(dir: string): number[] {
  const numbers: number[] = [];
  for (const name of readdirSync(dir)) {
    const code = name.charCodeAt(0);
    if (code >= 48 && code <= 57) numbers.push(Number(name));
  }
  return numbers.sort((a, b) => a - b);
}
