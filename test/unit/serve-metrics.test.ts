// The exporter says whether a scan could see: inotop_scan_complete, with the reason in a label,
// and what it could not read by cause; after a failed scan no figure is exported (unknown, not stale).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMetrics } from '../../src/serve/metrics.js';
import { proc, snapshot, targets } from '../helpers/rows.js';

const samples = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));

test('inotop_scan_complete: 1 for a scan that saw all, 0 with its causes for one that did not', async () => {
  const seen = snapshot([proc(1, { targets: targets(2) })]);
  const complete = await renderMetrics({ node: 'n', snapshot: seen, scanFailures: 0, lastFailure: null, top: 5 });
  assert.deepEqual(samples(complete, 'inotop_scan_complete'), ['inotop_scan_complete{reason="",node="n"} 1']);
  assert.deepEqual(samples(complete, 'inotop_scan_unreadable_processes'), []);

  const blind = { ...seen, scan: { complete: false, reason: '40 of 120 processes not read (EACCES 1, EIO 39)', unreadable: { EACCES: 1, EIO: 39 } } };
  const text = await renderMetrics({ node: 'n', snapshot: blind, scanFailures: 0, lastFailure: null, top: 5 });
  assert.deepEqual(samples(text, 'inotop_scan_complete'), ['inotop_scan_complete{reason="processes not read: EACCES, EIO",node="n"} 0']);
  assert.deepEqual(samples(text, 'inotop_scan_unreadable_processes'), [
    'inotop_scan_unreadable_processes{cause="EACCES",node="n"} 1',
    'inotop_scan_unreadable_processes{cause="EIO",node="n"} 39',
  ]);
  assert.equal(samples(text, 'inotop_user_watches').length, 1, 'the figures of an incomplete scan are given: they are lower bounds');
});

test('a failed scan (/proc not listed): inotop_scan_complete 0 with the reason, and no figures', async () => {
  const text = await renderMetrics({ node: 'n', snapshot: null, scanFailures: 3, lastFailure: 'cannot read /proc: EIO (i/o error)', top: 5 });
  assert.deepEqual(samples(text, 'inotop_scan_complete'), ['inotop_scan_complete{reason="cannot read /proc: EIO (i/o error)",node="n"} 0']);
  assert.deepEqual(samples(text, 'inotop_user_watches'), []);
  assert.deepEqual(samples(text, 'inotop_scan_failures_total'), ['inotop_scan_failures_total{node="n"} 3']);
});
