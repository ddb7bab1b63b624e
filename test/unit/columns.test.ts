// The one column table (src/views/columns.ts): every view's table, chooser, sort menu and help
// come from it, so these check the table itself and what each view makes of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grouped } from '../../src/common/format.js';
import { columnsHelpText, parseOptions } from '../../src/cli/args.js';
import { compareRows, NO_FILTER, type SortField } from '../../src/model/query.js';
import type { ProcessRow, Snapshot, TargetRow } from '../../src/model/types.js';
import { batchText } from '../../src/views/batch.js';
import {
  COLUMNS,
  HIDEABLE_COLUMNS,
  parseColumn,
  parseSortField,
  placeColumns,
  rowCells,
  shownColumns,
  SORT_FIELDS,
  sortableColumns,
  titleCells,
  toggleColumn,
  viewColumns,
  type CellContext,
} from '../../src/views/columns.js';
import { detailLines, detailLines as podDetailLines } from '../../src/views/tui/paint/detail.js';
import { helpLines, menuLines } from '../../src/views/tui/paint/overlays.js';
import { Painter } from '../../src/views/painter.js';
import { tableColumns, tableLines, tableLines as podTableLines } from '../../src/views/tui/paint/table.js';
import { processRows } from '../../src/views/tui/process-rows.js';
import { cellContext, detailColumns } from '../../src/views/tui/process-view.js';
import { widestCells } from '../../src/views/target-pane.js';
import { parseSettings } from '../../src/views/tui/settings.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import type { ViewState } from '../../src/views/tui/view-state.js';
import { displayWidth } from '../../src/common/width.js';
import { pod, proc, snapshot, target, targets } from '../helpers/rows.js';
import { keys, mono, plain } from '../helpers/screen-state.js';

/** Text wider than every column, in CJK, emoji and combining marks. */
const wide = proc(4194304, {
  user: '利用者名前長い',
  comm: '監視',
  cmdline: '/opt/監視/🚀🚀🚀 --path=/データ/ディレクトリ/e\u0301',
  instances: 123456,
  watches: 1234567,
  fanotifyGroups: 12345678,
  fanotifyMarks: 123456789,
  pod: pod('名前空間のポッド🚀'.repeat(3)),
  targets: targets(3, 1, { pod: pod('gone-one', 'gone') }),
});

const screenContext: CellContext = {
  count: grouped,
  blankZeros: true,
  sinceLast: () => -123456789,
  sinceStart: () => 987654321,
  churn: () => ({ addsPerSecond: 123456.7, removesPerSecond: 9876.5 }),
  prefix: () => '│ └─ ',
  failed: () => true,
};
const batchContext: CellContext = { ...screenContext, count: String, blankZeros: false };

test('every column renders within its width, CJK and emoji counted in display columns', () => {
  for (const context of [screenContext, batchContext]) {
    const columns = placeColumns(COLUMNS, 300);
    const cells = rowCells(wide, columns, context);
    const titles = titleCells(columns);
    columns.forEach((column, i) => {
      assert.equal(displayWidth(cells[i]!), column.width, `${column.id}: ${cells[i]}`);
      assert.equal(displayWidth(titles[i]!), column.width, `${column.id}'s title`);
    });
    assert.equal(displayWidth(cells.join(' ')), 300, 'the line is as wide as asked');
  }
  // A flexible column never cut (a pipe) keeps its text whole.
  const piped = placeColumns(COLUMNS, null);
  assert.equal(piped.at(-1)!.width, null);
  assert.match(rowCells(wide, piped, batchContext).at(-1)!, /🚀🚀🚀 --path=\/データ\/ディレクトリ\/e\u0301$/u);
});

test('sort fields map 1:1 to columns, by field name or title', () => {
  assert.equal(new Set(SORT_FIELDS).size, SORT_FIELDS.length, 'no field sorts two columns');
  for (const spec of COLUMNS) {
    if (!spec.sort) continue;
    assert.equal(spec.sort.field, spec.id, 'a sortable column is named by its field');
    assert.equal(parseSortField(spec.id.toUpperCase()), spec.id);
    assert.equal(parseSortField(spec.title), spec.id);
    assert.equal(typeof compareRows(spec.sort.field, null)(wide, proc(1)), 'number');
  }
  assert.equal(parseSortField('add/s'), 'addsPerSecond');
  assert.equal(parseSortField('FAN-M'), 'fanotifyMarks');
  assert.equal(parseSortField('pod'), null, 'POD does not sort');
  // The sort menu is every sortable column of the screen.
  const state = keys(start(snapshot([proc(1)])), 's');
  const menu = plain(menuLines(state, mono).lines);
  assert.deepEqual(
    menu.map((line) => line.slice(2, 10).trim()),
    sortableColumns('screen').map((spec) => spec.title),
  );
});

test('the chooser lists exactly the hideable columns of the screen; the help lists every column', () => {
  assert.deepEqual(
    HIDEABLE_COLUMNS,
    COLUMNS.filter((spec) => spec.hideable && spec.screen !== null).map((spec) => spec.id),
  );
  assert.ok(!HIDEABLE_COLUMNS.includes('pid') && !HIDEABLE_COLUMNS.includes('command'));
  assert.ok(!HIDEABLE_COLUMNS.includes('fanotify'), "the -b FANOTIFY column is not the screen's");
  const state = keys(start(snapshot([proc(1)])), 'f2');
  const lines = plain(menuLines(state, mono).lines);
  assert.deepEqual(
    lines.map((line) => line.slice(4, 12).trim()),
    HIDEABLE_COLUMNS.map((id) => COLUMNS.find((spec) => spec.id === id)!.title),
  );
  const help = plain(helpLines(false, 1000)).join('\n');
  for (const spec of viewColumns('screen')) assert.ok(help.includes(spec.help), spec.id);
});

test('defaults: ADD/s, RM/s and POD only when asked; FAN-G and FAN-M where the node holds fanotify groups', () => {
  const ids = (fanotify: boolean) => shownColumns('screen', { fanotify, hidden: [], shown: [] }).map((spec) => spec.id);
  assert.deepEqual(ids(false), ['pid', 'user', 'instances', 'watches', 'delta', 'deltaStart', 'leaked', 'command']);
  assert.deepEqual(ids(true), ['pid', 'user', 'instances', 'watches', 'fanotifyGroups', 'fanotifyMarks', 'delta', 'deltaStart', 'leaked', 'command']);
  const batch = (fanotify: boolean) => shownColumns('batch', { fanotify, hidden: [], shown: [] }).map((spec) => spec.id);
  assert.deepEqual(batch(false), ['pid', 'user', 'instances', 'watches', 'leaked', 'pod', 'command']);
  assert.deepEqual(batch(true), ['pid', 'user', 'instances', 'watches', 'fanotify', 'leaked', 'pod', 'command']);
  // Toggling: a default column is hidden, an asked-for one shown, and back.
  const none = { fanotify: false, hidden: [], shown: [] };
  assert.deepEqual(toggleColumn(none, 'delta', 'screen'), { hidden: ['delta'], shown: [] });
  assert.deepEqual(toggleColumn(none, 'addsPerSecond', 'screen'), { hidden: [], shown: ['addsPerSecond'] });
  assert.deepEqual(toggleColumn({ ...none, shown: ['addsPerSecond'] }, 'addsPerSecond', 'screen'), { hidden: ['addsPerSecond'], shown: [] });
  assert.deepEqual(toggleColumn({ ...none, fanotify: true }, 'fanotifyGroups', 'screen'), { hidden: ['fanotifyGroups'], shown: [] });
  assert.deepEqual(toggleColumn({ ...none, hidden: ['fanotifyGroups'] }, 'fanotifyGroups', 'screen'), { hidden: [], shown: ['fanotifyGroups'] });
});

function start(first: Snapshot): ViewState {
  return reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), { type: 'snapshot', snapshot: first });
}

/** Three processes, the tracer on: 201 adding fast, 202 removing, 203 idle. */
function churning(): Snapshot {
  const base = snapshot([proc(201, { targets: targets(2) }), proc(202, { targets: targets(5, 10) }), proc(203, { targets: targets(9, 20) })]);
  return {
    ...base,
    trace: { state: 'on', reason: null },
    churn: [
      { pid: 201, comm: 'proc201', adds: 25, removes: 1, addsPerSecond: 12.5, removesPerSecond: 0.5 },
      { pid: 202, comm: 'proc202', adds: 2, removes: 8, addsPerSecond: 1, removesPerSecond: 4 },
    ],
  };
}

/** The table's cells under a title, by pid. */
function column(state: ViewState, title: string): Map<number, string> {
  const lines = plain(tableLines(state, 160, 20, mono));
  const columns = tableColumns(state, 160);
  const at = columns.find((c) => c.title.replace(/[▼▲]$/, '') === title);
  assert.ok(at, `${title} shows`);
  return new Map(lines.slice(1).map((line) => [Number(line.slice(0, 8)), line.slice(at.x, at.x + at.width!).trim()]));
}

test('F2 shows ADD/s and RM/s: the tracer\'s rates per process, sortable; "-" when not traced', () => {
  let state = start(churning());
  assert.ok(!tableColumns(state, 160).some((c) => c.id === 'addsPerSecond'), 'hidden by default');
  state = keys(state, 'f2', ...Array<string>(HIDEABLE_COLUMNS.indexOf('addsPerSecond')).fill('down'), 'enter', 'down', 'enter', 'escape');
  assert.deepEqual(state.shownColumns, ['addsPerSecond', 'removesPerSecond']);
  assert.deepEqual(state.hiddenColumns, []);
  assert.deepEqual(
    [...column(state, 'ADD/s')],
    [
      [203, ''],
      [202, '1'],
      [201, '12.5'],
    ],
  );
  assert.deepEqual(
    [...column(state, 'RM/s')],
    [
      [203, ''],
      [202, '4'],
      [201, '0.5'],
    ],
  );
  // Sorting by it: most adds first; then by RM/s.
  state = reduce(state, { type: 'sortBy', field: 'addsPerSecond' });
  assert.deepEqual(
    processRows(state).map((row) => row.pid),
    [201, 202, 203],
  );
  state = reduce(state, { type: 'sortBy', field: 'removesPerSecond' });
  assert.deepEqual(
    processRows(state).map((row) => row.pid),
    [202, 201, 203],
  );
  // < and > go across the columns that show, ADD/s and RM/s among them now.
  assert.equal(keys(state, '<').sort.field, 'addsPerSecond');
  // A leak in progress (adding faster than removing) is colored as a growing count.
  const painted = tableLines(state, 160, 20, new Painter(true)).find((line) => line.startsWith('     201'))!;
  assert.match(painted, /\{yellow-fg\} +12\.5\{\/yellow-fg\}/);
  assert.doesNotMatch(painted, /\{yellow-fg\} +0\.5/, 'RM/s has no color of its own');
  // Not traced (no root, --no-trace, an older recording): cannot tell, not zero.
  const untraced = reduce(state, { type: 'snapshot', snapshot: { ...churning(), trace: { state: 'off', reason: 'not root' } } });
  assert.deepEqual([...column(untraced, 'ADD/s').values()], ['-', '-', '-']);
  assert.equal(cellContext(untraced).churn(201), null);
  // Shown again and hidden again: back where it started.
  const back = keys(state, 'f2', ...Array<string>(HIDEABLE_COLUMNS.indexOf('addsPerSecond')).fill('down'), 'enter', 'escape');
  assert.deepEqual([back.shownColumns, back.hiddenColumns], [['removesPerSecond'], ['addsPerSecond']]);
});

test('FAN-G and FAN-M show where some process holds fanotify groups, hide with F2, and sort', () => {
  const agent = proc(300, { instances: 0, targets: [], fanotifyGroups: 3, fanotifyMarks: 41 });
  const base = snapshot([proc(301, { targets: targets(4) }), agent]);
  const withGroups: Snapshot = { ...base, totals: { ...base.totals, fanotifyGroups: 3, fanotifyMarks: 41 } };
  let state = start(withGroups);
  assert.match(plain(tableLines(state, 160, 5, mono))[0]!, /^ +PID USER +INST WATCHES▼ +FAN-G +FAN-M +Δ +ΔSTART +LEAKED COMMAND/);
  assert.deepEqual(
    [...column(state, 'FAN-G')],
    [
      [301, '0'],
      [300, '3'],
    ],
  );
  assert.equal(column(state, 'FAN-M').get(300), '41');
  state = reduce(state, { type: 'sortBy', field: 'fanotifyMarks' });
  assert.deepEqual(
    processRows(state).map((row) => row.pid),
    [300, 301],
  );
  const fanIndex = HIDEABLE_COLUMNS.indexOf('fanotifyGroups');
  assert.match(plain(menuLines(keys(state, 'f2'), mono).lines)[fanIndex]!, /^\[x\] FAN-G/);
  state = keys(state, 'f2', ...Array<string>(fanIndex).fill('down'), 'enter', 'down', 'enter', 'escape');
  assert.deepEqual(state.hiddenColumns, ['fanotifyGroups', 'fanotifyMarks']);
  assert.doesNotMatch(plain(tableLines(state, 160, 5, mono))[0]!, /FAN-/);
  // A node without groups: not shown, and the chooser says so; F2 can show them still.
  const plainNode = start(snapshot([proc(301, { targets: targets(4) })]));
  assert.doesNotMatch(plain(tableLines(plainNode, 160, 5, mono))[0]!, /FAN-/);
  assert.match(plain(menuLines(keys(plainNode, 'f2'), mono).lines)[fanIndex]!, /^\[ \] FAN-G/);
  const asked = keys(plainNode, 'f2', ...Array<string>(fanIndex).fill('down'), 'enter', 'escape');
  assert.match(plain(tableLines(asked, 160, 5, mono))[0]!, /WATCHES▼ +FAN-G +Δ/);
});

test('every column shown on an 80-column screen: lines end at the edge, the last column cut there', () => {
  const all = HIDEABLE_COLUMNS.filter((id) => id !== 'delta');
  const state = { ...start(snapshot([wide, proc(2, { targets: targets(1) })])), shownColumns: all };
  const lines = plain(tableLines(state, 80, 5, mono));
  for (const line of lines) assert.ok(displayWidth(line) <= 80, `${displayWidth(line)}: ${line}`);
  assert.ok(!tableColumns(state, 80).some((c) => c.id === 'command'), 'COMMAND is past the edge');
});

test('-o json and -o wide mean what they mean to kubectl users; any other -o is a column list, -b implied', () => {
  const parse = (...argv: string[]) => parseOptions(argv, {}, false);
  assert.deepEqual([parse('-o', 'json').mode, parse('-o', 'json').columns], ['json', null]);
  assert.equal(parse('--output=json', '-n', '3').mode, 'json', "kubectl's --output");
  assert.deepEqual([parse('-o', 'wide').mode, parse('-o', 'wide').columns], ['batch', 'wide']);
  assert.deepEqual([parse('-o', 'pid,command').mode, parse('-o', 'pid,command').columns], ['batch', ['pid', 'command']]);
  assert.throws(() => parse('-b', '-o', 'json'), /-b and -o json do not go together/);
  assert.throws(() => parse('--json', '-o', 'pid'), /--json prints every field; -o pid is for the text table/);
  // The words are no column's: a column list never means them.
  for (const word of ['json', 'wide']) assert.equal(parseColumn(word, 'batch'), null, word);

  // wide: every column -b offers; fanotify's where some process holds a group, as by default.
  const titlesOf = (rows: ReturnType<typeof proc>[]) => {
    const taken = snapshot(rows);
    const fanotifyGroups = rows.reduce((sum, row) => sum + (row.fanotifyGroups ?? 0), 0);
    return batchText({ ...taken, totals: { ...taken.totals, fanotifyGroups } }, rows, { withTargets: false, color: false, width: null, columns: 'wide' })
      .split('\n')
      .find((line) => /^ +PID /.test(line))!
      .trim()
      .split(/ +/);
  };
  assert.deepEqual(titlesOf([proc(1)]), ['PID', 'USER', 'INST', 'WATCHES', 'ADD/s', 'RM/s', 'LEAKED', 'QUEUE', 'POD', 'COMMAND']);
  assert.deepEqual(titlesOf([proc(1, { fanotifyGroups: 1, fanotifyMarks: 3 })]), [
    'PID',
    'USER',
    'INST',
    'WATCHES',
    'FANOTIFY',
    'FAN-G',
    'FAN-M',
    'ADD/s',
    'RM/s',
    'LEAKED',
    'QUEUE',
    'POD',
    'COMMAND',
  ]);
  assert.match(columnsHelpText(), /^-o json: .*\n-o wide: .*\n-o ID,ID\.\.\./);
});

test('-o: the columns of -b by id or title, in their order; unknown ones are errors', () => {
  assert.deepEqual(parseOptions(['-b', '-o', 'pid,ADD/s,rm/s,fanotifyMarks,command'], {}, false).columns, [
    'pid',
    'addsPerSecond',
    'removesPerSecond',
    'fanotifyMarks',
    'command',
  ]);
  assert.equal(parseOptions(['-b'], {}, false).columns, null);
  assert.throws(() => parseOptions(['-b', '-o', 'pid,delta'], {}, false), /unknown column 'delta'/, 'Δ needs the screen');
  assert.throws(() => parseOptions(['-b', '-o', ','], {}, false), /-o needs at least one column/);
  assert.equal(parseOptions(['-o', 'help'], {}, false).mode, 'columns-help');
  assert.equal(parseColumn(' Fan-G ', 'batch'), 'fanotifyGroups');
  const text = batchText(churning(), churning().processes, {
    withTargets: false,
    color: false,
    width: null,
    columns: ['pid', 'addsPerSecond', 'removesPerSecond', 'command'],
  });
  const table = text.split('\n').filter((line) => /^ +(PID|20\d) /.test(line));
  assert.deepEqual(table, [
    '     PID   ADD/s    RM/s COMMAND',
    '     201    12.5     0.5 /usr/bin/proc201 --serve',
    '     202       1       4 /usr/bin/proc202 --serve',
    '     203       0       0 /usr/bin/proc203 --serve',
  ]);
});

test('settings keep the columns the chooser showed; unknown ones are said', () => {
  assert.deepEqual(parseSettings(JSON.stringify({ hiddenColumns: ['fanotifyGroups'], shownColumns: ['addsPerSecond', 'pod'] }), 'c.json'), {
    settings: { hiddenColumns: ['fanotifyGroups'], shownColumns: ['addsPerSecond', 'pod'] },
    note: null,
  });
  assert.equal(parseSettings(JSON.stringify({ shownColumns: ['fanotify'] }), 'c.json').note, 'c.json: shownColumns not understood: using the default for it');
});

test('every field the model sorts by is a column, and its comparator orders rows by what that column shows', () => {
  // Every SortField, checked by the compiler: a field added to the model fails here until it has a column.
  const modelFields: Record<SortField, true> = {
    pid: true,
    user: true,
    instances: true,
    watches: true,
    fanotifyGroups: true,
    fanotifyMarks: true,
    delta: true,
    deltaStart: true,
    addsPerSecond: true,
    removesPerSecond: true,
    leaked: true,
    queuedBytes: true,
    command: true,
  };
  assert.deepEqual([...SORT_FIELDS].sort(), Object.keys(modelFields).sort(), 'the columns sort by every field of the model, and by no other');
  // For each field, two processes that differ in that field only: a comparator of any other field cannot tell them apart.
  const base = { user: 'alice', instances: 1, watches: 2, fanotifyGroups: 1, fanotifyMarks: 1, leaked: 1, cmdline: '/bin/a' };
  const higher: Record<SortField, Partial<ProcessRow> | null> = {
    pid: null, // the pid itself differs
    user: { user: 'bob' },
    instances: { instances: 5 },
    watches: { watches: 9 },
    fanotifyGroups: { fanotifyGroups: 3 },
    fanotifyMarks: { fanotifyMarks: 7 },
    delta: null,
    deltaStart: null,
    addsPerSecond: null,
    removesPerSecond: null,
    queuedBytes: { queuedBytes: 4096 },
    leaked: { leaked: 4 },
    command: { cmdline: '/bin/b' },
  };
  // The figures that are not the row's own, by pid: 202's the higher in the field under test only.
  const deltasOf = (field: SortField) => ({
    sinceLast: (pid: number) => (field === 'delta' && pid === 202 ? 2 : -3),
    sinceStart: (pid: number) => (field === 'deltaStart' && pid === 202 ? 6 : 1),
  });
  const churnOf = (field: SortField, pid: number) => ({
    pid,
    comm: '',
    adds: 0,
    removes: 0,
    addsPerSecond: field === 'addsPerSecond' && pid === 202 ? 3 : 0.5,
    removesPerSecond: field === 'removesPerSecond' && pid === 202 ? 2 : 1,
  });
  for (const spec of COLUMNS.filter((column) => column.sort !== null)) {
    const field = spec.sort!.field;
    const own = field === 'delta' || field === 'deltaStart' || field === 'addsPerSecond' || field === 'removesPerSecond' || field === 'pid';
    const low = proc(own ? 101 : 202, base);
    const high = proc(202, { ...base, ...higher[field] });
    const churn = new Map([101, 202].map((pid) => [pid, churnOf(field, pid)]));
    const figures = deltasOf(field);
    const compare = compareRows(field, figures, churn);
    assert.ok(compare(low, high) < 0 && compare(high, low) > 0, `${field}: its comparator orders rows that differ in it only`);
    const context = {
      count: String,
      blankZeros: false,
      sinceLast: figures.sinceLast,
      sinceStart: figures.sinceStart,
      churn: (pid: number) => churn.get(pid) ?? null,
      prefix: () => '',
      failed: () => false,
    };
    const shownLow = spec.cell(low, context).trim();
    const shownHigh = spec.cell(high, context).trim();
    const numeric = [shownLow, shownHigh].map((text) => Number(text.replace(/^\+/, '')));
    if (numeric.every(Number.isFinite)) assert.ok(numeric[0]! < numeric[1]!, `${field}: the column shows ${shownLow} before ${shownHigh}`);
    else assert.ok(shownLow < shownHigh, `${field}: the column shows "${shownLow}" before "${shownHigh}"`);
  }
});

test('the target table: the detail pane sizes HELD BY and POD to their texts, PATH loses its middle; -b keeps it whole', () => {
  const long = `/var/lib/kubelet/pods/${'データ'.repeat(20)}/volumes/token-🚀`;
  const holder = { pid: 27003, comm: 'runner', reason: 'mount namespace' } as unknown as TargetRow['holders'][number];
  const row = proc(7, {
    targets: [target(1, { path: long, watches: 44, holders: [holder], pod: pod('runner-x', 'gone', 'ci'), leak: 'gone' }), target(2, { path: '/etc/hosts' })],
  });
  const state = start(snapshot([row]));
  for (const width of [120, 160]) {
    const columns = detailColumns(width, widestCells(row.targets));
    assert.deepEqual(
      columns.map((c) => c.title),
      width >= 160 ? ['WATCHES', 'DEV', 'FSTYPE', 'STATUS', 'PATH', 'HELD BY', 'POD'] : ['WATCHES', 'STATUS', 'PATH', 'HELD BY', 'POD'],
    );
    assert.equal(columns.find((c) => c.id === 'holders')!.width, '27003 runner'.length);
    assert.equal(columns.find((c) => c.id === 'pod')!.width, 'ci/runner-x (gone)'.length);
    const lines = plain(detailLines(state, width, 6, mono)).slice(1);
    for (const line of lines) assert.equal(displayWidth(line), width, line);
    const leaked = lines.find((line) => line.includes('×44'))!;
    assert.match(leaked, /^ +×44 (8:1 +ext4 +)?gone pod +\/var\/lib\/kubelet\/pods\/.*….*データ\/volumes\/token-🚀 +27003 runner ci\/runner-x \(gone\)$/u);
  }
  const text = batchText(snapshot([row]), [row], { withTargets: true, color: false, width: 80 });
  assert.match(text, /^ {2}WATCHES DEV +INO FSTYPE +STATUS +POD +PATH$/m);
  assert.ok(text.includes(`      44 8:1 `), 'plain counts, no ×');
  assert.ok(text.includes(`${long}  [held by pid 27003 runner]`), 'the path whole, with who holds it');
});

test('the pod view: its tables from the same placing code; node text in them made visible', () => {
  const web = pod('web', 'live', 'shop');
  const watcher = proc(150, { comm: 'evil\x1b[2Jcomm', watches: 2, watchedPods: [{ pod: web, watches: 2, leaked: 0, holders: [] }] });
  const state = keys(start(snapshot([watcher])), 'v');
  const table = plain(podTableLines(state, 120, 5, mono));
  assert.match(table[0]!, /^NAMESPACE\/NAME +UID +STATE +WATCHES▼ +LEAKED WATCHERS +HOLDERS +AGE$/);
  for (const line of table) assert.equal(displayWidth(line), 120, line);
  const detail = plain(podDetailLines(state, 120, 5, mono));
  assert.match(detail[1]!, /^ WATCHES +LEAKED +PID WHO +$/);
  assert.ok(
    detail.some((line) => line.includes('150 evil\\x1b[2Jcomm: watches inside it')),
    detail.join('\n'),
  );
  assert.ok(!detail.join('').includes('\x1b'), 'no control reaches the terminal');
});

test('counts and rates are written as en-US writes them, without ICU', () => {
  for (const n of [
    0, 7, 999, 1000, -1000, 12_345, 100_000, 999_999, 1_048_576, -1_048_576, 123_456_789_012, 0.4, 12.5, 1234.56, -2.25, 0.125, 3.0004, 1_000.1,
  ]) {
    assert.equal(grouped(n), n.toLocaleString('en-US'), String(n));
  }
  assert.equal(grouped(Number.NaN), 'NaN');
});
