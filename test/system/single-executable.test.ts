// The single executable (npm run build:exe) where there is no Node and no libc. The x64 file in
// containers on a real containerd whose root holds nothing but it and a static busybox, run with
// deploy/daemonset.yaml's pod spec (hostPID, its capabilities, seccomp, its mounts), once with
// the manifest's read-only root and once with a writable one: -b, --json against the npm build's,
// --demo, check, serve scraped (and with basic auth, on the host), the screen under tmux with the container's capabilities. In a
// chroot with a read-only root: where koffi's native module goes, and where it may not; an
// Alpine-like root with musl's libc only. As a user: V8's code kept where V8 rejects the build's, and a
// damaged kept file survived. The scan's second thread compiling its script from the build's code
// (Node's trace of V8's compiles); under V8 flags the build made no code with, no script's code
// tried, as in the npm build. The arm64 file under qemu-aarch64-static: the build's code (made under
// qemu) taken for the core and each part, and under other flags its first start's code kept for the
// next; the image archive's arm64 half, and skopeo reading the archive.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it, test, type TestContext } from 'node:test';
import bcrypt from 'bcryptjs';
import type { Snapshot } from '../../src/model/types.js';
import { SECOND_THREAD } from '../../src/scan/second-thread.js';
import { EXE_DIR } from '../../scripts/build-exe.mjs';
import { IMAGE_CONFIG, imageLabels, IMAGE_REF } from '../../scripts/build-image.mjs';
import { inotopBin } from '../helpers/build.js';
import { containerdSkipReason, startContainerd, type Containerd, type HarnessPod } from '../helpers/containerd.js';
import { BUSYBOX, installBusybox, writeOciImage } from '../helpers/containerd/image.js';
import { criPodFromManifest, daemonSetManifest, nodeRun, runtimeDirs, type ManifestPodSpec } from '../helpers/daemonset.js';
import { eventually } from '../helpers/eventually.js';
import { exeSkipReason, imageArchive, singleExecutable } from '../helpers/exe.js';
import { isRoot, Watcher } from '../helpers/inowatch.js';
import { servedPort, start } from '../helpers/prometheus.js';
import { essentials } from '../helpers/targets.js';
import { TmuxPane } from '../helpers/tmux.js';

const EXE_IMAGE = 'inotop.test/exe:1';
const EXECUTABLE = '/usr/local/bin/inotop';
const NODE_NAME = 'inotop-exe-node';
/** Debian's musl (package musl): the libc that is also its loader, named as Alpine names it. */
const MUSL_LIBC = '/lib/x86_64-linux-musl/libc.so';
const MUSL_LOADER = 'ld-musl-x86_64.so.1';
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function containerSkip(): string | null {
  return containerdSkipReason() ?? exeSkipReason('x64');
}

/** A watcher on the host: one instance, three watches in a directory of its own. */
async function startWatcher(dir: string): Promise<Watcher> {
  const watcher = new Watcher();
  await watcher.comm('exe-watcher');
  const fd = await watcher.init();
  mkdirSync(join(dir, 'watched'), { recursive: true });
  for (const name of ['a', 'b', 'c']) {
    writeFileSync(join(dir, 'watched', name), '');
    await watcher.watch(fd, join(dir, 'watched', name));
  }
  return watcher;
}

describe('the x64 single executable in containers with only it and a static busybox, with the DaemonSet pod spec', { skip: containerSkip() ?? false }, () => {
  const manifest = containerSkip() === null ? daemonSetManifest().spec.template.spec : null;
  let runtime: Containerd;
  let watcher: Watcher;
  let work: string;
  /** As shipped: a read-only root (koffi's module in the native-module emptyDir). */
  let readOnly: HarnessPod;
  /** A writable root and no native-module volume: koffi's module in the image's /var/cache/inotop. */
  let writable: HarnessPod;
  const ports = { readOnly: 19742, writable: 19743 };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'inotop-exe-'));
    watcher = await startWatcher(work);
    runtime = await startContainerd();
    const rootfs = join(work, 'image', 'rootfs');
    installBusybox(rootfs);
    mkdirSync(join(rootfs, 'usr/local/bin'), { recursive: true });
    copyFileSync(singleExecutable('x64'), join(rootfs, EXECUTABLE));
    chmodSync(join(rootfs, EXECUTABLE), 0o755);
    for (const mountpoint of ['etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, mountpoint), { recursive: true });
    await runtime.importImage(writeOciImage(join(work, 'image'), rootfs, IMAGE_CONFIG, [EXE_IMAGE]));
    // The manifest's host paths, here: a kubelet root of the harness's, and its containerd's socket dir.
    const kubeletRoot = join(runtime.dir, 'kubelet-root');
    await runtime.sharedMount(kubeletRoot);
    await runtime.sharedMount(runtime.runDir);
    await runtime.sharedMount(nodeRun(runtime));

    const run = (name: string, spec: ManifestPodSpec) => {
      const uid = randomUUID();
      return runtime.runPod({
        name,
        namespace: 'inotop',
        uid,
        kubeletRoot,
        ...criPodFromManifest(spec, {
          nodeName: NODE_NAME,
          podDir: join(kubeletRoot, 'pods', uid),
          hostPaths: { ...runtimeDirs(runtime), '/var/lib/kubelet': kubeletRoot },
          image: EXE_IMAGE,
        }),
      });
    };
    readOnly = await run('inotop-ro', manifest!);
    const writableSpec = structuredClone(manifest!);
    const writableContainer = writableSpec.containers[0]!;
    writableContainer.securityContext!.readOnlyRootFilesystem = false;
    writableContainer.volumeMounts = writableContainer.volumeMounts!.filter((mount) => mount.name !== 'native-module');
    writableSpec.volumes = writableSpec.volumes!.filter((volume) => volume.name !== 'native-module');
    writableContainer.args = writableContainer.args!.map((arg) => arg.replace(`:${ports.readOnly}`, `:${ports.writable}`));
    writable = await run('inotop-rw', writableSpec);
  });

  after(async () => {
    await watcher?.stop();
    await runtime?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const inside = async (pod: HarnessPod, args: string[], statuses = [0]) => {
    const result = await runtime.execSync(pod.container.id, [EXECUTABLE, ...args], 60);
    assert.ok(statuses.includes(result.exitCode), `inotop ${args.join(' ')}: exit ${result.exitCode}\n${result.stdout}${result.stderr}`);
    return result;
  };
  const both = () => [
    { name: 'read-only root', pod: readOnly, port: ports.readOnly },
    { name: 'writable root', pod: writable, port: ports.writable },
  ];

  it('runs with no libc in the root: the launcher its own loader, the root only the executable and busybox', async () => {
    for (const { pod } of both()) {
      const listing = await runtime.execSync(pod.container.id, ['/bin/ls', '/', '/lib', '/lib64', '/usr/lib'], 10);
      assert.match(listing.stderr, /\/lib: No such file or directory/);
      assert.match(listing.stderr, /\/lib64: No such file or directory/);
      assert.match(listing.stderr, /\/usr\/lib: No such file or directory/);
      const maps = readFileSync(`/proc/${pod.container.pid}/maps`, 'utf8');
      assert.match(maps, /\/memfd:libc\.so\.6/, "libc from the executable's own memory files");
      // Named after the file, once main.ts has run (Node names its thread "node-MainThread" first).
      await eventually(() => assert.equal(readFileSync(`/proc/${pod.container.pid}/comm`, 'utf8'), 'inotop\n'), { timeoutMs: 30_000 });
    }
    // Why the manifest gives koffi's module an emptyDir: a pod's /dev/shm does not run code.
    const shm = readFileSync(`/proc/${readOnly.container.pid}/mountinfo`, 'utf8')
      .split('\n')
      .find((line) => line.split(' ')[4] === '/dev/shm');
    assert.match(shm ?? '', /[ ,]noexec[ ,]/, `/dev/shm: ${shm}`);
  });

  it("--version: the single executable, Node and its architecture, where koffi's module was written", async () => {
    const readOnlyVersion = (await inside(readOnly, ['--version'])).stdout;
    assert.match(readOnlyVersion, new RegExp(`^inotop ${version.replaceAll('.', '\\.')}\\n`));
    assert.match(readOnlyVersion, /^node +v26\.\d+\.\d+ \(linux x64\)$/m);
    assert.match(readOnlyVersion, new RegExp(`^build +single executable: ${EXECUTABLE}$`, 'm'));
    assert.match(readOnlyVersion, /^runtime +ld-linux-x86-64\.so\.2 and \d+ libraries from Debian \(libc6 [^)]+\)/m);
    assert.match(readOnlyVersion, /^native +koffi loads from \/var\/cache\/inotop\/koffi-[0-9a-f]{64}\.node$/m);
    assert.match(readOnlyVersion, /^cache +V8's code from the build: used$/m);
    assert.match((await inside(writable, ['--version'])).stdout, /^native +koffi loads from \/var\/cache\/inotop\/koffi-[0-9a-f]{64}\.node$/m);
    // Written once, a root-owned 0700 directory: the emptyDir's (made 0777 by kubelet, taken back) and the image's own.
    for (const pod of [readOnly, writable]) {
      const listing = await runtime.execSync(pod.container.id, ['/bin/ls', '-ln', '/var/cache/inotop', '-d', '/var/cache/inotop'], 10);
      assert.match(listing.stdout, /^drwx------ +\d+ 0 +0 .* \/var\/cache\/inotop$/m, listing.stdout);
    }
  });

  it("-b and --json: the watcher's row, the same counts and targets as the npm build's on the host", async () => {
    for (const { pod } of both()) {
      const batch = (await inside(pod, ['-b', '-p', String(watcher.pid), '--pods', 'none'])).stdout;
      // The user's name where the node's passwd is readable (through the pid 1's root), else its uid.
      assert.match(batch, new RegExp(`^ *${watcher.pid} +(root|0) +1 +3 .*inowatch`, 'm'));
      const args = ['--json', '--targets', '-p', String(watcher.pid), '--pods', 'cri', '--runtime-endpoint', `unix://${runtime.socket}`, '--no-trace'];
      const [there, here] = [
        JSON.parse(
          (
            await inside(
              pod,
              args.map((arg) => arg.replace(runtime.socket, '/run/containerd/containerd.sock')),
            )
          ).stdout,
        ) as Snapshot,
        JSON.parse(execFileSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8' })) as Snapshot,
      ];
      assert.deepEqual(essentials(there), essentials(here));
      assert.equal(essentials(there).length, 1);
      assert.deepEqual(there.pods, here.pods);
      assert.equal(there.pods?.error, null, 'the CRI socket through the runtime-socket-dir mount');
    }
  });

  it('--demo -b -n 1 and check', async () => {
    for (const { pod } of both()) {
      const demo = (await inside(pod, ['--demo', '-b', '-n', '1'])).stdout;
      assert.match(demo, /^replay of ip-10-0-3-17\.ec2\.internal, snapshot 1 \(2026-11-27T19:20:58\.000Z\)$/m);
      assert.match(demo, /\/usr\/bin\/kubelet /);
      // The verdict on this node, as the npm build gives it on the host (figures aside: the node moves).
      const check = await inside(pod, ['check', '--pods', 'none', '--no-trace'], [0, 1, 2]);
      const onHost = spawnSync(process.execPath, [inotopBin, 'check', '--pods', 'none', '--no-trace'], { encoding: 'utf8' });
      const shape = (text: string) => text.replace(/\d[\d,.]*%?|<1%/g, 'N');
      assert.deepEqual([check.exitCode, shape(check.stdout)], [onHost.status, shape(onHost.stdout)]);
    }
  });

  it("serve, as the manifest runs it, scraped on the node's network", async () => {
    for (const { port } of both()) {
      const metrics = await eventually(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/metrics`);
          assert.equal(response.status, 200);
          const text = await response.text();
          assert.match(text, /^inotop_process_watches\{comm="exe-watcher",[^}]*\} 3$/m);
          return text;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      assert.match(metrics, new RegExp(`^inotop_build_info\\{[^}]*version="${version.replaceAll('.', '\\.')}"`, 'm'));
      assert.match(metrics, new RegExp(`node="${NODE_NAME}"`));
    }
  });

  it("the screen under tmux, in the read-only pod's mount namespace with its capabilities: keys, Enter, q", async (t) => {
    const pid = readOnly.container.pid;
    const caps = 'sys_admin,sys_chroot,sys_ptrace,dac_read_search';
    const keep = caps
      .split(',')
      .map((cap) => `+${cap}`)
      .join(',');
    // nsenter needs CAP_SYS_ADMIN and CAP_SYS_CHROOT to enter; busybox's setpriv, inside, drops
    // them from the ambient set, the only one a root with SECBIT_NOROOT passes on: inotop runs
    // with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, as in the container.
    const argv = [
      ...['setpriv', '--securebits', '+noroot', '--inh-caps', `-all,${keep}`, '--ambient-caps', `-all,${keep}`, '--bounding-set', `-all,${keep}`, '--'],
      ...['nsenter', '--target', String(pid), '--mount', '--'],
      ...['/bin/setpriv', '--nnp', '--ambient-caps', '-sys_admin,-sys_chroot', EXECUTABLE, '-d', '0.5', '--pods', 'none', '-p', String(watcher.pid)],
    ];
    const pane = new TmuxPane(argv, { width: 160, height: 40, env: { TERM: 'xterm-256color' } });
    t.after(() => pane.kill());
    await pane.waitFor(new RegExp(`^ *${watcher.pid} +(root|0) +1 +3 `, 'm'), "the watcher's row");
    const inotop = pane.commandPid();
    const status = readFileSync(`/proc/${inotop}/status`, 'utf8');
    const capEff = /^CapEff:\s*(\S+)/m.exec(status)![1];
    assert.equal(BigInt(`0x${capEff}`), (1n << 2n) | (1n << 19n), 'CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE only');
    pane.keys('Enter');
    await pane.waitFor(new RegExp(`${join(work, 'watched')}/[abc]`), 'the detail pane: resolved paths');
    // Apart: Escape then q at once is Alt-q to a terminal.
    pane.keys('Escape');
    await pane.waitFor((screen) => !/Esc back/.test(screen), 'the table focused again');
    pane.keys('q');
    await pane.waitFor(/EXIT=0/, 'q quits with 0');
  });
});

test(
  "serve with basic auth: bcrypt in serve's password thread, whose code comes from the file's assets",
  { skip: exeSkipReason('x64') ?? false },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'inotop-exe-auth-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    writeFileSync(join(work, 'web.yml'), `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('scrape-secret', 4)}\n`);
    const serve = start(t, singleExecutable('x64'), [
      'serve',
      '--pods',
      'none',
      '--no-trace',
      '--web.listen-address',
      '127.0.0.1:0',
      '--web.config.file',
      join(work, 'web.yml'),
    ]);
    const port = await servedPort(serve);
    const scrape = (password: string) =>
      fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Basic ${Buffer.from(`prometheus:${password}`).toString('base64')}` } });
    // 503 until the first scan is in.
    const good = await eventually(
      async () => {
        const answer = await scrape('scrape-secret');
        assert.equal(answer.status, 200, serve.output());
        return answer;
      },
      { timeoutMs: 30_000 },
    );
    assert.match(await good.text(), /^inotop_build_info\{/m);
    assert.equal((await scrape('wrong')).status, 401);
  },
);

test(
  "as a user: koffi's module in $XDG_CACHE_HOME/inotop (0700), V8's code from the build taken, a package run when needed; a module not as written is written again; V8's code kept where V8 rejects the build's, a damaged file survived",
  { skip: !isRoot ? 'needs root (to run as another user)' : (exeSkipReason('x64') ?? false) },
  (t) => {
    const { user, work, cache, run } = asUser(t, 'x64');
    const first = run(['--version']);
    const koffi = new RegExp(`^native +koffi loads from ${cache}/inotop/(koffi-[0-9a-f]{64}\\.node)$`, 'm').exec(first.stdout);
    assert.ok(koffi, first.stdout);
    // Made by the build under the Node the executable carries, with the flags it runs with: V8 takes it.
    assert.match(first.stdout, /^cache +V8's code from the build: used$/m);
    assert.equal(statSync(join(cache, 'inotop')).mode & 0o777, 0o700);
    // A package the application requires when it needs it (execa, to run kubectl), from the executable's own scripts.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    copyFileSync(join(import.meta.dirname, '../helpers/kubectl-stand-in.sh'), join(bin, 'kubectl'));
    chmodSync(join(bin, 'kubectl'), 0o755);
    writeFileSync(join(bin, 'kubectl-pods.json'), JSON.stringify({ items: [] }));
    chownSync(bin, user, user);
    const { pods } = JSON.parse(run(['--json', '--pods', 'kubectl'], `${bin}:${process.env.PATH}`).stdout) as Snapshot;
    assert.deepEqual([pods.source, pods.error], ['kubectl', null]);
    assert.match(readFileSync(join(bin, 'kubectl-calls'), 'utf8'), /^get pods -A /);
    // koffi's module, not as written (another build's of the same name, someone's hand): written again before it is loaded.
    const module = join(cache, 'inotop', koffi[1]!);
    const written = readFileSync(module);
    rmSync(module);
    writeFileSync(module, 'not koffi', { mode: 0o500 });
    chownSync(module, user, user);
    assert.match(run(['--version']).stdout, new RegExp(`^native +koffi loads from ${module.replaceAll('.', '\\.')}$`, 'm'));
    assert.ok(readFileSync(module).equals(written));

    // Under flags V8 made no code with (--jitless), the build's code is not even tried: the code of the
    // start is kept in the same directory, headed by the script's hash and its own, and taken by the next.
    const jitless = (args: string[]) => run(args, process.env.PATH, { NODE_OPTIONS: '--jitless' });
    const kept = join(cache, 'inotop', `inotop-${nodeVersion(first.stdout)}-x64.cache`);
    const rejected = "V8's code from the build made under other V8 flags than NODE_OPTIONS gives: not tried";
    const keptThere = (problem: string) =>
      new RegExp(`^cache +${rejected}; kept code \\(${kept.replaceAll('.', '\\.')}\\): ${problem}: compiled, kept there for the next start$`, 'm');
    const keptUsed = new RegExp(`^cache +${rejected}; V8's code kept by an earlier start \\(${kept.replaceAll('.', '\\.')}\\): used$`, 'm');
    assert.ok(!existsSync(kept), "nothing kept while the build's code is taken");
    assert.match(jitless(['--version']).stdout, keptThere('none kept yet'));
    assert.equal(statSync(kept).mode & 0o777, 0o400);
    assert.match(jitless(['--version']).stdout, keptUsed);
    // Damaged (bytes of its code changed, which V8 itself would not see): a compile, the output as
    // ever, and kept afresh for the next start.
    const damaged = readFileSync(kept);
    for (let at = damaged.length >> 1; at < (damaged.length >> 1) + 64; at++) damaged[at]! ^= 0x5a;
    writeFileSync(kept, damaged);
    assert.equal((JSON.parse(jitless(['--json', '--pods', 'none']).stdout) as Snapshot).schema, 1);
    assert.ok(!readFileSync(kept).equals(damaged), 'kept again as the start exited');
    assert.match(jitless(['--version']).stdout, keptUsed);
    // Not even a header, or another build's script's: the same.
    writeFileSync(kept, 'not code');
    assert.match(jitless(['--version']).stdout, keptThere('damaged'));
    const anotherBuild = readFileSync(kept);
    anotherBuild.fill('0', 0, 64);
    writeFileSync(kept, anotherBuild);
    assert.match(jitless(['--version']).stdout, keptThere("another build's"));
    assert.match(jitless(['--version']).stdout, keptUsed);
    // The build's code taken again where V8 takes it: the kept file left aside.
    assert.match(run(['--version']).stdout, /^cache +V8's code from the build: used$/m);
  },
);

test(
  "the scan's second thread: its script carried as a CommonJS one, compiled in the thread from V8's code the build made under the executable's Node; under other V8 flags from its source (the code not tried), the same scan",
  { skip: !isRoot ? 'needs root (to run as another user)' : (exeSkipReason('x64') ?? false), timeout: 300_000 },
  async (t) => {
    const { user, cache, run } = asUser(t, 'x64');
    // A node of more open files than SECOND_THREAD.earlyOpenFiles (file-nr), in processes of the
    // user's, whose fds a scan of the user's reads: a one-shot starts its second thread as it starts.
    const perHolder = 7_500;
    const holders = Array.from({ length: Math.ceil((SECOND_THREAD.earlyOpenFiles + 2_000) / perHolder) }, () =>
      spawn('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--clear-groups', process.execPath, '-e', holdFiles(perHolder)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    t.after(() => holders.forEach((holder) => holder.stdin.end()));
    await Promise.all(holders.map((holder) => new Promise((resolve) => holder.stdout.once('data', resolve))));
    const trace = join(cache, 'trace.log');
    const NO_THREAD = 'no second thread started';
    /** A one-shot's output and how its second thread compiled its script (Node's trace of V8's compiles), with `flags` for V8. */
    const oneShot = (flags: string) => {
      rmSync(trace, { force: true });
      const { stdout } = run(['--json', '--pods', 'none'], process.env.PATH, { NODE_OPTIONS: tracingCompiles(flags, trace) });
      const compiled = threadScriptCompiles(readTrace(trace));
      // Started only where a core looked free (SecondThreadTuning.maxCpuPressure): tried again until one did.
      assert.ok(compiled !== null, NO_THREAD);
      return { snapshot: JSON.parse(stdout) as Snapshot, compiled };
    };
    // Only that is tried again: a one-shot that failed fails the test.
    const untilStarted = { timeoutMs: 120_000, intervalMs: 500, retryOn: (error: unknown) => (error as Error).message === NO_THREAD };
    const withCode = await eventually(() => oneShot(''), untilStarted);
    assert.deepEqual(withCode.compiled, ['code']);
    // V8 takes code only under the flags it was made with: code made under others is not tried (bin/launch.cjs
    // madeUnderTheseFlags), the thread compiles its script and scans all the same.
    const fromSource = await eventually(() => oneShot('--jitless'), untilStarted);
    assert.deepEqual(fromSource.compiled, ['not tried']);
    // Each holder's one instance and watch (fs.watch), read by either thread.
    const holderRows = (snapshot: Snapshot) =>
      snapshot.processes
        .filter((proc) => holders.some((holder) => holder.pid === proc.pid))
        .map((proc) => [proc.pid, proc.instances, proc.watches])
        .sort((a, b) => a[0]! - b[0]!);
    const expected = holders.map((holder) => [holder.pid, 1, 1]).sort((a, b) => a[0]! - b[0]!);
    assert.deepEqual(holderRows(withCode.snapshot), expected);
    assert.deepEqual(holderRows(fromSource.snapshot), expected);
  },
);

test(
  "under V8 flags the build made no code with (NODE_OPTIONS), the single executable tries the build's code of no script of the CLI, core or part, as the npm build tries none: each compiled from its source, the output the same",
  { skip: !isRoot ? 'needs root (to run as another user)' : (exeSkipReason('x64') ?? false) },
  (t) => {
    const { cache, run } = asUser(t, 'x64');
    const trace = join(cache, 'trace.log');
    /** `inotop completion bash` (the core and completion's part) by `how` under `flags`: its output, and how the CLI's scripts compiled. */
    const completion = (how: 'executable' | 'npm', flags: string) => {
      rmSync(trace, { force: true });
      const env = { NODE_OPTIONS: tracingCompiles(flags, trace) };
      const stdout =
        how === 'executable'
          ? run(['completion', 'bash'], process.env.PATH, env).stdout
          : execFileSync(process.execPath, [inotopBin, 'completion', 'bash'], {
              encoding: 'utf8',
              env: { ...process.env, ...env },
              stdio: ['ignore', 'pipe', 'ignore'],
            });
      return { stdout, scripts: cliScripts(readTrace(trace)) };
    };
    const taken = completion('executable', '');
    assert.deepEqual(taken.scripts, [
      ['inotop', 'code'],
      ['completion', 'code'],
    ]);
    assert.deepEqual(completion('npm', '').scripts, taken.scripts);
    // --jitless: V8 would reject code made without it. Neither the core's nor the part's is tried, in either.
    const notTried = [
      ['inotop', 'not tried'],
      ['completion', 'not tried'],
    ];
    for (const how of ['executable', 'npm'] as const) {
      const jitless = completion(how, '--jitless');
      assert.deepEqual(jitless.scripts, notTried, how);
      assert.equal(jitless.stdout, taken.stdout, how);
    }
  },
);

/** A Node script that holds `count` files open and one inotify watch (fs.watch), says so on stdout, and ends with its stdin. */
function holdFiles(count: number): string {
  return `const { openSync, watch } = require('node:fs');
  const fds = Array.from({ length: ${count} }, () => openSync('/dev/null', 'r'));
  watch('/tmp');
  process.stdout.write(\`\${fds.length}\\n\`);
  process.stdin.resume().once('end', () => process.exit(0));`;
}

/** One event of Node's trace (--trace-event-categories): complete events (ph X) last `dur` µs from `ts`; others begin (B) and end (E). */
interface TraceEvent {
  name: string;
  ph: string;
  tid: number;
  ts: number;
  dur?: number;
  args: { name?: string; filename?: string };
}

/** NODE_OPTIONS of `flags` and Node's trace of the scripts compiled through node:vm and of V8's compiles, written to `file`. */
function tracingCompiles(flags: string, file: string): string {
  return `${flags} --trace-event-categories=node.vm.script,disabled-by-default-v8.compile --trace-event-file-pattern=${file}`.trim();
}

function readTrace(file: string): TraceEvent[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
}

/** How a script that may come with V8's code was compiled: with it ('code'), V8 rejecting it ('source'), or with none ('not tried'). */
type Compiled = 'code' | 'source' | 'not tried';

/**
 * Each script compiled through node:vm (Node's ContextifyScript::New, begun and ended) in Node's
 * trace, by thread: its file, and how V8 compiled it (its compile events within): 'code' where it
 * deserialized V8's code and compiled nothing, 'source' where it tried and then compiled, 'not
 * tried' where it deserialized nothing. Not the empty script whose code tells V8's flags (bin/launch.cjs).
 */
function vmScripts(events: TraceEvent[]): { thread: string; file: string; how: Compiled }[] {
  const threads = new Map(events.filter((event) => event.name === 'thread_name').map((event) => [event.tid, event.args.name ?? '']));
  const spans = events.filter((event) => event.ph === 'X');
  const within = (tid: number, from: number, to: number, name: string) =>
    spans.some((span) => span.tid === tid && span.name === name && span.ts >= from && span.ts + (span.dur ?? 0) <= to);
  const begun = new Map<number, TraceEvent>();
  const scripts: { thread: string; file: string; how: Compiled }[] = [];
  for (const event of events.filter((e) => e.name === 'ContextifyScript::New').sort((a, b) => a.ts - b.ts)) {
    if (event.ph === 'B') begun.set(event.tid, event);
    const begin = begun.get(event.tid);
    if (event.ph !== 'E' || begin === undefined) continue;
    begun.delete(event.tid);
    if (begin.args.filename === 'flags') continue;
    const tried = within(event.tid, begin.ts, event.ts, 'V8.CompileDeserialize');
    const how = !tried ? 'not tried' : within(event.tid, begin.ts, event.ts, 'V8.CompileCode') ? 'source' : 'code';
    scripts.push({ thread: threads.get(event.tid) ?? String(event.tid), file: begin.args.filename ?? '', how });
  }
  return scripts;
}

/** How the scan's second thread compiled its script (vmScripts); null where no such thread ran. */
function threadScriptCompiles(events: TraceEvent[]): Compiled[] | null {
  const isThread = (name: string) => /^\[worker \d+\] WorkerThread$/.test(name);
  if (!events.some((event) => event.name === 'thread_name' && isThread(event.args.name ?? ''))) return null;
  return vmScripts(events)
    .filter((script) => isThread(script.thread) && script.file.endsWith('scan/worker.cjs'))
    .map((script) => script.how);
}

/**
 * The CLI's scripts the main thread compiled (vmScripts), the core's and its parts' (not the
 * packages'), each as [its name, how]: without the part's hash (by default), the npm build's and
 * the executable's alike.
 */
function cliScripts(events: TraceEvent[], { hash = false } = {}): [string, Compiled][] {
  return vmScripts(events)
    .filter((script) => script.thread === 'JavaScriptMainThread' && !script.file.includes('/packages/'))
    .map((script) => {
      const name = basename(script.file, '.cjs');
      return [hash ? name : name.replace(/-[A-Z0-9]{8}$/, ''), script.how];
    });
}

/**
 * The executable for `arch` copied into a directory of the test's own, run as a user (1234) with a
 * cache directory there (0700, the user's) as $XDG_CACHE_HOME: what it writes and keeps is this test's.
 */
function asUser(t: TestContext, arch: 'x64' | 'arm64') {
  const user = 1234;
  const work = mkdtempSync(join(tmpdir(), `inotop-exe-user-${arch}-`));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  chmodSync(work, 0o755);
  const executable = join(work, 'inotop');
  copyFileSync(singleExecutable(arch), executable);
  chmodSync(executable, 0o755);
  const cache = join(work, 'cache');
  mkdirSync(cache, { mode: 0o700 });
  chownSync(cache, user, user);
  /** `inotop ARGS` as the user, which must exit 0. */
  const run = (args: string[], path = process.env.PATH, env: NodeJS.ProcessEnv = {}) => {
    const result = spawnSync('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--clear-groups', executable, ...args], {
      encoding: 'utf8',
      env: { PATH: path, XDG_CACHE_HOME: cache, ...env },
      timeout: 120_000,
    });
    assert.equal(result.status, 0, result.stderr);
    return result;
  };
  return { user, work, executable, cache, run };
}

/** The Node version --version names: the kept code's file is named for it. */
function nodeVersion(versionText: string): string {
  const match = /^node +(v\d+\.\d+\.\d+) /m.exec(versionText);
  assert.ok(match, versionText);
  return match[1]!;
}

describe(
  'the x64 single executable in a chroot with a read-only root: where its native module goes',
  { skip: !isRoot ? 'needs root (chroot, mounts)' : (exeSkipReason('x64') ?? false) },
  () => {
    /**
     * `inotop ARGS` in a root of the executable and a static busybox, bound read-only, in a mount
     * namespace of its own with /proc, and /dev/shm as asked (a tmpfs, noexec or not); nothing
     * it mounts outlives the run.
     */
    function inChroot(
      t: TestContext,
      args: string[],
      { shm, runtimeDir, owner, musl }: { shm: 'exec' | 'noexec' | 'none'; runtimeDir?: boolean; owner?: number; musl?: boolean },
    ) {
      const root = mkdtempSync(join(tmpdir(), 'inotop-exe-root-'));
      t.after(() => rmSync(root, { recursive: true, force: true }));
      for (const dir of ['bin', 'lib', 'usr/local/bin', 'proc', 'dev/shm', 'run/user/0', 'var/cache']) mkdirSync(join(root, dir), { recursive: true });
      copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
      // An Alpine-like root: musl's loader, which is its libc too, where Alpine has it, and no glibc.
      if (musl) copyFileSync(MUSL_LIBC, join(root, 'lib', MUSL_LOADER));
      copyFileSync(singleExecutable('x64'), join(root, EXECUTABLE));
      chmodSync(join(root, EXECUTABLE), 0o755);
      if (owner !== undefined) {
        // Someone else's directory where inotop would write: never used.
        mkdirSync(join(root, 'var/cache/inotop'), { mode: 0o700 });
        chownSync(join(root, 'var/cache/inotop'), owner, owner);
      }
      const setup = [
        'set -e',
        `mount --bind '${root}' '${root}'`,
        `mount -t proc proc '${root}/proc'`,
        ...(shm === 'none' ? [] : [`mount -t tmpfs -o mode=1777${shm === 'noexec' ? ',noexec' : ''} shm '${root}/dev/shm'`]),
        ...(runtimeDir ? [`mount -t tmpfs -o mode=0700 run '${root}/run/user/0'`] : []),
        ...(owner === undefined ? [`mount -o remount,bind,ro '${root}'`] : []),
        `exec /usr/sbin/chroot '${root}' /usr/local/bin/inotop "$@"`,
      ].join('\n');
      const env = { PATH: '/bin', ...(runtimeDir ? { XDG_RUNTIME_DIR: '/run/user/0' } : {}) };
      return spawnSync('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', setup, 'sh', ...args], { encoding: 'utf8', env, timeout: 60_000 });
    }

    test('read-only root: $XDG_RUNTIME_DIR/inotop, said in --version, and the scan works', (t) => {
      const result = inChroot(t, ['--version'], { shm: 'exec', runtimeDir: true });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^native +koffi loads from \/run\/user\/0\/inotop\/koffi-[0-9a-f]{64}\.node$/m);
      assert.match(result.stdout, /^ +\(not \/var\/cache\/inotop: read-only file system\)$/m);
      const batch = inChroot(t, ['-b', '--pods', 'none'], { shm: 'exec', runtimeDir: true });
      assert.equal(batch.status, 0, batch.stderr);
      assert.match(batch.stdout, /^limits: max_user_watches \d+/m);
    });

    test('read-only root, no runtime dir: /dev/shm/inotop-0; -b scans', (t) => {
      const version = inChroot(t, ['--version'], { shm: 'exec' });
      assert.equal(version.status, 0, version.stderr);
      assert.match(version.stdout, /^native +koffi loads from \/dev\/shm\/inotop-0\/koffi-[0-9a-f]{64}\.node$/m);
      const batch = inChroot(t, ['-b', '--pods', 'none'], { shm: 'exec' });
      assert.equal(batch.status, 0, batch.stderr);
      assert.match(batch.stdout, /^limits: max_user_watches \d+/m);
    });

    test("read-only root, /dev/shm noexec (a pod): nowhere to load from, said plainly; V8's code from the build taken all the same; the demo still runs", (t) => {
      const version = inChroot(t, ['--version'], { shm: 'noexec' });
      assert.equal(version.status, 0, version.stderr);
      assert.match(
        version.stdout,
        /^native +koffi not loaded: no directory to load koffi's native module from: \/var\/cache\/inotop: read-only file system; \/dev\/shm\/inotop-0: cannot load it from there: permission denied \(mounted noexec\?\)$/m,
      );
      // Code V8 reads from the executable's own assets: no directory matters to it.
      assert.match(version.stdout, /^cache +V8's code from the build: used$/m);
      const demo = inChroot(t, ['--demo', '-b', '-n', '1'], { shm: 'noexec' });
      assert.equal(demo.status, 0, demo.stderr);
      assert.match(demo.stdout, /^replay of ip-10-0-3-17\.ec2\.internal, snapshot 1 /m);
    });

    test(
      "an Alpine-like root, musl's libc only: -b and --json, the same counts as the npm build's on the host",
      { skip: existsSync(MUSL_LIBC) ? false : `${MUSL_LIBC} is missing (apt-get install musl; .ci/run does)` },
      async (t) => {
        const dir = mkdtempSync(join(tmpdir(), 'inotop-exe-musl-'));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        const watcher = await startWatcher(dir);
        t.after(() => watcher.stop());
        // The root's one libc is musl: its loader says so when run.
        assert.match(spawnSync(MUSL_LIBC, { encoding: 'utf8' }).stderr, /^musl libc \(x86_64\)/);
        const args = ['--json', '--targets', '-p', String(watcher.pid), '--pods', 'none', '--no-trace'];
        const json = inChroot(t, args, { shm: 'exec', musl: true });
        assert.equal(json.status, 0, json.stderr);
        const here = JSON.parse(execFileSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8' })) as Snapshot;
        assert.deepEqual(essentials(JSON.parse(json.stdout) as Snapshot), essentials(here));
        assert.equal(essentials(here).length, 1);
        const batch = inChroot(t, ['-b', '-p', String(watcher.pid), '--pods', 'none'], { shm: 'exec', musl: true });
        assert.equal(batch.status, 0, batch.stderr);
        assert.match(batch.stdout, new RegExp(`^ *${watcher.pid} +(root|0) +1 +3 `, 'm'));
      },
    );

    test("a directory of another user's where it would write: passed over", (t) => {
      const version = inChroot(t, ['--version'], { shm: 'exec', owner: 1234 });
      assert.equal(version.status, 0, version.stderr);
      assert.match(version.stdout, /^native +koffi loads from \/dev\/shm\/inotop-0\//m);
      assert.match(version.stdout, /^ +\(not \/var\/cache\/inotop: owned by uid 1234, not 0\)$/m);
    });
  },
);

/**
 * Runs `argv` with binfmt_misc sending aarch64 ELF files to qemu-aarch64-static (F: the
 * interpreter opened now, so it works in any root): the launcher's exec of its loader needs it.
 * A handler already there is used; one registered here is removed after.
 */
function withAarch64Binfmt(t: TestContext): void {
  const binfmt = '/proc/sys/fs/binfmt_misc';
  const mounted = existsSync(join(binfmt, 'register'));
  if (!mounted) execFileSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', binfmt]);
  const existing = readdirSync(binfmt).find((name) => /aarch64/.test(name) && readFileSync(join(binfmt, name), 'utf8').startsWith('enabled'));
  if (existing !== undefined) {
    if (!mounted) t.after(() => execFileSync('umount', [binfmt]));
    return;
  }
  const name = `inotop-test-aarch64-${process.pid}`;
  const magic = '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00';
  const mask = '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';
  writeFileSync(join(binfmt, 'register'), `:${name}:M::${magic}:${mask}:/usr/bin/qemu-aarch64-static:F`);
  t.after(() => {
    writeFileSync(join(binfmt, name), '-1');
    if (!mounted) execFileSync('umount', [binfmt]);
  });
}

function qemuSkip(): string | null {
  if (!isRoot) return 'needs root (binfmt_misc for qemu-aarch64-static)';
  if (!existsSync('/usr/bin/qemu-aarch64-static')) return 'qemu-aarch64-static is missing (apt-get install qemu-user-static; .ci/run does)';
  return exeSkipReason('arm64');
}

test(
  "the arm64 single executable under qemu-aarch64-static: --version, --json, -b, --demo -b -n 1; V8's code the build made (under qemu-aarch64-static on x64) taken for the core and for each part it carries, each loaded by what needs it (completion, recordings, serve, fleet, the screen); under other V8 flags, its first start's code kept for the next",
  { skip: qemuSkip() ?? false, timeout: 600_000 },
  async (t) => {
    withAarch64Binfmt(t);
    // As a user with a cache directory of the test's own: the code it keeps is this run's.
    const { user, executable, cache, run } = asUser(t, 'arm64');
    const version = run(['--version']);
    assert.match(version.stdout, /^node +v26\.\d+\.\d+ \(linux arm64\)$/m);
    assert.match(version.stdout, /^build +single executable: /m);
    assert.match(version.stdout, /^runtime +ld-linux-aarch64\.so\.1 and \d+ libraries from Debian \(libc6-arm64-cross /m);
    assert.match(version.stdout, new RegExp(`^native +koffi loads from ${cache}/inotop/`, 'm'));
    // Made by arm64's Node: here under qemu-user (scripts/build-exe.mjs applicationCode), and V8 takes it.
    assert.match(version.stdout, /^cache +V8's code from the build: used$/m);

    // Each part it carries, loaded by the run that needs it, with V8's code the build made of it.
    const trace = join(cache, 'trace.log');
    const traced = { NODE_OPTIONS: tracingCompiles('', trace), XDG_CONFIG_HOME: cache };
    const compiled: [string, Compiled][] = [];
    const scriptsOf = async (runIt: () => Promise<string> | string) => {
      rmSync(trace, { force: true });
      const stdout = await runIt();
      compiled.push(...cliScripts(readTrace(trace), { hash: true }));
      return stdout;
    };
    const json = JSON.parse(await scriptsOf(() => run(['--json', '--pods', 'none'], process.env.PATH, traced).stdout)) as Snapshot;
    assert.equal(json.schema, 1);
    assert.deepEqual(compiled, [['inotop', 'code']], 'a one-shot: the core only');
    assert.match(await scriptsOf(() => run(['-b', '--pods', 'none'], process.env.PATH, traced).stdout), /^limits: max_user_watches \d+/m);
    const demo = await scriptsOf(() => run(['--demo', '-b', '-n', '1'], process.env.PATH, traced).stdout);
    assert.match(demo, /^replay of ip-10-0-3-17\.ec2\.internal, snapshot 1 \(2026-11-27T19:20:58\.000Z\)$/m);
    assert.match(demo, /\/usr\/bin\/kubelet /);
    assert.match(await scriptsOf(() => run(['completion', 'bash'], process.env.PATH, traced).stdout), /^complete -F /m);
    const recording = join(cache, 'recording.jsonl');
    await scriptsOf(() => run(['--json', '--pods', 'none', '--record', recording], process.env.PATH, traced).stdout);
    assert.ok(statSync(recording).size > 0);
    await scriptsOf(async () => {
      const serve = spawn(
        'setpriv',
        [`--reuid=${user}`, `--regid=${user}`, '--clear-groups', executable, 'serve', '--replay', recording, '--web.listen-address', '127.0.0.1:0'],
        {
          env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, ...traced },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let said = '';
      serve.stderr.setEncoding('utf8').on('data', (data: string) => (said += data));
      const exited = new Promise((resolve) => serve.once('exit', resolve));
      await eventually(() => assert.match(said, /serving http:\/\/127\.0\.0\.1:\d+\/metrics/), { timeoutMs: 60_000, intervalMs: 250 });
      const port = /127\.0\.0\.1:(\d+)/.exec(said)![1];
      assert.match(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), /^inotop_build_info\{/m);
      serve.kill('SIGTERM');
      await exited;
      return said;
    });
    // fleet's view, of a Prometheus that has no inotop series (fleet --json asks it without the screen).
    const prometheus = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
    }).listen(0, '127.0.0.1');
    t.after(() => prometheus.close());
    await once(prometheus, 'listening');
    const fleet = await scriptsOf(async () => {
      const { port } = prometheus.address() as AddressInfo;
      const child = spawn(
        'setpriv',
        [`--reuid=${user}`, `--regid=${user}`, '--clear-groups', executable, 'fleet', '--prometheus', `http://127.0.0.1:${port}`, '--json'],
        {
          env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, ...traced },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
      const [status] = (await once(child, 'exit')) as [number];
      assert.equal(status, 0);
      return stdout;
    });
    assert.deepEqual((JSON.parse(fleet) as { nodes: unknown[] }).nodes, []);
    await scriptsOf(async () => {
      const pane = new TmuxPane(['setpriv', `--reuid=${user}`, `--regid=${user}`, '--clear-groups', executable, '--demo'], {
        width: 160,
        height: 40,
        env: { TERM: 'xterm-256color', XDG_CACHE_HOME: cache, ...traced },
      });
      t.after(() => pane.kill());
      await pane.waitFor(/\/usr\/bin\/kubelet/, "the demo's screen", 60_000);
      pane.keys('q');
      return pane.waitFor(/EXIT=0/, 'q quits with 0', 30_000);
    });
    const parts = carriedParts('arm64');
    assert.ok(parts.length > 10, `the parts: ${parts.join(' ')}`);
    assert.deepEqual([...new Set(compiled.map(([name]) => name))].sort(), ['inotop', ...parts].sort(), 'each part loaded by one of the runs');
    assert.deepEqual(
      compiled.filter(([, how]) => how !== 'code'),
      [],
      "each with the build's code",
    );

    // Under flags V8 made no code with, the core's is not tried: the first start compiles and keeps its code as it exits, the next takes it.
    const jitless = (args: string[]) => run(args, process.env.PATH, { NODE_OPTIONS: '--jitless' });
    const kept = join(cache, 'inotop', `inotop-${nodeVersion(version.stdout)}-arm64.cache`).replaceAll('.', '\\.');
    const notTried = "V8's code from the build made under other V8 flags than NODE_OPTIONS gives: not tried";
    assert.match(
      jitless(['--version']).stdout,
      new RegExp(`^cache +${notTried}; kept code \\(${kept}\\): none kept yet: compiled, kept there for the next start$`, 'm'),
    );
    assert.match(jitless(['--version']).stdout, new RegExp(`^cache +${notTried}; V8's code kept by an earlier start \\(${kept}\\): used$`, 'm'));
  },
);

/** The CLI's parts the executable for `arch` carries (its build's assets exe/app/NAME-HASH.cjs), as NAME-HASH. */
function carriedParts(arch: 'x64' | 'arm64'): string[] {
  const { assets } = JSON.parse(readFileSync(join(EXE_DIR, 'build', arch, 'sea-config.json'), 'utf8')) as { assets: Record<string, string> };
  return Object.keys(assets)
    .filter((asset) => /^exe\/app\/[^/]+\.cjs$/.test(asset) && asset !== 'exe/app/inotop.cjs')
    .map((asset) => basename(asset, '.cjs'));
}

function archiveSkip(): string | null {
  if (spawnSync('skopeo', ['--version']).status !== 0) return 'skopeo is missing (apt-get install skopeo; .ci/run does)';
  return exeSkipReason('x64') ?? exeSkipReason('arm64');
}

test(
  "the image archive: its arm64 image's index entry, manifest, config and one layer of the executable, the kubectl plugin and a terminfo; skopeo copies it whole",
  { skip: archiveSkip() ?? false, timeout: 300_000 },
  (t) => {
    const archive = imageArchive();
    const dir = mkdtempSync(join(tmpdir(), 'inotop-image-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('tar', ['--extract', '--file', archive, '--directory', dir]);
    const blob = (digest: string) => readFileSync(join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
    const verified = (descriptor: { digest: string; size: number }) => {
      const content = blob(descriptor.digest);
      assert.equal(`sha256:${createHash('sha256').update(content).digest('hex')}`, descriptor.digest);
      assert.equal(content.length, descriptor.size);
      return content;
    };
    const top = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    assert.equal(top.manifests.length, 1);
    assert.equal(top.manifests[0].annotations['io.containerd.image.name'], IMAGE_REF);
    const index = JSON.parse(verified(top.manifests[0]).toString());
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      index.manifests.map((m: { platform: object }) => m.platform),
      [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux' },
      ],
    );
    const arm = index.manifests[1];
    assert.equal(arm.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    const manifest = JSON.parse(verified(arm).toString());
    const config = JSON.parse(verified(manifest.config).toString());
    assert.equal(config.architecture, 'arm64');
    assert.equal(config.os, 'linux');
    const { Labels, ...run } = config.config;
    assert.deepEqual(run, IMAGE_CONFIG);
    assert.deepEqual(Object.keys(Labels).sort(), Object.keys(imageLabels()).sort());
    assert.equal(Labels['org.opencontainers.image.version'], version);
    assert.equal(manifest.layers.length, 1);
    const layer = verified(manifest.layers[0]);
    assert.deepEqual(config.rootfs.diff_ids, [manifest.layers[0].digest], 'an uncompressed layer: its digest is its diff_id');
    const layerDir = join(dir, 'layer');
    mkdirSync(layerDir);
    writeFileSync(join(dir, 'layer.tar'), layer);
    const files = execFileSync('tar', ['--list', '--file', join(dir, 'layer.tar')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();
    assert.deepEqual(files, [
      './',
      './dev/',
      './etc/',
      './proc/',
      './run/',
      './sys/',
      './tmp/',
      './usr/',
      './usr/local/',
      './usr/local/bin/',
      './usr/local/bin/inotop',
      './usr/local/bin/kubectl-inotop',
      './usr/share/',
      './usr/share/terminfo/',
      './usr/share/terminfo/x/',
      './usr/share/terminfo/x/xterm-256color',
      './var/',
      './var/run',
    ]);
    execFileSync('tar', ['--extract', '--file', join(dir, 'layer.tar'), '--directory', layerDir]);
    assert.equal(readlinkSync(join(layerDir, 'var/run')), '/run', "/var/run is /run, as on a node (CRI-O's socket)");
    const executable = readFileSync(join(layerDir, 'usr/local/bin/inotop'));
    assert.ok(executable.equals(readFileSync(singleExecutable('arm64'))), 'the arm64 executable itself');
    assert.equal(executable.readUInt16LE(18), 183, 'EM_AARCH64');

    // skopeo reads it as the README says to push it: both platforms, copied whole (to a local layout here, not a registry).
    // --preserve-digests: as it is (skopeo would otherwise compress the uncompressed layers this archive has).
    const skopeo = spawnSync('skopeo', ['copy', '--all', '--preserve-digests', `oci-archive:${archive}`, `oci:${join(dir, 'copied')}:${version}`], {
      encoding: 'utf8',
    });
    assert.equal(skopeo.status, 0, skopeo.stderr);
    const copied = JSON.parse(readFileSync(join(dir, 'copied', 'index.json'), 'utf8'));
    assert.equal(copied.manifests[0].digest, top.manifests[0].digest, 'the same index, byte for byte');
  },
);
