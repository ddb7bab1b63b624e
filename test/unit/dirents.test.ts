// readDirents (getdents64 through koffi) against Node's readdir and lstat: every entry's name and
// inode number, over more entries than one read's buffer holds.
import assert from 'node:assert/strict';
import { closeSync, lstatSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDirents } from '../../src/sys/dirents.js';

test('readDirents gives each entry its name and inode number, across several reads', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inotop-dirents-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // 300 entries of some 280 bytes each: more than the 64 KB read buffer.
  for (let i = 0; i < 300; i++) writeFileSync(join(root, `${i}-${'n'.repeat(250)}`), '');
  const fd = openSync(root, 'r');
  const read = new Map<string, number>();
  let status: number;
  try {
    status = readDirents(fd, (ino, buffer, start, end) => {
      read.set(buffer.toString('utf8', start, end), ino);
      return true;
    });
  } finally {
    closeSync(fd);
  }
  assert.equal(status, 0);
  read.delete('.');
  read.delete('..');
  const truth = new Map(readdirSync(root).map((name) => [name, lstatSync(join(root, name)).ino]));
  assert.equal(read.size, 300);
  assert.deepEqual(read, truth);
});
