// The first scan's progress on its way to the screen: the scanner tells a listener (only one it is
// given), the collector's thread posts it to a listener that takes it, the reducer keeps it
// until the first snapshot, and the header paints it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BackgroundCollector } from '../../src/collect/background.js';
import type { SourceListener } from '../../src/collect/source.js';
import type { Snapshot } from '../../src/model/types.js';
import { NO_FILTER } from '../../src/model/query.js';
import { collectorOptions, NODE_FLAGS, nodeOptions } from '../../src/options/node.js';
import { parseFlags } from '../../src/options/flags.js';
import { listNumericEntries, Scanner, type ScanProgress } from '../../src/scan/index.js';
import { headerLines } from '../../src/views/tui/paint/header.js';
import { layout } from '../../src/views/tui/paint/layout.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import { proc, snapshot } from '../helpers/rows.js';
import { mono, plain } from '../helpers/screen-state.js';

const procRoot = fileURLToPath(new URL('../../fixtures/node-a/proc', import.meta.url));

/** The fixture's processes listed, and its watches as a scan without a listener counts them (a shared instance once). */
function fixtureCounts(): { listed: number; watches: number } {
  const scanner = new Scanner({ procRoot });
  try {
    const instances = new Map(scanner.scan().processes.flatMap((p) => p.instances.map((instance) => [instance.instanceId, instance.watches.length])));
    return { listed: listNumericEntries(procRoot).length, watches: [...instances.values()].reduce((sum, n) => sum + n, 0) };
  } finally {
    scanner.close();
  }
}

test('a scan tells its listener the total at once and every process read at the end, not once a process', () => {
  const { listed, watches } = fixtureCounts();
  const told: ScanProgress[] = [];
  const scanner = new Scanner({ procRoot });
  try {
    scanner.scan(null, null, (progress) => told.push(progress));
  } finally {
    scanner.close();
  }
  assert.deepEqual(told[0], { read: 0, of: listed, watches: 0 }, 'the total before the first read');
  assert.deepEqual(told.at(-1), { read: listed, of: listed, watches }, 'all read, every watch counted');
  // Eight processes read in well under the cadence: the first and the last report only.
  assert.ok(told.length < listed, `${told.length} reports for ${listed} processes`);
  for (let i = 1; i < told.length; i++) {
    assert.ok(told[i]!.read >= told[i - 1]!.read && told[i]!.watches >= told[i - 1]!.watches, 'only forward');
  }
});

/** Runs the collector's thread on the fixture until its first snapshot; what the listener was told before it. */
async function firstRefresh(): Promise<{ progress: ScanProgress[]; snapshot: Snapshot }> {
  const options = collectorOptions(nodeOptions(parseFlags(NODE_FLAGS, ['--proc', procRoot, '--pods', 'none', '--no-trace'])));
  const source = new BackgroundCollector(options, 60_000, 'asked');
  const progress: ScanProgress[] = [];
  try {
    const snapshot = await new Promise<Snapshot>((resolve, reject) => {
      const listener: SourceListener = {
        snapshot: (snapshot) => resolve(snapshot),
        failed: (message) => reject(new Error(message)),
        fatal: reject,
        output: () => undefined,
        progress: (told) => progress.push(told),
      };
      source.start(listener);
    });
    return { progress, snapshot };
  } finally {
    await source.stop();
  }
}

test("the collector's thread posts the first scan's progress to a listener that takes it, before the snapshot", async () => {
  const { listed, watches } = fixtureCounts();
  const { progress, snapshot } = await firstRefresh();
  assert.ok(progress.length >= 2, `told at the start and the end: ${JSON.stringify(progress)}`);
  assert.deepEqual(progress[0], { read: 0, of: listed, watches: 0 });
  assert.deepEqual(progress.at(-1), { read: listed, of: listed, watches });
  assert.equal(snapshot.totals.watches, watches, 'the snapshot counts what the progress did, a shared instance once');
});

const start = () => initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 });
const header = (state: ReturnType<typeof start>, width = 120) => plain(headerLines(state, layout(width, 40, 0), mono)).map((line) => line.trimEnd());

test('the header shows the progress until the first snapshot comes, then the snapshot', () => {
  assert.deepEqual(header(start()), ['inotop: first scan…'], 'nothing told yet');
  let state = reduce(start(), { type: 'progress', progress: { read: 1234, of: 5678, watches: 45_678 } });
  const [title, line] = header(state);
  assert.equal(title, 'inotop: first scan…');
  const inside = /^processes\[(\|+) +1,234\/5,678 22%\] {2}45,678 watches so far$/.exec(line!);
  assert.ok(inside, line);
  const meterInside = line!.indexOf(']') - 'processes['.length;
  assert.equal(inside[1]!.length, Math.round((1234 / 5678) * meterInside), 'bars in proportion to the processes read');
  assert.ok(line!.length <= 120);
  assert.match(header(state, 80)[1]!, /^processes\[.*1,234\/5,678 22%\] {2}45,678 watches so far$/, 'at 80 columns');
  state = reduce(state, { type: 'progress', progress: { read: 5678, of: 5678, watches: 100_000 } });
  assert.equal(header(state)[1], '5,678 processes read, 100,000 watches; resolving…');
  state = reduce(state, { type: 'snapshot', snapshot: snapshot([proc(1)]) });
  assert.equal(state.scanProgress, null);
  assert.match(header(state)[0]!, /^inotop node-t /);
  // A late report (none comes after the first snapshot) would show nothing.
  assert.equal(reduce(state, { type: 'progress', progress: { read: 1, of: 2, watches: 0 } }).scanProgress, null);
});
