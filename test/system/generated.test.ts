// Files made from one source each (scripts/generate.ts) are checked in: each must be what
// `npm run generate` writes from the sources as they are now.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { generatedFiles } from '../../scripts/generate.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

for (const file of generatedFiles()) {
  test(`${file.path} is current (npm run generate)`, () => {
    const onDisk = readFileSync(join(repo, file.path), 'utf8');
    assert.ok(onDisk === file.text, `${file.path} is stale: run npm run generate and commit it`);
  });
}
