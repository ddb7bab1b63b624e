// Run in a child Node by test/system/collector-stops.test.ts: starts the screen's and serve's real
// collector (BackgroundCollector, its worker thread, tracing) again and again, and stops it each
// round at another moment: before its script runs, as it loads koffi, during its first scan (the
// load on the node makes that long), later. A thread terminated inside koffi aborts the whole
// process (exit 134), so the parent asks that this process end normally; that is seldom seen, so
// it asks too that no thread be terminated (Worker.terminate), which is what risks it: the thread
// is to end by itself. Arguments: rounds, how
// much later (ms) each round stops than the one before, and (optional) how long after its start
// the first round stops. Prints a line (JSON) per round: when
// the stop was asked (ms after the start), how long stop() took, the progress reports and
// snapshots that had come, the threads terminated so far; then how many stops it made.
import { Worker } from 'node:worker_threads';
import { BackgroundCollector } from '../../src/collect/background.js';
import { podSourceOptions } from '../../src/pods/sources.js';
import { uptimeMs } from '../../src/deadline.js';

let terminated = 0;
const terminate = Worker.prototype.terminate;
Worker.prototype.terminate = function (this: Worker) {
  terminated++;
  return terminate.call(this);
};

const [rounds, stepMs, firstMs = 0] = process.argv.slice(2).map(Number) as [number, number, number?];

let stops = 0;
for (let round = 0; round < rounds; round++) {
  const collector = new BackgroundCollector(
    { procRoot: '/proc', pods: podSourceOptions({ kind: 'none' }), forceWalk: false, record: null, intervalSeconds: 0.5, trace: true },
    500,
    'asked',
  );
  let progress = 0;
  let snapshots = 0;
  const started = uptimeMs();
  collector.start({
    snapshot: () => snapshots++,
    progress: () => progress++,
    failed: (message) => process.stderr.write(`a refresh failed: ${message}\n`),
    fatal: (error) => {
      throw error;
    },
    output: (text) => process.stderr.write(text),
  });
  await new Promise((resolve) => setTimeout(resolve, firstMs + round * stepMs));
  const asked = uptimeMs();
  await collector.stop();
  const stopMs = Math.round(uptimeMs() - asked);
  process.stdout.write(`${JSON.stringify({ round, at: Math.round(asked - started), stopMs, progress, snapshots, terminated })}\n`);
  stops++;
}
process.stdout.write(`${stops}\n`);
