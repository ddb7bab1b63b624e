// inotop must never be why an umount fails. kubelet tears down a pod's volume with umount(2),
// which fails with EBUSY while any fd is open on the mount. Here tmpfs volumes with 5,000 watched
// files each are unmounted while inotop refreshes every 0.1 s looking into them, in every mode
// that looks: -b with targets, --force-walk (a walk holds a mount longest), serve, and the screen
// with the watcher selected. Not one umount may fail. Each umount comes the moment inotop is seen
// with an fd on the volume's filesystem (its fds polled every millisecond after the watches are
// made; serve, which never looks into these, after a random pause), not at a random moment: that
// met inotop looking in only now and then, so a mount held by it failed the test only at times.
// Every such fd must be on a mount of inotop's own (a detached clone), never on the volume's mount
// itself (run without CAP_SYS_ADMIN, where clones are refused and the mount is opened, both -b
// cases fail that every time); an umount that fails names the processes that hold the volume then.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { eventually } from '../helpers/eventually.js';
import { isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';
import { fdsOn, mountIdIn } from '../helpers/mount-fds.js';
import { TmuxPane } from '../helpers/tmux.js';

const ROUNDS = 12;
const FILES = 5000;

/** The mount at `path` in our own mount table (the last mounted there): its id and its device's st_dev. */
function mountAt(path: string): { id: number; dev: number } {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((entry) => entry.split(' ')[4] === path)
    .at(-1);
  assert.ok(line, `${path} is mounted`);
  return { id: Number(line.split(' ')[0]), dev: statSync(path).dev };
}

/** Every process with an fd, its cwd or its root on the filesystem of st_dev `dev`, said in a line each (for a failed umount). */
function holdersOf(dev: number): string[] {
  const holders: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const held: string[] = [];
    for (const place of ['cwd', 'root']) {
      try {
        if (statSync(`/proc/${pid}/${place}`).dev === dev) held.push(place);
      } catch {
        // gone, or a kernel thread
      }
    }
    held.push(...fdsOn(Number(pid), dev).map(({ fd, mountId, link }) => `fd ${fd} (${link}, mount ${mountId})`));
    if (held.length === 0) continue;
    let comm = '?';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      // gone
    }
    holders.push(`${pid} ${comm}: ${held.join(', ')}`);
  }
  return holders;
}

/** Run without CAP_SYS_ADMIN: no clone of a mount can be made. */
const WITHOUT_SYS_ADMIN = ['setpriv', '--inh-caps=-sys_admin', '--bounding-set=-sys_admin'];
/** Run in a mount namespace of its own, a slave of the node's, as a pod's with HostToContainer. */
const IN_A_POD_NAMESPACE = ['unshare', '--mount', '--propagation', 'slave'];

describe('unmounting volumes while inotop looks into them', { skip: rootSkip }, () => {
  let dir: string;
  /** The node's kubelet root as kubelet makes it: a shared mount, whose volumes a pod's HostToContainer copy receives. */
  let nodeDir: string;
  let watcher: Watcher;
  let instance: number;

  before(async () => {
    if (!isRoot) return;
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-umount-'));
    nodeDir = mkdtempSync(join(tmpdir(), 'inotop-umount-node-'));
    execFileSync('mount', ['--bind', nodeDir, nodeDir]);
    execFileSync('mount', ['--make-shared', nodeDir]);
    watcher = new Watcher();
    await watcher.comm('volume-watcher');
    instance = await watcher.init();
  });

  after(async () => {
    await watcher?.stop();
    for (const top of [dir, nodeDir]) {
      if (!top) continue;
      // Deepest first (mountinfo lists a mount after the one it is on).
      const points = execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' })
        .split('\n')
        .map((line) => line.split(' ')[4])
        .filter((point): point is string => point !== undefined && (point === top || point.startsWith(`${top}/`)));
      for (const point of points.reverse()) spawnSync('umount', ['-l', point]);
      rmSync(top, { recursive: true, force: true });
    }
  });

  interface Rounds {
    /** Umounts that failed with EBUSY, each with the processes that had the volume's filesystem open then. */
    busy: string[];
    volumes: string[];
    /** Umounts made while inotop had an fd on the volume's filesystem. */
    whileLooking: number;
    /** inotop's fds seen on a volume's own mount, or on its copy in inotop's mount namespace (not a clone of its own): none may be. */
    onTheMount: string[];
    /** Rounds in which the volume had a copy in inotop's mount namespace (propagated from the node's). */
    copies: number;
    /** Failed umounts after which inotop still held the volume (checked as umount returned): not a single call's moment. */
    stillHeld: number;
  }

  /**
   * Mounts a volume, watches its 5,000 files, unmounts it as soon as `inotop` (its pid) is seen
   * looking into it, or once `lookFor` ms have passed (null: a random pause of up to 400 ms, which
   * it may not look in); ROUNDS times. Under `nodeDir` (a shared mount) a mount namespace made as
   * a slave of ours before the volume was mounted (a pod's HostToContainer mount) has a copy of it.
   */
  async function unmountRounds(inotop: number, lookFor: number | null, under = dir): Promise<Rounds> {
    const rounds: Rounds = { busy: [], volumes: [], whileLooking: 0, onTheMount: [], stillHeld: 0, copies: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const volume = join(under, `volume-${rounds.volumes.length}-${Date.now()}`);
      rounds.volumes.push(volume);
      mkdirSync(volume);
      execFileSync('mount', ['-t', 'tmpfs', 'inotop-volume', volume]);
      const mount = mountAt(volume);
      // Its copy in inotop's namespace, when it lives in another (the same id when it does not).
      const copy = mountIdIn(inotop, volume);
      if (copy !== null && copy !== mount.id) rounds.copies++;
      for (let f = 0; f < FILES; f++) closeSync(openSync(join(volume, `f${f}`), 'w'));
      await watcher.watchDir(instance, volume);
      // Its fds polled until it looks in (the event loop turning between polls: its output is read).
      let looking = false;
      for (const end = Date.now() + (lookFor ?? Math.random() * 400); !looking && Date.now() < end; await sleep(1)) {
        const fds = fdsOn(inotop, mount.dev);
        looking = fds.length > 0;
        for (const { fd, mountId, link } of fds) {
          if (mountId === mount.id) rounds.onTheMount.push(`fd ${fd} (${link}) on ${volume}`);
          else if (mountId === copy) rounds.onTheMount.push(`fd ${fd} (${link}) on the copy of ${volume} in its mount namespace`);
        }
      }
      if (looking) rounds.whileLooking++;
      const result = spawnSync('umount', [volume], { encoding: 'utf8' });
      if (result.status !== 0) {
        if (!/busy/i.test(result.stderr)) assert.fail(`umount ${volume}: ${result.stderr.trim()}`);
        const holders = holdersOf(mount.dev);
        if (holders.some((holder) => holder.startsWith(`${inotop} `))) rounds.stillHeld++;
        rounds.busy.push(`${volume}: held by ${holders.join('; ') || 'no process by now (a path lookup under way then?)'}`);
        execFileSync('umount', ['-l', volume]);
      }
    }
    return rounds;
  }

  /** What every mode asserts of its rounds. */
  function assertNeverBusy(rounds: Rounds, said = ''): void {
    assert.deepEqual(rounds.onTheMount, [], "inotop's fds on a volume's own mount (not its clone)");
    assert.deepEqual(rounds.busy, [], `${rounds.busy.length} of ${ROUNDS} umounts failed with EBUSY${said ? ` (inotop said: ${said})` : ''}`);
  }

  /** inotop -b looking into the watcher's targets every 0.1 s (`extra` after), under `wrapper`; what it prints, its last megabyte. */
  function lookingAt(wrapper: readonly string[], extra: readonly string[]): { child: ChildProcess; output: () => string } {
    const argv = [
      ...wrapper,
      process.execPath,
      inotopBin,
      '-b',
      '-n',
      '100000',
      '-d',
      '0.1',
      '--targets',
      '-p',
      String(watcher.pid),
      '--pods',
      'none',
      ...extra,
    ];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-1_000_000)));
    return { child, output: () => out };
  }

  async function raceWith(child: ChildProcess, output: () => string, lookFor: number | null, under = dir): Promise<Rounds & { seen: boolean }> {
    try {
      // Running and looking: its first refresh is out.
      await eventually(() => assert.notEqual(output(), '', 'its first refresh'), { timeoutMs: 20_000, intervalMs: 100 });
      const rounds = await unmountRounds(child.pid!, lookFor, under);
      return { ...rounds, seen: rounds.volumes.some((volume) => output().includes(volume)) };
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  }

  for (const [mode, extra] of [
    ['-b with targets', []],
    ['-b with targets, --force-walk', ['--force-walk']],
  ] as const) {
    test(`${mode}: no umount fails`, async (t) => {
      const { child, output } = lookingAt([], extra);
      // It looks into each volume within a refresh or two of its watches (0.1 s apart, a scan each).
      const rounds = await raceWith(child, output, 1000);
      t.diagnostic(`umounts while it had the volume open: ${rounds.whileLooking} of ${ROUNDS}`);
      assertNeverBusy(rounds);
      assert.ok(rounds.whileLooking >= ROUNDS / 2, `umounts while it had the volume open: ${rounds.whileLooking} of ${ROUNDS}`);
      assert.ok(rounds.seen, 'inotop showed paths inside the volumes (it did look into them)');
    });
  }

  // Without CAP_SYS_ADMIN (the DaemonSet's case before it had it, and every mount of another
  // namespace: the kernel clones our own namespace's mounts only, EINVAL on 6.18) the mount itself
  // is looked into. It is
  // then held inside single calls only (each stat and directory read looks it up by its path, an
  // open_by_handle_at has it opened for that call), never across a device's lookups or a whole
  // walk. Before, it was: umounts the moment inotop was seen looking failed with inotop still
  // holding the volume after (main: 12 of 12 walking, 1-4 of 12 decoding). A single call's own
  // moment is left (measured: 0-1 of 12 in either mode, nothing held by the time umount returned):
  // no failed umount may find inotop still holding the volume, and at most a quarter may fail.
  for (const [mode, extra] of [
    ['without CAP_SYS_ADMIN, -b with targets', []],
    ['without CAP_SYS_ADMIN, -b with targets, --force-walk', ['--force-walk']],
  ] as const) {
    test(`${mode}: the mount is held for single calls only`, async (t) => {
      const { child, output } = lookingAt(WITHOUT_SYS_ADMIN, extra);
      const rounds = await raceWith(child, output, 1000);
      t.diagnostic(`umounts while it had the volume open: ${rounds.whileLooking} of ${ROUNDS}; failed: ${rounds.busy.length}`);
      for (const busy of rounds.busy) t.diagnostic(`failed: ${busy}`);
      assert.equal(rounds.stillHeld, 0, `failed umounts after which inotop still held the volume:\n${rounds.busy.join('\n')}`);
      assert.ok(rounds.busy.length <= ROUNDS / 4, `${rounds.busy.length} of ${ROUNDS} umounts failed with EBUSY:\n${rounds.busy.join('\n')}`);
      assert.ok(rounds.seen, 'inotop showed paths inside the volumes (it did look into them)');
    });
  }

  // The DaemonSet's case: inotop in a pod's mount namespace, with the node's kubelet root mounted
  // HostToContainer (a slave of the node's shared mount), so that each volume kubelet mounts has a
  // copy in inotop's own namespace, and goes from it when kubelet unmounts it. The kernel (6.18)
  // checks every such copy for users before it unmounts the original (propagate_mount_busy(), fs/
  // pnode.c): an fd on the copy fails the node's umount with EBUSY as one on the original does. A
  // detached clone of the copy is no copy (it receives no propagation): with CAP_SYS_ADMIN,
  // inotop looks into the volume through a clone of its own copy, never the node's mount nor the
  // copy itself (umounts the moment it was seen looking: 0 of 120 failed over 5 runs).
  for (const [mode, extra] of [
    ['in a pod mount namespace (HostToContainer), -b with targets', []],
    ['in a pod mount namespace (HostToContainer), -b with targets, --force-walk', ['--force-walk']],
  ] as const) {
    test(`${mode}: no umount fails, inotop looks through clones of its own copy only`, async (t) => {
      const { child, output } = lookingAt(IN_A_POD_NAMESPACE, extra);
      const rounds = await raceWith(child, output, 1000, nodeDir);
      t.diagnostic(`umounts while it had the volume open: ${rounds.whileLooking} of ${ROUNDS}; copies in its namespace: ${rounds.copies}`);
      assert.equal(rounds.copies, ROUNDS, 'each volume had a copy in its mount namespace');
      assertNeverBusy(rounds);
      assert.ok(rounds.whileLooking >= ROUNDS / 2, `umounts while it had the volume open: ${rounds.whileLooking} of ${ROUNDS}`);
      assert.ok(rounds.seen, 'inotop showed paths inside the volumes (it did look into them)');
    });
  }

  // The same without CAP_SYS_ADMIN (the DaemonSet before it had it): no clone, so its own copy is
  // what it opens, for single calls, and that copy blocks the node's umount as the original would
  // (measured over repeated runs: of the umounts made the moment it was seen looking, 5 of 96
  // decoding and 3 of 144 walking failed with EBUSY; with CAP_SYS_ADMIN, 0 of 120). What a failed umount leaves is not asserted here as in the cases above: the volume
  // stays mounted then, so a walk goes on reading it, and a holder found as umount returns may be
  // its next call (1 of about 10 runs found one, on the volume's root directory).
  // That single calls hold it is the cases above's to show.
  for (const [mode, extra] of [
    ['in a pod mount namespace, without CAP_SYS_ADMIN, -b with targets', []],
    ['in a pod mount namespace, without CAP_SYS_ADMIN, -b with targets, --force-walk', ['--force-walk']],
  ] as const) {
    test(`${mode}: its own copy is what it opens`, async (t) => {
      const { child, output } = lookingAt([...IN_A_POD_NAMESPACE, ...WITHOUT_SYS_ADMIN], extra);
      const rounds = await raceWith(child, output, 1000, nodeDir);
      t.diagnostic(`umounts while it had the volume open: ${rounds.whileLooking} of ${ROUNDS}; failed: ${rounds.busy.length}`);
      for (const busy of rounds.busy) t.diagnostic(`failed: ${busy}`);
      assert.equal(rounds.copies, ROUNDS, 'each volume had a copy in its mount namespace');
      assert.ok(rounds.whileLooking > 0, 'seen looking');
      assert.ok(
        rounds.onTheMount.length > 0 && rounds.onTheMount.every((fd) => fd.includes('on the copy of')),
        `its fds on the volume were on its own copy: ${rounds.onTheMount.join('; ')}`,
      );
      assert.ok(rounds.seen, 'inotop showed paths inside the volumes (it did look into them)');
    });
  }

  test('serve: no umount fails', async () => {
    const port = 20_000 + Math.floor(Math.random() * 1000);
    const child = spawn(process.execPath, [inotopBin, 'serve', '--listen', `127.0.0.1:${port}`, '--interval', '0.1', '--pods', 'none'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    // serve resolves the targets of pod directories only: it may never look into these.
    const rounds = await raceWith(child, () => 'started', null);
    assertNeverBusy(rounds, err.trim());
  });

  test('the screen, watcher selected: no umount fails', async (t) => {
    const pane = new TmuxPane([process.execPath, inotopBin, '-d', '0.1', '--no-stretch', '-p', String(watcher.pid), '--pods', 'none'], {
      width: 200,
      height: 50,
    });
    try {
      await pane.waitFor(/volume-watcher/, 'the watcher listed');
      pane.keys('Enter');
      let screens = '';
      const collect = setInterval(() => (screens = (screens + pane.screen()).slice(-2_000_000)), 150);
      let rounds: Rounds;
      try {
        // The screen's refreshes are slower to come under load (8 of 12 met in 1 s beside two busy loops).
        rounds = await unmountRounds(pane.commandPid(), 2000);
      } finally {
        clearInterval(collect);
      }
      t.diagnostic(`umounts while it had the volume open: ${rounds.whileLooking} of ${ROUNDS}`);
      assertNeverBusy(rounds);
      assert.ok(rounds.whileLooking >= ROUNDS / 2, `umounts while it had the volume open: ${rounds.whileLooking} of ${ROUNDS}`);
      assert.ok(
        rounds.volumes.some((volume) => screens.includes(volume.slice(0, 60))),
        'the detail pane showed paths inside the volumes',
      );
    } finally {
      pane.kill();
    }
  });
});
