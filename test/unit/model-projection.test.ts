// Time to exhaustion: a user's pace over the last refreshes, and when it reaches its limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationText, perMinute, secondsToLimit, UsageTrends } from '../../src/model/projection.js';
import { exhaustionText } from '../../src/views/tui/paint/meters.js';
import { user } from '../helpers/rows.js';
import type { UserRow } from '../../src/model/types.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 10, minute)).toISOString();
/** Root against 128 instances and 8,192 watches (the hand-made snapshots' limits). */
const root = (watches: number, instances = 10) => user(0, instances, watches);

test('the pace is the least-squares slope per minute; none from one sample or no time', () => {
  const samples = [0, 1, 2, 3].map((m) => ({ time: m * 60_000, watches: 100 + 47 * m + (m % 2), instances: 5 }));
  assert.ok(Math.abs(perMinute(samples, (s) => s.watches)! - 47.2) < 0.01);
  assert.equal(
    perMinute(samples, (s) => s.instances),
    0,
  );
  assert.equal(
    perMinute(samples.slice(0, 1), (s) => s.watches),
    null,
  );
  assert.equal(
    perMinute([samples[0]!, samples[0]!], (s) => s.watches),
    null,
  );
});

test('seconds to the limit: 0 when reached, null when not growing or no limit', () => {
  assert.equal(secondsToLimit(8192 - 470, 8192, 47), 600);
  assert.equal(secondsToLimit(8192, 8192, 0), 0);
  assert.equal(secondsToLimit(100, 8192, 0), null);
  assert.equal(secondsToLimit(100, 8192, -3), null);
  assert.equal(secondsToLimit(100, null, 10), null);
});

test('per-user trends over refreshes, as the collector keeps them; users that leave are forgotten', () => {
  const trends = new UsageTrends();
  const [first] = trends.add(at(0), [root(1000)]);
  assert.deepEqual(first!.trend, { watchesPerMinute: null, instancesPerMinute: null, watchesFullInSeconds: null, instancesFullInSeconds: null });
  trends.add(at(1), [root(1047)]);
  const [third] = trends.add(at(2), [root(1094, 11)]);
  assert.equal(third!.trend!.watchesPerMinute, 47);
  assert.equal(third!.trend!.watchesFullInSeconds, Math.round(((8192 - 1094) / 47) * 60));
  assert.equal(third!.trend!.instancesFullInSeconds, Math.round(((128 - 11) / 0.5) * 60));
  assert.equal(exhaustionText(third!), 'full in ~2 h 31 min at +47/min');
  trends.add(at(3), []);
  const [again] = trends.add(at(4), [root(5000)]);
  assert.equal(again!.trend!.watchesPerMinute, null, 'a new start after the user was gone');
});

test('a trend follows what the kernel charges a user, against the limit in force for it', () => {
  const trends = new UsageTrends();
  // Root holds 10 instances itself; 50, then 60, come from the user namespaces a runtime made.
  const charged = (instances: number): UserRow => ({ ...root(0, 10), charged: { instances, watches: 0, fanotifyGroups: 0, fanotifyMarks: 0 } });
  trends.add(at(0), [charged(60)]);
  const [later] = trends.add(at(1), [charged(70)]);
  assert.equal(later!.trend!.instancesPerMinute, 10);
  assert.equal(later!.trend!.instancesFullInSeconds, Math.round(((128 - 70) / 10) * 60));
  // A namespace's own limit, not the host's; none where its own is unlimited.
  const own = (instances: number, limit: number | null): UserRow => ({
    ...charged(instances),
    userns: '4026532173',
    limits: { instances: limit, watches: null, fanotifyGroups: null, fanotifyMarks: null },
  });
  const namespaced = new UsageTrends();
  namespaced.add(at(0), [own(1, 8)]);
  assert.equal(namespaced.add(at(1), [own(3, 8)])[0]!.trend!.instancesFullInSeconds, 150);
  const unlimited = new UsageTrends();
  unlimited.add(at(0), [own(1, null)]);
  assert.equal(unlimited.add(at(1), [own(3, null)])[0]!.trend!.instancesFullInSeconds, null);
});

test('durations read as people say them', () => {
  assert.equal(durationText(0), 'now');
  assert.equal(durationText(45), '~45 s');
  assert.equal(durationText(600), '~10 min');
  assert.equal(durationText(7800), '~2 h 10 min');
  assert.equal(durationText(5 * 86_400), '~5 d');
  assert.equal(
    exhaustionText({ ...root(8192), trend: { watchesPerMinute: 0, instancesPerMinute: 0, watchesFullInSeconds: 0, instancesFullInSeconds: null } }),
    'FULL',
  );
});

test('the header meters say when a user fills up', async () => {
  const { headerLines } = await import('../../src/views/tui/paint/header.js');
  const { layout } = await import('../../src/views/tui/paint/layout.js');
  const { Painter } = await import('../../src/views/painter.js');
  const { initialState, reduce } = await import('../../src/views/tui/state.js');
  const { NO_FILTER } = await import('../../src/model/query.js');
  const { proc, snapshot } = await import('../helpers/rows.js');
  const base = snapshot([proc(1)]);
  const trend = { watchesPerMinute: 47, instancesPerMinute: 0, watchesFullInSeconds: 7800, instancesFullInSeconds: null };
  const state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: { ...base, users: [{ ...base.users[0]!, trend }] },
  });
  const lines = headerLines(state, layout(120, 40, 1), new Painter(false)).map((l) => l.replace(/\{\/?[a-z-]+\}/g, ''));
  assert.match(lines[1]!, /^root +watches\[.*\] inst\[.*\] full in ~2 h 10 min at \+47\/min $/);
});
