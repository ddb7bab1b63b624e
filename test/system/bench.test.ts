// Smoke test of the benchmark (no timings asserted): the load generator makes exactly what it is
// asked for and leaves nothing behind (processes, mount, files, sysctls), also when killed by a
// signal; one pass of the benchmark's code at the tiny size produces every measurement.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { startupFloorScript } from '../../bench/floor.js';
import { benchSize } from '../../bench/run.js';
import { parseMountinfo } from '../../src/resolve/mountinfo.js';
import { eventually } from '../helpers/eventually.js';
import { rootSkip } from '../helpers/inowatch.js';
import { countFds, LOAD_SIZES, startLoad } from '../helpers/load.js';

const SYSCTLS = ['max_user_instances', 'max_user_watches'].map((name) => `/proc/sys/fs/inotify/${name}`);
const readSysctls = (): string[] => SYSCTLS.map((path) => readFileSync(path, 'utf8'));
const mountedAt = (dir: string): boolean => parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).some((mount) => mount.mountpoint === dir);

/** Once every one of `pids` is gone; the ones still there after 2 s fail the test. */
function waitGone(pids: number[]): Promise<void> {
  return eventually(
    () =>
      assert.deepEqual(
        pids.filter((pid) => existsSync(`/proc/${pid}`)),
        [],
        'processes still there',
      ),
    { timeoutMs: 2_000, intervalMs: 10 },
  );
}

describe('benchmark', { skip: rootSkip }, () => {
  test('the load generator creates exactly the requested load and removes all of it', { timeout: 60_000 }, async () => {
    const before = readSysctls();
    const size = LOAD_SIZES.tiny;
    const load = await startLoad(size);
    const root = dirname(load.noisePath);
    let stopped = false;
    try {
      assert.equal(load.pids.length, size.processes);
      const counted = countFds(load.pids, load.noisePath);
      assert.equal(counted.instances, size.instances);
      assert.equal(counted.watches, size.watches);
      assert.equal(counted.noiseFds, size.noiseFds);
      for (const pid of load.pids) assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'inotop-load');
      assert.ok(mountedAt(root), 'the watched files are on a tmpfs of their own');
      await load.stop();
      stopped = true;
    } finally {
      if (!stopped) await load.stop();
    }
    await waitGone(load.pids);
    assert.ok(!mountedAt(root) && !existsSync(root), 'tmpfs unmounted and removed');
    assert.deepEqual(readSysctls(), before, 'sysctls restored');
  });

  test('a signal tears the load down too', { timeout: 60_000 }, async () => {
    const before = readSysctls();
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'load.ts');
    const holder = spawn(process.execPath, ['--import', 'tsx', script, 'tiny'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => holder.once('exit', (code) => resolve(code)));
    const ready = await new Promise<string>((resolve, reject) => {
      createInterface({ input: holder.stdout }).once('line', resolve);
      holder.once('exit', () => reject(new Error('load holder exited before it was ready')));
    });
    let pids: number[];
    try {
      pids = ready
        .replace(/^ready /, '')
        .split(',')
        .map(Number);
      assert.equal(pids.length, LOAD_SIZES.tiny.processes);
    } finally {
      holder.kill('SIGTERM');
    }
    assert.equal(await exited, 143);
    await waitGone(pids);
    assert.deepEqual(readSysctls(), before, 'sysctls restored');
  });

  test("the start-up floor's script makes a one-shot's reads, through koffi and through Node's fs alike", { timeout: 60_000 }, async () => {
    const script = startupFloorScript();
    const size = LOAD_SIZES.tiny;
    const load = await startLoad(size);
    try {
      const counted = (way: string): number[] => execFileSync(process.execPath, [script, way], { encoding: 'utf8' }).trim().split(' ').map(Number);
      const [koffi, fs] = [counted('koffi'), counted('fs')];
      for (const [instances, watches, fds] of [koffi, fs]) {
        assert.ok(instances! >= size.instances && watches! >= size.watches && fds! >= size.noiseFds, `${instances} instances, ${watches} watches, ${fds} fds`);
      }
      assert.deepEqual(koffi.slice(0, 2), fs.slice(0, 2), 'the same instances and watches either way');
    } finally {
      await load.stop();
    }
  });

  test('one pass of every measurement at the tiny size', { timeout: 120_000 }, async () => {
    const before = readSysctls();
    const result = await benchSize('tiny', {
      runs: 1,
      tuiSeconds: 0,
      tuiArgs: [],
      parts: new Set(['scan', 'traffic', 'resolve', 'json', 'check']),
      serveSeconds: 0,
    });
    assert.deepEqual(result.load.created, { instances: LOAD_SIZES.tiny.instances, watches: LOAD_SIZES.tiny.watches, noiseFds: LOAD_SIZES.tiny.noiseFds });
    for (const ratio of Object.values(result.scan.ratios)) assert.ok(Number.isFinite(ratio) && ratio > 0, String(ratio));
    assert.ok(result.scan.floorCount.instances >= LOAD_SIZES.tiny.instances);
    assert.ok(!('error' in result.resolve), 'error' in result.resolve ? result.resolve.error : '');
    assert.ok('queues' in result.traffic, 'error' in result.traffic ? result.traffic.error : 'skipped');
    assert.ok(result.traffic.instances >= LOAD_SIZES.tiny.instances && result.traffic.unread === 0, 'every queue of the load read');
    assert.ok(Number.isFinite(result.traffic.queuesToScan) && result.traffic.queuesToScan > 0);
    // The load's instances are read as their events come: their queues are empty, and the set answers them.
    assert.ok(result.traffic.fromSet >= LOAD_SIZES.tiny.instances, `${result.traffic.fromSet} answered by the queue set`);
    assert.ok(result.traffic.queuesByCalls.cpuMs.median > 0);
    assert.ok('json' in result.oneShots, 'error' in result.oneShots ? result.oneShots.error : 'skipped');
    assert.ok(result.oneShots.json.totals.watches >= LOAD_SIZES.tiny.watches);
    assert.ok(result.oneShots.jsonPods.totals.watches >= LOAD_SIZES.tiny.watches);
    assert.deepEqual(readSysctls(), before, 'sysctls restored');
  });
});
