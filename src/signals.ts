// How inotop ends on a signal: its children (pod source commands) stopped first, then the exit
// code a shell reports for that signal, 128 + its number. SIGQUIT too: Node's default for it is
// a core dump, and blessed's is exit 0.
import { constants } from 'node:os';

export const EXIT_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;
export type ExitSignal = (typeof EXIT_SIGNALS)[number];

export function signalExitCode(signal: ExitSignal): number {
  return 128 + constants.signals[signal];
}

/** Until the returned function is called: on any of EXIT_SIGNALS, `stop()` then exit with 128 + n. */
export function exitOnSignals(stop: () => void): () => void {
  const handlers = EXIT_SIGNALS.map((signal) => {
    const handler = () => {
      try {
        stop();
      } finally {
        process.exit(signalExitCode(signal));
      }
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
