// The painters at the terminal's size: the help wrapped to the box the terminal leaves it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayWidth } from '../../src/common/width.js';
import { KEY_BINDINGS } from '../../src/views/tui/keys.js';
import { helpBoxWidth, helpLines } from '../../src/views/tui/paint/overlays.js';

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
