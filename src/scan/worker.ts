// The second thread of a big one-shot scan (second-thread.ts): waits for its share of the scan,
// reads the chunks of the pid list it claims as the main thread reads its own, and sends what it found.
import { workerData } from 'node:worker_threads';
import { Scanner } from './scanner.js';
import { serveShare, type ThreadInit } from './second-thread.js';

serveShare(workerData as ThreadInit, (share, claim, beat) => {
  const scanner = new Scanner({ procRoot: share.procRoot, once: true });
  try {
    return scanner.readShare(share.pids, claim, share.users, share, beat);
  } finally {
    scanner.close();
  }
});
