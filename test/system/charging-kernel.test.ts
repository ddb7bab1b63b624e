// Charged as the kernel charges, on the real kernel: user namespaces made by root (as a container
// runtime makes them) spend root's max_user_instances; a namespace's own lower limit holds inside
// it; each failure's cause is judged when it is read, and stays; trace instances a killed inotop
// left are removed by the next one-shot run. Lowers sysctls for moments: run under the lock.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Snapshot, SyscallFailure, UserRow } from '../../src/model/types.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { namespacedWatcher, usernsOf, Watcher } from '../helpers/inowatch.js';
import { TRACEFS_AT_ITS_PLACE, traceInstances, traceSkip, tracingCollector } from '../helpers/tracing.js';

const NOBODY = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'];

function skipReason(): string | false {
  const traced = traceSkip();
  if (traced) return traced;
  const probe = spawnSync('unshare', ['--user', 'nsenter', '--version'], { encoding: 'utf8' });
  return probe.status === 0 ? false : `needs unshare and nsenter (util-linux) and user namespaces: ${probe.stderr.trim()}`;
}
const skip = skipReason();

// Sysctls lowered by a test are put back however the test ends, the process too.
const INSTANCES = '/proc/sys/fs/inotify/max_user_instances';
const lowered = new Map<string, string>();
process.on('exit', () => {
  for (const [path, value] of lowered) writeFileSync(path, value);
});

function lowerSysctl(path: string, value: number): void {
  if (!lowered.has(path)) lowered.set(path, readFileSync(path, 'utf8'));
  writeFileSync(path, `${value}\n`);
}

function restoreSysctl(path: string): void {
  const old = lowered.get(path);
  if (old === undefined) return;
  writeFileSync(path, old);
  lowered.delete(path);
}

async function withInstancesLimit<T>(value: number, body: () => Promise<T>): Promise<T> {
  lowerSysctl(INSTANCES, value);
  try {
    return await body();
  } finally {
    restoreSysctl(INSTANCES);
  }
}

function userRow(snapshot: Snapshot, userns: string | null, uid: number): UserRow | undefined {
  return snapshot.users.find((user) => user.userns === userns && user.uid === uid);
}

function failureOf(snapshot: Snapshot, pid: number): SyscallFailure | undefined {
  return snapshot.failures?.find((failure) => failure.pid === pid);
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** How many of `count` inotify_init1 calls fail with EMFILE (any other error fails the test). */
async function failedInits(watcher: Watcher, count: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < count; i++) {
    try {
      await watcher.init();
    } catch (error) {
      assert.match((error as Error).message, /Too many open files/);
      failed++;
    }
  }
  return failed;
}

describe('charged as the kernel charges', { skip }, () => {
  let files: string;
  before(() => {
    ensureBuilt();
    // Readable to every uid the namespaces map to.
    files = mkdtempSync('/tmp/inotop-charging-');
    chmodSync(files, 0o755);
    for (let i = 0; i < 8; i++) writeFileSync(join(files, `f${i}`), 'x');
  });
  after(() => rmSync(files, { recursive: true, force: true }));

  /** A watcher in a user namespace made by root, uid 0 inside `hostUid` outside, holding `instances` with `watchesEach` watches each. */
  async function podWatcher(t: TestContext, hostUid: number, instances: number, watchesEach: number): Promise<Watcher> {
    const watcher = await namespacedWatcher(hostUid);
    t.after(() => watcher.stop());
    for (let i = 0; i < instances; i++) {
      const fd = await watcher.init();
      for (let w = 0; w < watchesEach; w++) await watcher.watch(fd, join(files, `f${w}`));
    }
    return watcher;
  }

  test("two user namespaces made by root: root is charged its own plus theirs, exactly; check names root; root's own inotify_init1 then fails on max_user_instances", async (t) => {
    const a = await podWatcher(t, 200000, 20, 3);
    const b = await podWatcher(t, 300000, 10, 2);
    const collector = tracingCollector();
    t.after(() => collector.stop());
    await collector.start();
    const snapshot = collector.collect('none');
    const root = userRow(snapshot, null, 0);
    assert.ok(root, 'root has its row, whatever it holds itself');
    const [nsA, nsB] = [usernsOf(a.pid), usernsOf(b.pid)];
    assert.deepEqual(
      root.fromNamespaces
        .filter((entry) => entry.userns === nsA || entry.userns === nsB)
        .map(({ userns, uid, instances, watches }) => ({ userns, uid, instances, watches })),
      [
        { userns: nsA, uid: 200000, instances: 20, watches: 60 },
        { userns: nsB, uid: 300000, instances: 10, watches: 20 },
      ],
    );
    for (const field of ['instances', 'watches'] as const) {
      assert.equal(root.charged[field], root[field] + root.fromNamespaces.reduce((sum, entry) => sum + entry[field], 0), field);
    }
    // Each namespace's key: its own, against no limit of its own (a new namespace's are unlimited).
    assert.deepEqual(userRow(snapshot, nsA, 200000)?.charged.instances, 20);
    assert.deepEqual(userRow(snapshot, nsA, 200000)?.limits, { instances: null, watches: null, fanotifyGroups: null, fanotifyMarks: null });

    // --json says the same.
    const json = spawnSync(process.execPath, [inotopBin, '--json', '--pods', 'none'], { encoding: 'utf8' });
    assert.equal(json.status, 0, json.stderr);
    const printed = userRow(JSON.parse(json.stdout) as Snapshot, null, 0)!;
    assert.deepEqual(
      printed.fromNamespaces.map((entry) => entry.userns).filter((userns) => userns === nsA || userns === nsB),
      [nsA, nsB],
    );
    assert.equal(printed.limits?.instances, Number(readFileSync(INSTANCES, 'utf8')));

    // With the limit just above root's charge, check says root is the problem (90% by default).
    const charged = root.charged.instances;
    const check = await withInstancesLimit(charged + 1, async () =>
      spawnSync(process.execPath, [inotopBin, 'check', '--no-trace', '--pods', 'none', '--fail-on-leaked=false'], { encoding: 'utf8' }),
    );
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`^user root: \\d+/${charged + 1} inotify instances, \\d+ from \\d+ userns`));

    // At the limit (what the namespaces hold counts against it), a host root process fails.
    const host = new Watcher();
    t.after(() => host.stop());
    await host.comm('ino-root');
    const failed = await withInstancesLimit(charged, async () => {
      const count = await failedInits(host, 2);
      return { count, snapshot: collector.collect('none') };
    });
    assert.equal(failed.count, 2);
    const failure = failureOf(failed.snapshot, host.pid);
    assert.deepEqual(failure && [failure.uid, failure.errno, failure.count, failure.limit, failure.limitUid, failure.limitUserns], [
      0,
      'EMFILE',
      2,
      'max_user_instances',
      0,
      null,
    ]);
  });

  test("a namespace's own lower max_inotify_instances: a failure inside is judged against it", async (t) => {
    const watcher = await namespacedWatcher(400000);
    t.after(() => watcher.stop());
    const userns = usernsOf(watcher.pid);
    // Set inside the namespace by its root, as a runtime or the container itself would.
    const set = spawnSync('nsenter', [`--user=/proc/${watcher.pid}/ns/user`, 'sh', '-c', 'echo 3 > /proc/sys/user/max_inotify_instances'], {
      encoding: 'utf8',
    });
    assert.equal(set.status, 0, set.stderr);
    const collector = tracingCollector();
    t.after(() => collector.stop());
    await collector.start();
    assert.equal(await failedInits(watcher, 5), 2, 'the namespace holds 3 at most');
    const snapshot = collector.collect('none');
    const row = userRow(snapshot, userns, 400000);
    assert.deepEqual([row?.charged.instances, row?.limits?.instances], [3, 3]);
    const failure = failureOf(snapshot, watcher.pid);
    assert.deepEqual(failure && [failure.uid, failure.count, failure.limit, failure.limitUid, failure.limitUserns], [
      400000,
      2,
      'max_inotify_instances',
      400000,
      userns,
    ]);
  });

  test('the operator lowers the limit, a call fails, the limit is raised before the refresh: the cause stays max_user_instances', async (t) => {
    const victim = new Watcher({ wrapper: AS_NOBODY });
    t.after(() => victim.stop());
    await victim.comm('ino-operator');
    const collector = tracingCollector();
    t.after(() => collector.stop());
    await collector.start();
    const held = userRow(collector.collect('none'), null, NOBODY)?.charged.instances ?? 0;
    const failed = await withInstancesLimit(held + 2, () => failedInits(victim, 5));
    assert.equal(failed, 3);
    // Raised back (by withInstancesLimit) before the refresh reads the failures: nobody is far below it now.
    const first = failureOf(collector.collect('none'), victim.pid);
    assert.deepEqual(first && [first.count, first.limit, first.limitUid], [3, 'max_user_instances', NOBODY]);
    const again = failureOf(collector.collect('none'), victim.pid);
    assert.deepEqual(again && [again.count, again.new, again.limit], [3, 0, 'max_user_instances']);
  });

  test('a SIGKILLed tracing run leaves its instances; one --json where tracefs is mounted removes them', async (t) => {
    const killed = spawn(process.execPath, [inotopBin, '-b', '-n', '1000', '-d', '1', '--pods', 'none'], { stdio: 'ignore' });
    t.after(() => killed.kill('SIGKILL'));
    const name = `inotop-${killed.pid}`;
    for (let i = 0; i < 200 && !traceInstances().includes(`${name}-churn`); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const exited = new Promise((resolve) => killed.once('exit', resolve));
    killed.kill('SIGKILL');
    await exited;
    assert.deepEqual(
      traceInstances().filter((instance) => instance.startsWith(`${name}`)),
      [name, `${name}-churn`],
      'SIGKILL leaves both',
    );
    // A one-shot run, in a mount namespace of its own where tracefs is mounted at the usual place, as
    // on most distributions.
    const oneShot = `${TRACEFS_AT_ITS_PLACE} && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(inotopBin)} --json --pods none`;
    const json = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', oneShot], { encoding: 'utf8' });
    assert.equal(json.status, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as Snapshot).trace?.state, 'off', 'a one-shot run traces nothing');
    const deadOnes = traceInstances().filter((instance) => {
      const pid = /^inotop-(\d+)/.exec(instance)?.[1];
      return pid !== undefined && !running(Number(pid));
    });
    assert.deepEqual(deadOnes, [], 'no instance of a dead inotop is left');
  });
});
