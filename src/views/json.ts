// `--json`: the snapshot as one JSON document, controls escaped (common/text.ts). Targets only with
// --targets: they are most of the size on a busy node.
import type { Snapshot } from '../model/types.js';
import { jsonText } from '../common/text.js';

export function snapshotJson(snapshot: Snapshot, withTargets: boolean, indent = 2): string {
  const processes = withTargets ? snapshot.processes : snapshot.processes.map(({ targets: _omitted, ...row }) => row);
  return jsonText({ ...snapshot, processes }, indent);
}
