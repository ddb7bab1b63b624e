// The scanner and `inotop --json` against the real kernel: real child processes holding known
// inotify instances and watches, compared with stat(2) and with fdinfo read by the test itself.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { buildSnapshot } from '../../src/model/snapshot.js';
import type { ScanResult, Snapshot } from '../../src/model/types.js';
import { scan, Scanner } from '../../src/scan/index.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';

const ONCE_SCAN_BUFFERS = fileURLToPath(new URL('../helpers/once-scan-buffers.ts', import.meta.url));

/** glibc's major()/minor() of a userspace st_dev, as "MAJ:MIN". */
function devOf(path: string): string {
  const dev = BigInt(statSync(path).dev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The kernel's own count for a pid, read the plain way: inotify fds and their "inotify " lines. */
function kernelCount(pid: number): { instances: number; watches: number } {
  let instances = 0;
  let watches = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:inotify') continue;
    instances++;
    watches += readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('inotify ')).length;
  }
  return { instances, watches };
}

describe('real kernel', { skip: rootSkip }, () => {
  let dir: string;
  const watchers: Watcher[] = [];
  let many: Watcher; // 2 instances: 4 watches, and none
  let parent: Watcher; // one instance shared with a forked child
  let childPid: number;
  let twice: Watcher; // the same file watched through two instances
  const files: string[] = [];

  before(async () => {
    if (!isRoot) return;
    dir = mkdtempSync(join(tmpdir(), 'inotop-scan-'));
    for (const name of ['a', 'b', 'c']) {
      const path = join(dir, name);
      writeFileSync(path, name);
      files.push(path);
    }
    many = new Watcher();
    parent = new Watcher();
    twice = new Watcher();
    watchers.push(many, parent, twice);
    await many.comm('inotop-many');
    const fd = await many.init();
    await many.watch(fd, dir);
    for (const file of files) await many.watch(fd, file);
    await many.init(); // no watches: still an instance
    await many.send('open /etc/hostname'); // noise: not inotify
    await parent.comm('inotop-parent');
    const shared = await parent.init();
    await parent.watch(shared, files[0]!);
    await parent.watch(shared, '/etc/passwd');
    childPid = await parent.fork();
    await twice.comm('inotop-twice');
    await twice.watch(await twice.init(), files[1]!);
    await twice.watch(await twice.init(), files[1]!);
  });

  after(async () => {
    for (const watcher of watchers) await watcher.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const rowsOf = (snapshot: Snapshot, pid: number) => snapshot.processes.find((p) => p.pid === pid);

  test('exact instance and watch counts, equal to the kernel read independently', () => {
    const snapshot = buildSnapshot(scan(), null, null, 'none');
    for (const [pid, expected] of [
      [many.pid, { instances: 2, watches: 4 }],
      [parent.pid, { instances: 1, watches: 2 }],
      [childPid, { instances: 1, watches: 2 }],
      [twice.pid, { instances: 2, watches: 2 }],
    ] as const) {
      const row = rowsOf(snapshot, pid);
      assert.ok(row, `pid ${pid} is in the scan`);
      assert.deepEqual({ instances: row.instances, watches: row.watches }, expected, `pid ${pid}`);
      assert.deepEqual(kernelCount(pid), expected, `kernel count of pid ${pid}`);
    }
    assert.equal(rowsOf(snapshot, many.pid)!.comm, 'inotop-many');
    assert.deepEqual(
      rowsOf(snapshot, many.pid)!.fds.map((f) => f.watches),
      [4, 0],
    );
  });

  test("an instance whose fdinfo outgrows the read buffer (read in chunks): every watch, in the kernel's order, scan after scan", async () => {
    const big = join(dir, 'big');
    execFileSync('mkdir', [big]);
    // 1,500 watches print about 180 KB: the first read's buffer and chunks after it.
    for (let i = 0; i < 1499; i++) writeFileSync(join(big, `f${i}`), '');
    const watcher = new Watcher();
    watchers.push(watcher);
    const fd = await watcher.init();
    assert.equal(await watcher.watchDir(fd, big), 1500);
    const fdinfo = readFileSync(`/proc/${watcher.pid}/fdinfo/${fd}`, 'latin1');
    assert.ok(fdinfo.length > 1 << 16, `${fdinfo.length} bytes`);
    const kernelInodes = [...fdinfo.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+) /gm)].map((match) => parseInt(match[1]!, 16));
    const scanner = new Scanner();
    try {
      for (let i = 0; i < 2; i++) {
        const instance = scanner.scan().processes.find((proc) => proc.pid === watcher.pid)!.instances[0]!;
        assert.deepEqual([...instance.watches.ino], kernelInodes, `scan ${i + 1}`);
      }
    } finally {
      scanner.close();
    }
  });

  test('a once-only scan keys long lists by their length: kcmp still tells a shared instance from an equal one, and every watch is read', async () => {
    const long = join(dir, 'long');
    execFileSync('mkdir', [long]);
    // 800 watches print some 85 KB: past the length-keyed threshold (32 KB), and past the first
    // read (64 KB): parsed as it is read.
    for (let i = 0; i < 799; i++) writeFileSync(join(long, `f${i}`), '');
    // Stopped at the end: the tests after this one count every holder's watches.
    const holder = new Watcher();
    const other = new Watcher();
    try {
      await longLists(holder, other, long);
    } finally {
      await holder.stop();
      await other.stop();
    }
  });

  async function longLists(holder: Watcher, other: Watcher, long: string): Promise<void> {
    const fd = await holder.init();
    assert.equal(await holder.watchDir(fd, long), 800);
    const heir = await holder.fork();
    // Another instance on the same directory, watched in the same order: byte for byte the same lines.
    assert.equal(await other.watchDir(await other.init(), long), 800);
    const fdinfo = readFileSync(`/proc/${holder.pid}/fdinfo/${fd}`, 'latin1');
    assert.ok(fdinfo.length > 64 << 10, `${fdinfo.length} bytes`);
    const kernelInodes = [...fdinfo.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+) /gm)].map((match) => parseInt(match[1]!, 16));
    const pids = [holder.pid, heir, other.pid];
    const read = (once: boolean) => {
      const scanner = new Scanner({ once });
      try {
        const result = scanner.scan();
        assert.equal(result.sharedDetection, 'kcmp');
        return pids.map((pid) => result.processes.find((proc) => proc.pid === pid)!.instances[0]!);
      } finally {
        scanner.close();
      }
    };
    const [held, inherited, equal] = read(true);
    assert.ok(held!.listKey.startsWith('#'), `keyed by length: ${held!.listKey}`);
    assert.equal(equal!.listKey, held!.listKey, 'the same length');
    assert.deepEqual([held!.shared, inherited!.shared, equal!.shared], [true, true, false]);
    assert.equal(inherited!.instanceId, held!.instanceId);
    assert.notEqual(equal!.instanceId, held!.instanceId);
    for (const instance of [held!, inherited!, equal!]) assert.deepEqual([...instance.watches.ino], kernelInodes);
    // As a scan that keeps its parses tells them.
    const kept = read(false);
    assert.ok(!kept[0]!.listKey.startsWith('#'));
    assert.deepEqual(
      kept.map((instance) => [instance.instanceId, instance.shared]),
      [held!, inherited!, equal!].map((instance) => [instance.instanceId, instance.shared]),
    );
  }

  test('a once-only scan keys short lists by a sample: equal lists share one parse, lists alike at both ends are told apart, kcmp tells a shared instance from an equal one', async () => {
    const alike = join(dir, 'alike');
    execFileSync('mkdir', [alike]);
    const [first, second, last] = ['f1', 'f2', 'f3'].map((name) => join(alike, name));
    for (const path of [first!, second!, last!]) writeFileSync(path, '');
    const holder = new Watcher();
    const equal = new Watcher();
    const middle = new Watcher();
    try {
      // The same directory first and the same file last; holder and equal watch `first` between,
      // middle watches `second`: a list of the same length, alike at both ends.
      const watchAll = async (watcher: Watcher, between: string) => {
        const fd = await watcher.init();
        for (const path of [alike, between, last!]) await watcher.watch(fd, path);
        return fd;
      };
      const fd = await watchAll(holder, first!);
      await watchAll(equal, first!);
      const middleFd = await watchAll(middle, second!);
      const heir = await holder.fork();
      const linesOf = (pid: number, of: number) => readFileSync(`/proc/${pid}/fdinfo/${of}`, 'latin1').replace(/^[^]*?(?=^inotify )/m, '');
      const [held, between] = [linesOf(holder.pid, fd), linesOf(middle.pid, middleFd)];
      assert.ok(
        held.length === between.length && held.slice(0, 64) === between.slice(0, 64) && held.slice(-64) === between.slice(-64) && held !== between,
        'the premise: lists alike at both ends, of one length',
      );
      const inodes = (paths: string[]) => paths.map((path) => statSync(path).ino).sort((a, b) => a - b);
      const sorted = (ino: Float64Array | number[]) => [...ino].sort((a, b) => a - b);
      const read = (once: boolean) => {
        const scanner = new Scanner({ once });
        try {
          const result = scanner.scan();
          assert.equal(result.sharedDetection, 'kcmp');
          return [holder.pid, heir, equal.pid, middle.pid].map((pid) => result.processes.find((proc) => proc.pid === pid)!.instances[0]!);
        } finally {
          scanner.close();
        }
      };
      const [own, inherited, same, other] = read(true);
      assert.ok(own!.listKey.startsWith('#') && own!.listKey.includes(':'), `keyed by a sample: ${own!.listKey.slice(0, 20)}`);
      assert.equal(other!.listKey, own!.listKey, 'one key for lists alike at both ends');
      assert.deepEqual(sorted(own!.watches.ino), inodes([alike, first!, last!]));
      assert.deepEqual(sorted(other!.watches.ino), inodes([alike, second!, last!]), 'a list alike at both ends has its own parse');
      assert.equal(same!.watches, own!.watches, 'equal lists share one parse');
      assert.deepEqual([own!.shared, inherited!.shared, same!.shared, other!.shared], [true, true, false, false]);
      assert.equal(inherited!.instanceId, own!.instanceId);
      assert.notEqual(same!.instanceId, own!.instanceId);
      // As a scan that keeps its parses (keyed by a digest) tells them.
      const kept = read(false);
      assert.ok(!kept[0]!.listKey.startsWith('#'));
      assert.deepEqual(
        kept.map((instance) => [instance.instanceId, instance.shared, [...instance.watches.ino]]),
        [own!, inherited!, same!, other!].map((instance) => [instance.instanceId, instance.shared, [...instance.watches.ino]]),
      );
    } finally {
      for (const watcher of [holder, equal, middle]) await watcher.stop();
    }
  });

  test('a once-only scan reads a list of megabytes as it comes: every watch, and no buffer of the whole file left behind', async () => {
    const huge = join(dir, 'huge');
    execFileSync('mkdir', [huge]);
    // 40,000 watches print some 4.7 MB: the first read and five chunks of a megabyte after it.
    const watches = 40_000;
    for (let i = 1; i < watches; i++) writeFileSync(join(huge, `f${i}`), '');
    const holder = new Watcher();
    try {
      const fd = await holder.init();
      assert.equal(await holder.watchDir(fd, huge), watches);
      const fdinfo = readFileSync(`/proc/${holder.pid}/fdinfo/${fd}`, 'latin1');
      assert.ok(fdinfo.length > 4 << 20, `${fdinfo.length} bytes`);
      const measured = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', ONCE_SCAN_BUFFERS, String(holder.pid)], { encoding: 'utf8' });
      assert.equal(measured.status, 0, measured.stderr);
      const { watches: read, keptBytes } = JSON.parse(measured.stdout) as { watches: number | null; keptBytes: number };
      assert.equal(read, watches);
      // One reused chunk of a megabyte and the shared scratch a megabyte of lines grew (about 1.8 MB
      // here); held whole, the file's chunks stayed (about 6 MB).
      assert.ok(keptBytes < fdinfo.length / 2, `${keptBytes} bytes of buffers left beside the lists, for ${fdinfo.length} bytes of fdinfo`);
    } finally {
      await holder.stop();
    }
  });

  test('devs and inodes equal stat(2)', () => {
    const snapshot = buildSnapshot(scan(), null, null, 'all');
    const targets = rowsOf(snapshot, many.pid)!.targets;
    const expected = [dir, ...files].map((p) => `${devOf(p)}/${statSync(p).ino}`).sort();
    assert.deepEqual(targets.map((t) => `${t.dev}/${t.ino}`).sort(), expected);
    const doubled = rowsOf(snapshot, twice.pid)!.targets;
    assert.deepEqual(
      doubled.map((t) => [t.dev, t.ino, t.watches, t.fds.length]),
      [[devOf(files[1]!), statSync(files[1]!).ino, 2, 2]],
    );
  });

  test('an instance shared across fork is found by kcmp and counted once', () => {
    const result = scan();
    assert.equal(result.sharedDetection, 'kcmp');
    const snapshot = buildSnapshot(result, null, null, 'none');
    assert.deepEqual(
      rowsOf(snapshot, parent.pid)!.fds.map((f) => f.shared),
      [true],
    );
    assert.deepEqual(
      rowsOf(snapshot, childPid)!.fds.map((f) => f.shared),
      [true],
    );
    assert.deepEqual(
      rowsOf(snapshot, many.pid)!.fds.map((f) => f.shared),
      [false, false],
    );
    assert.deepEqual(
      rowsOf(snapshot, twice.pid)!.fds.map((f) => f.shared),
      [false, false],
      'same watches, different instances',
    );
    const ids = (pid: number) => result.processes.find((p) => p.pid === pid)!.instances.map((i) => i.instanceId);
    assert.deepEqual(ids(parent.pid), ids(childPid));
    // A one-shot that reads the holders' queues tells them by the FileSet it adds their fds to: the same.
    const told = scan({ once: true, readQueues: true });
    const marks = (of: ScanResult) =>
      [parent.pid, childPid, many.pid, twice.pid].map((pid) => of.processes.find((p) => p.pid === pid)!.instances.map((i) => [i.instanceId, i.shared]));
    assert.deepEqual(marks(told), marks(result));
    // Node totals: every holder's watches, the shared instance once.
    const sumRows = snapshot.processes.reduce((sum, p) => sum + p.watches, 0);
    assert.equal(snapshot.totals.watches, sumRows - 2);
    const root = snapshot.users.find((u) => u.uid === 0 && u.userns === null)!;
    assert.ok(root.watches >= 4 + 2 + 2);
  });

  test('the heuristic (no kcmp) also ties a fork-inherited instance to its parent', () => {
    const result = scan({ sharedDetection: 'heuristic' });
    const ids = (pid: number) => result.processes.find((p) => p.pid === pid)!.instances.map((i) => [i.instanceId, i.shared]);
    assert.deepEqual(ids(childPid), ids(parent.pid));
    assert.deepEqual(ids(childPid), [[`${parent.pid}:3`, true]]);
  });

  describe('the CLI', () => {
    before(() => ensureBuilt());

    test('inotop --json reports the same, with the documented fields', () => {
      const out = execFileSync(inotopBin, ['--json', '--targets', '--pods', 'none', '-p', `${many.pid},${childPid}`], { encoding: 'utf8' });
      const json = JSON.parse(out);
      assert.equal(json.schema, 1);
      assert.ok(!Number.isNaN(Date.parse(json.time)));
      for (const key of ['hostname', 'kernel']) assert.equal(typeof json[key], 'string');
      assert.deepEqual(Object.keys(json.limits).sort(), [
        'maxFanotifyQueuedEvents',
        'maxQueuedEvents',
        'maxUserFanotifyGroups',
        'maxUserFanotifyMarks',
        'maxUserInstances',
        'maxUserWatches',
      ]);
      assert.equal(json.limits.maxUserInstances, Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8')));
      assert.deepEqual(
        json.processes.map((p: { pid: number; instances: number; watches: number }) => [p.pid, p.instances, p.watches]),
        [
          [many.pid, 2, 4],
          [childPid, 1, 2],
        ],
      );
      const row = json.processes[0];
      for (const key of ['pid', 'ppid', 'uid', 'user', 'comm', 'cmdline', 'instances', 'watches', 'fds']) assert.ok(key in row, key);
      assert.equal(row.user, 'root');
      // One instance, shared with the parent: its id is the one the scan gives every holder.
      const shared = scan().processes.find((p) => p.pid === childPid)!.instances[0]!.instanceId;
      type Fd = { queuedBytes: unknown; queueState: unknown };
      assert.deepEqual(
        json.processes[1].fds.map(({ queuedBytes: _bytes, queueState: _state, ...fd }: Fd) => fd),
        [{ fd: 3, watches: 2, shared: true, instance: shared }],
      );
      const [queue] = json.processes[1].fds as Fd[];
      assert.ok(typeof queue?.queuedBytes === 'number' && typeof queue.queueState === 'string', 'its event queue, read');
      const target = row.targets.find((t: { ino: number }) => t.ino === statSync(dir).ino);
      assert.deepEqual([target.dev, target.watches, target.fds], [devOf(dir), 1, [3]]);
      assert.ok(json.users.some((u: { uid: number; name: string }) => u.uid === 0 && u.name === 'root'));
    });

    test('inotop -b prints the table with the processes and the limits', () => {
      const out = execFileSync(inotopBin, ['-b', '--pods', 'none', '-F', '^$|inowatch'], { encoding: 'utf8' });
      assert.match(out, /max_user_watches \d+/);
      assert.match(out, /PID +USER +INST +WATCHES/);
      const line = out.split('\n').find((l) => l.trimStart().startsWith(`${many.pid} `));
      assert.ok(line, out);
      assert.match(line, new RegExp(`^ *${many.pid} +root +2 +4 `));
      assert.doesNotMatch(out, /\x1b\[/, 'no color into a pipe');
    });

    test('not root: unreadable processes are counted once, the scan goes on', () => {
      const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, inotopBin, '--json', '--pods', 'none'], {
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      const json = JSON.parse(run.stdout);
      assert.ok(
        json.notes.some((n: string) => /^\d+ process(es)? not readable: run as root to see all$/.test(n)),
        json.notes.join('; '),
      );
      assert.ok(!json.processes.some((p: { pid: number }) => p.pid === many.pid), 'root processes are not visible to nobody');
    });
  });
});
