// How an unexpected error reaches the user: one line, its message's first; the stack trace only
// with INOTOP_DEBUG=1 (for a bug report). bin/inotop, which must work when these modules cannot
// load, says errors the same way.
export function errorText(error: unknown): string {
  if (process.env['INOTOP_DEBUG'] === '1' && error instanceof Error && error.stack) return error.stack;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0]!;
}

/** A system call's error as "EROFS (read-only file system)": its code and meaning, without the path Node repeats. */
export function errnoText(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (!code) return errorText(error);
  const meaning = message.replace(/^\w+: /, '').replace(/, \w+(?: '.*')?$/, '');
  return meaning && meaning !== message ? `${code} (${meaning})` : code;
}
