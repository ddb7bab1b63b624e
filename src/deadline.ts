// Waiting with a bound: inotop answers in time whatever a pod source or runtime does.

/** Waits for `promise` to settle, but no longer than `ms`; true when it settled in time. */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let cancel = (): void => undefined;
  const deadline = new Promise<false>((resolve) => {
    cancel = timeoutFromNextTurn(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, deadline]);
  } finally {
    cancel();
  }
}

/**
 * Calls `fire` once `ms` have passed, as setTimeout does, but starts Node's timer only at the next
 * turn of the event loop, for the time left then; returns what cancels it. Cancelled before that
 * turn, it never started one: a one-shot whose answers came in while its scan held the loop, taken
 * in right after it (the CRI client's calls, the pod list's bound), sets no timer at all. The
 * first setTimeout of a process costs some 0.5 ms (Node's timer lists and libuv's timer), an
 * immediate a tenth of that; and the timer could not have fired while the loop was held.
 * `unref`: neither the immediate nor the timer keeps the process alive.
 */
export function timeoutFromNextTurn(fire: () => void, ms: number, unref = false): () => void {
  const due = uptimeMs() + ms;
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = setImmediate(() => {
    immediate = null;
    timer = setTimeout(fire, Math.max(0, due - uptimeMs()));
    if (unref) timer.unref();
  });
  if (unref) immediate.unref();
  return () => {
    if (immediate !== null) clearImmediate(immediate);
    if (timer !== null) clearTimeout(timer);
    immediate = null;
    timer = null;
  };
}

/**
 * Milliseconds since the process started, in every thread: the clock of deadlines and
 * durations. Not performance.now(): the same clock, but its first use loads node:perf_hooks.
 */
export function uptimeMs(): number {
  return process.uptime() * 1000;
}
