// Target rows are what a screen holds per watch of the selected process (500,000 of them at the
// bench's single shape): each must cost a few fields, not a hidden class of its own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const measure = fileURLToPath(new URL('../helpers/target-rows-heap.ts', import.meta.url));

test("a process's target rows keep a few hundred bytes of heap each, sharing one shape", () => {
  const { rows, bytesPerRow } = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', measure], { encoding: 'utf8' })) as {
    rows: number;
    bytesPerRow: number;
  };
  assert.equal(rows, 20_000);
  // About 285 (the row, its fds array, its dev and empty holder lists); rows begun with a spread
  // of their kind's fields kept about 775 each, a hidden class per row.
  assert.ok(bytesPerRow <= 400, `${bytesPerRow} bytes of heap per target row`);
});
