// The one-shot's decision to start the scan's second thread (src/scan/second-thread.ts), from the
// figures the main thread has measured, and the order in which the main thread claims the pid
// list's chunks before and after it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PidShares, SECOND_THREAD, workerPays, type PidRange } from '../../src/scan/second-thread.js';

const { afterMs, leftMs } = SECOND_THREAD;

test('no worker before afterMs, however few pids are read', () => {
  assert.equal(workerPays({ elapsedMs: afterMs - 1, topPids: 1, bottomPids: 1, totalPids: 100_000 }, SECOND_THREAD), false);
  assert.equal(workerPays({ elapsedMs: afterMs, topPids: 1, bottomPids: 1, totalPids: 100_000 }, SECOND_THREAD), true);
});

test('no worker before a sample of each end of the pid list is read', () => {
  // The bench's idle node (98 pids): its newest 8, the load's busy holders, read cold in 25 ms. At
  // that pace per pid the 90 left would take 281 ms.
  assert.equal(workerPays({ elapsedMs: 25, topPids: 8, bottomPids: 0, totalPids: 98 }, SECOND_THREAD), false);
  assert.equal(workerPays({ elapsedMs: 25, topPids: 0, bottomPids: 8, totalPids: 98 }, SECOND_THREAD), false);
});

test("an idle node's busy newest processes and its kernel threads: no worker", () => {
  // The 8 lowest pids (kernel threads) add 0.3 ms: the 82 pids left are taken at the two ends' average.
  assert.equal(workerPays({ elapsedMs: 25.3, topPids: 8, bottomPids: 8, totalPids: 98 }, SECOND_THREAD), false);
  assert.equal(workerPays({ elapsedMs: 35, topPids: 16, bottomPids: 8, totalPids: 98 }, SECOND_THREAD), false);
});

test('a big node at the same pace: the worker pays', () => {
  // shared (some 600 pids, 500 of them the load's): 16 of its holders and 16 kernel threads in 16 ms.
  assert.equal(workerPays({ elapsedMs: 16, topPids: 16, bottomPids: 16, totalPids: 600 }, SECOND_THREAD), true);
  // A busy node's 3,000 pids at a fast pace.
  assert.equal(workerPays({ elapsedMs: 15, topPids: 40, bottomPids: 40, totalPids: 3_000 }, SECOND_THREAD), true);
});

test('the estimate is the pids left at the pace so far, against leftMs', () => {
  // 50 pids read in 50 ms, at 1 ms each: leftMs pids left is just enough, one fewer is not.
  const read = { elapsedMs: 50, topPids: 25, bottomPids: 25 };
  assert.equal(workerPays({ ...read, totalPids: 50 + leftMs }, SECOND_THREAD), true);
  assert.equal(workerPays({ ...read, totalPids: 50 + leftMs - 1 }, SECOND_THREAD), false);
});

test('the main thread, undecided, claims from both ends in turn; every pid once', () => {
  const pids = Array.from({ length: 50 }, (_, i) => 1_000 + i);
  // Never pays: the main thread reads every chunk itself.
  const shares = new PidShares(
    pids,
    { ...SECOND_THREAD, afterMs: Infinity, chunkPids: 8 },
    { procRoot: '/proc', users: new Map(), keyByLength: false, orderShared: false, readQueues: false, fileSet: null },
  );
  const claims: PidRange[] = [];
  for (let range = shares.claim(); range; range = shares.claim()) claims.push(range);
  assert.deepEqual(
    claims.map(({ start }) => start),
    [48, 0, 40, 8, 32, 16, 24],
  );
  const read = claims.flatMap(({ start, end }) => Array.from({ length: end - start }, (_, i) => start + i)).sort((a, b) => a - b);
  assert.deepEqual(
    read,
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.deepEqual(
    shares.finish(() => null),
    { part: null, notRead: [] },
  );
  assert.equal(shares.use().second, 'none');
});
