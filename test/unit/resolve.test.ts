// Pure parts of the resolve stage: mountinfo parsing and path arithmetic over mounts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseMountinfo } from '../../src/resolve/index.js';
import { groupByDev, mountContaining, relativeToLink, relativeToMountRoot, widestMount } from '../../src/resolve/mountinfo.js';
import { userspaceDevToString } from '../../src/sys/files.js';
import { widestView, type MountView } from '../../src/resolve/mounts.js';
import type { MountTable } from '../../src/resolve/namespaces.js';

const fixture = readFileSync(new URL('../../fixtures/mountinfo/escapes-and-binds.txt', import.meta.url), 'utf8');

test('parseMountinfo reads every field, skips optional fields and malformed lines', () => {
  const entries = parseMountinfo(fixture);
  assert.equal(entries.length, 7);
  assert.deepEqual(entries[2], {
    mountId: 40,
    parentId: 27,
    dev: '0:45',
    root: '/',
    rootDeleted: false,
    mountpoint: '/var/lib/kubelet/pods/0b5e/volumes/kubernetes.io~projected/kube-api-access-x',
    fstype: 'tmpfs',
    source: 'tmpfs',
  });
});

test('parseMountinfo decodes \\040 \\011 \\134 in mount points and sources', () => {
  const entry = parseMountinfo(fixture).find((e) => e.dev === '0:46')!;
  assert.equal(entry.mountpoint, '/mnt/with space\ttab\\backslash');
  assert.equal(entry.source, 'my source');
});

test('parseMountinfo marks a bind mount of a deleted file (root ending in //deleted)', () => {
  const entry = parseMountinfo(fixture).find((e) => e.mountpoint === '/etc/hosts')!;
  assert.equal(entry.root, '/var/lib/kubelet/pods/0b5e/etc-hosts');
  assert.equal(entry.rootDeleted, true);
});

test('mountContaining picks the mount whose root holds the path, the top one of a stack', () => {
  const byDev = groupByDev(parseMountinfo(fixture));
  const ext4 = byDev.get('254:0')!;
  assert.equal(mountContaining(ext4, '/srv/data/x')!.mountpoint, '/data');
  assert.equal(mountContaining(ext4, '/srv/database')!.mountpoint, '/');
  assert.equal(mountContaining(ext4, '/var/lib/kubelet/pods/0b5e/etc-hosts')!.mountpoint, '/etc/hosts');
  assert.equal(mountContaining(byDev.get('0:45')!, '/..data')!.mountId, 44);
  assert.equal(widestMount(ext4)!.mountpoint, '/');
  assert.equal(widestMount(ext4.filter((m) => m.mountpoint !== '/'))!.mountpoint, '/data');
});

test('relativeToMountRoot and relativeToLink respect path boundaries', () => {
  assert.equal(relativeToMountRoot('/', '/'), '');
  assert.equal(relativeToMountRoot('/', '/a/b'), 'a/b');
  assert.equal(relativeToMountRoot('/srv', '/srv'), '');
  assert.equal(relativeToMountRoot('/srv', '/srv/a'), 'a');
  assert.equal(relativeToMountRoot('/srv', '/srvx'), null);
  assert.equal(relativeToLink('/', '/a'), 'a');
  assert.equal(relativeToLink('/', '/'), '');
  assert.equal(relativeToLink('/mnt/x', '/mnt/x/y'), 'y');
  assert.equal(relativeToLink('/mnt/x', '/mnt/xy'), null);
  assert.equal(relativeToLink('/mnt/x', 'y'), null); // a disconnected dentry comes back as a bare name
});

test('userspaceDevToString follows glibc major()/minor()', () => {
  assert.equal(userspaceDevToString(0xfe00), '254:0');
  assert.equal(userspaceDevToString(0x801), '8:1');
  assert.equal(userspaceDevToString(0x2d), '0:45');
  assert.equal(userspaceDevToString(0x100000), '0:256'); // minor above 255 moves to bits 20..31
});

test('widestView takes the widest mount over our own narrower one; ours between equal roots', () => {
  // In a container on cgroup v1, our /sys/fs/cgroup/pids is a bind of our own cgroup's dir; the
  // node's namespace (through a host process) has the whole hierarchy.
  const cgroup = parseMountinfo(
    [
      '40 30 0:36 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids',
      '41 31 0:36 /kubepods/burstable/pod1/abc /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids',
      '42 32 0:36 / /host/cgroup/pids rw,nosuid - cgroup cgroup rw,pids',
    ].join('\n'),
  );
  const table = (pid: number): MountTable => ({ ns: `pid:${pid}`, pid, byDev: new Map() });
  const node: MountView = { table: table(1), mount: cgroup[0]! };
  const ours: MountView = { table: table(process.pid), mount: cgroup[1]! };
  const oursWhole: MountView = { table: table(process.pid), mount: cgroup[2]! };
  assert.equal(widestView([ours, node]), node);
  assert.equal(widestView([node, ours]), node);
  assert.equal(widestView([node, oursWhole]), oursWhole, 'equal roots: ours, which can be cloned');
});
