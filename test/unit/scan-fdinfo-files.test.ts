// FdinfoFiles, the fdinfo files kept open between scans, on regular files (read as procfs files
// are: whole reads until the end), so no root is needed. Its own file: the first read of the
// process is the one that also finds how many files may be kept.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FdinfoFiles } from '../../src/scan/procfs.js';

const dir = mkdtempSync(join(tmpdir(), 'inotop-fdinfo-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the process's first read returns the file's bytes, then kept open, the same again", () => {
  const path = join(dir, 'fdinfo');
  const content = Buffer.from('pos:\t0\nflags:\t02000000\nmnt_id:\t15\nino:\t1057\ninotify wd:1 ino:2 sdev:3 mask:fce ignored_mask:0\n');
  writeFileSync(path, content);
  const files = new FdinfoFiles();
  try {
    assert.deepEqual(Buffer.concat(files.read(path)), content, 'first read');
    assert.equal(files.heldCount(), 1);
    assert.deepEqual(Buffer.concat(files.read(path)), content, 'read again from the kept fd');
  } finally {
    files.closeAll();
  }
});
