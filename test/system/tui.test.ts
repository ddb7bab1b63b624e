// The screen end to end in a real terminal (tmux), against real processes holding real watches:
// what a user sees and what their keys do.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { buildFakeNode } from '../helpers/fake-node.js';
import { rootSkip, Watcher } from '../helpers/inowatch.js';
import { TmuxPane, type TmuxOptions } from '../helpers/tmux.js';
import { KEY_BINDINGS } from '../../src/views/tui/keys.js';

const BIG = 'ino-big';
const SMALL = 'ino-small';
let dir: string;
let big: Watcher;
let small: Watcher;
let bigFd: number;

/** A row of the table: PID USER INST WATCHES. */
const row = (pid: number, watches: number) => new RegExp(`^ *${pid} +root +1 +${watches}\\b`, 'm');

function makeFiles(path: string, n: number): string {
  mkdirSync(path, { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(path, `file-${i}`), '');
  return path;
}

before(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'inotop-tui-'));
  big = new Watcher();
  small = new Watcher();
  await big.comm(BIG);
  await small.comm(SMALL);
  bigFd = await big.init();
  assert.equal(await big.watchDir(bigFd, makeFiles(join(dir, 'big'), 20)), 21);
  const smallFd = await small.init();
  makeFiles(join(dir, 'small'), 2);
  await small.watch(smallFd, join(dir, 'small', 'file-0'));
  await small.watch(smallFd, join(dir, 'small', 'file-1'));
});

after(async () => {
  await Promise.all([big.stop(), small.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The columns that show by what the whole node holds, not our watchers: a fanotify group or a stuck
 * queue anywhere on the machine (another test's, a security agent's) would put FAN-G and FAN-M
 * after WATCHES, or QUEUE before COMMAND, into the rows these tests read.
 */
const NODE_WIDE_COLUMNS = { hiddenColumns: ['fanotifyGroups', 'fanotifyMarks', 'queuedBytes'] };

/** inotop on our two watchers only, refreshing twice a second, in a fresh terminal. */
function open(t: TestContext, args: string[] = [], options: Partial<TmuxOptions> = {}): TmuxPane {
  const pane = new TmuxPane([process.execPath, inotopBin, '-d', '0.5', '--pods', 'none', '-p', `${big.pid},${small.pid}`, ...args], {
    width: 160,
    height: 48,
    settings: NODE_WIDE_COLUMNS,
    ...options,
  });
  t.after(() => pane.kill());
  return pane;
}

async function opened(t: TestContext, args: string[] = [], options: Partial<TmuxOptions> = {}): Promise<TmuxPane> {
  const pane = open(t, args, options);
  await pane.waitFor((s) => row(big.pid, 21).test(s) && row(small.pid, 2).test(s), 'both watchers in the table');
  return pane;
}

/** Table rows in screen order, by pid. */
function tablePids(screen: string): number[] {
  const pids = [big.pid, small.pid];
  return screen
    .split('\n')
    .map((line) => Number(/^ *(\d+) +root +1 /.exec(line)?.[1]))
    .filter((pid) => pids.includes(pid));
}

test('opens on the header, the table sorted by watches, and the detail pane of the top row', async (t) => {
  const pane = await opened(t);
  const screen = pane.screen();
  assert.match(screen, /^inotop \S+ +· +\d\d:\d\d:\d\d +· +every 0\.5s +· +pods: none/m);
  assert.match(screen, /^root +watches\[.*\/[\d,]+ .*%\] inst\[/m);
  assert.match(screen, /^total [\d,]+ processes +[\d,]+ instances +[\d,]+ watches/m);
  assert.match(screen, /PID USER +INST WATCHES▼ +Δ +ΔSTART +LEAKED COMMAND/);
  assert.deepEqual(tablePids(screen), [big.pid, small.pid]);
  assert.match(screen, new RegExp(`── pid ${big.pid} ${BIG}: 1 instance, 21 watches`));
  assert.match(screen, /F1Help .*F10Quit/);
});

test('sort keys: I inverts, < > move the sort column, the sort menu picks one', async (t) => {
  const pane = await opened(t);
  pane.keys('I');
  await pane.waitFor(/WATCHES▲/, 'ascending marker');
  assert.deepEqual(tablePids(pane.screen()), [small.pid, big.pid]);
  pane.keys('<', '<', '<');
  await pane.waitFor(/PID▲ USER/, 'sort by pid');
  const byPid = [big.pid, small.pid].sort((a, b) => a - b);
  assert.deepEqual(tablePids(pane.screen()), byPid);
  pane.keys('>');
  await pane.waitFor(/USER▲/, 'sort by user');
  pane.keys('s');
  await pane.waitFor(/Sort by: ↑↓ Enter, Esc/, 'the sort menu');
  pane.keys('Down', 'Enter');
  await pane.waitFor((s) => /INST▼/.test(s) && !/Sort by/.test(s), 'sort by instances, menu closed');
});

test('/ filters as typed, Enter keeps it, Esc clears it', async (t) => {
  const pane = await opened(t);
  pane.keys('/');
  pane.type('ino-sm');
  await pane.waitFor((s) => tablePids(s).join() === String(small.pid), 'only the small watcher');
  assert.match(pane.screen(), /Filter processes: ino-sm_/);
  pane.keys('Enter');
  await pane.waitFor(/F1Help/, 'the footer back');
  assert.deepEqual(tablePids(pane.screen()), [small.pid]);
  pane.keys('Escape');
  await pane.waitFor((s) => tablePids(s).length === 2, 'both rows again');
});

test('the detail pane: resolved paths of the selected process, its own filter, Esc back', async (t) => {
  const pane = await opened(t);
  pane.keys('Enter');
  await pane.waitFor(/↑↓ move, Enter inspect, \/ filter, Esc back/, 'the detail pane focused');
  const screen = await pane.waitFor(new RegExp(`${join(dir, 'big', 'file-')}\\d+`), 'resolved paths');
  assert.match(screen, /WATCHES DEV +FSTYPE +STATUS +PATH/);
  assert.match(screen, new RegExp(`^ +1 \\d+:\\d+ +\\S+ +ok +${join(dir, 'big')} +-$`, 'm'));
  pane.keys('/');
  pane.type('file-7$');
  pane.keys('Enter');
  const filtered = await pane.waitFor(/filter \/file-7\$\/: 1 of 21/, 'the detail filter');
  assert.match(filtered, new RegExp(`${join(dir, 'big', 'file-7')} +-$`, 'm'));
  assert.doesNotMatch(filtered, /file-8/);
  pane.keys('Escape');
  await pane.waitFor(/\(Enter: focus\)/, 'focus back on the table');
  pane.keys('Down');
  await pane.waitFor(new RegExp(`── pid ${small.pid} ${SMALL}: 1 instance, 2 watches`), 'the detail of the next row');
});

test('? shows the help from the key table; any key closes it', async (t) => {
  const pane = await opened(t);
  pane.keys('?');
  const help = await pane.waitFor(/Help: ↑↓ scroll, any other key closes/, 'the help overlay');
  assert.match(help, /I +invert the sort order/);
  assert.match(help, /\/ F4 +filter by regex/);
  pane.keys('x');
  await pane.waitFor((s) => !/Help:/.test(s), 'the help closed');
});

/** The text inside the overlay box: what is between its side borders, line by line. */
function boxText(screen: string): string[] {
  return screen.split('\n').flatMap((line) => {
    const inside = /│(.*)│/.exec(line)?.[1];
    return inside === undefined ? [] : [inside];
  });
}

test('at 80 columns the help wraps inside its box and loses no word; at 200 each key is one line', async (t) => {
  const pane = await opened(t, [], { width: 80, height: 24 });
  pane.keys('?');
  const help = await pane.waitFor(/Help: ↑↓ scroll, any other key closes/, 'the help overlay');
  const inside = boxText(help);
  assert.ok(
    inside.every((line) => [...line].length === 74),
    'every line within the box of 76 columns',
  );
  const text = inside.join(' ').replace(/\s+/g, ' ');
  for (const command of ['focusDetail', 'toggleFocus', 'filter']) {
    const binding = KEY_BINDINGS.find((b) => b.command === command)!;
    assert.ok(text.includes(binding.help), `${command}'s help whole in:\n${help}`);
  }
  assert.doesNotMatch(help, /…│/, 'no line cut');
  pane.resize(200, 50);
  const wide = await pane.waitFor(
    (s) => boxText(s).some((line) => line.includes(KEY_BINDINGS.find((b) => b.command === 'focusDetail')!.help)),
    'the help on wider lines',
  );
  for (const binding of KEY_BINDINGS.filter((b) => b.only !== 'replay')) {
    assert.ok(
      boxText(wide).some((line) => line.includes(`${binding.shown} `) && line.includes(binding.help)),
      `${binding.command}: its key and help on one line in:\n${wide}`,
    );
  }
});

test('a pod source failing with a long error: the header says "none answered (n)", n shows the error whole', async (t) => {
  const nowhere = ['--runtime-endpoint', 'unix:///nonexistent/cri.sock', '--crictl', '/nonexistent/crictl', '--kubectl', '/nonexistent/kubectl'];
  const pane = new TmuxPane(
    [process.execPath, inotopBin, '-d', '0.5', '-p', `${big.pid},${small.pid}`, '--pods', 'auto', ...nowhere, '--kubelet-root', '/nonexistent/kubelet'],
    { width: 80, height: 24 },
  );
  t.after(() => pane.kill());
  const screen = await pane.waitFor(/^inotop .*pods: none answered \(n\)/m, 'the pod status shortened in the title');
  assert.match(screen, row(big.pid, 21));
  pane.keys('n');
  const notes = await pane.waitFor(/Notes: ↑↓ scroll/, 'the notes overlay');
  const text = boxText(notes).join(' ').replace(/\s+/g, ' ');
  assert.match(
    text,
    /pods: no pod source answered: CRI unix:\/\/\/nonexistent\/cri\.sock: connect ENOENT; crictl: \/nonexistent\/crictl not found; kubectl: \/nonexistent\/kubectl not found; kubelet: cannot read \/nonexistent\/kubelet\/pods \(ENOENT\)/,
  );
});

test('new watches show in WATCHES, Δ, ΔSTART and the change log within two refreshes', async (t) => {
  const grower = new Watcher();
  t.after(() => grower.stop());
  await grower.comm('ino-grow');
  const fd = await grower.init();
  await grower.watchDir(fd, makeFiles(join(dir, 'grow'), 3));
  const pane = new TmuxPane([process.execPath, inotopBin, '-d', '0.5', '--pods', 'none', '-p', String(grower.pid)], {
    width: 160,
    height: 48,
    settings: NODE_WIDE_COLUMNS,
  });
  t.after(() => pane.kill());
  await pane.waitFor(new RegExp(`^ *${grower.pid} +root +1 +4 `, 'm'), 'the watcher with 4 watches');
  assert.equal(await grower.watchDir(fd, makeFiles(join(dir, 'grow-more'), 5)), 6);
  // Two refreshes at most: 2 × 0.5 s, plus the scan and drawing.
  const screen = await pane.waitFor(new RegExp(`^ *${grower.pid} +root +1 +10 +\\+6 +\\+6 `, 'm'), 'the new count and its deltas', 2500);
  assert.match(screen, new RegExp(`\\d\\d:\\d\\d:\\d\\d  ino-grow ${grower.pid} \\+6$`, 'm'));
  await pane.waitFor(new RegExp(`^ *${grower.pid} +root +1 +10 +\\+6 `, 'm'), 'Δ empty again at the next refresh, ΔSTART still +6', 2500);
});

test('q, Ctrl-C and SIGTERM restore the terminal', async (t) => {
  for (const [how, code] of [
    ['q', 0],
    ['C-c', 0],
    ['F10', 0],
    ['SIGTERM', 143],
  ] as const) {
    const pane = await opened(t);
    if (how === 'SIGTERM') process.kill(pane.commandPid(), 'SIGTERM');
    else pane.keys(how);
    const screen = await pane.waitFor(/EXIT=\d+/, `the exit after ${how}`);
    assert.match(screen, new RegExp(`^EXIT=${code}$`, 'm'), how);
    assert.doesNotMatch(screen, /PID USER/, `${how}: the screen is gone`);
    assert.equal(screen.trim(), `EXIT=${code}`, `${how}: nothing printed`);
  }
});

test('too small a terminal says so, and a resize reflows', async (t) => {
  const pane = open(t, [], { width: 70, height: 20 });
  await pane.waitFor(/terminal too small: 70×20/, 'the too-small message');
  pane.resize(100, 30);
  const screen = await pane.waitFor((s) => row(big.pid, 21).test(s), 'the table after growing');
  assert.ok(screen.split('\n').every((line) => [...line].length <= 100));
  pane.resize(160, 48);
  await pane.waitFor(/F1Help .*F10Quit/, 'the footer at full width');
});

test('a tiny terminal (30×8): what to do is wrapped whole, and q quits even after keys that would open what cannot be seen', async (t) => {
  for (const before of [['?'], ['/'], ['s'], ['Enter', 'Enter']]) {
    const pane = open(t, [], { width: 30, height: 8 });
    const screen = await pane.waitFor(/terminal too small: 30×8/, 'the too-small message');
    const said = screen.split('\n').map((line) => line.trimEnd());
    assert.ok(
      said.every((line) => [...line].length <= 30 && !line.endsWith('…')),
      screen,
    );
    assert.match(said.join(' ').replace(/ +/g, ' '), /make the window bigger, or press q to quit/, 'the way out, whole');
    pane.keys(...before);
    pane.keys('q');
    const exited = await pane.waitFor(/^EXIT=\d+$/m, `q after ${before.join(' ')}`);
    assert.match(exited, /^EXIT=0$/m, before.join(' '));
    pane.kill();
  }
});

test('works under several TERMs and with NO_COLOR', async (t) => {
  const envs: Record<string, string>[] = [
    { TERM: 'xterm-256color' },
    { TERM: 'screen-256color' },
    { TERM: 'tmux-256color' },
    { TERM: 'linux' },
    { NO_COLOR: '1' },
  ];
  for (const env of envs) {
    const pane = await opened(t, [], { env });
    assert.match(pane.screen(), /── pid \d+ ino-big/, JSON.stringify(env));
    pane.keys('q');
    await pane.waitFor(/^EXIT=0$/m, `quit under ${JSON.stringify(env)}`);
  }
});

test('a pod deleted while kubelet still watches it: red in the detail pane, told in the change log', { skip: rootSkip }, async (t) => {
  const node = await buildFakeNode({ pods: 2 });
  t.after(() => node.cleanup());
  const victim = node.pods[0]!;
  const name = `${victim.namespace}/${victim.name}`;
  const pane = new TmuxPane(
    [
      process.execPath,
      inotopBin,
      '-d',
      '0.5',
      '-p',
      String(node.kubelet.pid),
      '--pods',
      'crictl',
      '--crictl',
      join(node.crictlDir, 'crictl'),
      '--kubelet-root',
      node.kubeletRoot,
    ],
    { width: 160, height: 48 },
  );
  t.after(() => pane.kill());
  await pane.waitFor(/pods: crictl 2 live/, 'the pod list');
  pane.keys('Enter', '/');
  pane.type(victim.name);
  pane.keys('Enter');
  await pane.waitFor(new RegExp(`${victim.uid}/etc-hosts .* ${escapeRegExp(name)} *$`, 'm'), "kubelet's watches on the pod, live");
  await node.deletePodLeaky(victim.uid);
  const told = new RegExp(`pod ${escapeRegExp(name)} gone: kubelet ${node.kubelet.pid} still holds \\d+ watch`);
  const leakedIn = (screen: string) => Number(new RegExp(`^ *${node.kubelet.pid} +root .* (\\d+) /\\S+$`, 'm').exec(screen)?.[1]);
  const goneTargetsIn = (shown: string) => shown.split('\n').filter((line) => line.includes(`${name} (gone)`));
  // The detail pane's window comes from the collector in its own message, after the refresh that
  // paints the change log and the table: one capture can fall between them. Wait for a frame that has all three, so that each is read from the frame that
  // tells the pod gone. The pane's rows: more than one, as the cursor's row shows the cursor's colors.
  const screen = await pane.waitFor(
    (shown) => told.test(shown) && leakedIn(shown) > 0 && goneTargetsIn(shown).length >= 2,
    'the change log telling the gone pod still held, LEAKED counting it, and the detail pane showing the pod gone',
  );
  // Red: SGR 31 or 91, or a 256-color red.
  const red = /^(31|91|38;5;(1|9|160|196))$/;
  const goneTarget = goneTargetsIn(screen).at(-1)!;
  assert.match(pane.foregroundAt(goneTarget) ?? 'default', red, goneTarget);
  assert.match(pane.foregroundAt(`pod ${name} gone`) ?? 'default', red, 'the change log line');
  const log = screen.slice(screen.indexOf('── changes'));
  assert.match(log, new RegExp(`pod ${escapeRegExp(name)} gone`));
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
