// Charging as the kernel charges: each key's holdings to it and to every key above it, up to the
// host's namespace; the limits in force per key; recordings from before read as own = charged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chargeChain, chargedUsers, namespacesBelow, NO_CHARGE, type OwnCharge } from '../../src/model/charges.js';
import type { ChargeCounts, Limits, UserNamespace, UserRow } from '../../src/model/types.js';
import { validateSnapshot } from '../../src/record/validate.js';
import { LIMITS, snapshot, user } from '../helpers/rows.js';

const limits: Limits = LIMITS;
const unlimited = { instances: null, watches: null, fanotifyGroups: null, fanotifyMarks: null };
// Two namespaces a runtime made as root, one made inside the first (by its uid 0, 200000 on the
// host), one made by uid 1000, who holds nothing itself.
const namespaces: UserNamespace[] = [
  { id: 'A', parent: null, ownerUid: 0, ownerName: 'root', limits: unlimited },
  { id: 'B', parent: null, ownerUid: 0, ownerName: 'root', limits: { ...unlimited, instances: 8 } },
  { id: 'C', parent: 'A', ownerUid: 200000, ownerName: '200000', limits: unlimited },
  { id: 'D', parent: null, ownerUid: 1000, ownerName: 'app', limits: null },
];
const counts = (instances: number, watches: number, fanotifyGroups = 0, fanotifyMarks = 0): ChargeCounts => ({
  instances,
  watches,
  fanotifyGroups,
  fanotifyMarks,
});
const own = (userns: string | null, uid: number, held: ChargeCounts, pods: string[] = []): OwnCharge => ({
  key: { userns, uid },
  name: uid === 0 ? 'root' : String(uid),
  own: held,
  pods: new Set(pods),
});

test('each key is charged its own holdings and every namespace key below it, as far up as the host', () => {
  const users = chargedUsers(
    [
      own(null, 0, counts(10, 100)),
      own('A', 200000, counts(30, 60, 1, 4), ['pod-a']),
      own('B', 300000, counts(5, 7)),
      own('C', 400000, counts(2, 3), ['pod-c']),
      own('D', 500000, counts(1, 1)),
    ],
    namespaces,
    limits,
  );
  const row = (userns: string | null, uid: number) => users.find((u) => u.userns === userns && u.uid === uid)!;
  const root = row(null, 0);
  assert.deepEqual([root.instances, root.watches], [10, 100], 'its own');
  assert.deepEqual(root.charged, counts(47, 170, 1, 4), 'its own plus A, B and C (C through A)');
  assert.deepEqual(
    root.fromNamespaces.map((entry) => [entry.userns, entry.uid, entry.instances, entry.watches, entry.pods]),
    [
      ['A', 200000, 30, 60, ['pod-a']],
      ['B', 300000, 5, 7, []],
      ['C', 400000, 2, 3, ['pod-c']],
    ],
  );
  assert.equal(namespacesBelow(root), 3);
  // Exactly: charged is own plus what the namespaces below hold.
  for (const field of Object.keys(NO_CHARGE) as (keyof ChargeCounts)[]) {
    assert.equal(
      root.charged[field],
      root.fromNamespaces.reduce((sum, entry) => sum + entry[field], root[field] ?? 0),
      field,
    );
  }
  // A's uid 0 made C: charged for it in A.
  assert.deepEqual(row('A', 200000).charged, counts(32, 63, 1, 4));
  assert.deepEqual(
    row('A', 200000).fromNamespaces.map((entry) => entry.userns),
    ['C'],
  );
  // uid 1000 holds nothing itself, and still has its row: it made D.
  const app = row(null, 1000);
  assert.deepEqual([app.name, app.instances, app.charged.instances], ['app', 0, 1]);
  // The limits in force: the host's for host users, a namespace's own (null: unlimited), none known for D.
  assert.deepEqual(root.limits, { instances: 128, watches: 8192, fanotifyGroups: 128, fanotifyMarks: 8192 });
  assert.deepEqual(row('A', 200000).limits, unlimited);
  assert.equal(row('B', 300000).limits!.instances, 8);
  assert.equal(row('D', 500000).limits, null);
  // Most charged watches first, then instances, then uid.
  assert.deepEqual(
    users.map((u) => u.uid),
    [0, 200000, 300000, 400000, 1000, 500000],
  );
});

test('a chain stops where the namespaces are not known', () => {
  const byId = new Map(namespaces.map((ns) => [ns.id, ns]));
  assert.deepEqual(chargeChain({ userns: 'C', uid: 400000 }, byId), [
    { userns: 'C', uid: 400000 },
    { userns: 'A', uid: 200000 },
    { userns: null, uid: 0 },
  ]);
  assert.deepEqual(chargeChain({ userns: 'X', uid: 1 }, byId), [{ userns: 'X', uid: 1 }]);
  assert.deepEqual(chargeChain({ userns: null, uid: 0 }, byId), [{ userns: null, uid: 0 }]);
  // Not charged above an unknown namespace; a key without holdings has no row.
  const users = chargedUsers([own('X', 1, counts(2, 2)), own(null, 5, NO_CHARGE)], namespaces, limits);
  assert.deepEqual(
    users.map((u) => [u.userns, u.uid, u.charged.instances, u.limits]),
    [['X', 1, 2, null]],
  );
});

test('a recording made before charges: own = charged, the host limits for host users, unknown for namespaces', () => {
  // As the reader upgrades it: through the recording's validator.
  const read = (users: object[]) => validateSnapshot(JSON.parse(JSON.stringify({ ...snapshot([]), limits, users }))).users;
  const old = { uid: 0, name: 'root', userns: null, instances: 3, watches: 9, fanotifyGroups: 1 };
  const [upgraded] = read([old]);
  assert.deepEqual(upgraded!.charged, counts(3, 9, 1, 0));
  assert.deepEqual(upgraded!.limits, { instances: 128, watches: 8192, fanotifyGroups: 128, fanotifyMarks: 8192 });
  assert.deepEqual(upgraded!.fromNamespaces, []);
  assert.equal(read([{ ...old, userns: '4026532173' }])[0]!.limits, null);
  // One that has them is kept as it is.
  const current = user(0, 3, 9);
  assert.deepEqual(read([current]), [current]);
});

test('the screen: the meters line says where the charge comes from; a pod inspect names whom it charges and every namespace charging them, with their pods', async () => {
  const { headerLines } = await import('../../src/views/tui/paint/header.js');
  const { layout } = await import('../../src/views/tui/paint/layout.js');
  const { Painter } = await import('../../src/views/painter.js');
  const { initialState, inspectedParagraphs, reduce } = await import('../../src/views/tui/state.js');
  const { NO_FILTER } = await import('../../src/model/query.js');
  const { pod, proc, snapshot } = await import('../helpers/rows.js');
  const web = pod('web-1');
  const db = pod('db-0');
  const inPod = (pid: number, ofPod: typeof web, userns: string) => proc(pid, { uid: pid * 1000, user: String(pid * 1000), userns, pod: ofPod, instances: 10 });
  const base = snapshot([proc(1, { instances: 101 }), inPod(200, web, 'A'), inPod(300, db, 'B')]);
  const entry = (userns: string, uid: number, podUid: string) => ({
    userns,
    uid,
    instances: 10,
    watches: 0,
    fanotifyGroups: 0,
    fanotifyMarks: 0,
    pods: [podUid],
  });
  const root: UserRow = {
    ...user(0, 101, 0),
    charged: counts(121, 0),
    fromNamespaces: [entry('A', 200000, web.uid), entry('B', 300000, db.uid)],
  };
  const charged = { ...base, users: [root, user(200000, 10, 0, 'A'), user(300000, 10, 0, 'B')] };
  const state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: charged,
  });
  const plain = (lines: string[]) => lines.map((line) => line.replace(/\{\/?[a-z-]+\}/g, ''));
  const meters = plain(headerLines(state, layout(140, 40, 3), new Painter(false))).find((line) => line.startsWith('root '))!;
  assert.match(meters, /inst\[.*121\/128 95%\] \(20 inst from 2 userns\) $/);
  // The pod view, Enter on web-1's row.
  const pods = reduce(state, { type: 'command', command: 'toggleView', now: 0 });
  const onWeb = { ...pods, selectedPod: web.uid };
  const text = inspectedParagraphs(reduce(onWeb, { type: 'command', command: 'focusDetail', now: 0 }))!.map((p) => p.text);
  assert.ok(
    text.some((t) => t.startsWith('CHARGED TO user root: its processes run in user namespace A as uid 200000')),
    text.join('\n'),
  );
  assert.ok(
    text.some((t) =>
      t.startsWith('user root: charged 121/128 95% instances, 0/8,192 0% watches (its own processes: 101 and 0; the rest from 2 user namespaces):'),
    ),
  );
  assert.ok(text.includes('userns A uid 200000: 10 instances, 0 watches; pods default/web-1  (this one)'));
  assert.ok(text.includes('userns B uid 300000: 10 instances, 0 watches; pods default/db-0'));
});
