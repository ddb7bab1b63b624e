// From the screen alone, on a real containerd: two pods on the pod network deleted before inotop
// starts, each kept by a process that entered its container's mount namespace. At 120x40 the
// header's verdict names the watcher, the gone pods by name (from their etc-hosts, as the holders
// see them) and the holders; inspect shows the whole path and the holder's command line; y copies
// it through OSC 52; the filter finds the watcher by a pod it watches.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { containerdSkipReason, startContainerd, type Containerd, type HarnessPod } from '../helpers/containerd.js';
import { KubeletWatcher } from '../helpers/kubelet-watcher.js';
import { TmuxPane } from '../helpers/tmux.js';

const skip = containerdSkipReason();
let runtime: Containerd;
let kubelet: KubeletWatcher;
let dir: string | undefined;
const pods: HarnessPod[] = [];
const holders: number[] = [];

before(async () => {
  if (skip) return;
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'inotop-diagnosis-'));
  runtime = await startContainerd();
  kubelet = await KubeletWatcher.start();
  const kubeletRoot = join(runtime.dir, 'kubelet');
  for (const [name, ip] of [
    ['api-hxagp', '10.244.1.17'],
    ['api-d8czs', '10.244.1.18'],
  ] as const) {
    const pod = await runtime.runPod({ name, namespace: 'shop', kubeletRoot, podIp: ip });
    await kubelet.watchPod(pod);
    pods.push(pod);
  }
  for (const pod of pods) holders.push(await runtime.holdMountNamespace(pod));
  for (const pod of pods) await runtime.deletePod(pod);
});

after(async () => {
  await kubelet?.stop();
  await runtime?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function open(t: { after: (fn: () => void) => void }): TmuxPane {
  const pane = new TmuxPane(
    [
      process.execPath,
      inotopBin,
      '-d',
      '1',
      '--pods',
      'cri',
      '--runtime-endpoint',
      runtime.endpoint,
      '--kubelet-root',
      join(runtime.dir, 'kubelet'),
      '-p',
      [kubelet.pid, ...holders].join(','),
    ],
    { width: 120, height: 40 },
  );
  t.after(() => pane.kill());
  return pane;
}

test('the verdict names the watcher, the gone pods by name and the holders, at 120 columns', { skip: skip ?? false }, async (t) => {
  const pane = open(t);
  const screen = await pane.waitFor(/^LEAK /m, 'the verdict line');
  const verdict = screen.split('\n').find((line) => line.startsWith('LEAK '))!;
  assert.match(verdict, new RegExp(`^LEAK kubelet ${kubelet.pid}: \\d+ watch(es)? on 2 gone pods \\((api-hxagp, api-d8czs|api-d8czs, api-hxagp)\\), kept by `));
  for (const holder of holders) assert.match(verdict, new RegExp(`\\b${holder} busybox\\b`), `holder ${holder} in: ${verdict}`);
  // The screen opens on the leaking process; its detail pane lists the leaked targets first, holder and pod whole.
  const title = new RegExp(`── pid ${kubelet.pid} kubelet: 1 instance, 6 watches, \\d leaked`);
  // Its targets come from the collector's thread a moment after the selection.
  const detail = await pane.waitFor((s) => title.test(s) && /unmounted .* busybox/.test(s), "kubelet's detail pane");
  const rows = detail
    .slice(detail.indexOf('── pid'))
    .split('\n')
    .slice(2)
    .filter((line) => /^ +(×?\d+) /.test(line));
  assert.match(rows[0]!, /(unmounted|deleted)/);
  const held = rows.filter((line) => /unmounted/.test(line));
  assert.equal(held.length, 2, detail);
  // Named from etc-hosts: the name, without a namespace.
  for (const line of held) assert.match(line, /\d+ busybox +api-(hxagp|d8czs) \(gone\) *$/, 'holder and pod, not cut');
});

test('inspect shows the whole path and the holder command line; y emits OSC 52', { skip: skip ?? false }, async (t) => {
  const pane = open(t);
  const raw = join(dir!, 'pane-output');
  pane.pipeTo(raw);
  await pane.waitFor(new RegExp(`── pid ${kubelet.pid} kubelet: .*\\(Enter: focus\\)`), "kubelet's detail pane");
  // Its targets come from the collector's thread a moment after the selection.
  await pane.waitFor((s) => /unmounted .* busybox/.test(s), 'the targets');
  pane.keys('Enter');
  await pane.waitFor(/Enter inspect/, 'the detail pane focused');
  pane.keys('/');
  pane.type('serviceaccount');
  pane.keys('Enter');
  await pane.waitFor(/filter \/serviceaccount\/: 2 of 6/, 'the token volumes only');
  pane.keys('Enter');
  // Its last paragraph: everything above it is drawn too.
  const view = await pane.waitFor((s) => /Inspect: ↑↓ scroll, y copy, Esc close/.test(s) && /NEXT STEP: /.test(s), 'the inspect view');
  assert.match(view, /path, as kubelet \d+ sees it: \/var\/run\/secrets\/kubernetes\.io\/serviceaccount/);
  const holder = new RegExp(`pid (${holders.join('|')}) busybox`);
  assert.match(view, holder);
  assert.match(view, /command: \/bin\/busybox sleep infinity/, 'the holder command line');
  assert.match(view, /how it got there: its mount namespace has the pod's files bound in/);
  assert.match(view, /NEXT STEP: the watch ends when pid \d+ exits/);
  pane.keys('y');
  await pane.waitFor(/copied \(OSC 52\)/, 'the copy said');
  const output = readFileSync(raw, 'latin1');
  const sequence = /\x1b\]52;c;([A-Za-z0-9+/=]+)\x07/.exec(output);
  assert.ok(sequence, 'an OSC 52 sequence in what the screen wrote');
  const copied = Buffer.from(sequence[1]!, 'base64').toString('utf8');
  assert.match(copied, /^Target of pid \d+ kubelet/);
  assert.match(copied, /command: \/bin\/busybox sleep infinity/);
  pane.keys('Escape');
  await pane.waitFor((s) => !/Inspect:/.test(s), 'inspect closed');
});

test('the filter finds the watcher by a pod it watches', { skip: skip ?? false }, async (t) => {
  const pane = open(t);
  await pane.waitFor(/^LEAK /m, 'the first refresh');
  const kubeletRow = new RegExp(`^ +${kubelet.pid} root `, 'm');
  // A pod nobody watches first: the table empties, so the filter is seen to act on pods.
  pane.keys('/');
  pane.type('api-nobody');
  pane.keys('Enter');
  await pane.waitFor((s) => /no process matches the filter/.test(s) && !kubeletRow.test(s), 'no watcher of api-nobody');
  pane.keys('Escape');
  await pane.waitFor(kubeletRow, 'the filter cleared');
  pane.keys('/');
  pane.type('api-hxagp');
  pane.keys('Enter');
  const screen = await pane.waitFor(/F1Help/, 'the filter kept');
  assert.doesNotMatch(screen, /no process matches the filter/);
  assert.match(screen, kubeletRow, `kubelet, which watches api-hxagp, is shown:\n${screen}`);
});

test('v lists the pods, the gone ones marked, with their watchers and holders', { skip: skip ?? false }, async (t) => {
  const pane = open(t);
  await pane.waitFor(/^LEAK /m, 'the first refresh');
  pane.keys('v');
  const screen = await pane.waitFor(/NAMESPACE\/NAME +UID +STATE/, 'the pod view');
  for (const [i, pod] of pods.entries()) {
    const row = screen.split('\n').find((line) => line.startsWith(pod.name));
    assert.ok(row, `${pod.name} has a row:\n${screen}`);
    assert.match(row, new RegExp(`^${pod.name} +${pod.uid.slice(0, 8)} +gone +\\d+ +\\d+ ${kubelet.pid} +${holders[i]} `));
  }
  pane.keys('v');
  await pane.waitFor(/PID USER/, 'the process view again');
});
