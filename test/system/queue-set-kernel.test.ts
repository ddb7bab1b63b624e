// The queue set (src/sys/queue-set.ts) against the real kernel (root): from its second reading on,
// a QueueReader answers from one epoll set of ours the instances with no events, and reads the
// others by their calls. Each reading is compared with what a reader's first reading gives (the
// per-instance pidfd_getfd + FIONREAD of every instance, the set not made yet) on the same list,
// as a refresh between full scans has it: an instance added, one with new events, one closed, its
// fd taken by a new instance and by a plain file, a process gone, an instance shared by two
// processes and closed by one, a holder gone while its instance lives on elsewhere, fanotify groups. Then: an instance closed by its holder is freed
// though its file went into our set (the holder's own max_inotify_instances lets it make another).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ScannedProcess } from '../../src/model/types.js';
import { scan } from '../../src/scan/index.js';
import { QueueReader, queueKey } from '../../src/scan/queues.js';
import { eventually } from '../helpers/eventually.js';
import { isRoot, namespacedWatcher, rootSkip, Watcher } from '../helpers/inowatch.js';

function makeFiles(dir: string, prefix: string, count: number): void {
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `${prefix}${i}`), 'x');
}

/** The processes of these watchers, as a scan lists them now. */
function listed(...watchers: (Watcher | number)[]): ScannedProcess[] {
  const pids = new Set(watchers.map((watcher) => (typeof watcher === 'number' ? watcher : watcher.pid)));
  return scan().processes.filter((proc) => pids.has(proc.pid));
}

/** What the per-instance reads give for `processes` now: a first reading, which makes no set. */
function perInstance(processes: readonly ScannedProcess[]): Map<string, number | null> {
  const reference = new QueueReader(true);
  try {
    return reference.read(processes).bytes;
  } finally {
    reference.close();
  }
}

/** Reads `processes` with `reader` and with the per-instance reads, and asserts both alike; the reading. */
function sameAsPerInstance(reader: QueueReader, processes: readonly ScannedProcess[], what: string): ReturnType<QueueReader['read']> {
  const reading = reader.read(processes);
  assert.deepEqual(reading.bytes, perInstance(processes), what);
  return reading;
}

/** A process's state letter (/proc/PID/stat); X once it is reaped. */
function stateOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '');
  } catch {
    return 'X';
  }
}

function keyOf(processes: readonly ScannedProcess[], pid: number, fd: number): string {
  const proc = processes.find((candidate) => candidate.pid === pid)!;
  const item = [...proc.instances, ...proc.fanotifyGroups].find((candidate) => candidate.fd === fd)!;
  return queueKey(item.instanceId, new Map(processes.map((p) => [p.pid, p])));
}

describe('the queue set on the real kernel', { skip: rootSkip }, () => {
  let dir: string;
  const watchers: Watcher[] = [];

  before(() => {
    if (!isRoot) return;
    dir = mkdtempSync(join(tmpdir(), 'inotop-queue-set-'));
    execFileSync('mount', ['-t', 'tmpfs', 'inotop-queue-set', dir]);
    for (const sub of ['queued', 'empty', 'kept', 'added', 'reused', 'shared', 'shared-empty', 'fan', 'fan-empty', 'gone'])
      execFileSync('mkdir', [join(dir, sub)]);
  });

  after(async () => {
    if (!isRoot) return;
    await Promise.all(watchers.map((watcher) => watcher.stop()));
    spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  /** A new instance of `watcher` watching dir/sub, held (its events stay queued) unless `read`. */
  async function instance(watcher: Watcher, sub: string, { read = false } = {}): Promise<number> {
    const fd = await watcher.init();
    if (!read) await watcher.hold(fd);
    await watcher.watch(fd, join(dir, sub));
    return fd;
  }

  test('every reading equals the per-instance reads: added, new events, closed, its fd reused, gone, shared, fanotify', async () => {
    const one = new Watcher();
    const shared = new Watcher();
    const leaving = new Watcher();
    watchers.push(one, shared, leaving);
    const queued = await instance(one, 'queued');
    const empty = await instance(one, 'empty');
    await instance(one, 'kept', { read: true }); // a reader that keeps up
    const group = await one.fanotifyInit();
    await one.hold(group);
    await one.fanotifyMarkInode(group, join(dir, 'fan'));
    const emptyGroup = await one.fanotifyInit();
    await one.hold(emptyGroup);
    await one.fanotifyMarkInode(emptyGroup, join(dir, 'fan-empty'));
    const sharedQueued = await instance(shared, 'shared');
    const sharedEmpty = await instance(shared, 'shared-empty');
    const child = await shared.fork(); // holds both instances too: one queue each in two processes
    await instance(leaving, 'gone');
    makeFiles(join(dir, 'queued'), 'q', 20);
    makeFiles(join(dir, 'fan'), 'f', 5);
    makeFiles(join(dir, 'shared'), 's', 10);
    makeFiles(join(dir, 'kept'), 'k', 10);
    makeFiles(join(dir, 'gone'), 'g', 3);

    let list = listed(one, shared, child, leaving);
    assert.equal(list.length, 4);
    const reader = new QueueReader(true);
    try {
      const first = sameAsPerInstance(reader, list, 'the first reading: no set yet');
      assert.equal(first.fromSet, 0);
      sameAsPerInstance(reader, list, 'the second: every one read, and put in the set');
      const third = sameAsPerInstance(reader, list, 'the third: from the set');
      const zeros = [...third.bytes.values()].filter((bytes) => bytes === 0).length;
      assert.ok(zeros >= 4, 'the empty ones: empty, kept, the empty group, the empty shared one');
      assert.equal(third.fromSet, zeros, 'every empty one answered by the set, none by its calls');
      assert.equal(third.bytes.get(keyOf(list, one.pid, queued)), await one.send(`fionread ${queued}`));

      makeFiles(join(dir, 'empty'), 'e', 7);
      const woke = sameAsPerInstance(reader, list, 'new events on an instance the set answered before');
      assert.equal(woke.bytes.get(keyOf(list, one.pid, empty)), await one.send(`fionread ${empty}`));
      assert.ok(woke.bytes.get(keyOf(list, one.pid, empty))! > 0);
      makeFiles(join(dir, 'fan-empty'), 'f', 2);
      sameAsPerInstance(reader, list, 'new events on a fanotify group');

      const added = await instance(one, 'added');
      makeFiles(join(dir, 'added'), 'a', 4);
      list = listed(one, shared, child, leaving);
      const withAdded = sameAsPerInstance(reader, list, 'an instance added since the last reading');
      assert.ok(withAdded.bytes.get(keyOf(list, one.pid, added))! > 0);
      const emptyKey = keyOf(list, one.pid, empty);

      // From here the list is not scanned again, as between full scans: fds change under it.
      await one.send(`close ${empty}`);
      const closed = sameAsPerInstance(reader, list, 'an instance closed');
      assert.equal(closed.bytes.get(emptyKey), null, 'closed: not read, never 0');
      assert.equal(await instance(one, 'reused'), empty, 'a new instance takes the closed one’s fd');
      makeFiles(join(dir, 'reused'), 'r', 3);
      const reused = sameAsPerInstance(reader, list, 'its fd taken by a new instance');
      assert.equal(reused.bytes.get(emptyKey), await one.send(`fionread ${empty}`));
      assert.ok(reused.bytes.get(emptyKey)! > 0);
      await one.send(`close ${empty}`);
      assert.equal(await one.send(`open ${join(dir, 'reused', 'r0')}`), empty, 'a plain file takes it');
      sameAsPerInstance(reader, list, 'its fd taken by a plain file');

      await leaving.stop();
      const gone = sameAsPerInstance(reader, list, 'a process gone');
      assert.equal(gone.bytes.get(keyOf(list, leaving.pid, list.find((proc) => proc.pid === leaving.pid)!.instances[0]!.fd)), null);

      // A holder that exits while its instance lives on in a process the list does not have yet
      // (its parent here): the set still has the file, but an exited holder is read by its calls.
      const parent = new Watcher();
      watchers.push(parent);
      const inherited = await instance(parent, 'gone');
      const kid = await parent.fork();
      const kidOnly = listed(kid);
      const kidReader = new QueueReader(true);
      try {
        for (let reading = 0; reading < 3; reading++) sameAsPerInstance(kidReader, kidOnly, `the kid, reading ${reading}`);
        process.kill(kid, 'SIGKILL');
        // Its exit whole (a zombie, or reaped): its files go before its pidfd is readable, a moment.
        await eventually(() => assert.match(stateOf(kid), /^[ZX]/));
        const exited = sameAsPerInstance(kidReader, kidOnly, 'a holder gone, its instance open in its parent');
        assert.deepEqual([exited.bytes.get(keyOf(kidOnly, kid, inherited)), exited.fromSet], [null, 0]);
      } finally {
        kidReader.close();
      }

      const sharedKeys = [keyOf(list, shared.pid, sharedQueued), keyOf(list, shared.pid, sharedEmpty)];
      assert.deepEqual([keyOf(list, child, sharedQueued), keyOf(list, child, sharedEmpty)], sharedKeys, 'one key per shared instance');
      await shared.send(`close ${sharedQueued}`);
      await shared.send(`close ${sharedEmpty}`);
      const byChild = sameAsPerInstance(reader, list, 'a shared instance closed by one holder: the other answers');
      assert.ok(byChild.bytes.get(sharedKeys[0]!)! > 0, "the child's queue, still held");
      assert.equal(byChild.bytes.get(sharedKeys[1]!), 0);

      // What the set cannot tell: an fd that now holds another instance while its old one is still
      // open elsewhere (the child). The list not scanned again, the old file answers; a scan lists
      // the holders anew, and the key is read by its calls.
      assert.equal(await instance(shared, 'added'), sharedQueued);
      assert.equal(await instance(shared, 'reused'), sharedEmpty);
      makeFiles(join(dir, 'reused'), 'n', 2);
      const stale = reader.read(list);
      assert.equal(stale.bytes.get(sharedKeys[1]!), 0, 'the limit: answered from the old file, which the child holds, empty');
      assert.ok(perInstance(list).get(sharedKeys[1]!)! > 0, "where the per-instance read reads the fd's new instance");
      list = listed(one, shared, child);
      sameAsPerInstance(reader, list, 'a scan lists the holders anew');
    } finally {
      reader.close();
    }
  });

  test("an instance closed by its holder is freed though it went into the set: the holder's max_inotify_instances lets it make another", async () => {
    const watcher = await namespacedWatcher(410000);
    watchers.push(watcher);
    const set = spawnSync('nsenter', [`--user=/proc/${watcher.pid}/ns/user`, 'sh', '-c', 'echo 3 > /proc/sys/user/max_inotify_instances'], {
      encoding: 'utf8',
    });
    assert.equal(set.status, 0, set.stderr);
    const fds = [await watcher.init(), await watcher.init(), await watcher.init()];
    await assert.rejects(watcher.init(), /inotify_init/, 'the namespace holds 3 at most');
    const list = listed(watcher);
    const reader = new QueueReader(true);
    try {
      for (let reading = 0; reading < 3; reading++) sameAsPerInstance(reader, list, `reading ${reading}`);
      assert.equal(reader.read(list).fromSet, 3, 'all three in the set');
      await watcher.send(`close ${fds[1]}`);
      const made = await watcher.init();
      assert.equal(made, fds[1], 'a new instance in the freed place');
      await watcher.send(`close ${made}`);
      sameAsPerInstance(reader, list, 'after');
      await watcher.send(`close ${fds[0]}`);
      await watcher.send(`close ${fds[2]}`);
      for (let i = 0; i < 3; i++) await watcher.init();
    } finally {
      reader.close();
    }
  });
});
