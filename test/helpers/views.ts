// Every view of a snapshot, for the tests that feed views what a reader accepted: none may throw.
import { NO_FILTER } from '../../src/model/query.js';
import type { Snapshot } from '../../src/model/types.js';
import { batchText } from '../../src/views/batch.js';
import { snapshotJson } from '../../src/views/json.js';
import { logLines } from '../../src/views/tui/paint/changes.js';
import { detailLines } from '../../src/views/tui/paint/detail.js';
import { headerLines } from '../../src/views/tui/paint/header.js';
import { layout } from '../../src/views/tui/paint/layout.js';
import { Painter } from '../../src/views/painter.js';
import { tableLines } from '../../src/views/tui/paint/table.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import { FailureTotals, metricsView, renderMetrics } from '../../src/serve/metrics.js';

/** Renders the snapshot as -b, --json, the screen and serve's metrics do; returns the JSON (with targets). */
export async function renderEverywhere(snapshot: Snapshot): Promise<string> {
  batchText(snapshot, snapshot.processes, { withTargets: true, color: true, width: 120 });
  const json = snapshotJson(snapshot, true);
  let state = initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 });
  state = reduce(state, { type: 'resize', tableRows: 10, detailRows: 8 });
  state = reduce(state, { type: 'snapshot', snapshot });
  state = reduce(state, { type: 'snapshot', snapshot });
  const painter = new Painter(true);
  const l = layout(120, 40, snapshot.users.length);
  headerLines(state, l, painter);
  tableLines(state, 120, 12, painter);
  detailLines(state, 120, 10, painter);
  logLines(state, 120, 6, painter);
  const failures = new FailureTotals();
  failures.add(snapshot.failures);
  await renderMetrics({ node: 'n', cluster: null, snapshot: metricsView(snapshot), scanFailures: 0, lastFailure: null, top: 5, topLeaks: 5, failures });
  return json;
}
