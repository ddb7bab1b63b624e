// The second thread of a big one-shot scan (second-thread.ts): reads the chunks of the pid list it
// claims as the main thread reads its own, and sends what it found.
import { workerData } from 'node:worker_threads';
import { Scanner } from './scanner.js';
import { serveShare, type ShareInit } from './second-thread.js';

const init = workerData as ShareInit;
const scanner = new Scanner({ procRoot: init.procRoot, once: true });
try {
  serveShare(init, (claim, beat) => scanner.readShare(init.pids, claim, init.users, init, beat));
} finally {
  scanner.close();
}
