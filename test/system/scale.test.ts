// A node at the kernel's largest default limit: about a million watches, in 200 processes, each
// watch on an inode of its own. Counts must stay exact there: `inotop --json` and a refresh of a
// kept scanner are compared with the kernel's fdinfo, read the plain way. (How fast and how small
// inotop is at that size is the benchmark's business: npm run bench -- --size huge.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Snapshot } from '../../src/model/types.js';
import { Scanner } from '../../src/scan/index.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { isRoot, rootSkip } from '../helpers/inowatch.js';
import { countFds, LOAD_SIZES, startLoad, type Load } from '../helpers/load.js';

describe('about a million watches', { skip: rootSkip }, () => {
  let load: Load;

  before(async () => {
    if (!isRoot) return;
    ensureBuilt();
    load = await startLoad(LOAD_SIZES.huge);
  });

  after(async () => {
    await load?.stop();
  });

  test('inotop --json counts every process exactly as its fdinfo does', () => {
    const result = spawnSync(process.execPath, [inotopBin, '--json', '--pods', 'none'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(result.status, 0, result.stderr);
    const snapshot = JSON.parse(result.stdout) as Snapshot;
    const rows = new Map(snapshot.processes.map((row) => [row.pid, row]));
    let watches = 0;
    for (const pid of load.pids) {
      const kernel = countFds([pid]);
      const row = rows.get(pid);
      assert.ok(row, `pid ${pid} listed`);
      assert.deepEqual({ instances: row.instances, watches: row.watches }, { instances: kernel.instances, watches: kernel.watches }, `pid ${pid}`);
      watches += row.watches;
    }
    assert.equal(watches, LOAD_SIZES.huge.watches);
    assert.ok(snapshot.totals.watches >= LOAD_SIZES.huge.watches, 'the node total holds the load');
  });

  test('a refresh that reuses every parse still has exactly the kernel counts', () => {
    const scanner = new Scanner();
    try {
      scanner.scan();
      const again = scanner.scan();
      const ours = new Set(load.pids);
      assert.deepEqual(
        again.parsedInstances.filter((id) => ours.has(Number(id.split(':')[0]))),
        [],
        'nothing changed in the load: nothing parsed again',
      );
      for (const proc of again.processes.filter((candidate) => ours.has(candidate.pid))) {
        const kernel = countFds([proc.pid]);
        const watches = proc.instances.reduce((sum, instance) => sum + instance.watches.length, 0);
        assert.deepEqual({ instances: proc.instances.length, watches }, { instances: kernel.instances, watches: kernel.watches }, `pid ${proc.pid}`);
      }
    } finally {
      scanner.close();
    }
  });
});
