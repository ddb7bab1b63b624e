// Rows, and the metrics' target lists, cross from the collector's thread to the other only when
// they changed: a refresh that found a row as before sends its pid alone, one that found the
// targets as before sends the row without them, and the receiving side puts back the row or list
// it holds (the same object, so nothing derived from it is derived again). A screen is sent no
// lists: a window of the asked process's targets, when it changes.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BackgroundCollector } from '../../src/collect/background.js';
import { RowsReceiver, RowsSender, samePlainData, type SentRow } from '../../src/collect/sent-rows.js';
import type { ProcessRow, Snapshot } from '../../src/model/types.js';
import type { PaneAsk, PaneSlice } from '../../src/model/pane.js';
import { collectorOptions, NODE_FLAGS, nodeOptions } from '../../src/options/node.js';
import { parseFlags } from '../../src/options/flags.js';
import { proc, targets } from '../helpers/rows.js';

/** The rows a snapshot sends whole (a pid alone is a row as before). */
const whole = (sent: SentRow[]) => sent.filter((row) => typeof row !== 'number');

/** A sender and a receiver, and one snapshot across in two parts as the worker splits them: the rows as sent and as the screen gets them. */
function channel() {
  const sender = new RowsSender();
  const receiver = new RowsReceiver();
  const across = (rows: ReturnType<typeof proc>[]) => {
    const { rows: sent, kept } = sender.strip(rows);
    const parts = [sent.slice(0, 1), sent.slice(1)].map((part) => structuredClone(part));
    const received = parts.flatMap((part, i) => receiver.fill(part, [...kept], i === parts.length - 1));
    return { sent, received };
  };
  return { sender, receiver, across };
}

test('a snapshot carries a target list only when it is not the one sent before, and the receiver puts it back', () => {
  const { across } = channel();
  const selected = targets(3);
  const first = across([proc(1, { targets: selected }), proc(2)]);
  assert.equal((first.sent[0] as ProcessRow).targets.length, 3, 'the first time, the list goes over');
  const held = first.received[0]!.targets;
  assert.deepEqual(held, selected);

  // The row changed (more queued bytes), its list did not.
  const second = across([proc(1, { targets: selected, queuedBytes: 64 }), proc(2)]);
  assert.equal((second.sent[0] as ProcessRow).targets.length, 0, 'the same list again: none goes over');
  assert.equal(second.received[0]!.targets, held, 'the receiver shows the list it holds, the same array');
  assert.equal(second.received[0]!.queuedBytes, 64);

  const changed = [...selected, ...targets(1, 100)];
  const third = across([proc(1, { targets: changed }), proc(2)]);
  assert.equal((third.sent[0] as ProcessRow).targets.length, 4, 'a changed list goes over');
  assert.deepEqual(third.received[0]!.targets, changed);
});

test("a row as before crosses as its pid alone, and the receiver shows the row it holds, in the snapshot's order", () => {
  const { across } = channel();
  const selected = targets(3);
  const first = across([proc(1, { targets: selected }), proc(2), proc(3)]);
  assert.equal(whole(first.sent).length, 3, 'the first time, every row goes over');

  // Row 2 changed; rows 1 (with its list) and 3 are as before; the order is new.
  const second = across([proc(3), proc(1, { targets: selected }), proc(2, { watches: 7 })]);
  assert.deepEqual(second.sent.slice(0, 2), [3, 1], 'the rows as before go as their pids');
  assert.equal(whole(second.sent).length, 1, 'only the changed row goes whole');
  assert.deepEqual(
    second.received.map((row) => row.pid),
    [3, 1, 2],
    "the snapshot's order",
  );
  assert.equal(second.received[0], first.received[2], 'the row held, the same object');
  assert.equal(second.received[1]!.targets, first.received[0]!.targets, 'with its list');
  assert.equal(second.received[2]!.watches, 7);

  // A row gone and back: sent whole again.
  across([proc(3)]);
  const back = across([proc(3), proc(2, { watches: 7 })]);
  assert.deepEqual(back.sent[0], 3);
  assert.equal(whole(back.sent).length, 1, 'a row not in the snapshot before goes whole');
  assert.equal(back.received[1]!.watches, 7);
});

test('rows compare as plain data: every field, nested, a missing field unlike one set to undefined', () => {
  assert.ok(samePlainData(proc(1, { targets: targets(2) }), proc(1, { targets: targets(2) })));
  assert.ok(!samePlainData(proc(1), proc(1, { watches: 1 })));
  assert.ok(!samePlainData(proc(1), proc(1, { fds: [] })), 'an array shorter');
  assert.ok(!samePlainData(proc(1, { queuedBytes: 0 }), proc(1, { queuedBytes: null })));
  assert.ok(!samePlainData({ a: 1 }, { a: 1, b: undefined }), 'a field more');
  assert.ok(!samePlainData({ a: 1, b: undefined }, { a: 1 }), 'a field less');
  assert.ok(!samePlainData([1], { 0: 1 }), 'an array is no object');
  assert.ok(!samePlainData({ a: NaN }, { a: NaN }), 'NaN counts as changed');
  const nested = { pod: { uid: 'u', name: 'n' }, list: [{ pid: 1 }] };
  assert.ok(samePlainData(nested, structuredClone(nested)));
  assert.ok(!samePlainData(nested, { ...nested, list: [{ pid: 2 }] }));
});

const fixture = fileURLToPath(new URL('../../fixtures/node-a/proc', import.meta.url));

test("the collector's thread answers the screen's ask with a window of the process's targets, again only when they changed", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-sent-targets-'));
  const procRoot = join(dir, 'proc');
  cpSync(fixture, procRoot, { recursive: true, verbatimSymlinks: true });
  // Every refresh a full scan (no trace), which rebuilds every process's rows.
  const options = collectorOptions(nodeOptions(parseFlags(NODE_FLAGS, ['--proc', procRoot, '--pods', 'none', '--no-trace'])));
  const source = new BackgroundCollector(options, 50, 'asked', false, false);
  const events: ({ snapshot: Snapshot } | { slice: PaneSlice })[] = [];
  let wake: (() => void) | null = null;
  /** The next event of the kind wanted, the others on the way counted. */
  const next = async <Kind extends 'snapshot' | 'slice'>(
    kind: Kind,
    within = 100,
  ): Promise<{ event: Extract<(typeof events)[number], Record<Kind, unknown>>; skipped: number }> => {
    let skipped = 0;
    for (;;) {
      while (events.length > 0) {
        const event = events.shift()!;
        if (kind in event) return { event: event as Extract<(typeof events)[number], Record<Kind, unknown>>, skipped };
        skipped++;
        assert.ok(skipped < within, `a ${kind} within ${within} messages`);
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const heard = (event: (typeof events)[number]) => {
    events.push(event);
    wake?.();
  };
  try {
    source.start({
      snapshot: (snapshot) => heard({ snapshot }),
      slice: (slice) => heard({ slice }),
      failed: (message) => assert.fail(message),
      fatal: (error) => assert.fail(error),
      output: () => undefined,
    });
    const ask: PaneAsk = { pid: 100, leakedOnly: false, filter: null, from: 0, count: 2 };
    source.askTargets(ask);
    const first = (await next('slice')).event.slice;
    assert.equal(first.ask.pid, 100);
    assert.ok(first.all > 2, `the fixture's kubelet has more targets than the window (${first.all})`);
    assert.deepEqual([first.from, first.rows.length, first.total], [0, 2, first.all], 'the window only, and the count of all');
    // Snapshots go on coming; the list is as it was, so no answer comes with them.
    for (let i = 0; i < 3; i++) {
      const { event, skipped } = await next('snapshot');
      assert.equal(skipped, 0, 'no slice again while the list is as it was');
      assert.deepEqual(event.snapshot.processes.find((row) => row.pid === 100)!.targets, [], 'rows cross without their targets');
    }
    // Another window of the same list: cut at once from the list the collector holds.
    source.askTargets({ ...ask, from: 1 });
    const moved = (await next('slice')).event.slice;
    assert.deepEqual([moved.from, moved.rows[0]!.ino], [1, first.rows[1]!.ino]);

    // A watch added on fd 3: the next full scan finds it, and the window comes again.
    appendFileSync(join(procRoot, '100', 'fdinfo', '3'), 'inotify wd:2 ino:beef sdev:2a mask:fc6 ignored_mask:0\n');
    const changed = (await next('slice')).event.slice;
    assert.deepEqual([changed.all, changed.ask.from], [first.all + 1, 1], 'for the ask that stands');
  } finally {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
