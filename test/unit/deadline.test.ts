import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settledWithin, timeoutFromNextTurn, uptimeMs } from '../../src/deadline.js';

/** Holds this thread, as a one-shot's scan does: no callback of the event loop runs meanwhile. */
function busyFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** setTimeout calls made while `body` runs. */
async function setTimeoutsBy(body: () => Promise<void>): Promise<number> {
  const timeout = globalThis.setTimeout;
  let set = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof timeout>) => (set++, timeout(...args))) as typeof timeout;
  try {
    await body();
  } finally {
    globalThis.setTimeout = timeout;
  }
  return set;
}

test('timeoutFromNextTurn: fires once its time has passed, counted from the call, not from the turn that starts the timer', async () => {
  const started = uptimeMs();
  const fired = new Promise<number>((resolve) => timeoutFromNextTurn(() => resolve(uptimeMs()), 150));
  // The loop held past half of it: the timer then started is for what is left.
  busyFor(100);
  const at = (await fired) - started;
  assert.ok(at >= 149 && at < 240, `fired after ${at.toFixed(1)} ms`);
});

test('timeoutFromNextTurn: cancelled before the next turn of the event loop, it never started a timer, nor fires', async () => {
  let fired = false;
  const set = await setTimeoutsBy(async () => {
    const cancel = timeoutFromNextTurn(() => (fired = true), 10);
    busyFor(20);
    cancel();
    await new Promise((resolve) => setImmediate(resolve));
  });
  assert.equal(set, 0);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(fired, false);
  // Cancelled later, its timer is cleared.
  const cancel = timeoutFromNextTurn(() => (fired = true), 20);
  await new Promise((resolve) => setImmediate(resolve));
  cancel();
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(fired, false);
});

test('settledWithin: a promise settled in the same turn sets no timer; one that never settles is given up at the bound', async () => {
  assert.equal(await setTimeoutsBy(async () => assert.equal(await settledWithin(Promise.resolve(), 1_000), true)), 0);
  assert.equal(await settledWithin(Promise.reject(new Error('no')), 1_000), true);
  const started = uptimeMs();
  assert.equal(await settledWithin(new Promise(() => undefined), 50), false);
  assert.ok(uptimeMs() - started >= 49);
});
