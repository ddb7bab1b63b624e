// The screen replaying a recording, as anyone who clones the repository would run it: no root,
// in a real terminal (tmux).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, test, type TestContext } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { TmuxPane } from '../helpers/tmux.js';

const leaky = fileURLToPath(new URL('../../fixtures/leaky-kubelet.jsonl.gz', import.meta.url));
const RED = '31';

before(() => ensureBuilt());

function replay(t: TestContext, file = leaky): TmuxPane {
  const pane = new TmuxPane([process.execPath, inotopBin, '--replay', file], { width: 160, height: 48 });
  t.after(() => pane.kill());
  return pane;
}

test('the leaky kubelet replays: header says whose, kubelet on top, leaked watches and gone pods red', async (t) => {
  const pane = replay(t);
  let screen = await pane.waitFor(/snapshot 1\/7/, 'the first snapshot');
  assert.match(screen, /^REPLAY of ip-10-0-3-17\.ec2\.internal recorded 2026-\d\d-\d\d \d\d:\d\d:\d\dZ/m);
  assert.match(screen, /←→Step/, 'stepping keys in the footer');
  assert.doesNotMatch(screen, /\+-Interval/, 'the interval is the recording’s');
  // The recording plays with its own timing (2 s steps) and stops at its end.
  screen = await pane.waitFor(/snapshot 7\/7  \(end\)/, 'the end of the recording', 30_000);
  const firstRow = screen.split('\n').find((line) => /^ +\d+ root /.test(line))!;
  // Δ is blank: nothing changed since the snapshot before; ΔSTART counts from the first one.
  assert.match(firstRow, /^ +\d+ root +48 +7,491 +\+6,297 +4,649 \/usr\/bin\/kubelet /, 'kubelet on top, with its leaked watches');
  // The replay opens on the recording's leaker, systemd on top at first notwithstanding.
  assert.equal(pane.foregroundAt('/usr/bin/kubelet --config'), '30', 'the kubelet row is selected from the start');
  // A recording made before rows had their pods and holders: they come from its targets.
  assert.match(screen, /^LEAK kubelet \d+: 4,649 watches on \d+ (gone )?pods, kept by \d+ \d+ .*\+\d+ more *$/m, 'the verdict line');
  // Its detail pane, filtered to gone pods: volume roots unmounted, held by the pods' containers.
  pane.keys('Enter', '/');
  pane.type('gone');
  pane.keys('Enter');
  screen = await pane.waitFor(/── pid \d+ kubelet: 48 instances, 7,491 watches, 4,649 leaked +filter \/gone\/: \d+ of/, "kubelet's detail pane, filtered");
  // The second: the first is under the cursor, in the cursor's colors.
  const unmounted = screen.split('\n').filter((line) => /^ +×44 +0:\d+ +tmpfs +unmounted +\/rootfs\//.test(line))[1];
  assert.ok(unmounted, screen);
  assert.match(unmounted, /serviceaccount +\d+ runner +ci\/runner-/, 'the holder in its own column');
  assert.match(unmounted, /ci\/runner-\w+ \(gone\)/);
  assert.equal(pane.foregroundAt(unmounted.trim().slice(0, 60)), RED);
});

test('Z pauses, ← and → step one snapshot, q quits cleanly', async (t) => {
  const pane = replay(t);
  await pane.waitFor(/snapshot 1\/7/, 'the first snapshot');
  pane.keys('Z');
  await pane.waitFor(/snapshot 1\/7  PAUSED/, 'paused');
  pane.keys('Right');
  pane.keys('Right');
  let screen = await pane.waitFor(/snapshot 3\/7  PAUSED/, 'two steps forward');
  assert.match(screen, /^ +\d+ root +43 +7,344 /m, 'kubelet as in the third snapshot');
  pane.keys('Left');
  screen = await pane.waitFor(/snapshot 2\/7  PAUSED/, 'one step back');
  assert.match(screen, /^ +\d+ root +28 +3,494 +-3,850 +\+2,300 /m, 'Δ against the snapshot shown before');
  // The clock: the same recording started now, not paused, steps once (its steps are 2 s apart).
  const control = replay(t);
  await control.waitFor(/snapshot 1\/7/, 'the second replay starts');
  await control.waitFor(/snapshot 2\/7/, 'the second replay steps');
  control.kill();
  assert.match(pane.screen(), /snapshot 2\/7  PAUSED/, 'paused stays put');
  pane.keys('q');
  screen = await pane.waitFor(/EXIT=\d+/, 'the exit');
  assert.equal(screen.trim(), 'EXIT=0');
});

test('a file that is not a recording: a clear error before any screen', async (t) => {
  const pane = replay(t, fileURLToPath(new URL('../../package.json', import.meta.url)));
  const screen = await pane.waitFor(/EXIT=\d+/, 'the exit');
  assert.match(screen, /inotop: .*package\.json is not an inotop recording/);
  assert.match(screen, /^EXIT=1$/m);
});

test('l shows only leaking processes, and in the detail pane only their leaked targets', async (t) => {
  const pane = replay(t);
  await pane.waitFor(/snapshot 1\/7/, 'the first snapshot');
  pane.keys('Z');
  for (let i = 0; i < 6; i++) pane.keys('Right');
  await pane.waitFor(/snapshot 7\/7  PAUSED/, 'the last snapshot');
  pane.keys('l');
  const screen = await pane.waitFor(/kubelet: 48 instances, 7,491 watches, 4,649 leaked +filter leaked only: 404 of 992/, 'leaked targets only');
  const rows = screen.split('\n').filter((line) => /^ +\d+ root /.test(line));
  assert.equal(rows.length, 1, 'only kubelet leaks');
  const targets = screen.split('\n').filter((line) => /^ +(×\d+|\d+) +\d+:\d+ /.test(line));
  assert.ok(targets.length > 0);
  for (const line of targets) assert.match(line, / (unmounted|deleted|gone pod) /);
});

test('at 80×24 the header cuts no figure: meters, totals and the sparkline title leave out whole parts', async (t) => {
  const pane = new TmuxPane([process.execPath, inotopBin, '--replay', leaky], { width: 80, height: 24 });
  t.after(() => pane.kill());
  // The last snapshot's totals (not the title's "snapshot 7/7": main left it out at 80 columns).
  const screen = await pane.waitFor(/^total 155 processes {2}204 instances {2}10,110 watches/m, 'the end of the recording', 30_000);
  const lines = screen.split('\n');
  const header = lines.slice(
    1,
    lines.findIndex((line) => /^ +PID USER /.test(line)),
  );
  // The title leaves parts out with a "…" of its own; below it, no figure may end in one.
  for (const line of header) assert.doesNotMatch(line, /[\d,%<]…/, `a figure cut:\n${screen}`);
  assert.match(screen, /^root +watches 10,110\/524,288 2% +inst 204(\/8,192)? 2%/m, 'both meters, each with its share');
  assert.match(screen, /^total 155 processes {2}204 instances {2}10,110 watches/m);
  assert.match(screen, / 3,813–10,110:$/m, 'the sparkline title, whole');
});

test('at 80×24 the pod view tells its pods apart: each name whole before the columns after it', async (t) => {
  const pane = new TmuxPane([process.execPath, inotopBin, '--replay', leaky], { width: 80, height: 24 });
  t.after(() => pane.kill());
  await pane.waitFor(/^total 155 processes {2}204 instances {2}10,110 watches/m, 'the end of the recording', 30_000);
  pane.keys('v');
  const screen = await pane.waitFor(/^NAMESPACE\/NAME +UID +STATE/m, 'the pod view');
  const names = screen.split('\n').flatMap((line) => /^(ci\/runner-\w{5}) +[0-9a-f]{8} +(live|gone since) /.exec(line)?.[1] ?? []);
  assert.ok(names.length >= 5, `pod rows with their names whole:\n${screen}`);
  assert.equal(new Set(names).size, names.length, 'no two alike');
});

test('the column and sort menus: wide enough for their entries where the terminal is, else each cut with "…"', async (t) => {
  for (const [width, height] of [
    [160, 48],
    [80, 24],
  ] as const) {
    const pane = new TmuxPane([process.execPath, inotopBin, '--replay', leaky], { width, height });
    t.after(() => pane.kill());
    await pane.waitFor(/^total \d+ processes/m, 'a snapshot');
    for (const key of ['c', 's']) {
      pane.keys(key);
      const screen = await pane.waitFor(/│ +(\[[x ]\]|[ ▼▲]) ADD\/s +inotify_add_watch/, `the ${key} menu at ${width}×${height}`);
      const entry = screen.split('\n').find((line) => line.includes('ADD/s    inotify_add_watch'))!;
      const inside = /│ (.*?) *│/.exec(entry)![1]!;
      if (width === 160) assert.match(inside, /inotify_add_watch calls per second, last refresh \(traced; - when not\)$/, `whole at ${width}`);
      else assert.match(inside, /…$/, `cut with "…" at ${width}:\n${screen}`);
      pane.keys('Escape');
      await pane.waitFor((s) => !s.includes('ADD/s    inotify_add_watch'), 'the menu closed');
    }
  }
});

test('at 80×24 a change too long for its line is cut between its pods, not inside a figure', async (t) => {
  const pane = new TmuxPane([process.execPath, inotopBin, '--replay', leaky], { width: 80, height: 24 });
  t.after(() => pane.kill());
  // The second snapshot's (2 s in; the third's changes push it out 2 s later).
  const screen = await pane.waitFor(/^\d\d:\d\d:\d\d {2}kubelet \d+ \+2,300: /m, "the second snapshot's kubelet change", 30_000);
  const change = screen.split('\n').find((line) => /^\d\d:\d\d:\d\d {2}kubelet \d+ \+2,300: /.test(line))!;
  assert.match(change, /^\d\d:\d\d:\d\d {2}kubelet \d+ \+2,300: pod ci\/runner-\w{5} \+32, …$/, 'whole pods, then "…"');
});

test('at 80×24 the replay title says where it is: the snapshot, PAUSED after Z, the step after →', async (t) => {
  const pane = new TmuxPane([process.execPath, inotopBin, '--replay', leaky], { width: 80, height: 24 });
  t.after(() => pane.kill());
  await pane.waitFor(/^REPLAY of ip-10-0-3-17\.ec2\.internal .*snapshot \d\/7/m, 'the position in the title', 30_000);
  pane.keys('Z');
  const paused = await pane.waitFor(/^REPLAY .*snapshot \d\/7  PAUSED/m, 'PAUSED');
  const at = Number(/snapshot (\d)\/7  PAUSED/.exec(paused)![1]);
  pane.keys(at < 7 ? 'Right' : 'Left');
  await pane.waitFor(new RegExp(`^REPLAY .*snapshot ${at < 7 ? at + 1 : at - 1}/7  PAUSED`, 'm'), 'the step');
});
