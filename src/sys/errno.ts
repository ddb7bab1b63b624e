// errno, once: the numbers and names (Node's table of this platform's, which is Linux's), the
// errno of a Node fs error, and the races and refusals that are normal when reading /proc.
import { constants } from 'node:os';

/** errno numbers by name (EPERM: 1, ...). */
export const ERRNO = constants.errno;

/** Names by number, made at the first name asked for (a one-shot with nothing failing asks for none). */
let errnoNames: Map<number, string> | undefined;

/** 28 -> "ENOSPC"; an unknown number as "E<number>". */
export function errnoName(errno: number): string {
  errnoNames ??= new Map(Object.entries(ERRNO).map(([name, number]) => [number, name]));
  return errnoNames.get(errno) ?? `E${errno}`;
}

export function errnoNumber(name: string): number {
  const number = (ERRNO as Record<string, number>)[name];
  if (number === undefined) throw new Error(`unknown errno ${name}`);
  return number;
}

/** The errno of a Node fs error, if it has one. */
export function errnoOf(error: unknown): number | null {
  const errno = (error as NodeJS.ErrnoException | null)?.errno;
  return typeof errno === 'number' ? -errno : null;
}

/** The code of a Node fs error ("ENOENT"), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** An error of a call made through koffi, `message` saying what failed, shaped as Node's fs errors are: the checks below read it alike. */
export function errnoError(message: string, errno: number): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: errnoName(errno), errno: -errno });
}

/** Errors that mean "this process or fd is gone": skipped silently. */
const VANISHED = new Set(['ENOENT', 'ESRCH', 'ENOTDIR']);

export function isVanished(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && VANISHED.has(code);
}

/** EMFILE (our RLIMIT_NOFILE) or ENFILE (the system's file table). */
export function isOutOfFds(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EMFILE' || code === 'ENFILE';
}

export function isPermissionDenied(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EACCES' || code === 'EPERM';
}
