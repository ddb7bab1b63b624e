// inotop must never be why an umount fails. kubelet tears down a pod's volume with umount(2),
// which fails with EBUSY while any fd is open on the mount. Here tmpfs volumes with 5,000 watched
// files each are unmounted at random moments while inotop refreshes every 0.1 s looking into
// them, in every mode that looks: -b with targets, --force-walk (a walk holds a mount longest),
// serve, and the screen with the watcher selected. Not one umount may fail.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { eventually } from '../helpers/eventually.js';
import { isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';
import { TmuxPane } from '../helpers/tmux.js';

const ROUNDS = 12;
const FILES = 5000;

describe('unmounting volumes while inotop looks into them', { skip: rootSkip }, () => {
  let dir: string;
  let watcher: Watcher;
  let instance: number;

  before(async () => {
    if (!isRoot) return;
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-umount-'));
    watcher = new Watcher();
    await watcher.comm('volume-watcher');
    instance = await watcher.init();
  });

  after(async () => {
    await watcher?.stop();
    if (dir) {
      for (const line of execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).split('\n')) {
        const point = line.split(' ')[4];
        if (point?.startsWith(dir)) spawnSync('umount', ['-l', point]);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * Mounts a volume, watches its 5,000 files, unmounts it after a random pause; ROUNDS times.
   * Returns how many umounts failed with EBUSY and the volume paths used.
   */
  async function unmountRounds(): Promise<{ busy: number; volumes: string[] }> {
    let busy = 0;
    const volumes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const volume = join(dir, `volume-${volumes.length}-${Date.now()}`);
      volumes.push(volume);
      mkdirSync(volume);
      execFileSync('mount', ['-t', 'tmpfs', 'inotop-volume', volume]);
      for (let f = 0; f < FILES; f++) closeSync(openSync(join(volume, `f${f}`), 'w'));
      await watcher.watchDir(instance, volume);
      await sleep(Math.random() * 400);
      const result = spawnSync('umount', [volume], { encoding: 'utf8' });
      if (result.status !== 0) {
        if (/busy/i.test(result.stderr)) busy++;
        else assert.fail(`umount ${volume}: ${result.stderr.trim()}`);
        execFileSync('umount', ['-l', volume]);
      }
    }
    return { busy, volumes };
  }

  async function raceWith(child: ChildProcess, output: () => string): Promise<{ busy: number; seen: boolean }> {
    try {
      // Running and looking: its first refresh is out.
      await eventually(() => assert.notEqual(output(), '', 'its first refresh'), { timeoutMs: 20_000, intervalMs: 100 });
      const { busy, volumes } = await unmountRounds();
      return { busy, seen: volumes.some((volume) => output().includes(volume)) };
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  }

  for (const [mode, extra] of [
    ['-b with targets', []],
    ['-b with targets, --force-walk', ['--force-walk']],
  ] as const) {
    test(`${mode}: no umount fails`, async () => {
      const child = spawn(
        process.execPath,
        [inotopBin, '-b', '-n', '100000', '-d', '0.1', '--targets', '-p', String(watcher.pid), '--pods', 'none', ...extra],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-1_000_000)));
      const { busy, seen } = await raceWith(child, () => out);
      assert.equal(busy, 0, `${busy} of ${ROUNDS} umounts failed with EBUSY`);
      assert.ok(seen, 'inotop showed paths inside the volumes (it did look into them)');
    });
  }

  test('serve: no umount fails', async () => {
    const port = 20_000 + Math.floor(Math.random() * 1000);
    const child = spawn(process.execPath, [inotopBin, 'serve', '--listen', `127.0.0.1:${port}`, '--interval', '0.1', '--pods', 'none'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const { busy } = await raceWith(child, () => 'started');
    assert.equal(busy, 0, `${busy} of ${ROUNDS} umounts failed with EBUSY (${err.trim()})`);
  });

  test('the screen, watcher selected: no umount fails', async () => {
    const pane = new TmuxPane([process.execPath, inotopBin, '-d', '0.1', '--no-stretch', '-p', String(watcher.pid), '--pods', 'none'], {
      width: 200,
      height: 50,
    });
    try {
      await pane.waitFor(/volume-watcher/, 'the watcher listed');
      pane.keys('Enter');
      let screens = '';
      const collect = setInterval(() => (screens = (screens + pane.screen()).slice(-2_000_000)), 150);
      let busy: number;
      let volumes: string[];
      try {
        ({ busy, volumes } = await unmountRounds());
      } finally {
        clearInterval(collect);
      }
      assert.equal(busy, 0, `${busy} of ${ROUNDS} umounts failed with EBUSY`);
      assert.ok(
        volumes.some((volume) => screens.includes(volume.slice(0, 60))),
        'the detail pane showed paths inside the volumes',
      );
    } finally {
      pane.kill();
    }
  });
});
