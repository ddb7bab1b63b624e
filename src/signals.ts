// How inotop ends on a signal: its children (pod source commands) stopped first, then the exit
// code a shell reports for that signal, 128 + its number. SIGQUIT too: Node's default for it is
// a core dump, and blessed's is exit 0.
import { constants } from 'node:os';
import { workersRunning } from './package-files.js';

export const EXIT_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;
export type ExitSignal = (typeof EXIT_SIGNALS)[number];

export function signalExitCode(signal: ExitSignal): number {
  return 128 + constants.signals[signal];
}

let endsAtOnce = false;

/** The process is inotop's own (bin/inotop, the single executable), not one that runs inotop within itself (the build's warm runs): a one-shot may end it (endOneShot). */
export function processIsOwn(): void {
  endsAtOnce = true;
}

/**
 * Ends a one-shot's process with `status`, its output out and nothing left to finish: what Node
 * would still do before it exits is of no use then (a young-generation collection V8 posted as a
 * task: some 3 ms of a one-shot on an idle node). Not while a worker thread runs (ended mid-call,
 * koffi aborts), nor in a process that runs inotop within itself: there it returns.
 */
export function endOneShot(status: number): void {
  if (endsAtOnce && workersRunning() === 0) process.exit(status);
}

/**
 * Ends inotop's own process with `status` `ms` from now should anything still hold its event loop
 * then (nothing should); nothing in a process that runs inotop within itself: the build's warm runs
 * go on to their next run (under qemu-user the arm64 build's run longer than a grace of 100 ms).
 */
export function endOneShotWithin(status: number, ms: number): void {
  if (endsAtOnce) setTimeout(() => process.exit(status), ms).unref();
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
