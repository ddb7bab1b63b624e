// A scanner kept from one scan to the next, as a refresh keeps it (the /proc/PID/fd directories,
// fdinfo files and holders' own files it holds open between scans: src/scan/procfs.ts FdDirs,
// FdinfoFiles, src/scan/holders.ts KeptHolderFiles), on the
// real kernel: each scan finds what a fresh scan finds, through new instances and watches, an
// instance closed and its fd number reused by another file, a process gone, and a new process
// given the pid of one gone (through /proc/sys/kernel/ns_last_pid: run under the lock); and the
// limits as they are at each scan (their sysctl files kept open too).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ScanResult } from '../../src/model/types.js';
import { scan, Scanner } from '../../src/scan/index.js';
import { rootSkip, Watcher } from '../helpers/inowatch.js';

/** Each instance's watch count of one process, in fd order; null when the scan does not have it. */
function heldBy(result: ScanResult, pid: number): { fd: number; watches: number }[] | null {
  const proc = result.processes.find((candidate) => candidate.pid === pid);
  return proc ? proc.instances.map((instance) => ({ fd: instance.fd, watches: instance.watches.length })) : null;
}

/** What this process holds open below /proc/PID (the paths of its fds' links there). */
function keptProcFiles(): string[] {
  const paths: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const link = readlinkSync(`/proc/self/fd/${fd}`);
      if (/^\/proc\/\d+\//.test(link)) paths.push(link);
    } catch {
      // the listing's own fd
    }
  }
  return paths;
}

/** The fd directories this process holds open, by the pid they are of. */
function keptFdDirs(): number[] {
  return keptProcFiles().flatMap((path) => {
    const match = /^\/proc\/(\d+)\/fd$/.exec(path);
    return match ? [Number(match[1])] : [];
  });
}

/** A helper process started with pid `pid` (the kernel gives the next pid after ns_last_pid, when it is free); null when other forks took it each time. */
async function watcherWithPid(pid: number): Promise<Watcher | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const watcher = new Watcher();
    if (watcher.pid === pid) return watcher;
    await watcher.stop();
  }
  return null;
}

test(
  'a kept scanner finds, scan after scan, what a fresh scan finds: new instances and watches, an fd reused, a process gone, its pid taken by another',
  { skip: rootSkip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inotop-refresh-'));
    const files = ['a', 'b', 'c', 'd'].map((name) => {
      const path = join(dir, name);
      writeFileSync(path, name);
      return path;
    });
    const scanner = new Scanner();
    const watchers: Watcher[] = [];
    t.after(async () => {
      scanner.close();
      for (const watcher of watchers) await watcher.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const same = (pid: number, expected: { fd: number; watches: number }[] | null, what: string): void => {
      const kept = heldBy(scanner.scan(), pid);
      assert.deepEqual(kept, expected, `${what}: the kept scanner`);
      assert.deepEqual(heldBy(scan(), pid), kept, `${what}: a fresh scan finds the same`);
    };

    const holder = new Watcher();
    watchers.push(holder);
    const first = await holder.init();
    await holder.watch(first, files[0]!);
    same(holder.pid, [{ fd: first, watches: 1 }], 'one instance');
    assert.ok(keptFdDirs().includes(holder.pid), "the holder's fd directory is kept open for the next scan");
    for (const name of ['stat', 'status', 'cgroup', 'cmdline']) assert.ok(keptProcFiles().includes(`/proc/${holder.pid}/${name}`), `its ${name} too`);
    await holder.comm('renamed');
    assert.equal(scanner.scan().processes.find((proc) => proc.pid === holder.pid)?.comm, 'renamed', 'a kept stat file reads the process as it is now');

    const second = await holder.init();
    await holder.watch(second, files[1]!);
    await holder.watch(first, files[2]!);
    same(
      holder.pid,
      [
        { fd: first, watches: 2 },
        { fd: second, watches: 1 },
      ],
      'a new instance and a new watch',
    );

    // The lowest free fd is the one just closed: a plain file now where the instance was.
    await holder.send(`close ${first}`);
    assert.equal(await holder.send(`open ${files[3]}`), first);
    same(holder.pid, [{ fd: second, watches: 1 }], 'an instance closed, its fd number reused');

    const gone = holder.pid;
    await holder.stop();
    watchers.splice(watchers.indexOf(holder), 1);
    same(gone, null, 'its process gone');
    assert.ok(!keptProcFiles().some((path) => path.startsWith(`/proc/${gone}/`)), "a gone process's directory and files are let go at the end of the scan");

    // A process whose directory is kept exits, and a new one takes its pid before the next scan.
    const before = new Watcher();
    watchers.push(before);
    const old = await before.init();
    await before.watch(old, files[0]!);
    const pid = before.pid;
    same(pid, [{ fd: old, watches: 1 }], 'the first process of the pid');
    assert.ok(keptFdDirs().includes(pid));
    await before.stop();
    watchers.splice(watchers.indexOf(before), 1);
    const after = await watcherWithPid(pid);
    if (!after) return t.skip(`pid ${pid} was taken by other processes 50 times`);
    watchers.push(after);
    const one = await after.init();
    const two = await after.init();
    for (const path of files) await after.watch(two, path);
    assert.ok(one === old || two === old, "the new process's instances are at the fd numbers the old one's was");
    same(
      pid,
      [
        { fd: one, watches: 0 },
        { fd: two, watches: 4 },
      ],
      'a new process with the pid of one gone',
    );
  },
);

test('a kept scanner reads the limits as they are at each scan', { skip: rootSkip }, (t) => {
  const path = '/proc/sys/fs/inotify/max_queued_events';
  const was = Number(readFileSync(path, 'utf8'));
  const scanner = new Scanner();
  t.after(() => {
    scanner.close();
    writeFileSync(path, String(was));
  });
  assert.equal(scanner.scan().limits.maxQueuedEvents, was);
  writeFileSync(path, String(was + 1));
  assert.equal(scanner.scan().limits.maxQueuedEvents, was + 1, 'raised between two scans');
  writeFileSync(path, String(was));
  assert.equal(scanner.scan().limits.maxQueuedEvents, was, 'and back');
});
