// The standard input, opened only where keys are read (the screens). Node sets the stream up when
// it is first asked for (3–6 ms of a start), and a one-shot run reads no key.
type ErrorHandler = (error: NodeJS.ErrnoException) => void;

let onError: ErrorHandler | undefined;

/** What an error of the terminal does (src/cli/program.ts): given to the stream when it is opened. */
export function whenStdinFails(handler: ErrorHandler): void {
  onError = handler;
}

/** process.stdin, opened now if it was not, with the handler whenStdinFails gave. */
export function openStdin(): NodeJS.ReadStream {
  const stdin = process.stdin;
  if (onError && !stdin.listeners('error').includes(onError)) stdin.on('error', onError);
  return stdin;
}
