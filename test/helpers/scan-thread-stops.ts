// Run in a child Node by test/system/scan-threads.test.ts: starts the scan's real second
// thread (ScanThread.start) again and again and ends each at another moment of its start and its
// reading, as a one-shot's main thread may: before its script runs, while it waits for its share,
// as it loads koffi and makes its first calls (the main thread having read every pid itself, or
// half of them), while it reads. A thread ended inside koffi aborts the whole process (exit 134), so
// the parent only asks that this process end normally. Arguments: rounds, and how much later (ms)
// each round stops than the one before (a tenth of that after the thread has begun to read). Prints
// how many stops it made.
import { ScanThread, PidShares, SECOND_THREAD } from '../../src/scan/second-thread.js';
import { listPids } from '../../src/scan/procfs.js';

const [rounds, stepMs] = process.argv.slice(2).map(Number) as [number, number];
const pids = listPids('/proc', null);
// No FileSet: shared instances ordered by kcmp, whose first bindings the aborted threads were loading.
const scan = { procRoot: '/proc', users: new Map<number, string>(), keyByLength: true, orderShared: true, readQueues: true, fileSet: null };
/** The main thread, busy elsewhere for `ms`: a thread's start and reading go on meanwhile. */
const busy = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

let stops = 0;
for (let round = 0; round < rounds; round++) {
  const delayMs = round * stepMs;
  // Before its script runs, or while it waits for its share: never given one.
  const waiting = ScanThread.start(true);
  if (typeof waiting === 'string') throw new Error(waiting);
  busy(delayMs);
  waiting.stop();
  // Given its share once it runs, ended as it loads koffi or makes its first calls: the main thread
  // had claimed (and read) every chunk by then.
  const reading = ScanThread.start(true);
  if (typeof reading === 'string') throw new Error(reading);
  const allRead = new PidShares(pids, { ...SECOND_THREAD, awaitStart: true }, scan, reading);
  busy(delayMs / 10);
  while (allRead.claim());
  allRead.finish(() => null);
  // Given its share as it starts, given up on after 1 ms without a sign of life (as after
  // SecondThreadTuning.stallMs): ended wherever it is by then, in its start or reading.
  const stalled = ScanThread.start(true);
  if (typeof stalled === 'string') throw new Error(stalled);
  const halfRead = new PidShares(pids, { ...SECOND_THREAD, chunkPids: 1, stallMs: 1 }, scan, stalled);
  busy(delayMs);
  for (let claimed = 0; claimed < pids.length / 2 && halfRead.claim(); claimed++);
  halfRead.finish(() => null);
  stops += 3;
}
process.stdout.write(`${stops}\n`);
