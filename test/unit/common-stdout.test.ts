// writeStdout's write straight to fd 1 (src/common/stdout.ts): a text of many pieces, characters of
// 2, 3 and 4 bytes across every piece's end, and lone surrogates, arrives as Buffer.from would
// encode it, in a child whose stdout is a file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const stdoutModule = new URL('../../src/common/stdout.ts', import.meta.url).href;

/** The text: a few hundred KB (several 64 KB pieces), every kind of character at every offset. */
const MAKE_TEXT = `
  const parts = [];
  for (let i = 0, length = 0; length < 300_000; i++) {
    const line = 'x'.repeat(i % 7) + 'é€😀' + (i % 97 === 0 ? '\\ud800' : '') + '\\n';
    parts.push(line);
    length += line.length;
  }
  globalThis.text = parts.join('');
`;

test('a text of many pieces, multi-byte characters across their ends, is written to fd 1 as Buffer.from encodes it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-stdout-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out');
  const fd = openSync(out, 'w');
  const script = `${MAKE_TEXT}
    const { writeStdout } = await import(${JSON.stringify(stdoutModule)});
    await writeStdout(text);
    await writeStdout('and a second piece, €\\n');
    process.stderr.write(Buffer.from(text + 'and a second piece, €\\n').toString('base64'));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
  closeSync(fd);
  assert.equal(child.status, 0, child.stderr);
  const expected = Buffer.from(child.stderr, 'base64');
  assert.ok(expected.length > 4 * 64 * 1024, `${expected.length} bytes: several pieces`);
  assert.ok(readFileSync(out).equals(expected), 'the bytes written are Buffer.from(text)');
});
