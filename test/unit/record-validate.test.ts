// Recordings are untrusted input: every field of a snapshot is checked before a view sees it, what
// the schema does not know is dropped, and older recordings are upgraded in the reader.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { NO_TREND } from '../../src/model/projection.js';
import type { Snapshot } from '../../src/model/types.js';
import { openRecording, readRecording } from '../../src/record/reader.js';
import { jsonText } from '../../src/common/text.js';
import { pod, proc, snapshot, target, user } from '../helpers/rows.js';
import { renderEverywhere } from '../helpers/views.js';

const HEADER = jsonText({
  format: 'inotop-recording',
  version: 1,
  hostname: 'node-t',
  kernel: '6.18.0-test',
  started: '2026-11-27T10:00:00.000Z',
  intervalSeconds: 2,
  inotopVersion: 'test',
});

/** A snapshot with every field of the schema set, each list with an item, fanotify and failures included. */
function everyField(): Snapshot {
  const gone = { ...pod('api-1', 'gone', 'shop'), container: 'app', nameSource: 'etc-hosts' as const };
  const holder = { pid: 900, comm: 'sleep', mountpoint: '/var/run/secrets', boundFrom: ['/var/lib/kubelet/pods/uid-api-1/etc-hosts'] };
  const leaked = target(1, { pod: gone, leak: 'unmounted', status: 'unmounted', holders: [holder], heldBy: [900], mountpointRemembered: true, reason: 'gone' });
  const mark = target(0, { kind: 'fanotify', markType: 'mount', mntId: 42, reason: 'a mount mark', pod: gone });
  const row = proc(100, {
    comm: 'kubelet',
    userns: '4026532999',
    targets: [leaked, target(2), mark],
    pod: { ...pod('own'), container: 'c', nameSource: 'list' },
    fanotifyGroups: 1,
    fanotifyMarks: 1,
    fds: [{ fd: 3, watches: 3, shared: false, instance: '100:3', queuedBytes: 3200, queueState: 'not draining' }],
    fanotifyFds: [{ fd: 5, marks: 1, shared: true, instance: '100:5', queuedBytes: 0, queueState: 'empty' }],
    queuedBytes: 3200,
  });
  const trend = { watchesPerMinute: 47, instancesPerMinute: 0.5, watchesFullInSeconds: 600, instancesFullInSeconds: 7200 };
  return {
    ...snapshot([row]),
    users: [
      {
        ...user(0, 1, 3),
        fanotifyGroups: 1,
        fanotifyMarks: 1,
        charged: { instances: 2, watches: 5, fanotifyGroups: 1, fanotifyMarks: 1 },
        fromNamespaces: [{ userns: '4026532999', uid: 100000, instances: 1, watches: 2, fanotifyGroups: 0, fanotifyMarks: 0, pods: ['uid-api-1'] }],
        trend,
      },
      { ...user(100000, 1, 2, '4026532999'), limits: { instances: 8, watches: 100, fanotifyGroups: null, fanotifyMarks: null } },
    ],
    totals: { processes: 1, instances: 1, watches: 3, fanotifyGroups: 1, fanotifyMarks: 1 },
    pods: { source: 'cri', live: 3, stale: false, error: 'slow' },
    notes: ['a note'],
    scanScope: 'changed',
    failures: [
      {
        pid: 4242,
        comm: 'fluent-bit',
        uid: 0,
        user: 'root',
        pod: gone,
        syscall: 'inotify_add_watch',
        errno: 'ENOSPC',
        count: 17,
        new: 2,
        limit: 'max_inotify_watches',
        limitUid: 0,
        limitUserns: '4026532999',
        fdLimit: 1024,
        firstAt: '2026-11-27T09:59:00.000Z',
        lastAt: '2026-11-27T09:59:57.000Z',
      },
    ],
    churn: [{ pid: 100, comm: 'kubelet', adds: 20, removes: 1, addsPerSecond: 10, removesPerSecond: 0.5 }],
    trace: { state: 'off', reason: 'no tracefs' },
    scan: { complete: false, reason: '9 of 120 processes not read (EACCES 1, EIO 8)', unreadable: { EACCES: 1, EIO: 8 } },
    permissionWaits: {
      processes: [{ pid: 300, comm: 'cat', waitingSeconds: 41, pod: gone, syscall: 'openat', path: '/data/x', threads: 2, heldBy: [4242] }],
      groups: [{ pid: 4242, comm: 'avscan', fd: 5, marks: [{ markType: 'mount', path: '/', mask: 0x10000 }], mask: 0x10000, waiters: 1 }],
      incomplete: 'the search stopped at its budget',
    },
  };
}

const POD_FIELDS = ['namespace', 'name', 'container', 'nameSource'];
/** Where the schema allows null (README's JSON section), lists' items as []. */
const NULLABLE = new Set([
  ...['maxUserWatches', 'maxUserInstances', 'maxQueuedEvents', 'maxUserFanotifyGroups', 'maxUserFanotifyMarks', 'maxFanotifyQueuedEvents'].map(
    (f) => `limits.${f}`,
  ),
  'users[].userns',
  'users[].limits',
  ...['instances', 'watches', 'fanotifyGroups', 'fanotifyMarks'].map((f) => `users[].limits.${f}`),
  ...['watchesPerMinute', 'instancesPerMinute', 'watchesFullInSeconds', 'instancesFullInSeconds'].map((f) => `users[].trend.${f}`),
  'processes[].userns',
  ...['processes[].queuedBytes', 'processes[].fds[].queuedBytes', 'processes[].fanotifyFds[].queuedBytes'],
  ...['syscall', 'path'].map((f) => `permissionWaits.processes[].${f}`),
  'permissionWaits.groups[].marks[].path',
  'permissionWaits.incomplete',
  ...['path', 'mountpoint', 'fstype', 'reason', 'leak'].map((f) => `processes[].targets[].${f}`),
  ...['processes[].pod', 'processes[].watchedPods[].pod', 'processes[].targets[].pod', 'failures[].pod', 'permissionWaits.processes[].pod'].flatMap((at) => [
    at,
    ...POD_FIELDS.map((f) => `${at}.${f}`),
  ]),
  'pods.live',
  'pods.error',
  ...['uid', 'user', 'pod', 'limit', 'limitUid', 'limitUserns', 'fdLimit'].map((f) => `failures[].${f}`),
  'trace.reason',
  'scan.reason',
]);
// A pod inside a list of pods is never null: only the pod fields listed above are.
NULLABLE.delete('processes[].watchedPods[].pod');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every value in the document with its path as the validator names it ("processes[0].pid"). */
function* paths(value: Json, path = ''): Generator<string> {
  if (path) yield path;
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* paths(value[i]!, `${path}[${i}]`);
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) yield* paths(item, path ? `${path}.${key}` : key);
}

function steps(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

function at(value: Json, path: string): Json | undefined {
  let here: Json | undefined = value;
  for (const step of steps(path)) here = here === null || typeof here !== 'object' ? undefined : (here as Record<string | number, Json>)[step];
  return here;
}

function replaced(value: Json, path: string, by: Json): Json {
  const copy = structuredClone(value);
  const keys = steps(path);
  const parent = at(
    copy,
    keys.slice(0, -1).reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${k}` : k), ''),
  ) as Record<string | number, Json>;
  parent[keys.at(-1)!] = by;
  return copy;
}

function kind(value: Json | undefined): string {
  return value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
}

const OTHER_TYPES: Json[] = [null, true, 7, 'x', [], {}];

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'inotop-validate-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The snapshots a recording of these lines gives, and the warnings of those it skipped. */
function read(lines: Json[]): { snapshots: Snapshot[]; warnings: string[] } {
  const file = join(dir, 'r.jsonl');
  writeFileSync(file, [HEADER, ...lines.map((line) => JSON.stringify(line))].join('\n') + '\n');
  const warnings: string[] = [];
  const snapshots = [...openRecording(file, (warning) => warnings.push(warning)).snapshots];
  return { snapshots, warnings };
}

test('a snapshot with every field set reads back exactly, and renders everywhere', async () => {
  const full = JSON.parse(jsonText(everyField())) as Json;
  const { snapshots, warnings } = read([full]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(JSON.parse(await renderEverywhere(snapshots[0]!)), full);
});

test('type confusion: each field given a value of another type, one at a time, is refused by its path; only null where null is allowed passes; no view throws', async () => {
  const full = JSON.parse(jsonText(everyField())) as Json;
  let mutations = 0;
  let accepted = 0;
  const typed = new Set<string>();
  const onlyNull = new Set<string>();
  for (const path of paths(full)) {
    const original = at(full, path);
    const normal = path.replace(/\[\d+\]/g, '[]');
    // A null says nothing of the type it stands for: that field is tried where it has a value.
    if (original === null) {
      onlyNull.add(normal);
      continue;
    }
    typed.add(normal);
    for (const other of OTHER_TYPES) {
      if (kind(other) === kind(original)) continue;
      mutations++;
      const { snapshots, warnings } = read([replaced(full, path, other)]);
      if (other === null && NULLABLE.has(normal)) {
        assert.deepEqual(warnings, [], `${path}: null is allowed`);
        accepted++;
        // Through every view, and out of --json as it came in.
        const json = JSON.parse(await renderEverywhere(snapshots[0]!)) as Json;
        assert.equal(at(json, path), null, path);
        continue;
      }
      assert.equal(snapshots.length, 0, `${path} = ${JSON.stringify(other)} passed unchecked`);
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0]!.includes(`not a snapshot: ${path}: expected `), `${path} = ${JSON.stringify(other)}: ${warnings[0]}`);
    }
  }
  assert.deepEqual(
    [...onlyNull].filter((normal) => !typed.has(normal)),
    [],
    'every field has a value somewhere in the sample',
  );
  assert.ok(mutations > 400, `${mutations} mutations`);
  assert.ok(accepted >= NULLABLE.size - POD_FIELDS.length, `${accepted} nulls accepted`);
});

test('fields the schema does not know are dropped, not passed on to --json', async () => {
  const full = JSON.parse(jsonText(everyField())) as { [key: string]: Json } & { processes: { [key: string]: Json }[] };
  full['extra'] = '\x1b]0;pwned\x07';
  full.processes[0]!['constructor'] = 'x';
  // JSON.parse makes "__proto__" an own field, as a file may hold it.
  const text = JSON.stringify(full).replace('{"pid":100,', '{"__proto__":{"polluted":true},"pid":100,');
  const { snapshots } = read([JSON.parse(text) as Json]);
  const json = await renderEverywhere(snapshots[0]!);
  assert.doesNotMatch(json, /extra|pwned|polluted|constructor|__proto__/);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  // The causes of scan.unreadable are keys: checked as well.
  const cause = JSON.parse(jsonText(everyField())) as { scan: { unreadable: Record<string, Json> } };
  cause.scan.unreadable['\x1b]0;pwned\x07'] = 1;
  const refused = read([cause as unknown as Json]);
  assert.equal(refused.snapshots.length, 0);
  assert.match(refused.warnings[0]!, /not a snapshot: scan\.unreadable: ".*" is not a cause/);
});

/** The fields recordings made before them lack. */
function legacy(full: Snapshot): Json {
  const old = JSON.parse(jsonText(full)) as Record<string, Record<string, Json>[] & Record<string, Json>>;
  for (const key of ['scanScope', 'failures', 'churn', 'trace', 'scan', 'permissionWaits']) delete old[key];
  delete old['limits']!['maxUserFanotifyGroups'];
  delete old['limits']!['maxUserFanotifyMarks'];
  delete old['limits']!['maxFanotifyQueuedEvents'];
  delete old['totals']!['fanotifyGroups'];
  delete old['totals']!['fanotifyMarks'];
  for (const u of old['users']!) for (const key of ['fanotifyGroups', 'fanotifyMarks', 'trend', 'charged', 'limits', 'fromNamespaces']) delete u[key];
  for (const row of old['processes']! as Record<string, Json>[]) {
    for (const key of ['startTime', 'fanotifyGroups', 'fanotifyMarks', 'fanotifyFds', 'stranded', 'watchedPods', 'leakHolders', 'queuedBytes']) delete row[key];
    for (const fd of row['fds'] as Record<string, Json>[]) for (const key of ['instance', 'queuedBytes', 'queueState']) delete fd[key];
    for (const t of row['targets'] as Record<string, Json>[]) {
      delete t['kind'];
      for (const h of t['holders'] as Record<string, Json>[]) delete h['boundFrom'];
      if (t['pod']) delete (t['pod'] as Record<string, Json>)['nameSource'];
    }
    if (row['pod']) delete (row['pod'] as Record<string, Json>)['nameSource'];
  }
  return old as Json;
}

test('an older recording is upgraded in the reader: every field there, counts and pods from its targets', async () => {
  const full = everyField();
  // An older inotop had no fanotify targets.
  full.processes[0]!.targets = full.processes[0]!.targets.filter((t) => t.kind === 'inotify');
  const [upgraded] = read([legacy(full)]).snapshots;
  const row = upgraded!.processes[0]!;
  assert.equal(row.startTime, 0);
  assert.deepEqual(row.fds, [{ fd: 3, watches: 3, shared: false, instance: '100:3' }]);
  assert.deepEqual([row.fanotifyGroups, row.fanotifyMarks, row.fanotifyFds], [0, 0, []]);
  assert.equal(row.stranded, 1);
  assert.deepEqual(row.leakHolders, [{ pid: 900, comm: 'sleep' }]);
  assert.deepEqual(
    row.watchedPods.map((entry) => [entry.pod.name, entry.watches, entry.leaked, entry.holders]),
    [['api-1', 1, 1, [900]]],
  );
  assert.equal(row.targets[0]!.kind, 'inotify');
  assert.deepEqual(row.targets[0]!.holders[0]!.boundFrom, []);
  assert.equal(row.targets[0]!.pod!.nameSource, null);
  assert.deepEqual(upgraded!.users[0]!.trend, NO_TREND);
  // Charged what it held itself, a host user against the host's limits, a namespace's against none.
  assert.deepEqual(upgraded!.users[0]!.charged, { instances: 1, watches: 3, fanotifyGroups: 0, fanotifyMarks: 0 });
  assert.deepEqual([upgraded!.users[0]!.limits?.watches, upgraded!.users[1]!.limits, upgraded!.users[0]!.fromNamespaces], [8192, null, []]);
  assert.deepEqual([upgraded!.users[0]!.fanotifyGroups, upgraded!.totals.fanotifyMarks, upgraded!.limits.maxUserFanotifyGroups], [0, 0, null]);
  assert.deepEqual([upgraded!.scanScope, upgraded!.failures, upgraded!.churn, upgraded!.trace.state], ['all', [], [], 'off']);
  assert.deepEqual(upgraded!.scan, { complete: true, reason: null, unreadable: {} });
  // Queues and permission waits were not read then: absent, not empty or 0.
  assert.deepEqual([row.queuedBytes, upgraded!.permissionWaits, upgraded!.limits.maxFanotifyQueuedEvents], [undefined, undefined, null]);
  await renderEverywhere(upgraded!);
});

test('the shipped recordings, made before most fields existed, read as complete snapshots', () => {
  for (const name of ['leaky-kubelet.jsonl.gz', 'healthy-node.jsonl']) {
    const { snapshots } = readRecording(fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url)));
    for (const s of snapshots) {
      // What the reader gives reads again as itself: nothing left to upgrade.
      const again = read([JSON.parse(jsonText(s)) as Json]).snapshots[0];
      assert.deepEqual(again, s);
      for (const row of s.processes) assert.ok(Array.isArray(row.watchedPods) && Array.isArray(row.leakHolders) && typeof row.stranded === 'number');
    }
  }
});

test('queue fields: a fanotify fd without its instance gets "PID:FD"; queuedBytes without queueState (or the other way) is refused', () => {
  const full = JSON.parse(jsonText(everyField())) as { processes: { fanotifyFds: Record<string, Json>[]; fds: Record<string, Json>[] }[] };
  delete full.processes[0]!.fanotifyFds[0]!['instance'];
  const [upgraded] = read([full as unknown as Json]).snapshots;
  assert.equal(upgraded!.processes[0]!.fanotifyFds[0]!.instance, '100:5');
  for (const key of ['queuedBytes', 'queueState']) {
    const half = JSON.parse(jsonText(everyField())) as typeof full;
    delete half.processes[0]!.fds[0]![key];
    const { snapshots, warnings } = read([half as unknown as Json]);
    assert.equal(snapshots.length, 0, key);
    assert.match(warnings[0]!, /processes\[0\]\.fds\[0\]: queuedBytes and queueState go together/);
  }
});
