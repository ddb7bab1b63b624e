// The resolve stage against the real kernel: real watches held by inowatch children, real tmpfs
// mounts, a real second mount namespace. Root only.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Resolution, ScanResult, Watch } from '../../src/model/types.js';
import { encodePathBytes } from '../../src/model/path-bytes.js';
import { watchesOf as watchList } from '../../src/model/watches.js';
import { Resolver } from '../../src/resolve/index.js';
import { scan } from '../../src/scan/index.js';
import { eventually } from '../helpers/eventually.js';
import { rootSkip, Watcher } from '../helpers/inowatch.js';

/** A temp dir removed after the test, with everything mounted in it unmounted first. */
function tempDir(t: TestContext): { dir: string; mountTmpfs(path: string): void; mount(path: string, args: string[]): void } {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-resolve-'));
  const mounted: string[] = [];
  t.after(() => {
    for (const path of mounted.reverse()) {
      try {
        execFileSync('umount', ['-l', path], { stdio: 'ignore' });
      } catch {
        // already unmounted by the test
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const mount = (path: string, args: string[]): void => {
    mkdirSync(path, { recursive: true });
    execFileSync('mount', [...args, path], { stdio: ['ignore', 'ignore', 'pipe'] });
    mounted.push(path);
  };
  return { dir, mount, mountTmpfs: (path) => mount(path, ['-t', 'tmpfs', 'inotop-test']) };
}

function startWatcher(t: TestContext, wrapper?: string[]): Watcher {
  const watcher = new Watcher(wrapper ? { wrapper } : {});
  t.after(() => watcher.stop());
  return watcher;
}

/** A scan of just these processes (the rest of the host is not under test). */
function scanOf(...pids: number[]): ScanResult {
  const result = scan({ procRoot: '/proc' });
  return { ...result, processes: result.processes.filter((proc) => pids.includes(proc.pid)) };
}

function watchesOf(result: ScanResult, pid: number): Watch[] {
  return result.processes.find((proc) => proc.pid === pid)?.instances.flatMap((instance) => watchList(instance.watches)) ?? [];
}

/** Resolutions of one process's watches, by wd (every target prepared, as a view showing them does). */
function resolveByWd(resolver: Resolver, pid: number, result: ScanResult = scanOf(pid)): Map<number, Resolution> {
  const resolutions = resolver.resolve(result);
  const proc = result.processes.find((candidate) => candidate.pid === pid)!;
  resolutions.prepare([proc], 'all');
  return new Map(watchesOf(result, pid).map((watch) => [watch.wd, resolutions.get(proc, watch.sdev, watch.ino)]));
}

test('watches on the root filesystem, a tmpfs and a deleted file resolve to their real paths', { skip: rootSkip }, async (t) => {
  const { dir, mountTmpfs } = tempDir(t);
  const tmpfs = join(dir, 'tmp fs'); // a mount point with a space in its name
  mountTmpfs(tmpfs);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'file'), 'x');
  mkdirSync(join(tmpfs, 'inner dir'));
  writeFileSync(join(tmpfs, 'inner dir', 'f'), 'x');
  writeFileSync(join(dir, 'doomed'), 'x');
  const watcher = startWatcher(t);
  const fd = await watcher.init();
  const paths = new Map<number, string>();
  for (const path of [join(dir, 'sub'), join(dir, 'sub', 'file'), tmpfs, join(tmpfs, 'inner dir'), join(tmpfs, 'inner dir', 'f')]) {
    paths.set(await watcher.watch(fd, path), path);
  }
  const doomedWd = await watcher.watch(fd, join(dir, 'doomed'));
  // Keep the deleted file's inode (and so its watch) alive: open it in the watcher first.
  await watcher.send(`open ${join(dir, 'doomed')}`);
  unlinkSync(join(dir, 'doomed'));

  const resolver = new Resolver({ procRoot: '/proc' });
  t.after(() => resolver.close());
  for (const pass of ['cold', 'warm']) {
    const byWd = resolveByWd(resolver, watcher.pid);
    for (const [wd, path] of paths) {
      assert.equal(byWd.get(wd)?.status, 'ok', `${pass} ${path}: ${byWd.get(wd)?.reason}`);
      assert.equal(byWd.get(wd)?.path, path, pass);
    }
    assert.equal(byWd.get(doomedWd)?.status, 'deleted', pass);
    assert.equal(byWd.get(doomedWd)?.path, join(dir, 'doomed'), pass);
    const tmpfsRoot = [...paths].find(([, path]) => path === tmpfs)![0];
    assert.deepEqual({ mountpoint: byWd.get(tmpfsRoot)?.mountpoint, fstype: byWd.get(tmpfsRoot)?.fstype }, { mountpoint: tmpfs, fstype: 'tmpfs' });
  }
});

test('a renamed directory resolves to its new path on the next refresh', { skip: rootSkip }, async (t) => {
  const { dir } = tempDir(t);
  mkdirSync(join(dir, 'before', 'leaf'), { recursive: true });
  const watcher = startWatcher(t);
  const fd = await watcher.init();
  const wd = await watcher.watch(fd, join(dir, 'before', 'leaf'));
  const resolver = new Resolver({ procRoot: '/proc' });
  t.after(() => resolver.close());
  assert.equal(resolveByWd(resolver, watcher.pid).get(wd)?.path, join(dir, 'before', 'leaf'));
  execFileSync('mv', [join(dir, 'before'), join(dir, 'after')]);
  assert.equal(resolveByWd(resolver, watcher.pid).get(wd)?.path, join(dir, 'after', 'leaf'));
});

test('a directory whose name is not UTF-8 resolves byte-exact, by handle and by walk', { skip: rootSkip }, async (t) => {
  const { dir, mountTmpfs } = tempDir(t);
  const tmpfs = join(dir, 'mnt');
  mountTmpfs(tmpfs);
  // "caf\xe9" in Latin-1 and a lone \xff: bytes no UTF-8 decoder keeps.
  const name = Buffer.concat([Buffer.from('caf'), Buffer.of(0xe9), Buffer.from(' x'), Buffer.of(0xff)]);
  const path = Buffer.concat([Buffer.from(`${tmpfs}/`), name]);
  mkdirSync(path);
  const watcher = startWatcher(t);
  const fd = await watcher.init();
  const wd = await watcher.send(`watchx ${fd} ${path.toString('hex')}`);
  const result = scanOf(watcher.pid);
  for (const forceWalk of [false, true]) {
    const resolver = new Resolver({ procRoot: '/proc', forceWalk });
    t.after(() => resolver.close());
    const resolution = resolveByWd(resolver, watcher.pid, result).get(wd)!;
    assert.equal(resolution.status, 'ok', `${forceWalk ? 'walk' : 'handle'}: ${resolution.reason}`);
    assert.deepEqual(encodePathBytes(resolution.path!), path, 'the very bytes');
    assert.equal(resolution.path, `${tmpfs}/caf\udce9 x\udcff`);
  }
});

test('the fallback walk, forced, finds the same paths as handle resolution', { skip: rootSkip }, async (t) => {
  const { dir, mountTmpfs } = tempDir(t);
  const tmpfs = join(dir, 'mnt');
  mountTmpfs(tmpfs);
  for (const base of [dir, tmpfs]) {
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(base, 'tree', `d${i}`), { recursive: true });
      writeFileSync(join(base, 'tree', `d${i}`, 'file'), 'x');
    }
  }
  const watcher = startWatcher(t);
  const fd = await watcher.init();
  await watcher.watchDir(fd, join(dir, 'tree'));
  await watcher.watchDir(fd, join(tmpfs, 'tree'));
  await watcher.watch(fd, join(dir, 'tree', 'd3', 'file'));
  await watcher.watch(fd, tmpfs);

  const result = scanOf(watcher.pid);
  const byHandle = new Resolver({ procRoot: '/proc' });
  // The root filesystem is walked whole (the temp dir may come late in it): no budget to speak of.
  const byWalk = new Resolver({ procRoot: '/proc', forceWalk: true, walkBudgetMs: 300_000 });
  t.after(() => {
    byHandle.close();
    byWalk.close();
  });
  const handled = resolveByWd(byHandle, watcher.pid, result);
  const walked = resolveByWd(byWalk, watcher.pid, result);
  assert.equal(handled.size, 44);
  for (const [wd, resolution] of handled) {
    assert.equal(resolution.status, 'ok', `${wd}: ${resolution.reason}`);
    assert.deepEqual(walked.get(wd), resolution);
  }
});

test('a tmpfs unmounted on the host but kept by another mount namespace is reported unmounted, held by that namespace', { skip: rootSkip }, async (t) => {
  const { dir, mountTmpfs } = tempDir(t);
  const volume = join(dir, 'kube-api-access-x');
  mountTmpfs(volume);
  const watcher = startWatcher(t);
  const fd = await watcher.init();
  const wd = await watcher.watch(fd, volume); // its root: inode 1
  const holder = startWatcher(t, ['unshare', '-m', '--propagation', 'private']);
  await holder.comm('volume-holder');

  const resolver = new Resolver({ procRoot: '/proc' });
  t.after(() => resolver.close());
  const before = resolveByWd(resolver, watcher.pid).get(wd)!;
  assert.equal(before.status, 'ok');
  assert.equal(before.path, volume);

  execFileSync('umount', [volume]);
  const result = scanOf(watcher.pid);
  const watch = watchesOf(result, watcher.pid).find((w) => w.wd === wd);
  assert.equal(watch?.ino, 1, 'the watch survives the unmount');
  const after = resolveByWd(resolver, watcher.pid, result).get(wd)!;
  assert.equal(after.status, 'unmounted');
  assert.equal(after.path, volume, 'the mount point in the holder namespace');
  assert.equal(after.fstype, 'tmpfs');
  assert.deepEqual(after.heldBy, [{ pid: holder.pid, comm: 'volume-holder', mountpoint: volume, boundFrom: [] }]);

  await holder.stop();
  await eventually(() => assert.equal(watchesOf(scanOf(watcher.pid), watcher.pid).filter((w) => w.wd === wd).length, 0, 'the watch ends with the last mount'), {
    timeoutMs: 2_000,
    intervalMs: 20,
  });
});

test('a lazily unmounted tmpfs mounted nowhere keeps its last known mount point', { skip: rootSkip }, async (t) => {
  const { dir, mountTmpfs } = tempDir(t);
  const volume = join(dir, 'vol');
  mountTmpfs(volume);
  mkdirSync(join(volume, 'data'));
  const watcher = startWatcher(t);
  const fd = await watcher.init();
  const wd = await watcher.watch(fd, join(volume, 'data'));
  await watcher.send(`open ${join(volume, 'data')}`); // keeps the detached filesystem alive

  const resolver = new Resolver({ procRoot: '/proc' });
  t.after(() => resolver.close());
  assert.equal(resolveByWd(resolver, watcher.pid).get(wd)?.path, join(volume, 'data'));
  execFileSync('umount', ['-l', volume]);
  const after = resolveByWd(resolver, watcher.pid).get(wd)!;
  assert.equal(after.status, 'unmounted');
  assert.deepEqual(after.heldBy, []);
  assert.equal(after.mountpoint, volume);
  assert.equal(after.mountpointRemembered, true);
  assert.equal(after.path, join(volume, 'data'));
});

test(
  'a directory read for one decoded target names its watched neighbours: exact paths, and renames or a reused name seen next refresh',
  { skip: rootSkip },
  async (t) => {
    const { dir, mountTmpfs, mount } = tempDir(t);
    const tmpfs = join(dir, 'mnt');
    mountTmpfs(tmpfs);
    // tmpfs and the temp dir's filesystem (ext4 here); an overlay too where the kernel decodes its
    // handles (nfs_export), where entries' inode numbers are only hints.
    const bases = [tmpfs, join(dir, 'plain')];
    const overlay = join(tmpfs, 'overlay');
    for (const part of ['lower', 'upper', 'work']) mkdirSync(join(tmpfs, part));
    try {
      mount(overlay, ['-t', 'overlay', 'inotop-test', '-o', `lowerdir=${tmpfs}/lower,upperdir=${tmpfs}/upper,workdir=${tmpfs}/work,index=on,nfs_export=on`]);
      bases.push(overlay);
    } catch {
      t.diagnostic('overlayfs with nfs_export not available: tmpfs and the temp dir only');
    }
    const oddName = Buffer.concat([Buffer.from('odd '), Buffer.of(0xff, 0xfe)]);
    const watcher = startWatcher(t);
    const fd = await watcher.init();
    for (const base of bases) {
      mkdirSync(join(base, 'n'), { recursive: true });
      for (let i = 0; i < 40; i++) writeFileSync(join(base, 'n', `f${i}`), 'x');
      writeFileSync(Buffer.concat([Buffer.from(`${base}/n/`), oddName]), 'x');
      await watcher.watchDir(fd, join(base, 'n'));
    }
    const expected = (base: string, name: string): string => `${base}/n/${name}`;
    const resolver = new Resolver({ procRoot: '/proc' });
    t.after(() => resolver.close());
    const result = scanOf(watcher.pid);
    const proc = result.processes[0]!;
    const watches = watchesOf(result, watcher.pid);
    const cold = resolver.resolve(result);
    cold.prepare([proc], 'all');
    const pathOf = (resolutions: typeof cold, watch: Watch): string | null => resolutions.get(proc, watch.sdev, watch.ino).path;
    const byIno = (resolutions: typeof cold): Map<number, string | null> => new Map(watches.map((watch) => [watch.ino, pathOf(resolutions, watch)]));
    const coldPaths = byIno(cold);
    for (const watch of watches) assert.equal(cold.get(proc, watch.sdev, watch.ino).status, 'ok', `cold: ${cold.get(proc, watch.sdev, watch.ino).reason}`);
    const inodes = new Set<number>();
    for (const base of bases) {
      for (const name of [...Array.from({ length: 40 }, (_, i) => `f${i}`), '']) {
        const path = name === '' ? join(base, 'n') : expected(base, name);
        const ino = Number(statSync(path).ino);
        inodes.add(ino);
        assert.equal(coldPaths.get(ino), path, `cold ${path}`);
      }
      const odd = Number(statSync(Buffer.concat([Buffer.from(`${base}/n/`), oddName])).ino);
      assert.deepEqual(encodePathBytes(coldPaths.get(odd)!), Buffer.concat([Buffer.from(`${base}/n/`), oddName]), 'the very bytes');
    }
    assert.equal(watches.length, bases.length * 42);
    // One decode per directory, not one per target: the rest came from reading it.
    assert.ok(cold.lookups.decoded <= bases.length * 2, `${cold.lookups.decoded} decodes`);
    assert.ok(cold.lookups.fromDirectories >= bases.length * 38, `${cold.lookups.fromDirectories} from directories`);
    t.diagnostic(`${bases.length} filesystems: ${cold.lookups.decoded} decodes, ${cold.lookups.fromDirectories} from directories`);

    // f1 renamed to g1; f2 renamed to h2 and a new (unwatched) f2 in its place.
    for (const base of bases) {
      execFileSync('mv', [expected(base, 'f1'), expected(base, 'g1')]);
      execFileSync('mv', [expected(base, 'f2'), expected(base, 'h2')]);
      writeFileSync(expected(base, 'f2'), 'new');
    }
    for (const pass of ['after renames', 'again']) {
      const next = resolver.resolve(result);
      next.prepare([proc], 'all');
      const paths = byIno(next);
      for (const base of bases) {
        for (const [name, now] of [
          ['g1', 'g1'],
          ['h2', 'h2'],
          ['f3', 'f3'],
        ] as const) {
          const ino = Number(statSync(expected(base, now)).ino);
          assert.equal(paths.get(ino), expected(base, name), `${pass}: ${name}`);
        }
        assert.ok(!inodes.has(Number(statSync(expected(base, 'f2')).ino)), 'the new f2 is another inode');
      }
    }
  },
);
