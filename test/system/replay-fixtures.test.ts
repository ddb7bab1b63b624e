// The recordings in fixtures/ (made by fixtures/generate-recordings.ts from scans of a simulated
// node) replayed as anyone who clones the repository would: no root, the built CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import type { ProcessRow, Snapshot } from '../../src/model/types.js';
import { readRecording } from '../../src/record/reader.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';

const leakyFile = fileURLToPath(new URL('../../fixtures/leaky-kubelet.jsonl.gz', import.meta.url));
const healthyFile = fileURLToPath(new URL('../../fixtures/healthy-node.jsonl', import.meta.url));

function inotop(args: string[]): string {
  // Every snapshot of the leaky node with its targets is some 9 MB of JSON.
  const result = spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '', 'a clean recording replays without a warning');
  return result.stdout;
}

function kubeletOf(snapshot: Snapshot): ProcessRow {
  const kubelet = snapshot.processes.find((p) => p.comm === 'kubelet');
  assert.ok(kubelet, `no kubelet at ${snapshot.time}`);
  return kubelet;
}

function assertNonDecreasing(values: number[], what: string): void {
  for (let i = 1; i < values.length; i++) assert.ok(values[i]! >= values[i - 1]!, `${what} went down: ${values.join(' -> ')}`);
}

before(() => ensureBuilt());

describe('fixtures/leaky-kubelet.jsonl.gz', () => {
  test('batch replay: kubelet on top with 7,491 watches, leaked ones, and the gone pods', () => {
    const out = inotop(['--replay', leakyFile, '-b']);
    const blocks = out.split(/^(?=replay of )/m);
    assert.equal(blocks.length, 7);
    const last = blocks.at(-1)!;
    assert.match(last, /^replay of ip-10-0-3-17\.ec2\.internal, snapshot 7 \(2026-11-27T19:21:10\.000Z\)$/m);
    assert.match(last, /^total: 155 processes, 204 instances, 10110 watches - pods: crictl, 49 live$/m);
    const rows = last.split('\n').filter((line) => /^\s+\d+ /.test(line));
    const [pid, user, instances, watches, leaked] = rows[0]!.trim().split(/\s+/);
    assert.ok(pid && user === 'root', rows[0]);
    assert.equal(instances, '48');
    assert.equal(watches, '7491');
    assert.ok(Number(leaked) > 0, rows[0]);
    assert.match(rows[0]!, /\/usr\/bin\/kubelet /);
    assert.equal(rows.filter((row) => / ci\/runner-\w+ \(gone\) /.test(row)).length, 101);
    assert.equal(rows.filter((row) => / ci\/runner-\w+ +\/usr\/bin\/gitlab-runner/.test(row)).length, 49, 'live pods are not marked');
  });

  test('JSON replay: kubelet watches inode 1 of the tmpfs volumes of gone pods', () => {
    const snapshots = inotop(['--replay', leakyFile, '--json', '--targets'])
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Snapshot);
    const kubelet = kubeletOf(snapshots.at(-1)!);
    assert.equal(kubelet.watches, 7491);
    const volumeRoots = kubelet.targets.filter((t) => t.ino === 1 && t.fstype === 'tmpfs' && t.pod !== null);
    assert.equal(
      volumeRoots.reduce((n, t) => n + t.watches, 0),
      6649,
    );
    const devices = new Set(volumeRoots.map((t) => t.dev));
    assert.equal(devices.size, 150, 'one tmpfs device per pod');
    const gone = volumeRoots.filter((t) => t.pod?.state === 'gone');
    assert.ok(gone.length >= 100, `${gone.length} volume roots of gone pods`);
    const processes = new Map(snapshots.at(-1)!.processes.map((p) => [p.pid, p]));
    for (const target of gone) {
      assert.equal(target.leak, 'unmounted', 'gone from the host, kept by its container');
      assert.match(target.pod?.name ?? '', /^runner-/, 'named as it was when live');
      assert.equal(target.holders.length, 1);
      const holder = processes.get(target.holders[0]!.pid);
      assert.equal(holder?.pod?.uid, target.pod?.uid, 'held by the container of its own pod');
      assert.match(target.path ?? '', /\/var\/run\/secrets\/kubernetes\.io\/serviceaccount$/, 'where the container has it mounted');
    }
    for (const target of volumeRoots.filter((t) => t.pod?.state === 'live')) {
      assert.match(target.path ?? '', /\/volumes\/kubernetes\.io~projected\/kube-api-access-\w+$/);
    }
    const systemd = snapshots.at(-1)!.processes.find((p) => p.comm === 'systemd');
    assert.ok(systemd && systemd.watches > 2500 && systemd.watches < 2700, `systemd: ${systemd?.watches}`);
  });

  test('watches climb as pods are created and do not come down as they are deleted', () => {
    const { header, snapshots } = readRecording(leakyFile);
    assert.equal(header.hostname, 'ip-10-0-3-17.ec2.internal');
    assert.deepEqual(
      snapshots.map((s) => s.pods.live),
      [50, 100, 150, 101, 49, 49, 49],
    );
    const kubelet = snapshots.map(kubeletOf);
    assertNonDecreasing(
      kubelet.map((k) => k.watches),
      'kubelet watches',
    );
    assertNonDecreasing(
      kubelet.map((k) => k.leaked),
      'kubelet leaked watches',
    );
    assertNonDecreasing(
      snapshots.map((s) => s.totals.watches),
      'node watches',
    );
    assert.ok(kubelet[0]!.watches < 2000 && kubelet[0]!.leaked === 0, 'small and clean at first');
    assert.deepEqual(
      kubelet.slice(-3).map((k) => k.watches),
      [7491, 7491, 7491],
    );
  });
});

describe('fixtures/healthy-node.jsonl', () => {
  test('replays with no leaked watch and every pod live', () => {
    const snapshots = inotop(['--replay', healthyFile, '--json', '--targets'])
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Snapshot);
    assert.ok(snapshots.length >= 3 && snapshots.length <= 4, `${snapshots.length} snapshots`);
    for (const snapshot of snapshots) {
      const pods = snapshot.processes.filter((p) => p.pod !== null);
      assert.equal(pods.length, snapshot.pods.live, snapshot.time);
      for (const proc of snapshot.processes) {
        assert.equal(proc.leaked, 0, `${proc.comm} at ${snapshot.time}`);
        assert.equal(proc.pod?.state ?? 'live', 'live');
        for (const target of proc.targets) assert.equal(target.leak, null, `${proc.comm}: ${target.path}`);
      }
    }
    const batch = inotop(['--replay', healthyFile, '-b']);
    assert.doesNotMatch(batch, /\((gone|unknown)\)/);
  });
});

describe('both recordings', () => {
  for (const file of [leakyFile, healthyFile]) {
    test(`${file.split('/').at(-1)}: a plausible node, totals consistent with the rows, snapshots an interval apart`, () => {
      const { header, snapshots } = readRecording(file);
      assert.match(header.hostname, /^ip-10-0-\d+-\d+\.ec2\.internal$/);
      const start = Date.parse(header.started);
      for (const [i, snapshot] of snapshots.entries()) {
        assert.equal(Date.parse(snapshot.time), start + i * header.intervalSeconds * 1000);
        assert.equal(snapshot.hostname, header.hostname);
        const sum = (field: 'instances' | 'watches' | 'fanotifyGroups' | 'fanotifyMarks') => snapshot.processes.reduce((n, p) => n + p[field], 0);
        assert.deepEqual(snapshot.totals, {
          processes: snapshot.processes.length,
          instances: sum('instances'),
          watches: sum('watches'),
          fanotifyGroups: sum('fanotifyGroups'),
          fanotifyMarks: sum('fanotifyMarks'),
        });
        assert.deepEqual(
          snapshot.users.map((u) => [u.name, u.instances, u.watches]),
          [['root', sum('instances'), sum('watches')]],
        );
        assert.ok(!snapshot.processes.some((p) => /inowatch|node_modules/.test(p.cmdline)), 'only the simulated node, as it would show');
      }
    });
  }
});
