// Ending a thread that may be inside koffi. A thread terminated in a koffi call (koffi's load in
// its isolate, a syscall) aborts the whole process: node-addon-api cannot throw in an isolate being
// terminated ("FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw", exit 134), and Node
// terminates the threads left when the process exits. So a thread at synchronous work is never
// terminated: it is asked to stop through shared memory, which it reads between the units of its
// work (a process read, a chunk of pids), and it counts signs of life there, which the thread that
// asked watches, to give up on one stuck (a read that waits in the kernel) rather than wait forever.
// Used by the scan's second thread (src/scan/second-thread.ts) and the collector's (src/collect).
import { uptimeMs } from '../deadline.js';

/**
 * How long a thread asked to stop is waited for while it shows no sign of life: one call that long
 * is a read waiting in the kernel (a process stuck in D state, a FUSE file), which nothing ends
 * sooner (a thread terminated in a syscall is ended, and the process with it, only once the call
 * returns). A unit of work between two signs of life takes milliseconds, a few hundred at most.
 */
export const STALL_MS = 3000;

/**
 * Whether another thread has shown a sign of life within `stallMs`, as the thread watching it
 * looks: a count in a shared cell, which that thread adds to as it works.
 */
export class LifeSigns {
  private beats: number;
  private movedAt = uptimeMs();

  constructor(
    private readonly cells: Int32Array,
    private readonly index: number,
    readonly stallMs: number,
  ) {
    this.beats = Atomics.load(cells, index);
  }

  /** No sign of life for `stallMs`, as of now (looked at a few times per stallMs, or more often). */
  stalled(): boolean {
    const now = uptimeMs();
    const beats = Atomics.load(this.cells, this.index);
    if (beats !== this.beats) {
      this.beats = beats;
      this.movedAt = now;
      return false;
    }
    return now - this.movedAt >= this.stallMs;
  }
}

/**
 * Blocks until `cells[stateIndex]` is `done` (by the other thread's word, woken by its notify),
 * as long as that thread shows signs of life (`cells[beatIndex]`) at least every `stallMs`; true
 * when it got there, false when it stalled first.
 */
export function awaitWhileAlive(cells: Int32Array, stateIndex: number, done: (state: number) => boolean, beatIndex: number, stallMs: number): boolean {
  const signs = new LifeSigns(cells, beatIndex, stallMs);
  for (let state = Atomics.load(cells, stateIndex); !done(state); state = Atomics.load(cells, stateIndex)) {
    Atomics.wait(cells, stateIndex, state, stallMs / 4);
    if (signs.stalled() && Atomics.load(cells, stateIndex) === state) return false;
  }
  return true;
}

/** Thrown by StopCell.check in the thread asked to stop: the work under way ends, its partial result dropped. */
export class Stopped extends Error {
  constructor() {
    super('the thread was asked to stop');
  }
}

// A stop cell's cells.
/** 1 once the thread is asked to stop. */
const ASKED = 0;
/** 1 while the thread is at synchronous work (it may be inside koffi), 0 while it waits in its event loop. */
const BUSY = 1;
/** Its signs of life, counted. */
const BEAT = 2;
const CELLS = 3;

/**
 * The cells one thread asks another to stop through (ask), which that thread reads between the
 * units of its synchronous work (check), and which tell whether it is at such work (busy) and how
 * it moves (LifeSigns). Made by the asking thread, handed to the other in its workerData.
 */
export class StopCell {
  readonly cells: Int32Array;

  constructor(cells?: Int32Array) {
    this.cells = cells ?? new Int32Array(new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT));
  }

  /** The asking thread: the other is to stop at its next check. */
  ask(): void {
    Atomics.store(this.cells, ASKED, 1);
  }

  /** The thread asked: a sign of life between two units of its work; once it is asked to stop, throws Stopped. */
  readonly check = (): void => {
    Atomics.add(this.cells, BEAT, 1);
    if (this.asked()) throw new Stopped();
  };

  /** The thread asked: whether it is asked to stop (its work ends at its next check). */
  asked(): boolean {
    return Atomics.load(this.cells, ASKED) !== 0;
  }

  /** The thread asked: a sign of life; the first, as its script begins, tells it has loaded (begun). */
  beat(): void {
    Atomics.add(this.cells, BEAT, 1);
  }

  /** The asking thread: whether the other's script has begun (its first sign of life): before, it is in Node's start of a thread or its modules' load. */
  begun(): boolean {
    return Atomics.load(this.cells, BEAT) !== 0;
  }

  /** The thread asked: whether it is at synchronous work from now on (begins a refresh) or back in its event loop. */
  busy(busy: boolean): void {
    Atomics.store(this.cells, BUSY, busy ? 1 : 0);
    if (!busy) Atomics.notify(this.cells, BUSY);
  }

  /** The asking thread: the other's signs of life, watched from now on. */
  lifeSigns(stallMs: number): LifeSigns {
    return new LifeSigns(this.cells, BEAT, stallMs);
  }

  /**
   * The asking thread, blocking (at the process's exit, before Node terminates the other): asks it
   * to stop and waits while it is at synchronous work and shows signs of life at least every
   * `stallMs` (awaitWhileAlive).
   */
  askAndAwaitIdle(stallMs: number): void {
    this.ask();
    awaitWhileAlive(this.cells, BUSY, (busy) => busy === 0, BEAT, stallMs);
  }
}
