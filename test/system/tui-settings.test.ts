// The screen's settings: parsed from config.json (broken parts said once), saved as they change,
// ignored with --no-config; the column chooser.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOptions } from '../../src/cli/args.js';
import { NO_FILTER } from '../../src/model/query.js';
import { headerLines } from '../../src/views/tui/paint/header.js';
import { layout, layoutNeeds } from '../../src/views/tui/paint/layout.js';
import { menuLines } from '../../src/views/tui/paint/overlays.js';
import { tableColumns, tableLines } from '../../src/views/tui/paint/table.js';
import { loadSettings, parseSettings, saveSettings, SettingsError, settingsPath } from '../../src/views/tui/settings.js';
import { initialState, reduce } from '../../src/views/tui/state.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { TmuxPane } from '../helpers/tmux.js';
import { isRoot } from '../helpers/inowatch.js';
import { proc, snapshot, targets } from '../helpers/rows.js';
import { keys, mono, plain } from '../helpers/screen-state.js';

test('the file is $XDG_CONFIG_HOME/inotop/config.json, else ~/.config', () => {
  assert.equal(settingsPath({ XDG_CONFIG_HOME: '/etc/xdg-test', HOME: '/root' }), '/etc/xdg-test/inotop/config.json');
  assert.equal(settingsPath({ HOME: '/home/ann' }), '/home/ann/.config/inotop/config.json');
  assert.equal(
    settingsPath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/ann' }),
    '/home/ann/.config/inotop/config.json',
    'a relative one is ignored, as the spec says',
  );
});

test('parsing: what is understood is kept, what is not is said once; broken JSON gives the defaults', () => {
  const good = parseSettings(
    JSON.stringify({ sort: { field: 'leaked', descending: true }, intervalMs: 5000, view: 'pods', hiddenColumns: ['delta'] }),
    'c.json',
  );
  assert.deepEqual(good, { settings: { sort: { field: 'leaked', descending: true }, intervalMs: 5000, view: 'pods', hiddenColumns: ['delta'] }, note: null });
  const partly = parseSettings(JSON.stringify({ sort: { field: 'nope', descending: true }, intervalMs: 5000, view: 'tree' }), 'c.json');
  assert.deepEqual(partly.settings, { intervalMs: 5000 });
  assert.equal(partly.note, 'c.json: sort, view not understood: using the defaults for them');
  const broken = parseSettings('{"sort": ', 'c.json');
  assert.deepEqual(broken.settings, {});
  assert.equal(broken.note, 'c.json is not valid JSON: using the defaults, and leaving the file as it is');
});

test('save and load round trip; a broken file is not written over; a missing one is no note', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-settings-'));
  try {
    const path = join(dir, 'inotop', 'config.json');
    assert.deepEqual(loadSettings(path), { settings: {}, note: null, writable: true });
    saveSettings(path, { sort: { field: 'pid', descending: false }, view: 'processes', intervalMs: 1000, hiddenColumns: [] });
    assert.deepEqual(loadSettings(path).settings, { sort: { field: 'pid', descending: false }, view: 'processes', intervalMs: 1000, hiddenColumns: [] });
    writeFileSync(path, 'not json');
    const broken = loadSettings(path);
    assert.equal(broken.writable, false);
    assert.ok(broken.note);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config.json that is a symbolic link is never read, quoted or replaced; nor is a link planted at the temp name written through', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-settings-'));
  try {
    const secret = join(dir, 'passwd');
    writeFileSync(secret, 'root:x:0:0:secret-line\n');
    mkdirSync(join(dir, 'inotop'));
    const path = join(dir, 'inotop', 'config.json');
    symlinkSync(secret, path);
    const loaded = loadSettings(path);
    assert.deepEqual([loaded.settings, loaded.writable], [{}, false]);
    assert.equal(loaded.note, `${path} is a symbolic link: not read, and not written: using the defaults`);
    assert.throws(() => saveSettings(path, { view: 'pods' }), SettingsError);
    assert.equal(readlinkSync(path), secret, 'the link is left as it is');
    assert.equal(readFileSync(secret, 'utf8'), 'root:x:0:0:secret-line\n');
    // A link where the temp file goes: the write fails (O_EXCL), the file it points at is untouched.
    rmSync(path);
    symlinkSync(secret, `${path}.${process.pid}.tmp`);
    assert.throws(() => saveSettings(path, { view: 'pods' }), /EEXIST/);
    assert.ok(lstatSync(`${path}.${process.pid}.tmp`).isSymbolicLink());
    assert.equal(readFileSync(secret, 'utf8'), 'root:x:0:0:secret-line\n');
    assert.equal(existsSync(path), false);
    // Not JSON: said where, never what it holds.
    writeFileSync(path, 'root:x:0:0:secret-line\n');
    assert.doesNotMatch(loadSettings(path).note!, /secret|root:x/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a read-only config directory: "settings not saved" names EROFS, not ENOENT', { skip: isRoot ? false : 'needs root (a read-only tmpfs)' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-ro-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  assert.throws(
    () => saveSettings(join(dir, 'inotop', 'config.json'), { view: 'pods' }),
    (error) => error instanceof SettingsError && /config\.json: EROFS \(read-only file system\)$/.test(error.message),
  );
});

test('--no-config, -s and -d: flags win over the file', () => {
  const options = parseOptions(['--no-config', '-s', 'pid'], {}, true);
  assert.deepEqual([options.config, options.sortGiven, options.delayGiven], [false, true, false]);
  assert.equal(parseOptions([], {}, true).config, true);
});

test('a session note (a broken file) shows in the header notes line with the snapshot notes', () => {
  let state = initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000, notes: ['config.json is not valid JSON'] });
  state = reduce(state, { type: 'snapshot', snapshot: snapshot([proc(1, { targets: targets(1) })]) });
  const l = layout(120, 40, 1, layoutNeeds(state));
  assert.equal(l.notes, true);
  assert.match(plain(headerLines(state, l, mono)).at(-1)!, /^note: config\.json is not valid JSON/);
});

test('F2: the column chooser hides and shows columns, PID and COMMAND always there', () => {
  let state = reduce(initialState({ filter: NO_FILTER, sort: { field: 'watches', descending: true }, intervalMs: 2000 }), {
    type: 'snapshot',
    snapshot: snapshot([proc(1, { targets: targets(3) })]),
  });
  state = keys(state, 'f2');
  assert.equal(state.overlay?.kind, 'columns');
  assert.match(plain(menuLines(state, mono).lines).join('\n'), /\[x\] USER/);
  state = keys(state, 'enter', 'down', 'enter', 'escape');
  assert.deepEqual(state.hiddenColumns, ['user', 'instances']);
  assert.deepEqual(
    tableColumns(state, 120).map((c) => c.title),
    ['PID', 'WATCHES▼', 'Δ', 'ΔSTART', 'LEAKED', 'COMMAND'],
  );
  assert.match(plain(tableLines(state, 120, 5, mono))[0]!, /^ +PID WATCHES▼ +Δ +ΔSTART +LEAKED COMMAND/);
});

test('settings persist across a restart of the screen', { skip: process.platform !== 'linux' ? 'linux only' : false }, async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'inotop-xdg-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const run = () => {
    const pane = new TmuxPane([process.execPath, inotopBin, '--pods', 'none', '-p', String(process.pid)], {
      width: 120,
      height: 40,
      env: { XDG_CONFIG_HOME: home },
    });
    t.after(() => pane.kill());
    return pane;
  };
  const first = run();
  await first.waitFor(/PID USER/, 'the screen');
  // Δ from the sort menu, which lists every column: > would go to FAN-G instead while any process
  // on the machine holds a fanotify group (those columns show by what the whole node holds).
  first.keys('s');
  await first.waitFor(/Sort by: ↑↓ Enter, Esc/, 'the sort menu');
  first.keys('Down', 'Down', 'Down', 'Enter');
  await first.waitFor((s) => / Δ▼ /.test(s) && !/Sort by/.test(s), 'sorted by Δ');
  first.keys('v');
  await first.waitFor(/NAMESPACE\/NAME/, 'the pod view');
  first.keys('q');
  await first.waitFor(/EXIT=0/, 'quit');
  const file = join(home, 'inotop', 'config.json');
  assert.ok(existsSync(file));
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { sort: { field: string }; view: string };
  assert.deepEqual([saved.sort.field, saved.view], ['delta', 'pods']);
  const second = run();
  await second.waitFor(/NAMESPACE\/NAME/, 'the pod view again, after a restart');
  second.keys('v');
  await second.waitFor(/ Δ▼ /, 'sorted by Δ still');
  const noConfig = new TmuxPane([process.execPath, inotopBin, '--no-config', '--pods', 'none', '-p', String(process.pid)], {
    width: 120,
    height: 40,
    env: { XDG_CONFIG_HOME: home },
  });
  t.after(() => noConfig.kill());
  await noConfig.waitFor(/WATCHES▼/, '--no-config: the defaults');
});

test('a replay (--demo) never writes the settings: the next live screen opens as it would have', async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'inotop-xdg-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const pane = new TmuxPane([process.execPath, inotopBin, '--demo'], { width: 120, height: 40, env: { XDG_CONFIG_HOME: home } });
  t.after(() => pane.kill());
  await pane.waitFor(/REPLAY of/, 'the demo');
  pane.keys('v');
  await pane.waitFor(/NAMESPACE\/NAME/, 'the pod view');
  pane.keys('>', 'q');
  await pane.waitFor(/EXIT=0/, 'quit');
  assert.equal(existsSync(join(home, 'inotop', 'config.json')), false);
});

test(
  'settings that cannot be saved say why on the notes line, for the rest of the session',
  { skip: isRoot ? false : 'needs root (a read-only tmpfs)' },
  async (t) => {
    ensureBuilt();
    const home = mkdtempSync(join(tmpdir(), 'inotop-ro-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', home]);
    t.after(() => {
      execFileSync('umount', [home]);
      rmSync(home, { recursive: true, force: true });
    });
    const pane = new TmuxPane([process.execPath, inotopBin, '--pods', 'none', '-d', '0.5', '-p', String(process.pid)], {
      width: 160,
      height: 40,
      env: { XDG_CONFIG_HOME: home },
    });
    t.after(() => pane.kill());
    await pane.waitFor(/PID USER/, 'the screen');
    pane.keys('>');
    const said = await pane.waitFor(/settings not saved: .*EROFS \(read-only file system\)/, 'the reason');
    // Refreshes come every 0.5 s: the note stays past several of them (the title's clock 2 s on).
    const clock = (screen: string) => {
      const [h, m, s] = (/^inotop \S+ +· +(\d\d):(\d\d):(\d\d)/m.exec(screen) ?? []).slice(1).map(Number);
      return h === undefined ? NaN : (h * 3600 + m! * 60 + s!) % 86_400;
    };
    const from = clock(said);
    const later = await pane.waitFor((screen) => (clock(screen) - from + 86_400) % 86_400 >= 2, 'refreshes 2 s later', 10_000);
    assert.match(later, /settings not saved: .*EROFS/);
  },
);
