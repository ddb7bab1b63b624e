// Waiting with a bound: inotop answers in time whatever a pod source or runtime does.

/** Waits for `promise` to settle, but no longer than `ms`; true when it settled in time. */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Milliseconds since the process started, in every thread: the clock of deadlines and
 * durations. Not performance.now(): the same clock, but its first use loads node:perf_hooks.
 */
export function uptimeMs(): number {
  return process.uptime() * 1000;
}
