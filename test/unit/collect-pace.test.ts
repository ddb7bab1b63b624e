// The collector's pace (src/collect/pace.ts): full scans within their share of a core, the
// refreshes between them at the interval asked for when the trace tells what changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  afterRefresh,
  initialPace,
  readsChangedOnly,
  STRETCH_SHARE,
  TRACED_FULL_SCAN_SHARE,
  withWish,
  type PaceOptions,
  type PaceState,
} from '../../src/collect/pace.js';

const traced: PaceOptions = { stretch: true, tellsChanges: true };
const untraced: PaceOptions = { stretch: true, tellsChanges: false };
const asGiven: PaceOptions = { stretch: false, tellsChanges: true };

/** Runs refreshes the way the worker does: each starts when the previous one's interval is up. */
function run(
  options: PaceOptions,
  costOf: (scope: 'all' | 'changed') => number,
  count: number,
  wishedMs = 2000,
): { pace: PaceState; scopes: string[]; startedAt: number[] } {
  let pace = initialPace(wishedMs);
  let now = 0;
  const scopes: string[] = [];
  const startedAt: number[] = [];
  for (let i = 0; i < count; i++) {
    const scope = readsChangedOnly(pace, now, options) ? 'changed' : 'all';
    const cost = costOf(scope);
    scopes.push(scope);
    startedAt.push(now);
    pace = afterRefresh(pace, now, cost, scope, options);
    now += cost + pace.usedMs;
  }
  return { pace, scopes, startedAt };
}

test('a cheap full scan: every refresh reads every process, at the interval asked for', () => {
  const { pace, scopes } = run(traced, () => 50, 6);
  assert.deepEqual(scopes, ['all', 'all', 'all', 'all', 'all', 'all']);
  assert.equal(pace.usedMs, 2000);
  assert.equal(pace.fullEveryMs, 2000);
});

test('a costly full scan with the trace: refreshes at -d read the changed, full scans within half the share', () => {
  // 4 s to read a million watches, 20 ms for the few processes that changed.
  const { pace, scopes, startedAt } = run(traced, (scope) => (scope === 'all' ? 4000 : 20), 160);
  assert.equal(pace.usedMs, 2000);
  assert.equal(pace.fullEveryMs, Math.ceil(4000 / TRACED_FULL_SCAN_SHARE / 100) * 100);
  // The first (cold) and the second (steady) are full; then about one in 65.
  assert.deepEqual(scopes.slice(0, 3), ['all', 'all', 'changed']);
  const fullAt = startedAt.filter((_, i) => scopes[i] === 'all');
  for (let i = 2; i < fullAt.length; i++) {
    const gap = fullAt[i]! - fullAt[i - 1]!;
    assert.ok(gap >= pace.fullEveryMs && gap <= pace.fullEveryMs + 2000 + 20, `full scans ${gap} ms apart`);
  }
  // The whole run's cost, the first two refreshes aside, within the share plus what the changed cost.
  const busy = scopes.slice(2).reduce((sum, scope) => sum + (scope === 'all' ? 4000 : 20), 0);
  const elapsed = startedAt.at(-1)! - startedAt[2]!;
  assert.ok(busy / elapsed < TRACED_FULL_SCAN_SHARE + 20 / 2000 + 0.01, `${((busy / elapsed) * 100).toFixed(1)}% of a core`);
});

test('a costly full scan without the trace: the whole interval stretches (every refresh full)', () => {
  const { pace, scopes } = run(untraced, () => 4000, 5);
  assert.deepEqual(scopes, ['all', 'all', 'all', 'all', 'all']);
  assert.equal(pace.usedMs, Math.ceil(4000 / STRETCH_SHARE / 100) * 100);
});

test('--no-stretch: -d as given, every refresh full, whatever it costs', () => {
  const { pace, scopes } = run(asGiven, () => 4000, 4);
  assert.deepEqual(scopes, ['all', 'all', 'all', 'all']);
  assert.equal(pace.usedMs, 2000);
});

test('changed refreshes that cost too much stretch too, never past the full scans', () => {
  const { pace } = run(traced, (scope) => (scope === 'all' ? 4000 : 600), 20);
  assert.equal(pace.usedMs, 10_000);
  assert.equal(pace.fullEveryMs, 133_400);
});

test('a new -d: a longer one is kept at once, a shorter one only as far as the costs allow', () => {
  const steady = run(traced, (scope) => (scope === 'all' ? 4000 : 20), 5).pace;
  const longer = withWish(steady, 120_000, traced);
  assert.deepEqual([longer.usedMs, longer.fullEveryMs], [120_000, 133_400]);
  const shorter = withWish(steady, 1000, traced);
  assert.deepEqual([shorter.usedMs, shorter.fullEveryMs], [1000, 133_400]);
});
