// A worker thread that starts a tracer, says so, then scans forever (a busy loop): what
// Worker.terminate() meets when the screen quits during a long scan.
import { parentPort } from 'node:worker_threads';
import { Tracer } from '../../src/trace/tracer.js';

const tracer = new Tracer({ enabled: true, procRoot: '/proc' });
await tracer.start();
parentPort!.postMessage('started');
for (;;) {
  // Never yields to the event loop: no message, no stop(), gets through.
}
