// The one polling helper of the tests: the kernel drops watches, a runtime creates namespaces and a
// server answers a moment after the cause, so a test retries its check instead of sleeping. Every
// wait of the tests and their helpers goes through here; none sleeps a fixed time.

export interface EventuallyOptions {
  /** Give up after this long; default 5 s. */
  timeoutMs?: number;
  /** Pause between tries; default 50 ms. */
  intervalMs?: number;
  /**
   * Whether a failure is one to wait out (a busy mount, a socket not there yet); any other is
   * thrown at once. Default: every failure is retried.
   */
  retryOn?: (error: unknown) => boolean;
}

/**
 * Runs `check` until it returns without throwing, and returns what it returned. Past the timeout
 * the last failure is thrown as it was, so the test reports the assertion that never came true.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 50, retryOn = () => true }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline || !retryOn(error)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** eventually() where nothing can be awaited (an 'exit' handler's cleanup): the thread blocks between tries. */
export function eventuallySync<T>(check: () => T, { timeoutMs = 5_000, intervalMs = 20, retryOn = () => true }: EventuallyOptions = {}): T {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() >= deadline || !retryOn(error)) throw error;
    }
    Atomics.wait(pause, 0, 0, intervalMs);
  }
}
