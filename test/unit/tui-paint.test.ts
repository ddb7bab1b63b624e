// The painters at the terminal's size: the help wrapped to the box the terminal leaves it, and the
// pod source's status shortened in the title rather than left out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayWidth } from '../../src/common/width.js';
import { NO_FILTER } from '../../src/model/query.js';
import type { PodsStatus } from '../../src/model/types.js';
import { KEY_BINDINGS } from '../../src/views/tui/keys.js';
import { headerLines } from '../../src/views/tui/paint/header.js';
import { layout } from '../../src/views/tui/paint/layout.js';
import { helpBoxWidth, helpLines, notesLines } from '../../src/views/tui/paint/overlays.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import { proc, snapshot, targets } from '../helpers/rows.js';
import { mono } from '../helpers/screen-state.js';

const start = () => initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 });
/** Rendered lines as the terminal shows them: no tags, braces back. */
const plain = (lines: string[]) =>
  lines.map((l) =>
    l
      .replace(/\{\/?[a-z-]+\}/g, '')
      .replace(/\{open\}/g, '{')
      .replace(/\{close\}/g, '}'),
  );
/** Text with its line breaks and indents as single spaces: what wrapping must not lose. */
const flowed = (lines: string[]) => lines.join(' ').replace(/\s+/g, ' ');

test('the help wraps to the box an 80-column terminal leaves it, losing no word', () => {
  const box = helpBoxWidth(80, false);
  assert.equal(box, 76, 'a margin of 2 each side');
  const lines = plain(helpLines(false, box - 4));
  for (const line of lines) assert.ok(displayWidth(line) <= box - 4, `fits the box (${displayWidth(line)}): ${line}`);
  const text = flowed(lines);
  for (const binding of KEY_BINDINGS.filter((b) => b.only !== 'replay')) assert.ok(text.includes(binding.help), `${binding.command}'s help whole`);
  // What a key does goes on under itself, past the keys' column.
  const enter = lines.findIndex((line) => /^ {2}Enter {6}detail pane: /.test(line));
  assert.ok(enter >= 0, 'Enter in the help');
  assert.match(lines[enter + 1]!, /^ {13}\S/, 'its help goes on past the keys');
});

test('at 200 columns the help box grows with its longest entry, each on one line', () => {
  const box = helpBoxWidth(200, false);
  assert.ok(box > 76 && box <= 196, `wider than before, within the terminal: ${box}`);
  const lines = plain(helpLines(false, box - 4));
  assert.ok(
    lines.some((line) => displayWidth(line) === box - 4),
    'as wide as its longest entry',
  );
  for (const binding of KEY_BINDINGS.filter((b) => b.only !== 'replay')) {
    assert.ok(
      lines.some((line) => line.startsWith(`  ${binding.shown}`) && line.endsWith(binding.help)),
      `${binding.command}: its key and help on one line`,
    );
  }
});

/** The title of a snapshot with this pod status, at `width` columns. */
function title(pods: PodsStatus, width: number): string {
  const state = reduce(start(), { type: 'snapshot', snapshot: { ...snapshot([proc(1, { targets: targets(2) })]), pods } });
  return plain(headerLines(state, layout(width, 40, 1), mono))[0]!.trimEnd();
}

/** What auto mode says when no source answers (an inotop run with every source pointed nowhere). */
const NONE_ANSWERED =
  'no pod source answered: CRI unix:///nonexistent/cri.sock: connect ENOENT; crictl: /nonexistent/crictl not found; ' +
  'kubectl: /nonexistent/kubectl not found; kubelet: cannot read /nonexistent/kubelet/pods (ENOENT)';

test('a long pod source error is shortened in the title, not left out; n has it whole', () => {
  const failed: PodsStatus = { source: 'none', live: null, stale: false, error: NONE_ANSWERED };
  assert.match(title(failed, 120), /^inotop node-t {2}· {2}\d\d:\d\d:\d\d {2}· {2}every 2s {2}· {2}pods: none answered \(n\)/);
  assert.match(title(failed, 80), /pods: none answered \(n\)/, 'at 80 columns too');
  const crictl: PodsStatus = { source: 'crictl', live: null, stale: false, error: `crictl pods exited 1: ${'connection refused '.repeat(8)}` };
  assert.match(title(crictl, 120), /pods: crictl failed \(n\)/);
  const stale: PodsStatus = { source: 'crictl', live: 49, stale: true, error: crictl.error };
  assert.match(title(stale, 120), /pods: crictl 49 live \(stale, n\)/);
  // Where it fits, whole.
  const short: PodsStatus = { source: 'crictl', live: null, stale: false, error: 'crictl: crictl not found' };
  assert.match(title(short, 120), /pods: crictl \(crictl: crictl not found\)/);

  const state = reduce(start(), { type: 'snapshot', snapshot: { ...snapshot([proc(1)]), pods: failed } });
  assert.ok(flowed(plain(notesLines(state, 72))).includes(`pods: ${NONE_ANSWERED}`), 'the notes overlay has the error whole');
  // Once only, when the refresh's notes say it too (the source's note as it fails).
  const noted = reduce(start(), { type: 'snapshot', snapshot: { ...snapshot([proc(1)]), pods: failed, notes: [`pods: ${NONE_ANSWERED}`] } });
  assert.equal(flowed(plain(notesLines(noted, 72))).split(`pods: ${NONE_ANSWERED}`).length, 2);
});
