// The screen without a terminal: key table -> actions, the view state's reducer (sort, filter,
// selection by pid, held order, focus), and the rendered lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandForKey, KEY_BINDINGS } from '../../src/views/tui/keys.js';
import { columnAt } from '../../src/views/columns.js';
import { eventText, logLines } from '../../src/views/tui/paint/changes.js';
import { detailLines } from '../../src/views/tui/paint/detail.js';
import { footerLine } from '../../src/views/tui/paint/footer.js';
import { headerLines, notesLine } from '../../src/views/tui/paint/header.js';
import { layout, paneRows } from '../../src/views/tui/paint/layout.js';
import { meter } from '../../src/views/tui/paint/meters.js';
import { helpLines, notesLines } from '../../src/views/tui/paint/overlays.js';
import { Painter } from '../../src/views/painter.js';
import { tableColumns, tableLines } from '../../src/views/tui/paint/table.js';
import { displayWidth } from '../../src/common/width.js';
import { inspectedTarget, paneAsk, processRows, targetPane } from '../../src/views/tui/process-rows.js';
import { paneSlice, rowsSource, type PaneAsk } from '../../src/model/pane.js';
import { ORDER_HOLD_MS } from '../../src/views/tui/process-view.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import type { Action, Command, ViewState } from '../../src/views/tui/view-state.js';
import { inspectLines, inspectParagraphs, inspectText, osc52 } from '../../src/views/tui/inspect.js';
import { NO_FILTER } from '../../src/model/query.js';
import type { Snapshot } from '../../src/model/types.js';
import { pod, proc, snapshot, target, targets } from '../helpers/rows.js';
import { keys, mono } from '../helpers/screen-state.js';

const color = new Painter(true);
const start = () => initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 });
const run = (state: ViewState, ...actions: Action[]) => actions.reduce(reduce, state);
const command = (name: Command, now = 0): Action => ({ type: 'command', command: name, now });
const pids = (state: ViewState) => processRows(state).map((r) => r.pid);
/** Rendered lines as plain text. */
const plain = (lines: string[]) =>
  lines.map((l) =>
    l
      .replace(/\{\/?[a-z-]+\}/g, '')
      .replace(/\{open\}/g, '{')
      .replace(/\{close\}/g, '}'),
  );

const three: Snapshot = snapshot([
  proc(100, { comm: 'kubelet', cmdline: '/usr/bin/kubelet --config=/etc/k.yaml', targets: targets(12) }),
  proc(200, { comm: 'shim', user: 'alice', uid: 1000, targets: targets(3) }),
  proc(300, { comm: 'app', targets: targets(7) }),
]);

test('the key table: every command has keys, no key does two things, quit keys', () => {
  const seen = new Set<string>();
  for (const binding of KEY_BINDINGS) {
    assert.ok(binding.keys.length > 0, binding.command);
    for (const key of binding.keys) {
      assert.ok(!seen.has(key), `${key} bound twice`);
      seen.add(key);
    }
  }
  for (const key of ['q', 'f10', 'C-c']) assert.equal(commandForKey(key), 'quit');
  assert.equal(commandForKey('S-i'), 'invertSort');
  assert.equal(commandForKey('S-z'), 'pause');
  assert.equal(commandForKey('S-g'), 'end');
  assert.equal(commandForKey('left'), 'stepBack');
  assert.equal(commandForKey('right'), 'stepForward');
});

test('the help overlay and the footer are generated from the key table', () => {
  for (const replaying of [false, true]) {
    const help = plain(helpLines(replaying, 1000)).join('\n');
    for (const binding of KEY_BINDINGS) {
      const applies = binding.only === undefined || binding.only === (replaying ? 'replay' : 'live');
      assert.equal(help.includes(binding.help), applies, `${binding.command} in the help, replaying: ${replaying}`);
    }
  }
  const footer = plain([footerLine(start(), 160, mono)])[0]!;
  for (const binding of KEY_BINDINGS.filter((b) => b.footer)) {
    assert.equal(footer.includes(binding.footer!.key + binding.footer!.label), binding.only !== 'replay', binding.command);
  }
  assert.equal([...footer].length, 160);
  const narrow = plain([footerLine(start(), 80, mono)])[0]!;
  assert.match(narrow, /F10Quit/, 'quit always shows');
  assert.equal([...narrow].length, 80);
});

test('keys by mode: a filter being typed takes letters, menus take arrows, help closes on any key', () => {
  let state = run(start(), { type: 'snapshot', snapshot: three });
  state = keys(state, '/', 'k', 'u', 'b', 'e', 'backspace', 'backspace', 'b', 'e');
  assert.equal(state.prompt?.text, 'kube');
  assert.deepEqual(pids(state), [100]);
  state = keys(state, 'enter');
  assert.equal(state.prompt, null);
  assert.deepEqual(pids(state), [100], 'Enter keeps the filter');
  state = keys(state, 'escape');
  assert.deepEqual(pids(state), [100, 300, 200], 'Esc in the table clears it');

  state = keys(state, '?');
  assert.equal(state.overlay?.kind, 'help');
  assert.equal(keys(state, 'x').overlay, null);
  assert.equal(keys(state, 'down').overlay?.kind, 'help');

  state = keys(state, 'x', 's', 'down', 'down');
  assert.equal(state.overlay?.kind, 'sort');
  assert.equal(keys(state, 'x').overlay?.kind, 'sort', 'a menu ignores other keys');
  state = keys(state, 'enter');
  assert.equal(state.overlay, null);
  assert.notEqual(state.sort.field, 'watches');
  assert.equal(keys(state, 'C-c').quit, true);
  assert.equal(keys(keys(state, '/'), 'C-c').quit, true, 'Ctrl-C quits even while typing');
  assert.equal(keys(keys(state, '/'), 'q').quit, false, 'q is a letter while typing');
});

test('sort: < > step through the columns with their natural direction, I inverts, a title click toggles', () => {
  let state = run(start(), { type: 'snapshot', snapshot: three });
  assert.deepEqual(pids(state), [100, 300, 200]);
  state = run(state, command('sortPrevious'));
  assert.deepEqual(state.sort, { field: 'instances', descending: true });
  state = run(state, command('sortPrevious'), command('sortPrevious'));
  assert.deepEqual(state.sort, { field: 'pid', descending: false });
  assert.deepEqual(pids(state), [100, 200, 300]);
  state = run(state, command('invertSort'));
  assert.deepEqual(pids(state), [300, 200, 100]);
  state = run(state, { type: 'sortBy', field: 'user' });
  assert.deepEqual(state.sort, { field: 'user', descending: false });
  state = run(state, { type: 'sortBy', field: 'user' });
  assert.deepEqual(state.sort, { field: 'user', descending: true });
  assert.equal(run(state, command('sortPrevious'), command('sortNext')).sort.field, 'user');
});

test('filters: regex over command, pid, user; a bad regex keeps the last good one; l and u', () => {
  let state = run(start(), { type: 'snapshot', snapshot: three });
  state = keys(state, '/', 'a', 'l', 'i');
  assert.deepEqual(pids(state), [200], 'matches the user');
  state = keys(state, 'escape', '/', '3', '0');
  assert.deepEqual(pids(state), [300], 'matches the pid');
  state = keys(state, '(');
  assert.match(state.message ?? '', /not a valid regular expression/);
  assert.deepEqual(pids(state), [300]);
  state = keys(state, 'escape');
  assert.equal(state.message, null);

  const leaky = snapshot([...three.processes, proc(400, { targets: targets(2, 1, { pod: pod('web', 'gone') }) })]);
  state = run(state, { type: 'snapshot', snapshot: leaky }, command('leakedOnly'));
  assert.deepEqual(pids(state), [400]);
  state = run(state, command('leakedOnly'), command('chooseUser'));
  assert.equal(state.overlay?.kind, 'user');
  state = keys(state, 'down', 'enter');
  assert.equal(state.filter.user, 'root');
  assert.deepEqual(pids(state), [100, 300, 400]);
});

test('the selection follows its pid across refreshes, and keeps its place when the pid exits', () => {
  let state = run(start(), { type: 'snapshot', snapshot: three }, command('down'));
  assert.equal(state.selectedPid, 300);
  state = run(
    state,
    { type: 'tick', now: ORDER_HOLD_MS },
    {
      type: 'snapshot',
      snapshot: snapshot([proc(100, { targets: targets(1) }), proc(200, { targets: targets(3) }), proc(300, { targets: targets(7) })]),
    },
  );
  assert.deepEqual(pids(state), [300, 200, 100]);
  assert.equal(state.selectedPid, 300);
  state = run(state, { type: 'snapshot', snapshot: snapshot([proc(100, { targets: targets(1) }), proc(200, { targets: targets(3) })]) });
  assert.equal(state.selectedPid, 200, 'the row that took its place');
});

test("a window of the selected process's targets shows in its pane; late ones of another pid are dropped", () => {
  const slim = snapshot([proc(100, { watches: 1 }), proc(200, { watches: 3 }), proc(300, { watches: 7 })]);
  let state = run(start(), { type: 'resize', tableRows: 10, detailRows: 5 }, { type: 'snapshot', snapshot: slim });
  assert.equal(state.selectedPid, 300);
  assert.deepEqual(targetPane(state).rows, [], 'empty until they come');
  const ask = paneAsk(state, null)!;
  assert.deepEqual(ask, { pid: 300, leakedOnly: false, filter: null, from: 0, count: 15 }, 'a page either side of what shows');
  assert.equal(paneAsk(state, ask), ask, 'asked already');
  const list = targets(40);
  const answer = (ask: PaneAsk) => run(state, { type: 'slice', slice: paneSlice(rowsSource(list), ask), holders: [] });
  state = answer(ask);
  assert.deepEqual([targetPane(state).total, targetPane(state).rows.length], [40, 15], 'the window held, the count of all');
  state = keys(state, 'enter', 'pagedown', 'pagedown');
  assert.deepEqual([state.detailCursor, state.detailTop], [10, 6]);
  assert.equal(paneAsk(state, ask), ask, 'a scroll within the window asks for nothing');
  state = keys(state, 'pagedown');
  assert.deepEqual([state.detailCursor, state.detailTop], [15, 11]);
  const further = paneAsk(state, ask)!;
  assert.deepEqual([further.from, further.count], [6, 15], 'a scroll past the window asks for a new one');
  const inFlight = plain(detailLines(state, 120, 7, mono));
  assert.match(inFlight[2]!, /\/srv\/file-12 /, 'until it comes, the rows held show');
  assert.equal(inFlight.length, 6, 'as many as are held');
  state = answer(further);
  assert.equal(plain(detailLines(state, 120, 7, mono)).length, 7);
  state = keys(state, 'end');
  assert.deepEqual([state.detailCursor, state.detailTop], [39, 35], 'End: the last of all, not of the window');
  state = answer(paneAsk(state, further)!);
  assert.equal(targetPane(state).from, 25, 'a window past the end moves back');
  assert.match(plain(detailLines(state, 120, 7, mono)).at(-1)!, /\/srv\/file-40 /, 'the last target shows at the bottom');
  const moved = keys(state, 'escape', 'down');
  assert.equal(moved.selectedPid, 200);
  assert.deepEqual(targetPane(moved).rows, [], 'never the targets of the process selected before');
  assert.equal(
    run(moved, { type: 'slice', slice: paneSlice(rowsSource(list), ask), holders: [] }).targetSlice,
    moved.targetSlice,
    'a late answer for another pid is dropped',
  );
});

test('after a navigation key the order holds still for a moment, then follows the sort again', () => {
  let state = run(start(), { type: 'snapshot', snapshot: three }, command('down', 1000));
  const reordered = snapshot([
    proc(100, { targets: targets(1) }),
    proc(200, { targets: targets(30) }),
    proc(300, { targets: targets(7) }),
    proc(500, { targets: targets(99) }),
  ]);
  state = run(state, { type: 'snapshot', snapshot: reordered });
  assert.deepEqual(pids(state), [100, 300, 200, 500], 'held; a new process goes last');
  assert.equal(state.selectedPid, 300);
  state = run(state, { type: 'tick', now: 1000 + ORDER_HOLD_MS - 1 });
  assert.deepEqual(pids(state), [100, 300, 200, 500]);
  state = run(state, { type: 'tick', now: 1000 + ORDER_HOLD_MS });
  assert.deepEqual(pids(state), [500, 200, 300, 100]);
  assert.equal(state.selectedPid, 300);
  assert.equal(run(state, command('down', 5000), command('invertSort')).heldOrder, null, 'a sort change reorders at once');
});

test('paging and scrolling keep the selection visible', () => {
  const many = snapshot(Array.from({ length: 100 }, (_, i) => proc(1000 + i, { targets: targets(200 - i) })));
  let state = run(start(), { type: 'resize', tableRows: 10, detailRows: 5 }, { type: 'snapshot', snapshot: many });
  state = run(state, command('pageDown'), command('pageDown'), command('down'));
  assert.equal(state.selectedIndex, 21);
  assert.ok(state.tableTop <= 21 && 21 < state.tableTop + 10);
  state = run(state, command('end'));
  assert.equal(state.selectedPid, 1099);
  assert.equal(state.tableTop, 90);
  const lines = tableLines(state, 120, 11, mono);
  assert.equal(lines.length, 11, 'column titles and only the visible rows');
  state = run(state, command('home'));
  assert.equal(state.tableTop, 0);
  state = run(state, { type: 'selectIndex', index: 4, now: 0 });
  assert.equal(state.selectedPid, 1004);
});

test('the detail pane: Enter focuses it, arrows scroll it, / filters paths and pods, Esc goes back', () => {
  const kubelet = proc(100, {
    comm: 'kubelet',
    targets: [
      target(1, { watches: 3, path: '/var/lib/kubelet/pods/a/volumes/x', pod: pod('nginx-7c9f') }),
      ...targets(20, 10),
      target(2, {
        path: null,
        status: 'unmounted',
        leak: 'unmounted',
        holders: [{ pid: 4567, comm: 'containerd-shim', mountpoint: '/run/x', boundFrom: [] }],
        heldBy: [4567],
      }),
    ],
  });
  let state = run(start(), { type: 'resize', tableRows: 10, detailRows: 5 }, { type: 'snapshot', snapshot: snapshot([kubelet]) });
  state = keys(state, 'enter');
  assert.equal(state.focus, 'detail');
  state = keys(state, 'down', 'down', 'pagedown');
  assert.deepEqual([state.detailCursor, state.detailTop], [7, 3], 'the cursor moves, the pane follows it');
  assert.equal(state.selectedPid, 100, 'arrows move in the pane, not the table');
  state = keys(state, 'end');
  assert.deepEqual([state.detailCursor, state.detailTop], [21, 22 - 5]);
  state = keys(state, '/', 'n', 'g', 'i', 'n', 'x', 'enter');
  assert.deepEqual(
    targetPane(state).rows.map((t) => t.ino),
    [1],
  );
  assert.equal(state.detailTop, 0);
  const text = plain(detailLines(state, 140, 8, mono)).join('\n');
  assert.match(text, /×3 ok +\/var\/lib\/kubelet\/pods\/a\/volumes\/x +default\/nginx-7c9f/, 'no DEV, FSTYPE below 160 columns');
  assert.match(plain(detailLines(state, 170, 8, mono)).join('\n'), /×3 8:1 +ext4 +ok +\/var\/lib\/kubelet\/pods\/a\/volumes\/x +default\/nginx-7c9f/);
  state = keys(state, '/', 'escape', 'home');
  const held = plain(detailLines(state, 160, 8, mono));
  assert.match(held[2]!, /unmounted .* 4567 containerd-shim +- *$/, 'leaked targets first, with their holder');
  state = keys(state, 'escape');
  assert.equal(state.focus, 'table');
  assert.equal(state.targetFilterText, '');
});

test('pause and interval steps', () => {
  let state = run(start(), command('pause'));
  assert.equal(state.paused, true);
  state = run(state, command('slower'), command('slower'));
  assert.equal(state.intervalMs, 5000);
  state = run(state, command('faster'), command('faster'), command('faster'), command('faster'), command('faster'), command('faster'));
  assert.equal(state.intervalMs, 250);
  assert.equal(run(state, command('pause')).paused, false);
});

test('rendering: escaped text, sort marker, Δ columns, leaked rows, column hit-testing', () => {
  const weird = proc(700, { cmdline: 'evil {red-fg}name{/red-fg}', targets: targets(2, 1, { pod: pod('x', 'gone') }) });
  const opened = run(start(), { type: 'snapshot', snapshot: snapshot([weird, ...three.processes]) });
  assert.equal(opened.selectedPid, 700, 'opens on the leaking process');
  // On the top row: the leaked one shows its own colors.
  const state = keys(opened, 'home');
  const lines = tableLines(state, 120, 10, color);
  assert.match(
    lines.find((l) => l.includes('evil'))!,
    /\{open\}red-fg\{close\}name/,
  );
  const text = plain(lines);
  assert.match(text[0]!, /^ +PID USER +INST WATCHES▼ +Δ +ΔSTART +LEAKED COMMAND/);
  assert.match(
    lines.find((l) => l.includes('evil'))!,
    /\{red-fg\}/,
    'a leaked row is red',
  );
  const columns = tableColumns(state, 120);
  assert.equal(columnAt(columns, 0)?.id, 'pid');
  assert.equal(columnAt(columns, columns.at(-1)!.x + 5)?.id, 'command');
  for (const c of columns) assert.equal(columnAt(columns, c.x)?.id, c.id);

  const grown = run(state, { type: 'snapshot', snapshot: snapshot([weird, proc(100, { targets: targets(15) }), three.processes[1]!, three.processes[2]!]) });
  assert.match(
    plain(tableLines(grown, 120, 10, mono)).find((l) => l.includes(' 100 '))!,
    /15 +\+3 +\+3 /,
  );
});

test('meters turn yellow above 75% and red above 90%', () => {
  assert.match(meter('watches', 10, 100, 40, color), /\{green-fg\}/);
  assert.match(meter('watches', 80, 100, 40, color), /\{yellow-fg\}/);
  assert.match(meter('watches', 95, 100, 40, color), /\{red-fg\}/);
  assert.equal(plain([meter('inst', 64, 128, 30, mono)])[0], 'inst[||||||||||||  64/128 50%]');
  assert.doesNotMatch(meter('inst', 64, 128, 30, mono), /-fg|-bg/, 'no color without color');
});

test('a meter without room for its bar keeps its colors and cuts no figure: the limit goes, then the count', () => {
  // 80 columns give a meter 16-26 columns: a full user must still show red there.
  assert.match(meter('watches', 186_000, 192_543, 21, color), /\{red-fg\}/);
  assert.match(meter('inst', 100, 128, 16, color), /\{yellow-fg\}/);
  assert.equal(plain([meter('watches', 186_000, 192_543, 27, mono)])[0], 'watches 186,000/192,543 97%');
  assert.equal(plain([meter('watches', 186_000, 192_543, 21, mono)])[0], 'watches 186,000 97%  ');
  assert.equal(plain([meter('inst', 70, 8192, 16, mono)])[0], 'inst 70 <1%     ');
  assert.equal(plain([meter('instances', 70, 8192, 8, mono)])[0], 'instanc…');
});

test('the header: host, pod source, per-user meters, totals', () => {
  const state = run(start(), { type: 'snapshot', snapshot: three });
  const l = layout(160, 48, 1);
  const text = plain(headerLines(state, l, mono)).join('\n');
  assert.match(text, /^inotop node-t .* every 2s .* pods: none .* kernel 6\.18\.0-test/);
  assert.match(text, /root +watches\[.*22\/8,192 <1%\] inst\[.*3\/128 2%\]/);
  assert.match(text, /total 3 processes +3 instances +22 watches/);
  assert.match(plain(headerLines(run(state, command('pause')), l, mono))[0]!, /PAUSED/);
});

test('the layout fills the screen at 80x24 and 160x48', () => {
  for (const [w, h] of [
    [80, 24],
    [160, 48],
    [100, 30],
  ] as const) {
    const l = layout(w, h, 3);
    assert.equal(l.header.height + l.table.height + l.detail.height + l.log.height + 1, h);
    assert.ok(paneRows(l).tableRows >= 5, `${w}x${h}`);
    assert.ok(paneRows(l).detailRows >= 3, `${w}x${h}`);
  }
});

test('change log lines say what changed, per process and pod', () => {
  const nginx = pod('nginx-7c9f');
  const time = '2026-11-27T10:00:00.000Z';
  const kubelet = { pid: 812, startTime: 1, uid: 0, user: 'root', comm: 'kubelet', cmdline: '/usr/bin/kubelet', pod: null };
  assert.equal(
    eventText({ kind: 'process-changed', time, process: kubelet, delta: 3, watches: 9, pods: [{ pod: nginx, delta: 3 }] }),
    'kubelet 812 +3: pod default/nginx-7c9f',
  );
  assert.equal(
    eventText({ kind: 'pod-gone', time, pod: { ...nginx, state: 'gone' }, holders: [{ pid: 812, comm: 'kubelet', watches: 3 }] }),
    'pod default/nginx-7c9f gone: kubelet 812 still holds 3 watches',
  );
  assert.equal(
    eventText({
      kind: 'pod-gone',
      time,
      pod: { ...nginx, state: 'gone' },
      holders: [
        { pid: 812, comm: 'kubelet', watches: 3 },
        { pid: 9, comm: 'shim', watches: 1 },
      ],
    }),
    'pod default/nginx-7c9f gone: still held by kubelet 812 (3), shim 9 (1)',
  );
  assert.equal(eventText({ kind: 'process-exited', time, process: { ...kubelet, pid: 5, comm: 'tail' }, watches: 1 }), 'tail 5 exited: 1 watch freed');
});

test('a change longer than its line is cut between its pods or words, never inside a figure', () => {
  const time = '2026-11-27T10:00:00.000Z';
  const kubelet = { pid: 26670, startTime: 1, uid: 0, user: 'root', comm: 'kubelet', cmdline: '/usr/bin/kubelet', pod: null };
  const pods = ['runner-wvprj', 'runner-bxl9j', 'runner-2l869'].map((name) => ({ pod: pod(name, 'live', 'ci'), delta: 32 }));
  const base = run(start(), { type: 'snapshot', snapshot: snapshot([]) });
  const logged = (width: number) => {
    const state = {
      ...base,
      history: { ...base.history, events: [{ kind: 'process-changed' as const, time, process: kubelet, delta: 2300, watches: 2300, pods }] },
    };
    return plain(logLines(state, width, 3, mono))[1]!.trimEnd();
  };
  assert.match(logged(80), /^\d\d:\d\d:\d\d {2}kubelet 26670 \+2,300: pod ci\/runner-wvprj \+32, …$/);
  assert.match(logged(40), /^\d\d:\d\d:\d\d {2}kubelet 26670 \+2,300: pod …$/);
  assert.equal(logged(200), logged(200).replace(/…/, ''), 'whole where it fits');
});

test('the change log follows the process filter; pod events always show', () => {
  const gone = pod('web', 'gone');
  let state = run(start(), { type: 'snapshot', snapshot: snapshot([proc(10, { targets: targets(1) }), proc(20, { targets: targets(1) })]) });
  state = run(state, {
    type: 'snapshot',
    snapshot: snapshot([proc(10, { targets: targets(2) }), proc(20, { targets: [...targets(2), ...targets(1, 50, { pod: gone })] })]),
  });
  const log = (s: ViewState) =>
    plain(logLines(s, 120, 8, mono))
      .slice(1)
      .join('\n');
  assert.match(log(state), /proc10 10 \+1/);
  assert.match(log(state), /proc20 20 \+2/);
  state = keys(state, '/', 'p', 'r', 'o', 'c', '1', 'enter');
  assert.doesNotMatch(log(state), /proc20 20 \+2/);
  assert.match(log(state), /proc10 10 \+1/);
  assert.match(log(state), /pod default\/web gone: proc20 20 still holds 1 watch +$/m);
});

test("the selection opens on the recording's process, else the first leaking one, else the top one, and follows until the user picks", () => {
  const big = proc(1, { comm: 'systemd', targets: targets(30) });
  const kubelet = (watches: number, leaked: number) => proc(50, { comm: 'kubelet', targets: targets(watches, 100), leaked });
  let state = run(start(), { type: 'snapshot', snapshot: snapshot([big, kubelet(5, 0)]) });
  assert.equal(state.selectedPid, 1, 'the top one');
  state = run(state, { type: 'snapshot', snapshot: snapshot([big, kubelet(5, 2)]) });
  assert.equal(state.selectedPid, 50, 'the first leaking one, once it leaks');
  state = run(state, { type: 'snapshot', snapshot: snapshot([big, kubelet(5, 0)]), openOn: 50 });
  assert.equal(state.selectedPid, 50, "the recording's choice");
  state = keys(state, 'home');
  state = run(state, { type: 'snapshot', snapshot: snapshot([big, kubelet(5, 3)]) });
  assert.equal(state.selectedPid, 1, 'the user picked: it stays');
});

test('until the user picks, a sort or filter moves the selection to the new top at once, also paused; a recording keeps its process', () => {
  const a = proc(1, { comm: 'aaa', targets: targets(30) });
  const b = proc(2, { comm: 'bbb', targets: targets(5, 100) });
  let state = run(start(), { type: 'snapshot', snapshot: snapshot([a, b]) }, command('pause'));
  assert.equal(state.selectedPid, 1, 'the top one');
  state = keys(state, 'S-i');
  assert.deepEqual(pids(state), [2, 1]);
  assert.equal(state.selectedPid, 2, 'the top one after I, before any refresh');
  state = keys(state, '/', 'a', 'enter');
  assert.equal(state.selectedPid, 1, 'the top one of the filtered rows');
  let replay = run(start(), { type: 'snapshot', snapshot: snapshot([a, b]), openOn: 2 });
  replay = keys(replay, 'S-i', 'S-i');
  assert.equal(replay.selectedPid, 2, "the recording's process, whatever the sort");
  state = keys(state, 'escape', 'home', 'S-i');
  assert.equal(state.selectedPid, 2, 'picked: it stays on its process');
});

test('the filter finds a watcher by the pod it watches, not only by its own pod', () => {
  const gonePod = pod('runner-x', 'gone');
  const kubelet = proc(50, { comm: 'kubelet', targets: targets(3, 1, { pod: gonePod }), watchedPods: [{ pod: gonePod, watches: 3, leaked: 3, holders: [] }] });
  const holder = proc(60, { comm: 'sleep', pod: gonePod, targets: targets(1, 9) });
  const other = proc(70, { comm: 'agent', targets: targets(2, 20) });
  let state = run(start(), { type: 'snapshot', snapshot: snapshot([kubelet, holder, other]) });
  state = keys(state, '/', 'r', 'u', 'n', 'n', 'e', 'r', '-', 'x', 'enter');
  assert.deepEqual(pids(state).sort(), [50, 60]);
  state = keys(state, '/', 'escape', '/', ...'uid-runner'.split(''), 'enter');
  assert.deepEqual(pids(state).sort(), [50, 60], 'by uid too');
});

test('the detail pane at 120 columns: STATUS, the holder and POD whole, the path losing its middle', () => {
  const uid = '18151e55-6b06-412b-b2b6-379aaaaaaaaa';
  const long = `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~projected/kube-api-access-ab12c/..2026_11_27_10_00_00.123456789/token`;
  const gonePod = { uid, namespace: 'shop', name: 'api-6b8f7c9d5-q4zlm', container: null, state: 'gone' as const, nameSource: null };
  const kubelet = proc(100, {
    comm: 'kubelet',
    targets: [
      target(1, {
        path: long,
        status: 'unmounted',
        leak: 'unmounted',
        pod: gonePod,
        holders: [
          { pid: 16115, comm: 'sleep', mountpoint: '/x', boundFrom: [] },
          { pid: 16116, comm: 'sleep', mountpoint: '/y', boundFrom: [] },
        ],
        heldBy: [16115, 16116],
      }),
      target(2, { path: '/srv/数据/文件.txt' }),
    ],
  });
  const state = run(start(), { type: 'snapshot', snapshot: snapshot([kubelet]) });
  const lines = plain(detailLines(state, 120, 8, mono));
  assert.ok(
    lines.every((line) => displayWidth(line) === 120),
    lines.join('\n'),
  );
  assert.match(lines[0]!, /1 instance, 2 watches, 1 leaked/);
  assert.match(lines[2]!, /^ +1 unmounted +\/var\/lib\/kube.*….*\/token +16115 sleep \+1 +shop\/api-6b8f7c9d5-q4zlm \(gone\)$/);
  assert.match(lines[3]!, /文件\.txt +- *$/);
});

test('panes size to their content: a short table gives its rows to a long detail pane', () => {
  const full = layout(120, 40, 1);
  const sized = layout(120, 40, 1, { content: { tableRows: 3, detailRows: 30 } });
  assert.equal(sized.table.height, 4);
  assert.ok(sized.detail.height > full.detail.height);
  assert.equal(sized.table.height + sized.detail.height, full.table.height + full.detail.height);
  const few = layout(120, 40, 1, { content: { tableRows: 100, detailRows: 2 } });
  assert.equal(few.detail.height, 4, 'a short detail pane gives its rows to the table');
});

test('notes: whole, as many as fit, n lists them all', () => {
  const notes = ['12 processes not readable even with CAP_SYS_PTRACE: run as root to see them', 'walk budget ran out on 0:45 (312 targets unresolved)'];
  assert.equal(notesLine(notes, 200), `notes: ${notes[0]}; ${notes[1]}`);
  assert.equal(notesLine(notes, 120), `note: ${notes[0]}  (+1 more: n lists them)`);
  const cut = notesLine(notes, 60);
  assert.match(cut, /^note: 12 processes not readable…  \(\+1 more: n lists them\)$/, 'cut after a word');
  let state = run(start(), { type: 'snapshot', snapshot: { ...snapshot([proc(1, { targets: targets(2) })]), notes } });
  state = keys(state, 'n');
  assert.equal(state.overlay?.kind, 'notes');
  const overlay = notesLines(state, 40);
  assert.ok(overlay.every((line) => displayWidth(line) <= 40));
  assert.equal(overlay.join(' ').replace(/ +/g, ' '), `• ${notes[0]} • ${notes[1]}`);
  assert.equal(keys(state, 'x').overlay, null);
});

test('the title leaves out whole parts that do not fit, never cuts one', () => {
  const state = run(start(), {
    type: 'snapshot',
    snapshot: { ...snapshot([proc(1, { targets: targets(2) })]), pods: { source: 'crictl', live: 49, stale: false, error: null } },
  });
  const title = plain(headerLines(state, layout(100, 40, 1), mono))[0]!;
  assert.match(title, /pods: crictl 49 live/);
  assert.match(title.trimEnd(), /  ·  kernel 6\.18\.0-test  ·  …$/, 'the scan time left out, whole');
});

test('inspect: Enter on a target opens it whole; y copies its text; Esc closes', () => {
  const gonePod = {
    uid: '18151e55-6b06-412b-b2b6-379aaaaaaaaa',
    namespace: null,
    name: 'api-hxagp',
    container: null,
    state: 'gone' as const,
    nameSource: 'etc-hosts' as const,
  };
  const holder = {
    pid: 16115,
    comm: 'sleep',
    mountpoint: '/var/run/secrets/kubernetes.io/serviceaccount',
    boundFrom: [`/var/lib/kubelet/pods/${gonePod.uid}/etc-hosts`],
  };
  const token = target(1, {
    dev: '0:88',
    fstype: 'tmpfs',
    path: '/var/run/secrets/kubernetes.io/serviceaccount',
    status: 'unmounted',
    leak: 'unmounted',
    pod: gonePod,
    holders: [holder],
    heldBy: [16115],
  });
  const cgroup = target(2, { dev: '0:29', fstype: 'cgroup2', path: null, reason: 'ESTALE: the inode is gone', status: 'deleted', leak: 'deleted' });
  const kubelet = proc(16114, { comm: 'kubelet', targets: [cgroup, token, ...targets(3, 10)] });
  let state = run(start(), { type: 'snapshot', snapshot: snapshot([kubelet]) });
  state = run(state, {
    type: 'slice',
    slice: paneSlice(rowsSource(kubelet.targets), { pid: 16114, leakedOnly: false, filter: null, from: 0, count: 5 }),
    holders: [{ pid: 16115, cmdline: '/bin/busybox sleep infinity', cgroup: '/user.slice/user-0.slice/session-3.scope', pod: null }],
  });
  state = keys(state, 'enter', 'down', 'enter');
  assert.equal(state.overlay?.kind, 'inspect');
  const view = inspectedTarget(state)!;
  assert.equal(view.target.ino, 1);
  const paragraphs = inspectParagraphs(view.row, view.target, state.holderDetails);
  const text = inspectLines(paragraphs, 70);
  assert.ok(text.every((line) => displayWidth(line) <= 70));
  assert.equal(
    text.join(' ').replace(/\s+/g, ''),
    paragraphs
      .map((p) => p.text)
      .join('')
      .replace(/\s+/g, ''),
    'wrapped, nothing cut',
  );
  const whole = inspectText(paragraphs);
  assert.match(whole, /path, as kubelet 16114 sees it: \/var\/run\/secrets\/kubernetes\.io\/serviceaccount/);
  assert.match(whole, /device 0:88 +inode 1 +fstype tmpfs/);
  assert.match(whole, /name from etc-hosts/);
  assert.match(whole, /command: \/bin\/busybox sleep infinity/);
  assert.match(whole, /cgroup: \/user\.slice\/user-0\.slice\/session-3\.scope/);
  assert.match(whole, /how it got there: its mount namespace has the pod's files bound in .* it entered a container's mount namespace/);
  assert.match(whole, /NEXT STEP: the watch ends when pid 16115 exits: its mount namespace holds the last mount of this volume\. Check what it is/);
  assert.match(whole, /KERNEL RULE:/);
  state = keys(state, 'y');
  assert.ok(state.copy?.startsWith('Target of pid 16114 kubelet'));
  assert.match(osc52('hé'), /^\x1b\]52;c;aMOp\x07$/);
  state = run(state, { type: 'copied' });
  assert.equal(state.copy, null);
  state = keys(state, 'escape');
  assert.equal(state.overlay, null);
  assert.equal(state.focus, 'detail');

  const removed = inspectParagraphs(kubelet, cgroup, new Map())
    .map((p) => p.text)
    .join('\n');
  assert.match(removed, /NEXT STEP: only the watcher can drop this watch: restarting kubelet \(pid 16114\) releases it\./);
  assert.match(removed, /kernfs sends no IN_IGNORED/);
});

test('the header says when the counts cannot be gone by: a scan that missed too much, a refresh that failed', () => {
  const start = initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 });
  const seen = snapshot([proc(1, { targets: targets(3) })]);
  const blind = { ...seen, scan: { complete: false, reason: '40 of 120 processes not read (EIO 40)', unreadable: { EIO: 40 } } };
  const totalsLine = (state: ReturnType<typeof initialState>) =>
    headerLines(state, layout(160, 40, 1), mono)
      .map((line) => line.replace(/\{\/?[a-z-]+\}/g, ''))
      .find((line) => line.includes('processes'))!;
  assert.match(totalsLine(reduce(start, { type: 'snapshot', snapshot: seen })), /^total 1 processes/);
  const incomplete = reduce(start, { type: 'snapshot', snapshot: blind });
  assert.match(totalsLine(incomplete), /^CANNOT TELL: 40 of 120 processes not read \(EIO 40\): total 1 processes/);
  const failed = reduce(reduce(start, { type: 'snapshot', snapshot: seen }), { type: 'failed', message: 'cannot read /proc: EIO (i/o error)' });
  assert.match(totalsLine(failed), /^CANNOT TELL: cannot read \/proc: EIO \(i\/o error\); as of \d\d:\d\d:\d\d: total 1 processes/);
  assert.match(totalsLine(reduce(failed, { type: 'snapshot', snapshot: seen })), /^total 1 processes/, 'until a refresh succeeds');
});
