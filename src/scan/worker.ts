// The second thread of a big one-shot scan (second-thread.ts): waits for its share of the scan,
// reads the chunks of the pid list it claims as the main thread reads its own, sends what it found,
// and merges its order of the instances with the main thread's.
import { workerData } from 'node:worker_threads';
import { kcmpComparator } from '../sys/kcmp.js';
import { mergeOrders, Scanner } from './scanner.js';
import { serveShare, type ThreadInit } from './second-thread.js';

serveShare(
  workerData as ThreadInit,
  (share, claim, beat) => {
    const scanner = new Scanner({ procRoot: share.procRoot, once: true });
    try {
      return scanner.readShare(share.pids, claim, share.users, share, beat);
    } finally {
      scanner.close();
    }
  },
  (ours, theirs) => {
    const kcmp = kcmpComparator();
    // It ordered its own with kcmp: there is one. (Thrown, the main thread would merge them itself.)
    if (!kcmp.ok) throw new Error(kcmp.error);
    return mergeOrders(kcmp.value, [theirs, ours]);
  },
);
