// The one polling helper of the tests: the kernel drops watches, a runtime creates namespaces and a
// server answers a moment after the cause, so a test retries its check instead of sleeping.

export interface EventuallyOptions {
  /** Give up after this long; default 5 s. */
  timeoutMs?: number;
  /** Pause between tries; default 50 ms. */
  intervalMs?: number;
}

/**
 * Runs `check` until it returns without throwing, and returns what it returned. Past the timeout
 * the last failure is thrown as it was, so the test reports the assertion that never came true.
 */
export async function eventually<T>(check: () => T | Promise<T>, { timeoutMs = 5_000, intervalMs = 50 }: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
