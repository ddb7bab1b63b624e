// listPids: the live /proc's pids from one getdents64 listing, each with the inode number of its
// /proc/PID, which the scan takes as the process's identity instead of a stat per process.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { listNumericEntries, listPids } from '../../src/scan/procfs.js';

test('listPids lists the pids readdir lists, ascending, each with the inode number a stat of /proc/PID gives', () => {
  const inodes = new Map<number, number>();
  const pids = listPids('/proc', inodes);
  const byReaddir = listNumericEntries('/proc');
  assert.ok(pids.includes(process.pid) && pids.includes(1));
  assert.deepEqual(
    pids,
    [...pids].sort((a, b) => a - b),
  );
  // Processes come and go between the two listings: the long-lived ones are in both.
  for (const pid of [1, process.pid]) assert.ok(byReaddir.includes(pid));
  assert.equal(inodes.size, pids.length);
  for (const pid of pids) {
    // A process gone since the listing has no directory left to compare.
    const stat = statSync(`/proc/${pid}`, { throwIfNoEntry: false });
    if (stat) assert.equal(inodes.get(pid), stat.ino, `/proc/${pid}`);
  }
});

test('listPids throws as fs does where the directory cannot be opened', () => {
  assert.throws(() => listPids('/proc/no-such-directory', new Map()), { code: 'ENOENT' });
});
