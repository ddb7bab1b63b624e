// Run in a child Node by test/system/scan-threads.test.ts: moves itself into the pids cgroup given
// and caps it at the threads it has, so that the kernel refuses a new one (EAGAIN, as on a node at
// its pids limit); then scans once on one thread and once with a second thread forced, and prints
// both scans' processes (summed up: scanSummary) and how the second thread fared.
import { readFileSync, writeFileSync } from 'node:fs';
import { Scanner } from '../../src/scan/index.js';
import { scanSummary } from './scan-summary.js';

const [cgroup, pidList] = process.argv.slice(2);
const pids = new Set(pidList!.split(',').map(Number));
writeFileSync(`${cgroup}/cgroup.procs`, String(process.pid));
writeFileSync(`${cgroup}/pids.max`, readFileSync(`${cgroup}/pids.current`, 'utf8').trim());
const one = new Scanner({ once: true });
const two = new Scanner({ once: true, secondThread: { afterMs: 0, leftMs: 0, maxCpuPressure: 100, chunkPids: 1 } });
try {
  const alone = scanSummary(one.scan(), pids);
  const split = scanSummary(two.scan(), pids);
  process.stdout.write(JSON.stringify({ one: alone, two: split, threads: two.lastThreads }));
} finally {
  one.close();
  two.close();
}
