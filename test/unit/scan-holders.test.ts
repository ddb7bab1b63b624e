// readHolder on a tree laid out as procfs is (regular files and links read as procfs's are):
// what each file gives, a cmdline longer than the reused buffer, a status without its Uid line,
// a process gone, a file that cannot be read, and a root whose path holds non-ASCII bytes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readHolder } from '../../src/scan/holders.js';

const dir = mkdtempSync(join(tmpdir(), 'inotop-holders-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const USERS = new Map([[1000, 'alice']]);

interface Files {
  stat?: string;
  status?: string;
  cgroup?: string;
  cmdline?: string;
  links?: boolean;
}

const STATUS = 'Name:\tdémon\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nPid:\t42\nPPid:\t7\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n';

function processDir(root: string, pid: number, files: Files): string {
  const base = join(root, String(pid));
  mkdirSync(join(base, 'ns'), { recursive: true });
  const {
    stat = `${pid} (dé mon) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1 1 18446744073709551615`,
    status = STATUS,
    cgroup,
    cmdline,
    links = true,
  } = files;
  if (stat !== '') writeFileSync(join(base, 'stat'), stat);
  if (status !== '') writeFileSync(join(base, 'status'), status);
  if (cgroup !== undefined) writeFileSync(join(base, 'cgroup'), cgroup);
  if (cmdline !== undefined) writeFileSync(join(base, 'cmdline'), cmdline);
  if (links) {
    symlinkSync('user:[4026531837]', join(base, 'ns', 'user'));
    symlinkSync('mnt:[4026531840]', join(base, 'ns', 'mnt'));
  }
  return base;
}

test("a holder's stat, status, cgroup, cmdline and namespaces", () => {
  const base = processDir(dir, 42, { cgroup: '0::/kubepods/pod1\n', cmdline: 'kubelet\0--v=2\0' });
  assert.deepEqual(readHolder(base, 42, USERS, [], []), {
    pid: 42,
    ppid: 7,
    startTime: 12345,
    uid: 1000,
    user: 'alice',
    comm: 'dé mon',
    cmdline: 'kubelet --v=2',
    userns: '4026531837',
    mntns: '4026531840',
    cgroups: ['0::/kubepods/pod1'],
    instances: [],
    fanotifyGroups: [],
  });
});

test('a cmdline longer than the reused buffer comes whole; missing files and links leave their fields empty', () => {
  const long = `${'x'.repeat(100_000)}\0${'y'.repeat(10)}\0`;
  const base = processDir(dir, 43, { cmdline: long, links: false });
  const holder = readHolder(base, 43, USERS, [], [])!;
  assert.equal(holder.cmdline, `${'x'.repeat(100_000)} ${'y'.repeat(10)}`);
  assert.deepEqual([holder.cgroups, holder.userns, holder.mntns], [[], null, null]);
});

test('a status without a Uid line gives uid -1; one longer than the buffer is read whole', () => {
  assert.equal(readHolder(processDir(dir, 44, { status: 'Name:\tx\nPPid:\t1\n' }), 44, USERS, [], [])!.uid, -1);
  const padded = `${'Padding:\tx\n'.repeat(7000)}${STATUS}`;
  assert.equal(readHolder(processDir(dir, 45, { status: padded }), 45, USERS, [], [])!.user, 'alice');
});

test('a process gone (no stat or status) is null; a status that cannot be read throws with its errno', () => {
  assert.equal(readHolder(processDir(dir, 46, { stat: '' }), 46, USERS, [], []), null);
  assert.equal(readHolder(processDir(dir, 47, { status: '' }), 47, USERS, [], []), null);
  const base = processDir(dir, 48, { status: '' });
  mkdirSync(join(base, 'status'));
  assert.throws(() => readHolder(base, 48, USERS, [], []), { code: 'EISDIR' });
});

test('holders under another root, and under a root with non-ASCII bytes, are read as well', () => {
  const other = join(dir, 'présent');
  mkdirSync(other);
  const first = readHolder(processDir(other, 49, {}), 49, USERS, [], []);
  const again = readHolder(processDir(dir, 50, {}), 50, USERS, [], []);
  assert.deepEqual([first?.pid, first?.uid, again?.pid, again?.uid], [49, 1000, 50, 1000]);
});
