// fanotify's fdinfo as the kernel prints it (fs/notify/fdinfo.c, checked on 6.18), its mask bits
// by name, and how a snapshot counts groups beside inotify instances: fixture text and a recorded
// procfs tree (fixtures/node-fanotify), no kernel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildSnapshot } from '../../src/model/snapshot.js';
import type { FanotifyGroup } from '../../src/model/types.js';
import { devOf, watchesOf } from '../../src/model/watches.js';
import { scan } from '../../src/scan/index.js';
import { FANOTIFY_LINK, firstFanotifyLine, INOTIFY_LINKS, parseFanotifyFdinfo, parseInotifyFdinfo } from '../../src/scan/parse.js';
import { batchText } from '../../src/views/batch.js';
import { fanotifyMaskNames, targetPathText } from '../../src/model/target-text.js';
import { scannedProcess, scanOf, target } from '../helpers/rows.js';

const HEADER = 'pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1044\n';
const bytes = (text: string) => Buffer.from(text, 'latin1');

test('a group with every kind of mark: flags, inode marks with handles, mount marks by hex id, filesystem marks', () => {
  const text =
    HEADER +
    'fanotify flags:21 event-flags:8000\n' +
    'fanotify sdev:27 mflags:0 mask:28 ignored_mask:0\n' +
    'fanotify mnt_id:2a mflags:0 mask:28 ignored_mask:0\n' +
    'fanotify ino:20c571 sdev:fe00000 mflags:0 mask:8000028 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:71c52000d0467de8\n' +
    'fanotify ino:1 sdev:29 mflags:1 mask:20 ignored_mask:0\n';
  const at = firstFanotifyLine(bytes(text));
  assert.equal(text.slice(at, at + 15), 'fanotify flags:', 'the digest starts at the group line, past the header');
  const parsed = parseFanotifyFdinfo(bytes(text).subarray(at));
  assert.equal(parsed.flags, 0x21);
  assert.deepEqual(parsed.mountMarks, [{ mntId: 42, mask: 0x28 }]);
  assert.deepEqual(parsed.filesystemMarks, [{ sdev: 0x27, mask: 0x28 }]);
  const inodes = watchesOf(parsed.inodeMarks).map((mark) => ({
    ...mark,
    dev: devOf(mark.sdev),
    handle: mark.handle && { type: mark.handle.type, hex: Buffer.from(mark.handle.bytes).toString('hex') },
  }));
  assert.deepEqual(inodes, [
    { wd: -1, ino: 0x20c571, sdev: 0xfe00000, dev: '254:0', mask: 0x8000028, handle: { type: 1, hex: '71c52000d0467de8' } },
    { wd: -1, ino: 1, sdev: 0x29, dev: '0:41', mask: 0x20, handle: null },
  ]);
  // The header's own mnt_id and ino lines are no marks: the whole fdinfo parses the same.
  assert.deepEqual(parseFanotifyFdinfo(bytes(text)).mountMarks, parsed.mountMarks);
  assert.equal(parseFanotifyFdinfo(bytes(text)).inodeMarks.length, 2);
});

test('an empty group has only its flags line; fdinfo without one has no fanotify lines', () => {
  const empty = HEADER + 'fanotify flags:1 event-flags:8000\n';
  const parsed = parseFanotifyFdinfo(bytes(empty));
  assert.deepEqual([parsed.flags, parsed.inodeMarks.length, parsed.mountMarks, parsed.filesystemMarks], [1, 0, [], []]);
  assert.equal(firstFanotifyLine(bytes(HEADER)), -1);
  assert.equal(firstFanotifyLine(bytes('fanotify flags:0 event-flags:0\n')), 0);
});

test('malformed and unknown fanotify lines are skipped; inotify lines are not marks', () => {
  const text =
    'fanotify flags:0 event-flags:0\n' +
    'fanotify mnt_id:zz mflags:0 mask:8\n' + // not hex: no mount id, no inode, no device
    'fanotify sdev:ba mflags:0 mask:10 ignored_mask:0 future_field:7\n' +
    'fanotify ino:5 mflags:0 mask:8\n' + // an inode without its device
    'inotify wd:1 ino:3 sdev:8 mask:fff ignored_mask:0\n' +
    'fanotify mnt_id:ff\n';
  const parsed = parseFanotifyFdinfo(bytes(text));
  assert.deepEqual(parsed.filesystemMarks, [{ sdev: 0xba, mask: 0x10 }]);
  assert.deepEqual(parsed.mountMarks, [{ mntId: 255, mask: 0 }]);
  assert.equal(parsed.inodeMarks.length, 0);
  assert.equal(parseInotifyFdinfo(bytes(text)).length, 1, 'the inotify parser sees only the inotify line');
});

test('fd links: fanotify is not inotify', () => {
  assert.equal(FANOTIFY_LINK, 'anon_inode:[fanotify]');
  assert.ok(!INOTIFY_LINKS.includes(FANOTIFY_LINK));
});

test('mask bits by name, from include/uapi/linux/fanotify.h; unnamed bits as hex', () => {
  assert.deepEqual(fanotifyMaskNames(0x28), ['FAN_CLOSE_WRITE', 'FAN_OPEN']);
  assert.deepEqual(fanotifyMaskNames(0x8000028), ['FAN_CLOSE_WRITE', 'FAN_OPEN', 'FAN_EVENT_ON_CHILD']);
  assert.deepEqual(fanotifyMaskNames(0x40010000), ['FAN_OPEN_PERM', 'FAN_ONDIR']);
  assert.deepEqual(fanotifyMaskNames(0x80002000), ['0x80002000']);
  assert.deepEqual(fanotifyMaskNames(0), []);
});

test('a mark as a target: its type first, its events last; mount and filesystem marks have no inode', () => {
  assert.equal(targetPathText(target(7, { kind: 'fanotify', markType: 'inode', path: '/srv/a b', mask: 0x20 })), '[fanotify inode] /srv/a b  FAN_OPEN');
  assert.equal(
    targetPathText(target(0, { kind: 'fanotify', markType: 'mount', mntId: 42, path: '/mnt', mask: 0x8 })),
    '[fanotify mount 42] /mnt  FAN_CLOSE_WRITE',
  );
  const unresolved = target(0, { kind: 'fanotify', markType: 'filesystem', path: null, mountpoint: '/data', mask: 0x2 });
  assert.equal(targetPathText(unresolved), '[fanotify filesystem] /data  FAN_MODIFY');
  assert.equal(targetPathText(target(9, { kind: 'inotify', path: null, mountpoint: '/data' })), '/data ino 9', 'inotify targets as before');
});

function group(fd: number, text: string, fields: Partial<FanotifyGroup> = {}): FanotifyGroup {
  return { fd, ...parseFanotifyFdinfo(bytes(text)), listKey: text, instanceId: `100:${fd}`, shared: false, ...fields };
}

test('counts: groups and marks beside instances and watches, shared groups once, FAN_UNLIMITED_MARKS not charged', () => {
  const marks = 'fanotify flags:0 event-flags:0\nfanotify sdev:27 mflags:0 mask:8\nfanotify mnt_id:2a mflags:0 mask:8\n';
  const unlimited = 'fanotify flags:20 event-flags:0\nfanotify sdev:28 mflags:0 mask:8\n';
  const shared = group(3, marks, { instanceId: '100:3', shared: true });
  const inotify = {
    fd: 4,
    watches: parseInotifyFdinfo(bytes('inotify wd:1 ino:2 sdev:8 mask:fff ignored_mask:0\n')),
    listKey: 'k',
    instanceId: '100:4',
    shared: false,
  };
  const scan = scanOf([
    scannedProcess(100, 0, { instances: [inotify], fanotifyGroups: [shared, group(5, unlimited, { instanceId: '100:5' })] }),
    scannedProcess(101, 0, { fanotifyGroups: [{ ...shared, fd: 7 }] }), // the same group, inherited
    scannedProcess(200, 1000, { fanotifyGroups: [group(3, 'fanotify flags:0 event-flags:0\n', { instanceId: '200:3' })] }), // fanotify only
  ]);
  const snapshot = buildSnapshot(scan, null, null, 'none');
  assert.deepEqual(snapshot.totals, { processes: 3, instances: 1, watches: 1, fanotifyGroups: 3, fanotifyMarks: 3 });
  assert.deepEqual(
    snapshot.users.map((u) => [u.uid, u.instances, u.watches, u.fanotifyGroups, u.fanotifyMarks]),
    [
      [0, 1, 1, 2, 2],
      [1000, 0, 0, 1, 0],
    ],
    'a user with fanotify groups only is listed; the unlimited group counts as a group, its mark is not charged',
  );
  const row = (pid: number) => snapshot.processes.find((p) => p.pid === pid)!;
  assert.deepEqual([row(100).instances, row(100).watches, row(100).fanotifyGroups, row(100).fanotifyMarks], [1, 1, 2, 3]);
  assert.deepEqual(row(101).fanotifyFds, [{ fd: 7, marks: 2, shared: true, instance: '100:3' }]);
  assert.deepEqual([row(200).instances, row(200).fanotifyGroups, row(200).fanotifyMarks], [0, 1, 0]);
});

test('a recorded tree (fixtures/node-fanotify): groups found by their link, shared across fork by the heuristic, the limits', () => {
  const result = scan({ procRoot: fileURLToPath(new URL('../../fixtures/node-fanotify/proc', import.meta.url)) });
  assert.deepEqual(
    result.processes.map((p) => [p.pid, p.instances.length, p.fanotifyGroups.length]),
    [
      [700, 1, 3],
      [701, 0, 2],
    ],
  );
  assert.equal(result.sharedDetection, 'heuristic');
  const [agent, child] = result.processes;
  assert.deepEqual(
    child!.fanotifyGroups.map((g) => [g.fd, g.instanceId, g.shared]),
    [
      [4, agent!.fanotifyGroups[0]!.instanceId, true],
      [6, '701:6', false],
    ],
    'the same marks in a parent and its child: inherited; groups without marks cannot be told apart so, and are not',
  );
  assert.deepEqual(result.limits, {
    maxUserWatches: 8192,
    maxUserInstances: 128,
    maxQueuedEvents: 16384,
    maxUserFanotifyGroups: 128,
    maxUserFanotifyMarks: 8192,
    maxFanotifyQueuedEvents: 16384,
  });
  const snapshot = buildSnapshot(result, null, null, 'none');
  assert.deepEqual(snapshot.totals, { processes: 2, instances: 1, watches: 1, fanotifyGroups: 4, fanotifyMarks: 4 });
  assert.deepEqual(
    snapshot.users.map((u) => [u.name, u.fanotifyGroups, u.fanotifyMarks]),
    [['root', 4, 3]],
    'the FAN_UNLIMITED_MARKS group (flags 21) is not charged for its mark',
  );
  const text = batchText(snapshot, snapshot.processes, { withTargets: false, color: false, width: null });
  assert.match(text, /^limits: fanotify max_user_groups 128, max_user_marks 8192$/m);
  assert.match(text, /^total: 2 processes, 1 instances, 1 watches, 4 fanotify groups, 4 marks - pods: none$/m);
  assert.match(text, /^user root: fanotify groups 4\/128 3%, marks 3\/8,192 <1%$/m);
  assert.match(text, /^ +700 root +1 +1 +3\/4 +0 - +\/usr\/sbin\/scan-agent --on-access$/m);
  assert.match(text, /^ +701 root +0 +0 +2\/3 +0 /m);
});
