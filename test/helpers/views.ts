// Every view of a snapshot, for the tests that feed views what a reader accepted: none may throw.
import { NO_FILTER } from '../../src/model/query.js';
import type { Snapshot } from '../../src/model/types.js';
import { batchText } from '../../src/views/batch.js';
import { snapshotJson } from '../../src/views/json.js';
import { detailLines, headerLines, layout, logLines, Painter, tableLines } from '../../src/views/tui/render.js';
import { initialState, reduce } from '../../src/views/tui/state.js';

/** Renders the snapshot as -b, --json and the screen do; returns the JSON (with targets). */
export function renderEverywhere(snapshot: Snapshot): string {
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
  return json;
}
