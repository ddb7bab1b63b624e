// The detail pane holds only the window of targets it shows: for a process holding 20,000 real
// inotify watches, the collector's thread sends the screen's thread a window of rows (their paths
// looked up then), never the process's whole list. A screen that was sent every target of the
// bench's single shape (500,000 watches in one process) held over a gigabyte. Scans the real /proc:
// run under the team lock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BackgroundCollector } from '../../src/collect/background.js';
import type { Snapshot } from '../../src/model/types.js';
import { parseFlags } from '../../src/options/flags.js';
import { collectorOptions, NODE_FLAGS, nodeOptions } from '../../src/options/node.js';
import type { PaneAsk, PaneSlice } from '../../src/model/pane.js';
import { rootSkip, Watcher } from '../helpers/inowatch.js';

const FILES = 20_000;
const WINDOW = 30;

test(
  "a process's 20,000 watches: the screen's thread is sent a window of its targets, with their paths, never the whole list",
  { skip: rootSkip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inotop-window-'));
    for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `file-${i}`), '');
    const watcher = new Watcher();
    const options = collectorOptions(nodeOptions(parseFlags(NODE_FLAGS, ['--pods', 'none', '--no-trace'])));
    const source = new BackgroundCollector(options, 200, 'asked', false, false);
    t.after(async () => {
      await source.stop();
      await watcher.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const fd = await watcher.init();
    assert.equal(await watcher.watchDir(fd, dir), FILES + 1, 'the directory and each file in it');

    /** The most target rows any one message brought to this thread, and every slice, in order. */
    let mostRows = 0;
    let snapshots = 0;
    const slices: PaneSlice[] = [];
    let wake: (() => void) | null = null;
    const until = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 60_000;
      while (!done()) {
        assert.ok(Date.now() < deadline, `${what} within a minute`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 1000);
        });
      }
    };
    source.start({
      snapshot: (snapshot: Snapshot) => {
        mostRows = Math.max(mostRows, ...snapshot.processes.map((row) => row.targets.length));
        snapshots++;
        wake?.();
      },
      slice: (slice) => {
        mostRows = Math.max(mostRows, slice.rows.length);
        slices.push(slice);
        wake?.();
      },
      failed: (message) => assert.fail(message),
      fatal: (error) => assert.fail(error),
      output: () => undefined,
    });
    const ask: PaneAsk = { pid: watcher.pid, leakedOnly: false, filter: null, from: 0, count: WINDOW };
    /** The answer to an ask: the first slice after it that names it. */
    const answerTo = async (asked: PaneAsk): Promise<PaneSlice> => {
      const before = slices.length;
      const answer = () => slices.slice(before).find((slice) => JSON.stringify(slice.ask) === JSON.stringify(asked));
      source.askTargets(asked);
      await until(() => answer() !== undefined, 'an answer');
      return answer()!;
    };
    await until(() => snapshots > 0, 'the first snapshot');

    const top = await answerTo(ask);
    assert.deepEqual([top.from, top.rows.length, top.total, top.all], [0, WINDOW, FILES + 1, FILES + 1], 'the window, and the count of all');
    for (const row of top.rows) assert.ok(row.path?.startsWith(dir), `a path looked up: ${row.path}`);

    // End: a window past the end comes back as the last one.
    const end = await answerTo({ ...ask, from: Number.MAX_SAFE_INTEGER });
    assert.deepEqual([end.from, end.rows.length], [FILES + 1 - WINDOW, WINDOW]);
    for (const row of end.rows) assert.ok(row.path?.startsWith(dir), `a path looked up: ${row.path}`);
    assert.equal(new Set([...top.rows, ...end.rows].map((row) => row.ino)).size, 2 * WINDOW, 'another window, other targets');

    // A `/` filter goes through every target's path, a part at a time, and sends the matches.
    const filtered = await answerTo({ ...ask, filter: 'file-1999[0-9]$' });
    assert.equal(filtered.total, 10);
    assert.deepEqual(
      filtered.rows.map((row) => row.path!.slice(dir.length)).sort(),
      Array.from({ length: 10 }, (_, i) => `/file-1999${i}`),
    );

    // Refreshes go on; the list is as it was, so no window is sent again, and rows never carry targets.
    const sent = slices.length;
    const seen = snapshots;
    await until(() => snapshots >= seen + 3, 'three more refreshes');
    assert.equal(slices.length, sent, 'no answer again while the list is as it was');
    assert.ok(mostRows <= WINDOW, `at most a window of target rows crossed in one message (${mostRows})`);
  },
);
