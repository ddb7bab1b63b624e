// fanotify against the real kernel (root): real groups with inode marks on directories whose names
// have spaces, a mount mark and a filesystem mark on a tmpfs, an empty group, a group inherited
// across fork, beside inotify instances in the same process. Counts are compared with fdinfo read
// by the test itself, resolved marks with mountinfo and stat, and then -b, --json, check, serve and
// the screen (tmux) are looked at.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { buildSnapshot } from '../../src/model/snapshot.js';
import type { Snapshot, TargetRow } from '../../src/model/types.js';
import { scan } from '../../src/scan/index.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { isRoot, rootSkip, Watcher } from '../helpers/inowatch.js';
import { eventually } from '../helpers/eventually.js';
import { SCRAPES, servedPort, start, text } from '../helpers/prometheus.js';
import { TmuxPane } from '../helpers/tmux.js';

/** glibc's major()/minor() of a userspace st_dev, as "MAJ:MIN". */
function devOf(path: string): string {
  const dev = BigInt(statSync(path).dev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** A pid's fds of one link and the lines of their fdinfo that begin with `prefix`, read the plain way. */
function kernelCount(pid: number, link: string, prefix: string): { fds: number; lines: number } {
  let fds = 0;
  let lines = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== link) continue;
    fds++;
    lines += readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(prefix)).length;
  }
  return { fds, lines };
}

/** fanotify marks of a pid: its groups' "fanotify " lines but their "fanotify flags:" ones. */
function kernelFanotify(pid: number): { groups: number; marks: number } {
  const all = kernelCount(pid, 'anon_inode:[fanotify]', 'fanotify ');
  return { groups: all.fds, marks: all.lines - all.fds };
}

function sysctl(path: string): number {
  return Number(readFileSync(path, 'utf8').trim());
}

describe('fanotify on the real kernel', { skip: rootSkip }, () => {
  let dir: string;
  let tmpfs: string;
  const marked: string[] = [];
  let holder: Watcher; // inotify: 1 instance, 2 watches; fanotify: a group of 4 marks, an empty group
  let childPid: number; // forked from holder: shares every fd
  let lone: Watcher; // fanotify only: one group, one inode mark
  let inotifyFd: number;

  before(async () => {
    if (!isRoot) return;
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'inotop-fanotify-'));
    for (const name of ['a dir with spaces', 'another  dir']) {
      mkdirSync(join(dir, name));
      marked.push(join(dir, name));
    }
    tmpfs = join(dir, 'mnt with space');
    mkdirSync(tmpfs);
    execFileSync('mount', ['-t', 'tmpfs', 'inotop-fanotify', tmpfs]);
    holder = new Watcher();
    lone = new Watcher();
    await holder.comm('ino-fan-holder');
    await lone.comm('ino-fan-lone');
    inotifyFd = await holder.init();
    await holder.watch(inotifyFd, marked[0]!);
    await holder.watch(inotifyFd, dir);
    const group = await holder.fanotifyInit();
    for (const path of marked) await holder.fanotifyMarkInode(group, path);
    await holder.fanotifyMarkMount(group, tmpfs);
    await holder.fanotifyMarkFilesystem(group, tmpfs);
    await holder.fanotifyInit(); // no marks: still a group
    childPid = await holder.fork();
    const loneGroup = await lone.fanotifyInit();
    await lone.fanotifyMarkInode(loneGroup, marked[1]!);
  });

  after(async () => {
    if (!isRoot) return;
    await Promise.all([holder?.stop(), lone?.stop()]);
    spawnSync('umount', ['-l', tmpfs], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  /** A scan of our processes only, as a snapshot with every target resolved (the CLI's --json --targets). */
  function ourSnapshot(): Snapshot {
    const run = spawnSync(process.execPath, [inotopBin, '--json', '--targets', '--pods', 'none', '-p', `${holder.pid},${childPid},${lone.pid}`], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as Snapshot;
  }

  test('counts: groups and marks per process as fdinfo has them, beside inotify instances; shared groups once per user', () => {
    const scanned = scan();
    const ours = scanned.processes.filter((p) => [holder.pid, childPid, lone.pid].includes(p.pid));
    const byPid = new Map(ours.map((p) => [p.pid, p]));
    for (const pid of [holder.pid, childPid, lone.pid]) {
      const proc = byPid.get(pid);
      assert.ok(proc, `pid ${pid} is listed`);
      const inotify = kernelCount(pid, 'anon_inode:inotify', 'inotify ');
      assert.deepEqual([proc.instances.length, proc.instances.reduce((n, i) => n + i.watches.length, 0)], [inotify.fds, inotify.lines], `pid ${pid} inotify`);
      const fanotify = kernelFanotify(pid);
      const marks = proc.fanotifyGroups.reduce((n, g) => n + g.inodeMarks.length + g.mountMarks.length + g.filesystemMarks.length, 0);
      assert.deepEqual([proc.fanotifyGroups.length, marks], [fanotify.groups, fanotify.marks], `pid ${pid} fanotify`);
    }
    const holderProc = byPid.get(holder.pid)!;
    assert.deepEqual([holderProc.instances.length, holderProc.fanotifyGroups.length], [1, 2]);
    const [marking, empty] = holderProc.fanotifyGroups;
    assert.deepEqual([marking!.inodeMarks.length, marking!.mountMarks.length, marking!.filesystemMarks.length], [2, 1, 1]);
    assert.deepEqual([empty!.inodeMarks.length, empty!.mountMarks.length, empty!.filesystemMarks.length], [0, 0, 0]);
    // Inherited across fork: the same groups (kcmp), the empty one too.
    const child = byPid.get(childPid)!;
    assert.equal(scanned.sharedDetection, 'kcmp');
    assert.deepEqual(
      child.fanotifyGroups.map((g) => [g.instanceId, g.shared]),
      holderProc.fanotifyGroups.map((g) => [g.instanceId, true]),
    );
    assert.equal(byPid.get(lone.pid)!.instances.length, 0, 'a process with fanotify groups only is listed');

    const snapshot = buildSnapshot({ ...scanned, processes: ours }, null, null, 'none');
    assert.deepEqual(
      [snapshot.totals.instances, snapshot.totals.watches, snapshot.totals.fanotifyGroups, snapshot.totals.fanotifyMarks],
      [1, 2, 3, 5],
      "the holder's instance and two groups and the lone group, each once; 4 + 1 marks",
    );
    const root = snapshot.users.find((u) => u.uid === 0)!;
    assert.deepEqual([root.instances, root.watches, root.fanotifyGroups, root.fanotifyMarks], [1, 2, 3, 5]);
    const row = snapshot.processes.find((p) => p.pid === childPid)!;
    assert.deepEqual([row.instances, row.watches, row.fanotifyGroups, row.fanotifyMarks], [1, 2, 2, 4], 'a process row counts what it holds');
  });

  test('limits: fs.fanotify.max_user_groups and max_user_marks', () => {
    const { limits } = scan();
    assert.equal(limits.maxUserFanotifyGroups, sysctl('/proc/sys/fs/fanotify/max_user_groups'));
    assert.equal(limits.maxUserFanotifyMarks, sysctl('/proc/sys/fs/fanotify/max_user_marks'));
  });

  test('marks resolved: inode marks to their paths, the mount mark to its mount point by id, the filesystem mark to a mount of its device', () => {
    const snapshot = ourSnapshot();
    const row = snapshot.processes.find((p) => p.pid === holder.pid)!;
    const inotify = row.targets.filter((t) => t.kind === 'inotify');
    assert.deepEqual(inotify.map((t) => t.path).sort(), [dir, marked[0]].sort());
    const marks = row.targets.filter((t) => t.kind === 'fanotify');
    const ofType = (type: TargetRow['markType']) => marks.filter((t) => t.markType === type);
    assert.deepEqual(
      ofType('inode')
        .map((t) => [t.path, t.status, t.dev, t.ino, t.mask])
        .sort(),
      marked.map((path) => [path, 'ok', devOf(path), statSync(path).ino, 0x8000028]).sort(),
      'FAN_OPEN | FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD',
    );
    const mountinfo = readFileSync(`/proc/${holder.pid}/mountinfo`, 'utf8')
      .split('\n')
      .map((l) => l.split(' '));
    const tmpfsEntry = mountinfo.find((fields) => fields[4] === tmpfs.replaceAll(' ', '\\040'))!;
    const [mount] = ofType('mount');
    assert.deepEqual(
      [mount?.mntId, mount?.path, mount?.mountpoint, mount?.dev, mount?.fstype, mount?.status, mount?.ino, mount?.mask],
      [Number(tmpfsEntry[0]), tmpfs, tmpfs, devOf(tmpfs), 'tmpfs', 'ok', 0, 0x28],
    );
    const [filesystem] = ofType('filesystem');
    assert.deepEqual([filesystem?.path, filesystem?.dev, filesystem?.fstype, filesystem?.status], [tmpfs, devOf(tmpfs), 'tmpfs', 'ok']);
    assert.ok(
      marks.every((t) => t.leak === null && t.fds.length === 1),
      'marks are shown, not judged as leaks',
    );
    assert.equal(row.leaked, 0);
    assert.deepEqual(
      row.fanotifyFds?.map((f) => [f.marks, f.shared]),
      [
        [4, true],
        [0, true],
      ],
    );
    const loneRow = snapshot.processes.find((p) => p.pid === lone.pid)!;
    assert.deepEqual(
      loneRow.targets.map((t) => [t.kind, t.markType, t.path]),
      [['fanotify', 'inode', marked[1]]],
    );
  });

  test('-b: the fanotify limits, a line per user holding groups, a FANOTIFY column, marks among the targets', () => {
    const run = spawnSync(process.execPath, [inotopBin, '-b', '--targets', '--pods', 'none', '-p', String(holder.pid)], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const out = run.stdout;
    const groups = sysctl('/proc/sys/fs/fanotify/max_user_groups');
    assert.match(out, new RegExp(`^limits: fanotify max_user_groups ${groups}, max_user_marks ${sysctl('/proc/sys/fs/fanotify/max_user_marks')}$`, 'm'));
    assert.match(out, /^total: .* instances, .* watches, \d+ fanotify groups, \d+ marks/m);
    assert.match(out, new RegExp(`^user root: fanotify groups \\d+/${groups} `, 'm'));
    assert.match(out, /PID +USER +INST +WATCHES +FANOTIFY +LEAKED/);
    assert.match(out, new RegExp(`^ *${holder.pid} +root +1 +2 +2/4 +0 `, 'm'));
    assert.match(out, new RegExp(`\\[fanotify inode\\] ${marked[0]}  FAN_CLOSE_WRITE\\|FAN_OPEN\\|FAN_EVENT_ON_CHILD$`, 'm'));
    assert.match(out, new RegExp(`^ +1 ${devOf(tmpfs)} +- tmpfs +ok .*\\[fanotify mount \\d+\\] ${tmpfs}  FAN_CLOSE_WRITE\\|FAN_OPEN$`, 'm'));
    assert.match(out, new RegExp(`\\[fanotify filesystem\\] ${tmpfs}  FAN_CLOSE_WRITE\\|FAN_OPEN$`, 'm'));
  });

  test('check: the fanotify limits have thresholds of their own', () => {
    const check = (...args: string[]) => spawnSync(process.execPath, [inotopBin, 'check', '--pods', 'none', ...args], { encoding: 'utf8', timeout: 30_000 });
    const groups = sysctl('/proc/sys/fs/fanotify/max_user_groups');
    const over = check(
      '--instances-threshold',
      'off',
      '--watches-threshold',
      'off',
      '--fanotify-marks-threshold',
      'off',
      '--fanotify-groups-threshold',
      '1%',
      '--no-fail-on-leaked',
    );
    assert.equal(over.status, 1, over.stdout + over.stderr);
    assert.match(over.stdout, new RegExp(`^user root: \\d+/${groups} fanotify groups`));
    const fine = check('--instances-threshold', 'off', '--watches-threshold', 'off', '--no-fail-on-leaked');
    assert.equal(fine.status, 0, fine.stdout + fine.stderr);
    assert.equal(fine.stdout.trim().replace(/\d+%|<1%/g, 'N%'), 'ok: highest use N% of fanotify groups, N% of marks');
  });

  test('serve: inotop_user_fanotify_groups, inotop_user_fanotify_marks and the limits', async (t: TestContext) => {
    const serve = start(t, process.execPath, [inotopBin, 'serve', '--listen', '127.0.0.1:0', '--interval', '1', '--pods', 'none']);
    const port = await servedPort(serve);
    const metrics = await eventually(async () => {
      const body = await text(`http://127.0.0.1:${port}/metrics`);
      assert.ok(body.includes('inotop_user_fanotify_groups{'), 'a scan served');
      return body;
    }, SCRAPES);
    const value = (name: string, labels = '') => Number(new RegExp(`^${name}\\{${labels}[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    assert.equal(value('inotop_max_user_fanotify_groups'), sysctl('/proc/sys/fs/fanotify/max_user_groups'));
    assert.equal(value('inotop_max_user_fanotify_marks'), sysctl('/proc/sys/fs/fanotify/max_user_marks'));
    // Other processes of the node may hold groups too: ours are a lower bound.
    assert.ok(value('inotop_user_fanotify_groups', 'uid="0"') >= 3, metrics);
    assert.ok(value('inotop_user_fanotify_marks', 'uid="0"') >= 5, metrics);
    assert.match(metrics, /^# TYPE inotop_user_fanotify_marks gauge$/m);
  });

  test('the screen: fanotify meters beside the inotify ones, groups and marks in the detail pane', async (t: TestContext) => {
    const pane = new TmuxPane([process.execPath, inotopBin, '-d', '0.5', '--pods', 'none', '-p', String(holder.pid)], { width: 160, height: 48 });
    t.after(() => pane.kill());
    const screen = await pane.waitFor(/fanotify\[.*\] marks\[/, 'the fanotify meters');
    const groups = sysctl('/proc/sys/fs/fanotify/max_user_groups');
    assert.match(screen, new RegExp(`^root +watches\\[.*\\] inst\\[.*\\] fanotify\\[[| ]* *\\d+/${groups} +\\d+%\\] marks\\[`, 'm'));
    assert.match(screen, /fanotify \d+ groups {2}\d+ marks/);
    await pane.waitFor(/2 fanotify groups, 4 marks/, "the selected process's fanotify counts");
    // The targets follow the rows (the screen asks for the selected process's).
    const detail = await pane.waitFor(/\[fanotify mount \d+\]/, 'the marks in the detail pane');
    assert.match(detail, new RegExp(`\\[fanotify mount \\d+\\] ${tmpfs}`), 'the mount mark at its mount point');
  });
});
