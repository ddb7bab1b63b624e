// Runs the Collector in a worker thread and hands its snapshots to the screen.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../package-files.js';
import { removeOpenInstances } from '../trace/tracefs.js';
import type { ProcessRow, Snapshot } from '../model/types.js';
import type { SnapshotSource, SourceListener } from './source.js';
import type { CollectorOptions } from './collector.js';
import type { FromWorker, Pace, TargetDelivery, ToWorker, WorkerInit } from './protocol.js';
import { RowsReceiver } from './sent-rows.js';
import type { PaneAsk } from '../model/pane.js';
import { STALL_MS, StopCell } from '../common/thread-stop.js';

export class BackgroundCollector implements SnapshotSource {
  private worker: Worker | null = null;
  /** Resolved once the worker has exited: by then, or before stop() is called (it died). */
  private exited: Promise<unknown> = Promise.resolve();
  private incoming: { snapshot: Snapshot; rows: ProcessRow[]; pace: Pace; keptTargets: number[] } | null = null;
  /** The rows and target lists the worker sends only when they changed. */
  private readonly rows = new RowsReceiver();
  /** Where the worker is asked to stop in the middle of a refresh, which it reads between processes (src/common/thread-stop.ts). */
  private readonly stopCell = new StopCell();
  /**
   * The process exits under the worker (an error, process.exit()): Node terminates it then, which
   * must not be in a koffi call. Asked to stop, it is waited for while at work, then its trace
   * instances (which it will not get to remove) are removed from here.
   */
  private readonly onExit = () => {
    this.stopCell.askAndAwaitIdle(STALL_MS);
    removeOpenInstances(0);
  };

  /**
   * `targetDelivery`: 'asked' for a screen, which is sent only the window of targets it asks for
   * (see `askTargets`); 'leaked' for the metrics, which sum every process's leaked ones.
   */
  constructor(
    private readonly options: CollectorOptions,
    private intervalMs: number,
    private readonly targetDelivery: TargetDelivery,
    private paused = false,
    private readonly stretch = true,
  ) {}

  start(listener: SourceListener): void {
    const init: WorkerInit = {
      collector: this.options,
      intervalMs: this.intervalMs,
      paused: this.paused,
      targets: this.targetDelivery,
      stretch: this.stretch,
      progress: listener.progress !== undefined,
      stop: this.stopCell.cells,
    };
    // The worker must not print while the screen is up: its output is handed to the listener.
    const worker = startWorker('collect/worker', { workerData: init, stdout: true, stderr: true });
    this.worker = worker;
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    // Nor when the process ends under it (an error, process.exit()).
    process.on('exit', this.onExit);
    worker.stdout.on('data', (chunk: Buffer) => listener.output(chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => listener.output(chunk.toString()));
    worker.on('message', (message: FromWorker) => this.receive(message, listener));
    worker.on('error', (error) => listener.fatal(error));
    worker.on('exit', (code) => {
      if (this.worker === worker && code !== 0) listener.fatal(new Error(`the collector thread exited with code ${code}`));
    });
  }

  schedule(intervalMs: number, paused: boolean): void {
    this.intervalMs = intervalMs;
    this.paused = paused;
    this.post({ type: 'schedule', intervalMs, paused });
  }

  askTargets(ask: PaneAsk | null): void {
    this.post({ type: 'targets', ask });
  }

  /**
   * Ends the worker and resolves once it has exited. It is never terminated while it may be in a
   * koffi call (that aborts the process: src/common/thread-stop.ts): asked through the stop cell, a
   * refresh under way ends at its next process read (some ms); the 'stop' message, taken then or
   * at once when it is idle, has it stop its collector (its trace instances removed) and end itself.
   * One that shows no sign of life for STALL_MS (stuck in one call: a read waiting in the kernel)
   * is terminated anyway, its instances removed from here: waiting longer would change nothing, as
   * the process's exit terminates it too.
   */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    this.stopCell.ask();
    worker.postMessage({ type: 'stop' } satisfies ToWorker);
    const signs = this.stopCell.lifeSigns(STALL_MS);
    const watch = setInterval(() => {
      // Still loading its modules (koffi's among them), which end by themselves: not stuck.
      if (!this.stopCell.begun() || !signs.stalled()) return;
      clearInterval(watch);
      removeOpenInstances(0);
      void worker.terminate();
    }, STALL_MS / 4);
    await this.exited;
    clearInterval(watch);
    process.off('exit', this.onExit);
  }

  private receive(message: FromWorker, listener: SourceListener): void {
    switch (message.type) {
      case 'failed':
        return listener.failed(message.message);
      case 'progress':
        return listener.progress?.(message.progress);
      case 'begin':
        this.incoming = { snapshot: message.snapshot, rows: [], pace: message.pace, keptTargets: message.keptTargets };
        return this.acknowledge();
      case 'rows': {
        const incoming = this.incoming!;
        incoming.rows.push(...this.rows.fill(message.rows, incoming.keptTargets, message.last));
        // Acknowledge after this turn of the event loop, so that keys waiting are handled first.
        if (!message.last) return this.acknowledge();
        this.incoming = null;
        const snapshot = { ...incoming.snapshot, processes: incoming.rows };
        listener.snapshot(snapshot, { pace: incoming.pace });
        return this.acknowledge();
      }
      case 'slice':
        return listener.slice?.(message.slice, message.holders);
    }
  }

  private acknowledge(): void {
    setImmediate(() => this.post({ type: 'ack' }));
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }
}
