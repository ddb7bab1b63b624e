// The header's verdict line and the width rules it and every column rely on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_FILTER } from '../../src/model/query.js';
import { headerLines } from '../../src/views/tui/paint/header.js';
import { layout } from '../../src/views/tui/paint/layout.js';
import { Painter } from '../../src/views/painter.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import { verdictLine } from '../../src/views/tui/verdict.js';
import { displayWidth, elideMiddle, fitColumns, wrapColumns } from '../../src/common/width.js';
import { pod, proc, snapshot, targets } from '../helpers/rows.js';

const gone = (name: string) => pod(name, 'gone', 'shop');

function leakyNode() {
  const kubelet = proc(16114, {
    comm: 'kubelet',
    targets: [...targets(3, 1, { pod: gone('api-hxagp'), leak: 'gone' }), ...targets(3, 10, { pod: gone('api-d8czs'), leak: 'unmounted' }), ...targets(4, 20)],
    watchedPods: [
      { pod: gone('api-hxagp'), watches: 3, leaked: 3, holders: [] },
      { pod: gone('api-d8czs'), watches: 3, leaked: 3, holders: [] },
      { pod: pod('web'), watches: 2, leaked: 0, holders: [] },
    ],
    leakHolders: [
      { pid: 16115, comm: 'sleep' },
      { pid: 16116, comm: 'sleep' },
    ],
  });
  return snapshot([kubelet, proc(1, { comm: 'systemd', targets: targets(40, 100) })]);
}

test('the verdict names the leaking process, the gone pods and the holders', () => {
  assert.equal(verdictLine(leakyNode(), 200), 'LEAK kubelet 16114: 6 watches on 2 gone pods (api-hxagp, api-d8czs), kept by 16115 sleep, 16116 sleep');
});

test('nothing leaking: no verdict', () => {
  assert.equal(verdictLine(snapshot([proc(1, { targets: targets(3) })]), 200), null);
});

test('the verdict shortens by dropping detail, never the pids', () => {
  const node = leakyNode();
  const widths = [90, 70, 55, 45];
  const lines = widths.map((w) => verdictLine(node, w)!);
  assert.deepEqual(lines, [
    'LEAK kubelet 16114: 6 watches on 2 gone pods, kept by 16115 sleep, 16116 sleep',
    'LEAK kubelet 16114: 6 watches on 2 gone pods, kept by 16115 16116',
    'LEAK kubelet 16114: 6 on 2 pods, kept by 16115 16116',
    'LEAK kubelet 16114: 6, kept by 16115 16116',
  ]);
  lines.forEach((line, i) => assert.ok(displayWidth(line) <= widths[i]!, line));
});

test('three pods and more: the first two names, then the count alone', () => {
  const names = ['a-1', 'b-2', 'c-3'];
  const row = proc(7, {
    comm: 'kubelet',
    leaked: 9,
    watchedPods: names.map((name) => ({ pod: gone(name), watches: 3, leaked: 3, holders: [] })),
    leakHolders: [{ pid: 8, comm: 'busybox' }],
  });
  const node = snapshot([row]);
  assert.equal(verdictLine(node, 200), 'LEAK kubelet 7: 9 watches on 3 gone pods (a-1, b-2, c-3), kept by 8 busybox');
  assert.equal(verdictLine(node, 74), 'LEAK kubelet 7: 9 watches on 3 gone pods (a-1, b-2, …), kept by 8 busybox');
});

test('other leaking processes follow, by pid at least', () => {
  const a = proc(10, { comm: 'kubelet', leaked: 5 });
  const b = proc(20, { comm: 'fluent-bit', leaked: 2 });
  const node = snapshot([b, a]);
  assert.equal(verdictLine(node, 200), 'LEAK kubelet 10: 5 watches; also fluent-bit 20: 2');
  assert.equal(verdictLine(node, 46), 'LEAK kubelet 10: 5 watches; 1 more leaking: 20');
});

test('an unnamed gone pod shows by the start of its uid', () => {
  const unnamed = { uid: '18151e55-6b06-412b-b2b6-379aaaaaaaaa', namespace: null, name: null, container: null, state: 'gone' as const, nameSource: null };
  const node = snapshot([proc(3, { comm: 'kubelet', leaked: 1, watchedPods: [{ pod: unnamed, watches: 1, leaked: 1, holders: [] }] })]);
  assert.equal(verdictLine(node, 200), 'LEAK kubelet 3: 1 watch on 1 gone pod (18151e55)');
});

test('the header shows the verdict under the title when something leaks, and the layout makes room', () => {
  const state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: leakyNode(),
  });
  const plainLayout = layout(120, 40, 1);
  const l = layout(120, 40, 1, { verdict: true });
  assert.equal(l.header.height, plainLayout.header.height + 1);
  assert.equal(l.sparkline.top, plainLayout.sparkline.top + 1);
  const lines = headerLines(state, l, new Painter(false)).map((line) => line.replace(/\{\/?[a-z-]+\}/g, ''));
  assert.match(lines[1]!, /^LEAK kubelet 16114: 6 watches on 2 gone pods \(api-hxagp, api-d8czs\), kept by 16115 sleep, 16116 sleep/);
  assert.equal(lines.length, l.header.height);
});

test('widths count display columns: CJK and emoji take two, combining marks none', () => {
  assert.equal(displayWidth('abc'), 3);
  assert.equal(displayWidth('日本語'), 6);
  assert.equal(displayWidth('📦x'), 3);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(displayWidth('👍🏽'), 2);
  assert.equal(fitColumns('日本語', 7), '日本語 ');
  assert.equal(fitColumns('日本語です', 7), '日本語…');
  assert.equal(displayWidth(fitColumns('日本語です', 6)), 6, 'a wide character that does not fit leaves a space');
  assert.equal(fitColumns('12', 4, 'right'), '  12');
});

test('long paths lose their middle, never their end', () => {
  const path = '/var/lib/kubelet/pods/18151e55-6b06-412b-b2b6-379aaaaaaaaa/volumes/kubernetes.io~projected/kube-api-access-ab12c';
  const short = elideMiddle(path, 40);
  assert.equal(displayWidth(short), 40);
  assert.ok(short.startsWith('/var/lib/kube'), short);
  assert.ok(short.endsWith('/kube-api-access-ab12c'), short);
  assert.ok(short.includes('…'));
  assert.equal(elideMiddle('/short', 10), '/short    ');
  const wide = elideMiddle('/data/写真/2026/夏休み/海.jpg', 16);
  assert.ok(displayWidth(wide) === 16 && wide.trimEnd().endsWith('/海.jpg'), wide);
});

test('more holders than fit: as many pids as fit, and how many more', () => {
  const holders = Array.from({ length: 40 }, (_, i) => ({ pid: 27000 + i, comm: 'runner' }));
  const node = snapshot([proc(26670, { comm: 'kubelet', leaked: 4649, leakHolders: holders })]);
  const line = verdictLine(node, 120)!;
  assert.ok(displayWidth(line) <= 120, line);
  assert.match(line, /^LEAK kubelet 26670: 4,649 watches, kept by 27000 27001 .* \+\d+ more$/);
});

test('wrapping: at spaces, a word longer than a line broken where it must, the text own indent kept', () => {
  assert.deepEqual(wrapColumns('the watch ends when pid 16115 exits', 16, '  '), ['the watch ends', '  when pid 16115', '  exits']);
  assert.deepEqual(wrapColumns('  command: /a/very/long/path/to/a/binary', 16, '    '), ['  command:', '    /a/very/long', '    /path/to/a/b', '    inary']);
  assert.deepEqual(wrapColumns('', 10), ['']);
  assert.ok(wrapColumns('写真 '.repeat(10), 9).every((line) => displayWidth(line) <= 9));
});
