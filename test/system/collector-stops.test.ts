// The screen's and serve's collector thread (src/collect/background.ts, worker.ts) stopped at any
// moment of its start and its first refresh, on the real kernel, under a load that makes that
// refresh long (well over the 500 ms after which the thread used to be terminated): the thread
// ends by itself, never terminated, the process ends normally every time, and no trace instance of
// it is left. A thread terminated inside koffi may abort the whole process (exit 134, seldom seen
// here): before the stop cell (src/common/thread-stop.ts) every stop in the middle of the scan
// terminated the thread.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { isRoot, rootSkip } from '../helpers/inowatch.js';
import { LOAD_SIZES, startLoad, type Load } from '../helpers/load.js';
import { stopsEndNormally } from '../helpers/thread-stops.js';
import { traceInstances } from '../helpers/tracing.js';

const STOPS = fileURLToPath(new URL('../helpers/collector-stops.ts', import.meta.url));
/** Stops 0, 120, ..., 1,320 ms after the start: the thread's start (some 0.5 s under tsx), then its first scan's. */
const ROUNDS = 12;
const STEP_MS = 120;

interface Round {
  at: number;
  stopMs: number;
  progress: number;
  snapshots: number;
  terminated: number;
}

describe('the collector thread stopped at any moment', { skip: rootSkip }, () => {
  let load: Load;

  before(async () => {
    if (isRoot) load = await startLoad(LOAD_SIZES.large);
  });

  after(async () => {
    await load?.stop();
  });

  test('in its start or its first scan (inside koffi): it ends by itself, never terminated, the process normally, its trace instances removed', () => {
    const { pid, lines } = stopsEndNormally(STOPS, [String(ROUNDS), String(STEP_MS)], 'the stops');
    assert.equal(lines.at(-1), String(ROUNDS));
    const rounds = lines.slice(0, -1).map((line) => JSON.parse(line) as Round);
    // The sweep met the first scan: some stops came after its progress was told, before its snapshot.
    const inScan = rounds.filter((round) => round.progress > 0 && round.snapshots === 0);
    assert.ok(inScan.length >= 2, `stops during the first scan: ${lines.join('\n')}`);
    assert.equal(rounds.at(-1)!.terminated, 0, `threads terminated (Worker.terminate):\n${lines.join('\n')}`);
    const left = instancesOf(pid);
    if (left) assert.deepEqual(left, [], 'its trace instances removed');
  });
});

/** The trace instances of a process, where tracefs can be listed (a kernel without it: null). */
function instancesOf(pid: number): string[] | null {
  let names: string[];
  try {
    names = traceInstances();
  } catch {
    return null;
  }
  return names.filter((name) => name === `inotop-${pid}` || name.startsWith(`inotop-${pid}-`));
}
