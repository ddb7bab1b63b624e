// readProcBytesOrStream on files of every size around its first read: a small file comes whole,
// a big one in order through one reused chunk, nothing of it kept. Regular files read as procfs
// files do here (whole reads until the end), so no root is needed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FIRST_READ_BYTES, readProcBytesOrStream } from '../../src/scan/procfs.js';

const dir = mkdtempSync(join(tmpdir(), 'inotop-procfs-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CHUNK_BYTES = 1 << 20;

function fileOf(bytes: number): { path: string; content: Buffer } {
  const content = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) content[i] = (i * 31 + (i >> 9)) & 0xff;
  const path = join(dir, `f${bytes}`);
  writeFileSync(path, content);
  return { path, content };
}

test('a file shorter than the first read comes whole, with nothing streamed', () => {
  for (const bytes of [0, 1, FIRST_READ_BYTES - 1]) {
    const { path, content } = fileOf(bytes);
    const taken: Buffer[] = [];
    const read = readProcBytesOrStream(path, (chunk) => taken.push(Buffer.from(chunk)));
    assert.deepEqual(read, content, `${bytes} bytes`);
    assert.equal(taken.length, 0);
  }
});

test('a file that fills the first read is handed over in order, through the first buffer and then one reused chunk', () => {
  const sizes = [FIRST_READ_BYTES, FIRST_READ_BYTES + 1, FIRST_READ_BYTES + CHUNK_BYTES, FIRST_READ_BYTES + 3 * CHUNK_BYTES + 12_345];
  for (const bytes of sizes) {
    const { path, content } = fileOf(bytes);
    const copies: Buffer[] = [];
    const memories = new Set<ArrayBufferLike>();
    const read = readProcBytesOrStream(path, (chunk) => {
      copies.push(Buffer.from(chunk));
      memories.add(chunk.buffer);
    });
    assert.equal(read, null, `${bytes} bytes: streamed`);
    assert.deepEqual(Buffer.concat(copies), content, `${bytes} bytes in order`);
    assert.equal(copies[0]!.length, FIRST_READ_BYTES);
    assert.ok(
      copies.every((copy) => copy.length <= CHUNK_BYTES),
      `${bytes} bytes: pieces of ${copies.map((copy) => copy.length).join(', ')}`,
    );
    // The first read's buffer and one chunk: never a buffer per megabyte.
    assert.ok(memories.size <= 2, `${bytes} bytes through ${memories.size} buffers`);
  }
});

test('a file that cannot be opened throws as fs does', () => {
  assert.throws(
    () => readProcBytesOrStream(join(dir, 'missing'), () => assert.fail('nothing to take')),
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
  );
});
