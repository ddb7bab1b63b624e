// `--json`: the snapshot as one JSON document, controls escaped (common/text.ts). Targets only with
// --targets: they are most of the size on a busy node.
import type { Snapshot } from '../model/types.js';
import { jsonText } from '../common/text.js';
import { snapshotNotes } from './notes.js';
import type { OutputFormat } from './output.js';

/** One document for one snapshot; one compact document per line for a series (-n N, a replay), as JSON Lines. */
export const JSON_OUTPUT: OutputFormat = {
  flag: { long: 'json', help: 'print the snapshot as JSON (with -n or --replay: one document per line)' },
  takesColumns: false,
  render(snapshot, rows, options, place) {
    // `notes` in words, every stage's; the scan's also as data (scanNotes).
    return snapshotJson({ ...snapshot, processes: rows, notes: snapshotNotes(snapshot) }, options.withTargets, place.series ? 0 : 2) + '\n';
  },
};

export function snapshotJson(snapshot: Snapshot, withTargets: boolean, indent = 2): string {
  // Without targets: each row copied whole and its targets left undefined, which JSON leaves out. A
  // copy by rest destructuring (all but targets) is made property by property, into objects that
  // JSON.stringify then reads slowly: 5–7 ms against 1–2 at 500 processes, in a cold one-shot.
  const processes = withTargets ? snapshot.processes : snapshot.processes.map((row) => ({ ...row, targets: undefined }));
  return jsonText({ ...snapshot, processes }, indent);
}
