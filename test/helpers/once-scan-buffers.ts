// Run in a child Node with --expose-gc (test/system/scan-kernel.test.ts): one once-only scan of
// the live /proc, as `inotop --json` makes it, and what it leaves in ArrayBuffers beyond the
// watch lists it returns. Prints the watches read of the pid given and those bytes.
import { Scanner } from '../../src/scan/index.js';

const pid = Number(process.argv[2]);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
// A collection frees array buffers' memory a little after it (V8's sweeper): settled, the figures are exact.
async function settledArrayBuffers(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().arrayBuffers;
}
const before = await settledArrayBuffers();
const scanner = new Scanner({ once: true });
const result = scanner.scan();
const after = await settledArrayBuffers();
// The lists' own arrays, each memory once (a list's arrays may be views of one).
const memories = new Set<ArrayBufferLike>();
for (const proc of result.processes) {
  for (const { watches } of proc.instances) {
    for (const array of [watches.wd, watches.ino, watches.sdev, watches.mask, watches.handleType, watches.handleStart, watches.handleBytes])
      memories.add(array.buffer);
  }
}
let lists = 0;
for (const memory of memories) lists += memory.byteLength;
const watches = result.processes.find((proc) => proc.pid === pid)?.instances.reduce((sum, instance) => sum + instance.watches.length, 0) ?? null;
scanner.close();
process.stdout.write(JSON.stringify({ watches, keptBytes: after - before - lists }) + '\n');
