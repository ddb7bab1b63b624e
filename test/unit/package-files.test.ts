import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { COMMONJS_WORKERS as BUILT_COMMONJS, WORKER_ENTRIES as BUILT } from '../../scripts/entries.mjs';
import { COMMONJS_WORKERS, packagePath, startWorker, WORKER_ENTRIES, workersRunning } from '../../src/package-files.js';

test('every worker thread inotop starts is bundled by both builds, from a source that exists', () => {
  assert.deepEqual([...BUILT].sort(), [...WORKER_ENTRIES].sort());
  assert.deepEqual([...BUILT_COMMONJS].sort(), [...COMMONJS_WORKERS].sort());
  for (const entry of WORKER_ENTRIES) assert.ok(existsSync(packagePath(`src/${entry}.ts`)), entry);
});

test('the worker threads started are counted until each exits: a one-shot ends its process at once only without one', async () => {
  const before = workersRunning();
  const worker = startWorker('serve/password-worker');
  assert.equal(workersRunning(), before + 1);
  await worker.terminate();
  assert.equal(workersRunning(), before);
});
