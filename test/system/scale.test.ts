// A node at the kernel's largest default limit: about a million watches, in 200 processes, each
// watch on an inode of its own. Counts must stay exact there: `inotop --json` and a refresh of a
// kept scanner are compared with the kernel's fdinfo, read the plain way; the screen shows its first
// scan's progress while it reads them. (How fast and how small inotop is at that size is the
// benchmark's business: npm run bench -- --size huge.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Snapshot } from '../../src/model/types.js';
import { Scanner } from '../../src/scan/index.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { isRoot, rootSkip } from '../helpers/inowatch.js';
import { countFds, LOAD_SIZES, startLoad, type Load } from '../helpers/load.js';
import { TmuxPane } from '../helpers/tmux.js';
import { listNumericEntries } from '../../src/scan/procfs.js';

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

  test("the screen's first scan shows how far it has got: processes read of all, watches so far", async (t) => {
    const pane = new TmuxPane([process.execPath, inotopBin, '--pods', 'none'], { width: 80, height: 24 });
    t.after(() => pane.kill());
    const progress = /^processes\[[| ]*([\d,]+)\/([\d,]+) +\d+%\] {2}([\d,]+) watches so far/m;
    const number = (text: string) => Number(text.replaceAll(',', ''));
    const seen: { read: number; of: number; watches: number }[] = [];
    // Read as it scans: a frame with some processes read, some watches counted and more to go.
    await pane.waitFor(
      (screen) => {
        const match = progress.exec(screen);
        if (match) seen.push({ read: number(match[1]!), of: number(match[2]!), watches: number(match[3]!) });
        return seen.some((p) => p.read > 0 && p.read < p.of && p.watches > 0);
      },
      'the progress in the middle of the first scan',
      60_000,
    );
    const screen = await pane.waitFor(/^total [\d,]+ processes +[\d,]+ instances +[\d,]+ watches/m, 'the first snapshot', 60_000);
    assert.doesNotMatch(screen, /watches so far/, 'the progress gives way to the snapshot');
    const total = number(/^total [\d,]+ processes +[\d,]+ instances +([\d,]+) watches/m.exec(screen)![1]!);
    const listed = listNumericEntries('/proc').length;
    for (const p of seen) {
      assert.ok(p.of >= load.pids.length && p.of < listed + 1000, `of every process listed: ${JSON.stringify(p)}`);
      assert.ok(p.watches <= total, `watches so far within the snapshot's ${total}: ${JSON.stringify(p)}`);
    }
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
