// A start writes nothing outside inotop's own state: no V8 compile cache in the OS temp dir, which
// every user shares (root would run code from files anyone may have put there first) and nothing
// removes. Under the Node that built dist/ bin/inotop runs the build's code cache; under any other
// (.ci/run runs these tests again under the Node LTS) it loads the ES modules, where Node 22.1 and
// later would keep compiled code in the temp dir if inotop turned the compile cache on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';

const fixture = fileURLToPath(new URL('../../fixtures/node-a/proc', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'inotop-startup-state-'));

before(() => ensureBuilt());
after(() => rmSync(temp, { recursive: true, force: true }));

test(`a one-shot and --version leave the temp dir as they found it (Node ${process.version})`, () => {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp, NODE_OPTIONS: '' };
  delete env['NODE_COMPILE_CACHE'];
  for (const args of [['--version'], ['--json', '--pods', 'none', '--proc', fixture]]) {
    const result = spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.deepEqual(readdirSync(temp), [], `${args.join(' ')} wrote into the temp dir`);
  }
});
