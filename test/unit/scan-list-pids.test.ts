// listPids: the live /proc's pids from one getdents64 listing, each with the inode number of its
// /proc/PID, which the scan takes as the process's identity instead of a stat per process; and
// all of them when signals cut the kernel's reads short.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('listPids lists every entry while signals cut its reads short', (t) => {
  // 3,000 pid-like entries: several reads. A CPU profile's sampling signals (SIGPROF, every 20 µs)
  // make the kernel end reads early (filldir64): a short read is not the end of the listing.
  const root = mkdtempSync(join(tmpdir(), 'inotop-list-pids-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const names = Array.from({ length: 3000 }, (_, i) => i + 1);
  for (const name of names) writeFileSync(join(root, String(name)), '');
  const profiler = new Session();
  profiler.connect();
  t.after(() => profiler.disconnect());
  profiler.post('Profiler.enable');
  profiler.post('Profiler.setSamplingInterval', { interval: 20 });
  profiler.post('Profiler.start');
  try {
    for (let i = 0; i < 50; i++) assert.deepEqual(listPids(root, null), names);
  } finally {
    profiler.post('Profiler.stop');
  }
});
