// Run in a child Node with --expose-gc (test/unit/model-target-rows.test.ts): builds the target
// rows of one process holding WATCHES watches, as a screen's selection has them built, and prints
// the bytes of heap they keep per row.
import { buildSnapshot } from '../../src/model/snapshot.js';
import { parseInotifyFdinfo } from '../../src/scan/parse.js';
import { scannedProcess, scanOf } from './rows.js';

const WATCHES = 20_000;
const PID = 100;

const lines: string[] = [];
for (let i = 1; i <= WATCHES; i++) lines.push(`inotify wd:${i.toString(16)} ino:${(1000 + i).toString(16)} sdev:27 mask:fff ignored_mask:0\n`);
const scan = scanOf([
  scannedProcess(PID, 0, {
    instances: [
      {
        fd: 3,
        watches: parseInotifyFdinfo(Buffer.from(`pos:\t0\nflags:\t00\n${lines.join('')}`, 'latin1')),
        listKey: 'k',
        instanceId: `${PID}:3`,
        shared: false,
      },
    ],
  }),
]);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
// Once before measuring: code and shapes made on first use are not the rows'.
buildSnapshot(scan, null, null, new Set([PID]));
gc();
const before = process.memoryUsage().heapUsed;
const rows = buildSnapshot(scan, null, null, new Set([PID])).processes[0]!.targets;
gc();
const kept = process.memoryUsage().heapUsed - before;
process.stdout.write(JSON.stringify({ rows: rows.length, bytesPerRow: Math.round(kept / rows.length) }) + '\n');
