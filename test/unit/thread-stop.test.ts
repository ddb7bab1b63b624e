// A thread asked to stop through its stop cell (src/common/thread-stop.ts), and one watched for
// signs of life: the other side played by a real worker thread that beats or stalls.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { test } from 'node:test';
import { awaitWhileAlive, LifeSigns, StopCell, Stopped } from '../../src/common/thread-stop.js';

/** A thread that adds to cells[1] every `everyMs` for `forMs`, then stores 1 in cells[0] (and notifies). */
function beating(cells: Int32Array, everyMs: number, forMs: number): Worker {
  const code = `
    const { workerData: { cells, everyMs, forMs } } = require('node:worker_threads');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (const end = Date.now() + forMs; Date.now() < end; ) { Atomics.add(cells, 1, 1); Atomics.wait(pause, 0, 0, everyMs); }
    Atomics.store(cells, 0, 1);
    Atomics.notify(cells, 0);`;
  return new Worker(code, { eval: true, workerData: { cells, everyMs, forMs } });
}

const newCells = () => new Int32Array(new SharedArrayBuffer(8));

test('a stop cell: its checks are signs of life until it is asked, then they throw Stopped', () => {
  const cell = new StopCell();
  const signs = cell.lifeSigns(1_000);
  assert.equal(cell.begun(), false);
  cell.check();
  assert.equal(cell.begun(), true);
  assert.equal(signs.stalled(), false);
  cell.ask();
  assert.throws(cell.check, Stopped);
  // The other thread's view of the same cells.
  assert.throws(new StopCell(cell.cells).check, Stopped);
});

test('a thread that beats is waited for until it is done, however long past stallMs', async () => {
  const cells = newCells();
  const worker = beating(cells, 10, 400);
  const started = Date.now();
  assert.equal(
    awaitWhileAlive(cells, 0, (state) => state === 1, 1, 100),
    true,
  );
  assert.ok(Date.now() - started >= 300);
  await worker.terminate();
});

test('a thread that stops beating is given up on after stallMs', async () => {
  const cells = newCells();
  // Beats for 100 ms, then never gets where it is waited for.
  const worker = beating(cells, 10, 100);
  const started = Date.now();
  const pause = newCells();
  assert.equal(
    awaitWhileAlive(cells, 0, () => false, 1, 200),
    false,
  );
  const waited = Date.now() - started;
  assert.ok(waited >= 300 && waited < 1_000, `waited ${waited} ms`);
  await worker.terminate();
  // Watched with no beat at all: stalled once stallMs has passed.
  const signs = new LifeSigns(newCells(), 1, 50);
  assert.equal(signs.stalled(), false);
  Atomics.wait(pause, 0, 0, 60);
  assert.equal(signs.stalled(), true);
});
