// Scans keep the fdinfo files of inotify instances open for the next scan (the benchmark's
// biggest saving on refreshes). A kept file must never change a result: an fd closed and its
// number reused, a process gone, the files closed on demand.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ScanResult } from '../../src/model/types.js';
import { Scanner } from '../../src/scan/index.js';
import { isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';
import { LOAD_SIZES, startLoad, type Load } from '../helpers/load.js';

const scanner = new Scanner();
const scan = (): ScanResult => scanner.scan();
const closeScanFiles = (): void => scanner.close();

/** Our own fds on fdinfo files of `pid` (all pids when omitted). */
function heldFdinfo(pid?: number): number {
  const pattern = pid === undefined ? /^\/proc\/\d+\/fdinfo\// : new RegExp(`^/proc/${pid}/fdinfo/`);
  let held = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (pattern.test(readlinkSync(`/proc/self/fd/${fd}`))) held++;
    } catch {
      // the fd readdir itself used
    }
  }
  return held;
}

/** What a scan says of some processes. */
function processesOf(result: ScanResult, pids: number[]) {
  return result.processes.filter((proc) => pids.includes(proc.pid));
}

describe('scans again with fdinfo files kept open', { skip: rootSkip }, () => {
  let load: Load;
  let dir: string;

  before(async () => {
    if (!isRoot) return;
    load = await startLoad(LOAD_SIZES.tiny);
    dir = mkdtempSync(join(tmpdir(), 'inotop-rescan-'));
  });

  after(async () => {
    await load?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a second scan and a first scan after closeScanFiles() say what the first said', () => {
    closeScanFiles();
    assert.equal(heldFdinfo(), 0);
    const first = processesOf(scan(), load.pids);
    assert.equal(
      first.reduce((n, proc) => n + proc.instances.length, 0),
      LOAD_SIZES.tiny.instances,
    );
    assert.ok(heldFdinfo() >= LOAD_SIZES.tiny.instances, "the instances' fdinfo files stay open");
    assert.deepEqual(processesOf(scan(), load.pids), first);
    closeScanFiles();
    assert.equal(heldFdinfo(), 0);
    assert.deepEqual(processesOf(scan(), load.pids), first);
  });

  test('an fd closed and its number given to another instance: the new watches', async () => {
    const [a, b] = ['a', 'b'].map((name) => {
      const path = join(dir, name);
      writeFileSync(path, name);
      return path;
    }) as [string, string];
    const watcher = new Watcher();
    try {
      const fd = await watcher.init();
      await watcher.watch(fd, a);
      const watchesOf = () =>
        scan()
          .processes.find((proc) => proc.pid === watcher.pid)!
          .instances.map((i) => [i.fd, [...i.watches.ino]]);
      assert.deepEqual(watchesOf(), [[fd, [statSync(a).ino]]]);
      await watcher.send(`close ${fd}`);
      assert.equal(await watcher.init(), fd, 'the lowest free fd: the same number');
      await watcher.watch(fd, b);
      assert.deepEqual(watchesOf(), [[fd, [statSync(b).ino]]]);
    } finally {
      await watcher.stop();
    }
  });

  test('a process gone: its kept files are closed by the next scan', async () => {
    const watcher = new Watcher();
    const pid = watcher.pid;
    await watcher.init();
    scan();
    assert.equal(heldFdinfo(pid), 1);
    await watcher.stop();
    assert.equal(
      scan().processes.find((proc) => proc.pid === pid),
      undefined,
    );
    assert.equal(heldFdinfo(pid), 0);
  });

  test('instances with the same watch lines are parsed once in a scan, and each is still its own instance with its own watches', async () => {
    const files = ['p', 'q'].map((name) => {
      const path = join(dir, `same-${name}`);
      writeFileSync(path, name);
      return path;
    }) as [string, string];
    const watcher = new Watcher();
    try {
      const one = await watcher.init();
      const two = await watcher.init();
      await watcher.watch(one, files[0]);
      await watcher.watch(two, files[0]);
      const ours = (result: ScanResult) => processesOf(result, [watcher.pid])[0]!;
      const parsedOf = (result: ScanResult) => result.parsedInstances.filter((id) => id.startsWith(`${watcher.pid}:`));
      closeScanFiles();
      const first = scan();
      assert.deepEqual(parsedOf(first), [`${watcher.pid}:${one}`], 'the same lines: parsed for the first instance only');
      const [a, b] = ours(first).instances;
      assert.deepEqual([a!.fd, b!.fd], [one, two]);
      assert.deepEqual([[...a!.watches.ino], [...b!.watches.ino]], [[statSync(files[0]).ino], [statSync(files[0]).ino]]);
      assert.notEqual(a!.instanceId, b!.instanceId, 'two instances, not one shared');
      assert.equal(a!.shared || b!.shared, false);
      // One of them changes: it alone is parsed, the other keeps its list.
      await watcher.watch(two, files[1]);
      const changed = scan();
      assert.deepEqual(parsedOf(changed), [`${watcher.pid}:${two}`]);
      assert.deepEqual(
        ours(changed).instances.map((instance) => [instance.fd, [...instance.watches.ino].sort((x, y) => x - y)]),
        [
          [one, [statSync(files[0]).ino]],
          [two, [statSync(files[0]).ino, statSync(files[1]).ino].sort((x, y) => x - y)],
        ],
      );
    } finally {
      await watcher.stop();
    }
  });

  test('an instance whose fdinfo did not change is not parsed again; one that changed is, and shows the change', async () => {
    const files = ['x', 'y', 'z'].map((name) => {
      const path = join(dir, `reuse-${name}`);
      writeFileSync(path, name);
      return path;
    }) as [string, string, string];
    const watcher = new Watcher();
    try {
      const changing = await watcher.init();
      const steady = await watcher.init();
      await watcher.watch(changing, files[0]);
      await watcher.watch(steady, files[1]);
      const parsedOf = (result: ScanResult) => result.parsedInstances.filter((id) => id.startsWith(`${watcher.pid}:`)).sort();
      const inodesOf = (result: ScanResult) => processesOf(result, [watcher.pid])[0]!.instances.map((i) => [i.fd, [...i.watches.ino]]);
      const first = scan();
      assert.deepEqual(parsedOf(first), [`${watcher.pid}:${changing}`, `${watcher.pid}:${steady}`].sort(), 'a first scan parses both');
      assert.deepEqual(parsedOf(scan()), [], 'nothing changed: nothing parsed');
      // The same count on another inode: only the changed instance is parsed, with the new truth.
      const wd = await watcher.watch(changing, files[2]);
      await watcher.send(`rm ${changing} ${wd - 1}`);
      const changed = scan();
      assert.deepEqual(parsedOf(changed), [`${watcher.pid}:${changing}`]);
      assert.deepEqual(inodesOf(changed), [
        [changing, [statSync(files[2]).ino]],
        [steady, [statSync(files[1]).ino]],
      ]);
      // Added and removed watches likewise.
      await watcher.watch(changing, files[0]);
      const added = scan();
      assert.deepEqual(parsedOf(added), [`${watcher.pid}:${changing}`]);
      assert.equal(processesOf(added, [watcher.pid])[0]!.instances[0]!.watches.length, 2);
    } finally {
      await watcher.stop();
    }
  });
});
