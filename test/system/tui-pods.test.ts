// The screen in a real terminal (tmux) following real pods on a real containerd through CRI:
// a kubelet-like process's watches go up as pods come, down as they are deleted, and stay, red,
// when a deleted pod's mount namespace is kept alive.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { containerdSkipReason, startContainerd, type Containerd } from '../helpers/containerd.js';
import { Watcher } from '../helpers/inowatch.js';
import { KubeletWatcher } from '../helpers/kubelet-watcher.js';
import { TmuxPane } from '../helpers/tmux.js';

const skip = containerdSkipReason();
let runtime: Containerd;
let kubelet: KubeletWatcher;
/** Holds more watches than kubelet, so the screen opens on it and kubelet's row shows its own colors. */
let topWatcher: Watcher | undefined;
let dir: string | undefined;

before(async () => {
  if (skip) return;
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'inotop-tui-pods-'));
  runtime = await startContainerd();
  kubelet = await KubeletWatcher.start();
  topWatcher = new Watcher();
  const files = join(dir, 'files');
  mkdirSync(files);
  for (let i = 0; i < 20; i++) writeFileSync(join(files, `file-${i}`), '');
  await topWatcher.watchDir(await topWatcher.init(), files);
});

after(async () => {
  await topWatcher?.stop();
  await kubelet?.stop();
  await runtime?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('pods come, go and leak on the screen: counts, change log, red', { skip: skip ?? false }, async (t) => {
  const kubeletRoot = join(runtime.dir, 'kubelet');
  const pane = new TmuxPane(
    [
      process.execPath,
      inotopBin,
      '-d',
      '0.5',
      '-p',
      `${topWatcher!.pid},${kubelet.pid}`,
      '--pods',
      'cri',
      '--runtime-endpoint',
      runtime.endpoint,
      '--kubelet-root',
      kubeletRoot,
    ],
    { width: 180, height: 60 },
  );
  t.after(() => pane.kill());
  const log = new ChangeLog();
  /** The kubelet's row: PID USER INST WATCHES Δ ΔSTART LEAKED COMMAND. */
  const kubeletRow = (watches: number, leaked = '') =>
    new RegExp(`^ *${kubelet.pid} +root +1 +${watches} .*${leaked ? ` ${leaked}` : ''} +/\\S+inowatch$`, 'm');
  await pane.waitFor(/pods: cri 0 live/, 'the runtime answering over CRI, no pods yet');
  // Picked by hand: the selection stays on the top row when kubelet starts to leak, so kubelet's row shows its own colors.
  pane.keys('Home');

  const web = await runtime.runPod({ name: 'web', namespace: 'shop', kubeletRoot });
  const leaky = await runtime.runPod({ name: 'leaky', namespace: 'shop', kubeletRoot });
  for (const pod of [web, leaky]) await kubelet.watchPod(pod);
  const grew = new RegExp(`kubelet ${kubelet.pid} \\+\\d+: pod `);
  await pane.waitFor((s) => log.read(s) && /pods: cri 2 live/.test(s) && kubeletRow(6).test(s) && log.has(grew), 'two pods, six watches, logged');
  // Pods newer than the last pod list are not taken for gone ones.
  for (const pod of [web, leaky]) assert.equal(log.has(new RegExp(`pod (shop/${pod.name}|pod ${pod.uid}) gone`)), false, `${pod.name} never gone`);

  await runtime.deletePod(web);
  await kubelet.forgetCgroup(web);
  const shrank = new RegExp(`kubelet ${kubelet.pid} -\\d+`);
  const screen = await pane.waitFor(
    (s) => log.read(s) && /pods: cri 1 live/.test(s) && kubeletRow(3).test(s) && log.has(shrank),
    'one pod, three watches, logged',
  );
  assert.doesNotMatch(kubeletRow(3).exec(screen)![0], / \d+ +\/\S+inowatch$/, 'nothing leaked');

  await runtime.holdMountNamespace(leaky);
  await runtime.deletePod(leaky);
  const goneLine = `pod shop/leaky gone: kubelet ${kubelet.pid} still holds 3 watches`;
  const leaked = await pane.waitFor(
    (s) => /pods: cri 0 live/.test(s) && kubeletRow(3, '3').test(s) && s.includes(goneLine),
    'the three watches staying, leaked, and the change log saying so',
  );
  const red = /^(31|91|38;5;(1|9|160|196))$/;
  assert.match(pane.foregroundAt(goneLine) ?? 'default', red, 'the change log line');
  assert.match(pane.foregroundAt(kubeletRow(3, '3').exec(leaked)![0].trim()) ?? 'default', red, 'the kubelet row');
  pane.keys('Down');
  // The targets come from the collector's thread a moment after the selection.
  const leakyTargets = (screen: string) => screen.split('\n').filter((line) => line.includes('shop/leaky (gone)'));
  const title = new RegExp(`── pid ${kubelet.pid} kubelet: 1 instance, 3 watches, 3 leaked`);
  const detail = await pane.waitFor((s) => title.test(s) && leakyTargets(s).length > 0, "kubelet's targets in the detail pane");
  const targets = leakyTargets(detail);
  assert.deepEqual(
    targets.map((line) => /\b(unmounted|deleted)\b/.exec(line)?.[1]).sort(),
    ['deleted', 'deleted', 'unmounted'],
    'the detail pane names each form',
  );
  for (const line of targets) assert.match(pane.foregroundAt(line) ?? 'default', red, line);
});

/**
 * Every change log line any screen showed: pod events are the whole node's, so other tests'
 * pods going at the same time can scroll ours out of the pane before a check reads it.
 */
class ChangeLog {
  private readonly lines = new Set<string>();

  /** Takes in a screen's log lines; true, to chain in waitFor predicates. */
  read(screen: string): true {
    for (const line of screen.slice(screen.indexOf('── changes')).split('\n')) this.lines.add(line.trim());
    return true;
  }

  has(pattern: RegExp): boolean {
    return [...this.lines].some((line) => pattern.test(line));
  }
}
