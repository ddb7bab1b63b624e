// How inotop starts (issue 27's start-up): a one-shot run leaves the standard input alone, and
// bin/inotop runs V8's code from the build under the Node that built it, compiles when V8 rejects
// that code (other V8 flags, a damaged file), and loads the ES modules under a Node without one;
// the scan's second thread (bin/worker.cjs) takes its own, and compiles without it. The CommonJS
// CLI is a core (what a one-shot compiles) and parts loaded when used, each module in one of them.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { after, before, test } from 'node:test';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { ScanPart, ShareInit, ThreadInit } from '../../src/scan/second-thread.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { eventually } from '../helpers/eventually.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixture = join(repo, 'fixtures/node-a/proc');
const work = mkdtempSync(join(tmpdir(), 'inotop-startup-'));
const fakeRuntimeScript = join(repo, 'test/helpers/fake-runtime-main.ts');
const execFileAsync = promisify(execFile);
const codeCache = join(repo, 'dist/cli', `inotop-${process.version}-${process.arch}.cache`);

before(() => ensureBuilt());
after(() => rmSync(work, { recursive: true, force: true }));

const oneShots = [
  ['--json', '--pods', 'none', '--proc', fixture],
  ['-b', '--pods', 'none', '--proc', fixture],
  ['check', '--no-trace', '--pods', 'none', '--proc', fixture],
];

/** The calls on descriptor 0 that `argv` makes, with a pipe as its standard input (strace). */
function stdinCalls(argv: string[]): string[] {
  const trace = join(work, 'trace');
  const result = spawnSync('strace', ['-f', '-o', trace, '-e', 'trace=ioctl,fcntl,read,epoll_ctl', ...argv], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  assert.ok(result.status !== null && result.status <= 2, `${argv.join(' ')}: ${result.stderr}`);
  return readFileSync(trace, 'utf8')
    .split('\n')
    .filter((line) => /^\d+ +(ioctl\(0, FIONBIO|read\(0,|epoll_ctl\(\d+, EPOLL_CTL_ADD, 0,)/.test(line));
}

test('a one-shot run does not open the standard input (Node sets up the stream only when asked for it)', (t) => {
  if (spawnSync('strace', ['-V']).status !== 0) return t.skip('strace is not installed (.ci/run installs it)');
  // The control: a Node that asks for process.stdin makes the pipe non-blocking, which the trace sees.
  assert.notDeepEqual(stdinCalls([process.execPath, '-e', 'process.stdin']), [], 'the trace sees a standard input opened');
  for (const args of oneShots) assert.deepEqual(stdinCalls([process.execPath, inotopBin, ...args]), [], args.join(' '));
});

/** A preload that prints Node's list of loaded modules at exit, and the list read back from stderr. */
function moduleListing(): { preload: string; listed: (stderr: string) => string[]; own: Set<string> } {
  const preload = join(work, 'modules-loaded.cjs');
  writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(2, '\\nMODULES ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n");
  const listed = (stderr: string): string[] => JSON.parse(/^MODULES (.*)$/m.exec(stderr)?.[1] ?? '[]') as string[];
  return { preload, listed, own: new Set(listed(spawnSync(process.execPath, ['--require', preload, '-e', '0'], { encoding: 'utf8' }).stderr)) };
}

/** The modules Node loaded for `argv` beyond its own start (`node -e 0`'s), its stdout and stderr pipes. */
function modulesLoaded(args: string[]): string[] {
  const { preload, listed, own } = moduleListing();
  const result = spawnSync(process.execPath, ['--require', preload, inotopBin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.ok(result.status !== null && result.status <= 2 && result.stdout !== '', `${args.join(' ')}: ${result.stderr}`);
  return listed(result.stderr).filter((name) => !own.has(name));
}

/** modulesLoaded without blocking the test's event loop, and the run's stdout. */
async function modulesLoadedAsync(args: string[]): Promise<{ loaded: string[]; stdout: string }> {
  const { preload, listed, own } = moduleListing();
  const { stdout, stderr } = await execFileAsync(process.execPath, ['--require', preload, inotopBin, ...args], { encoding: 'utf8' });
  return { loaded: listed(stderr).filter((name) => !own.has(name)), stdout };
}

test("a one-shot run into a pipe writes straight to the pipe and reads kubelet's pod directory synchronously: Node's net, stdio streams and fs/promises never load", () => {
  // The control: a Node that writes to process.stdout, a pipe here, loads them.
  const preloadedByStream = spawnSync(process.execPath, ['-e', "process.stdout.write('x'); process.stderr.write(JSON.stringify(process.moduleLoadList))"], {
    encoding: 'utf8',
  });
  assert.ok((JSON.parse(preloadedByStream.stderr) as string[]).includes('NativeModule net'), 'the control loads net');
  // kubelet's pod directory, as auto reads it beside the runtime's socket.
  const kubeletRoot = join(work, 'kubelet');
  mkdirSync(join(kubeletRoot, 'pods', '0b3c7c5e-1111-2222-3333-444455556666'), { recursive: true });
  const withKubelet = ['--json', '--pods', 'kubelet', '--kubelet-root', kubeletRoot, '--proc', fixture];
  for (const args of [...oneShots, ['--version'], withKubelet]) {
    const loaded = modulesLoaded(args);
    assert.ok(loaded.length > 0, `${args.join(' ')}: the list holds inotop's own modules`);
    assert.deepEqual(
      // Node's stream classes themselves come with node:crypto where the node holds inotify instances (scanner.ts's listDigest).
      loaded.filter((name) =>
        /^(NativeModule (net|internal\/fs\/sync_write_stream|internal\/stream_base_commons|internal\/fs\/promises)|Internal Binding (pipe|tcp|stream|tty)_wrap)$/.test(
          name,
        ),
      ),
      [],
      args.join(' '),
    );
  }
});

test('a one-shot run with a runtime answering CRI asks it through system calls: net, stream and the pipe handles never load, and the pods are listed', async () => {
  // A runtime of its own process: the test's event loop stays free while inotop runs.
  const runtime = spawn(process.execPath, ['--import', 'tsx', fakeRuntimeScript], { stdio: ['ignore', 'pipe', 'inherit'], cwd: repo });
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      runtime.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      runtime.once('exit', (code) => reject(new Error(`the fake runtime exited ${code}`)));
    });
    const { loaded, stdout } = await modulesLoadedAsync(['--json', '--pods', 'cri', '--runtime-endpoint', endpoint, '--proc', fixture]);
    const pods = (JSON.parse(stdout) as { pods: { source: string; live: number | null; error: string | null } }).pods;
    assert.deepEqual({ source: pods.source, live: pods.live, error: pods.error }, { source: 'cri', live: 1, error: null });
    assert.deepEqual(
      loaded.filter((name) => /^(NativeModule (net|internal\/stream_base_commons)|Internal Binding (pipe|tcp|stream)_wrap)$/.test(name)),
      [],
    );
  } finally {
    // SIGTERM: it removes its socket's directory.
    const exited = new Promise((resolve) => runtime.once('exit', resolve));
    runtime.kill('SIGTERM');
    await exited;
  }
});

test('Ctrl-C ends a one-shot run that waits for a runtime which never answers, before the CRI deadline', async () => {
  const socket = join(work, 'silent.sock');
  const held: Socket[] = [];
  const server = createServer((connection) => held.push(connection));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    const started = Date.now();
    const run = spawn(process.execPath, [inotopBin, '--json', '--pods', 'cri', '--runtime-endpoint', socket, '--proc', fixture], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
    // Connected: the run now waits for the answer (the deadline is 2 s).
    await eventually(() => assert.ok(held.length > 0, 'inotop connected'), { intervalMs: 10 });
    run.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
  } finally {
    for (const connection of held) connection.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("koffi's glibc build is loaded from its platform package without that package's entry, koffi's or require()'s resolution (Node's loader read from its ELF header)", () => {
  const preload = join(work, 'required.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => {
  const fs = require('node:fs');
  const mapped = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').map((line) => line.split(/ +/)[5] ?? '').filter((path) => path.endsWith('.node'));
  fs.writeSync(2, '\\nREQUIRED ' + JSON.stringify(Object.keys(require.cache)) + '\\nMAPPED ' + JSON.stringify([...new Set(mapped)]) + '\\n');
});
`,
  );
  const result = spawnSync(process.execPath, ['--require', preload, inotopBin, '--json', '--pods', 'none', '--proc', fixture], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const required = JSON.parse(/^REQUIRED (.*)$/m.exec(result.stderr)?.[1] ?? '[]') as string[];
  const mapped = JSON.parse(/^MAPPED (.*)$/m.exec(result.stderr)?.[1] ?? '[]') as string[];
  assert.deepEqual(
    required.filter((path) => path.includes('/node_modules/')),
    [],
    'no module of a package is required',
  );
  const platformPackage = `/node_modules/@koromix/koffi-linux-${process.arch}/`;
  assert.deepEqual(
    mapped.map((path) => (path.includes(platformPackage) ? path.slice(path.indexOf(platformPackage) + platformPackage.length) : path)),
    [`linux_${process.arch}/koffi.node`],
  );
});

/**
 * A launcher (`node LAUNCHER PROGRAM ARGS`) that makes its stdout, a pipe, one page long (and
 * non-blocking when NONBLOCK=1), then becomes PROGRAM ARGS in the same process.
 */
function onePagePipeLauncher(): string {
  // koffi's fcntl, then execv: the descriptor stays as set, with nothing between (a spawn by Node would make it blocking again).
  const launcher = join(work, 'pipe-launcher.cjs');
  writeFileSync(
    launcher,
    `const libc = require(${JSON.stringify(join(repo, 'node_modules/koffi'))}).load('libc.so.6');
const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
const execv = libc.func('int execv(const char *path, const char **argv)');
const [F_SETFD, F_GETFL, F_SETFL, F_SETPIPE_SZ, O_NONBLOCK] = [2, 3, 4, 1031, 0o4000];
// Node marks its stdout close-on-exec as it starts.
if (fcntl(1, F_SETFD, 0) < 0) throw new Error('F_SETFD failed');
if (fcntl(1, F_SETPIPE_SZ, 4096) < 0) throw new Error('F_SETPIPE_SZ failed');
if (process.env.NONBLOCK === '1' && fcntl(1, F_SETFL, fcntl(1, F_GETFL, 0) | O_NONBLOCK) < 0) throw new Error('F_SETFL failed');
execv(process.execPath, [process.execPath, ...process.argv.slice(2), null]);
throw new Error('execv failed');
`,
  );
  return launcher;
}

/**
 * `inotop ARGS` (the compiled CLI) writing into a pipe of one page that `reader` (a shell
 * command) drains slowly, made non-blocking first when `nonBlocking` (as a parent whose own
 * stdout is a pipe Node opened leaves it): what reached the reader, and the exit status inotop had.
 */
function throughSlowPipe(args: string[], nonBlocking: boolean): { status: number | null; stdout: string; stderr: string } {
  const launcher = onePagePipeLauncher();
  // The reader starts a second late: the pipe is full well before.
  const result = spawnSync('bash', ['-c', '"$@" | (sleep 1; cat); exit "${PIPESTATUS[0]}"', 'bash', process.execPath, launcher, inotopBin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NONBLOCK: nonBlocking ? '1' : '0' },
  });
  return { status: result.status, stdout: normalized(result.stdout), stderr: result.stderr };
}

/** JSON (a one-shot's, indented, or a series' lines) without the times it was made and took. */
const normalized = (text: string): string => text.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '…').replace(/"scanMs": ?[\d.]+/g, '"scanMs":…');

test('a one-shot or a series into a pipe whose reader is slow, blocking or not, writes the whole output, in order, and exits as before', () => {
  // Each snapshot larger than the pipe: partial writes, and where the pipe is non-blocking, EAGAIN
  // (then the rest through Node's stream, which waits for the reader). A series goes through the stream.
  const oneShot = ['--json', '--targets', '--no-trace', '--pods', 'none', '--proc', fixture];
  const series = [...oneShot, '-n', '4', '-d', '0.1'];
  for (const args of [oneShot, series]) {
    const alone = spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8' });
    assert.equal(alone.status, 0, alone.stderr);
    assert.ok(alone.stdout.length > 2 * 4096, `the output (${alone.stdout.length} bytes) fills the pipe more than once`);
    for (const nonBlocking of [false, true]) {
      const piped = throughSlowPipe(args, nonBlocking);
      // Not deepEqual of the whole text: a failure would print it twice.
      assert.equal(piped.status, 0, piped.stderr);
      assert.equal(piped.stderr, '');
      assert.ok(
        piped.stdout === normalized(alone.stdout),
        `${args.includes('-n') ? 'a series' : 'a one-shot'}, ${nonBlocking ? 'non-blocking' : 'blocking'}: ${piped.stdout.length} bytes arrived of ${alone.stdout.length}`,
      );
    }
  }
});

test('a series into a pipe its reader stopped reading ends at SIGINT, with 130, while it waits for the reader', async () => {
  // A write straight to fd 1 would hold the signal until the reader took the piece: here, never.
  const pidFile = join(work, 'series.pid');
  const statusFile = join(work, 'series.status');
  const firstFile = join(work, 'series.first');
  for (const file of [pidFile, statusFile, firstFile]) rmSync(file, { force: true });
  const args = ['--json', '--targets', '-n', '1000', '-d', '0.1', '--no-trace', '--pods', 'none', '--proc', fixture];
  // The reader takes the first bytes, then holds the pipe without reading: a snapshot (over 8 KB)
  // does not fit the one-page pipe, so the series is waiting for it once they arrived.
  const script = '{ "$@" & echo $! > "$PID_FILE"; wait $!; echo $? > "$STATUS_FILE"; } | { head -c 1 > "$FIRST_FILE"; sleep 60; }';
  const pipeline = spawn('bash', ['-c', script, 'bash', process.execPath, onePagePipeLauncher(), inotopBin, ...args], {
    env: { ...process.env, NONBLOCK: '0', PID_FILE: pidFile, STATUS_FILE: statusFile, FIRST_FILE: firstFile },
    stdio: 'ignore',
    detached: true,
  });
  const textOf = (file: string): string => {
    const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    assert.notEqual(text, '', `${file} is written`);
    return text;
  };
  try {
    const pid = Number(await eventually(() => textOf(pidFile), { timeoutMs: 10_000 }));
    await eventually(() => assert.equal(readFileSync(firstFile, 'utf8'), '{'), { timeoutMs: 10_000 });
    process.kill(pid, 'SIGINT');
    assert.equal(await eventually(() => textOf(statusFile), { timeoutMs: 5_000 }), '130');
  } finally {
    try {
      process.kill(-pipeline.pid!, 'SIGKILL');
    } catch {
      // the pipeline is gone already
    }
  }
});

/** A copy of the package's bin/ and dist/ at `dir` (its node_modules the checkout's): its code cache can be changed there. */
function packageCopy(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(repo, part), join(dir, part), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** `inotop ARGS` from the package at `dir` under this Node with `nodeFlags`: its output without the time it was made and took. */
function runFrom(dir: string, args: string[], nodeFlags: string[] = []) {
  const result = spawnSync(process.execPath, [...nodeFlags, join(dir, 'bin/inotop'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return {
    ...result,
    stdout: result.stdout
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '…')
      .replace(/"scanMs": [\d.]+/g, '"scanMs": …')
      .replace(/\b\d+(\.\d+)? ?ms\b/g, '… ms'),
  };
}

const cacheLine = (version: string) => version.match(/^cache +(.*)$/m)?.[1];

/** crictl as a node without pods answers: the pod source that imports execa (an ES module) from the script. */
function emptyCrictl(): string {
  const crictl = join(work, 'crictl');
  writeFileSync(crictl, '#!/bin/sh\necho \'{"items": [], "containers": []}\'\n', { mode: 0o755 });
  return crictl;
}

test("the build's CLI script holds CommonJS's wrapper and only ASCII: bin/launch.cjs hands V8 the file as read (latin1), with nothing joined to it at start", () => {
  const { WRAPPER } = createRequire(import.meta.url)('../../bin/launch.cjs') as { WRAPPER: [string, string] };
  const script = readFileSync(join(repo, 'dist/cli/inotop.cjs'));
  assert.equal(script.subarray(0, WRAPPER[0].length).toString('latin1'), WRAPPER[0]);
  assert.equal(script.subarray(script.length - WRAPPER[1].length).toString('latin1'), WRAPPER[1]);
  assert.equal(
    script.findIndex((byte) => byte > 0x7f),
    -1,
    'a byte outside ASCII',
  );
});

test("V8's code from the build: used by the Node that built it; not tried (made under other V8 flags), rejected (a damaged file) or missing (another Node), inotop still runs and prints the same", () => {
  assert.ok(existsSync(codeCache), `the build made ${codeCache}`);
  const withCrictl = [
    'check',
    '--no-trace',
    '--instances-threshold=off',
    '--watches-threshold=off',
    '--pods',
    'crictl',
    '--crictl',
    emptyCrictl(),
    '--proc',
    fixture,
  ];
  const json = ['--json', '--pods', 'none', '--proc', fixture];
  const used = runFrom(repo, json);
  assert.equal(used.status, 0, used.stderr);
  assert.equal(cacheLine(runFrom(repo, ['--version']).stdout), `V8's code from the build (${codeCache}): used`);

  // V8 takes a cache only under the flags it was made with: one made under others is not even tried (bin/launch.cjs madeUnderTheseFlags).
  const otherFlags = ['--max-old-space-size=3000'];
  assert.match(cacheLine(runFrom(repo, ['--version'], otherFlags).stdout) ?? '', /: made under other V8 flags than this run's: not tried, compiled$/);
  // Node's flags that are not V8's: tried, and taken.
  assert.match(cacheLine(runFrom(repo, ['--version'], ['--enable-source-maps']).stdout) ?? '', /: used$/);
  assert.deepEqual(runFrom(repo, json, otherFlags).stdout, used.stdout);

  const damaged = packageCopy('damaged');
  const damagedCache = join(damaged, 'dist/cli', `inotop-${process.version}-${process.arch}.cache`);
  const bytes = readFileSync(damagedCache);
  for (let i = 0; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0x5a;
  writeFileSync(damagedCache, bytes);
  assert.match(cacheLine(runFrom(damaged, ['--version']).stdout) ?? '', /: rejected by V8: compiled$/);
  assert.deepEqual(runFrom(damaged, json).stdout, used.stdout);

  // Another Node finds no file named for it, and loads the ES modules.
  const none = packageCopy('none');
  rmSync(join(none, 'dist/cli', `inotop-${process.version}-${process.arch}.cache`));
  assert.equal(cacheLine(runFrom(none, ['--version']).stdout), `no V8 code from the build for Node ${process.version} (${process.arch})`);
  const crictlAnswer = runFrom(repo, withCrictl);
  assert.deepEqual([crictlAnswer.status, crictlAnswer.stdout, crictlAnswer.stderr], [0, 'ok: no leaked watches\n', ''], 'the pod list from crictl');
  for (const args of [...oneShots, withCrictl]) {
    const fromModules = runFrom(none, args);
    const fromCache = runFrom(repo, args);
    assert.deepEqual([fromModules.status, fromModules.stdout, fromModules.stderr], [fromCache.status, fromCache.stdout, fromCache.stderr], args.join(' '));
  }
});

test("check run within a process that goes on (the build's warm runs: code-cache.mjs, under qemu-user for the other architecture slower than check's grace) leaves that process to end itself", () => {
  // The CLI's script run as code-cache.mjs runs it: runProgram without a launch, in a process that then goes on for longer than check's 100 ms.
  const script = `const { loadBundle } = require(${JSON.stringify(join(repo, 'bin/launch.cjs'))});
    const { exports } = loadBundle(undefined);
    exports.runProgram(${JSON.stringify(oneShots[2])}).then(() => setTimeout(() => process.stdout.write('went on after check\\n'), 500));`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^ok: [^\n]*\nwent on after check\n$/);
});

test("V8's code from the build holds the live scan's paths: a one-shot of the live /proc, where a process holds instances, compiles none of them at run time", async () => {
  const dir = packageCopy('live');
  const cache = join(dir, 'dist/cli', `inotop-${process.version}-${process.arch}.cache`);
  // V8's log of compiled functions, whose flag V8's code must be made under to be taken (the file's name is a flag too: the same in both places).
  const logged = (place: string) => {
    mkdirSync(join(work, place));
    return { cwd: join(work, place), flags: ['--log-function-events', '--logfile=functions.log'] };
  };
  const build = logged('live-build');
  const made = spawnSync(process.execPath, [...build.flags, join(repo, 'scripts/code-cache.mjs'), join(dir, 'dist/cli/inotop.cjs'), cache], {
    cwd: build.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  assert.equal(made.status, 0, made.stderr);
  const watched = mkdtempSync(join(work, 'watched-'));
  // Two instances of one process (its event loop's and a worker thread's) on the same directory: their lists are keyed alike.
  const holderScript = join(work, 'holder.cjs');
  writeFileSync(
    holderScript,
    `const dir = process.argv[2];
     require('node:fs').watch(dir);
     const thread = new (require('node:worker_threads').Worker)(\`require('node:fs').watch(\${JSON.stringify(dir)}); require('node:worker_threads').parentPort.postMessage(0);\`, { eval: true });
     thread.once('message', () => console.log('watching'));
     setInterval(() => {}, 60_000);`,
  );
  const holder = spawn(process.execPath, [holderScript, watched], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('exit', () => reject(new Error('the holder exited')));
    });
    const run = logged('live-run');
    const oneShot = spawnSync(process.execPath, [...run.flags, join(dir, 'bin/inotop'), '--json', '--pods', 'none'], {
      cwd: run.cwd,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    assert.equal(oneShot.status, 0, oneShot.stderr);
    const holderRow = (JSON.parse(oneShot.stdout) as { processes: { pid: number; instances: number }[] }).processes.find((row) => row.pid === holder.pid);
    assert.equal(holderRow?.instances, 2, 'the holder read, with its two instances');
    const log = readdirSync(run.cwd)
      .filter((name) => name.endsWith('functions.log'))
      .map((name) => readFileSync(join(run.cwd, name), 'latin1'))
      .join('\n');
    // function,deserialize,SCRIPT,...,PATH: the script whose code V8 took; function,interpreter,SCRIPT,...,NAME: one compiled at run time.
    const script = log.match(new RegExp(`^function,deserialize,(\\d+),.*${join(dir, 'dist/cli/inotop.cjs').replace(/[.]/g, '\\.')}$`, 'm'))?.[1];
    assert.ok(script, "V8 took the build's code");
    const named = (event: string) => [...log.matchAll(new RegExp(`^function,${event},${script},.*,([^,\\n]*)$`, 'gm'))].map((match) => match[1]);
    const compiledNow = named('interpreter');
    // Of the paths a scan takes only on a live /proc: lists keyed by a sample, the queues, the FileSet
    // that tells shared instances (its probe lists a file added twice), the resolver's file handles.
    const liveOnly = ['readLongList', 'sampledKey', 'readQueuesOf', 'runsOfListing', 'openByHandle', 'lookupMeans'];
    const ran = named('first-execution');
    assert.deepEqual(
      liveOnly.filter((name) => !ran.includes(name)),
      [],
      'each ran',
    );
    assert.deepEqual(
      liveOnly.filter((name) => compiledNow.includes(name)),
      [],
      `compiled at run time: ${compiledNow.join(' ')}`,
    );
  } finally {
    holder.kill();
  }
});

/** The CLI's scripts in dist/cli (the core, inotop.cjs, and its parts: scripts/one-script.mjs buildSplitScript), each one's text. */
function cliScripts(dir = repo): Map<string, string> {
  const cli = join(dir, 'dist/cli');
  return new Map(
    readdirSync(cli)
      .filter((name) => name.endsWith('.cjs'))
      .map((name) => [name, readFileSync(join(cli, name), 'latin1')]),
  );
}

/**
 * The functions and classes a script of the build declares at its top level (within CommonJS's
 * wrapper: one module's declarations are there, esbuild hoists them), each as its text: a module
 * bundled in two scripts has the same text in both. Parsed by TypeScript's parser.
 */
function topLevelDeclarations(name: string, text: string): Set<string> {
  const file = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const [statement] = file.statements;
  assert.ok(statement && ts.isExpressionStatement(statement), `${name}: CommonJS's wrapper`);
  let wrapper: ts.Expression = statement.expression;
  while (ts.isParenthesizedExpression(wrapper)) wrapper = wrapper.expression;
  assert.ok(ts.isFunctionExpression(wrapper), `${name}: CommonJS's wrapper`);
  // esbuild writes a class as `var Name = class {...}`.
  const isClass = (node: ts.Statement) =>
    ts.isClassDeclaration(node) ||
    (ts.isVariableStatement(node) &&
      node.declarationList.declarations.some((declaration) => declaration.initializer && ts.isClassExpression(declaration.initializer)));
  return new Set(wrapper.body.statements.filter((node) => ts.isFunctionDeclaration(node) || isClass(node)).map((node) => node.getText(file)));
}

/** Each declaration (as topLevelDeclarations gives it) found in more than one of `scripts`, with the scripts it is in. */
function declaredTwice(scripts: Map<string, string>): string[] {
  const where = new Map<string, string[]>();
  for (const [name, text] of scripts)
    for (const declaration of topLevelDeclarations(name, text)) where.set(declaration, [...(where.get(declaration) ?? []), name]);
  return [...where].filter(([, names]) => names.length > 1).map(([declaration, names]) => `${names.join(' and ')}: ${declaration.slice(0, 80)}…`);
}

test("the CLI's CommonJS scripts: a core and lazily loaded parts, each module in one of them (a part takes the core's modules from its registry, never a copy of its own)", () => {
  const scripts = cliScripts();
  const core = scripts.get('inotop.cjs');
  assert.ok(core !== undefined, 'the core');
  const parts = [...scripts.keys()].filter((name) => name !== 'inotop.cjs');
  // The screen's, serve's, fleet's, the recordings' and completion's modules are parts, each loaded by the core's import() of it.
  for (const part of ['screen', 'serve', 'view', 'reader', 'writer', 'completion']) {
    const name = parts.find((file) => file.startsWith(`${part}-`));
    assert.ok(name !== undefined, `a part of ${part}`);
    assert.ok(core.includes(`require("./${name}")`), `the core requires ${name}`);
  }
  assert.ok(topLevelDeclarations('inotop.cjs', core).size > 400, "the core's declarations, as parsed");
  assert.deepEqual(declaredTwice(scripts), [], 'a module bundled in two scripts');
  // The check sees a copy: a part that holds a function of the core's (as a part bundled on its own would).
  const [copied] = [...topLevelDeclarations('inotop.cjs', core)].filter((declaration) => declaration.startsWith('function '));
  const screen = parts.find((file) => file.startsWith('screen-'))!;
  const withCopy = new Map(scripts).set(screen, scripts.get(screen)!.replace(/\n\}\)$/, `${copied}\n})`));
  assert.equal(declaredTwice(withCopy).length, 1, 'the check sees a copied function');
  // A part's imports of the core's modules go to its registry; the core's imports of a part are require() of it.
  assert.ok(
    parts.some((part) => scripts.get(part)!.includes('require("./inotop.cjs")')),
    'a part requires the core',
  );
});

/**
 * The scripts bin/inotop `args` compiled in the package at `dir` (V8's compile, node:vm's Script:
 * bin/launch.cjs), as their file names in dist/cli, each with whether V8 took the build's code of
 * it, and the run's stdout. `run` runs it (by default to its end).
 */
async function scriptsCompiled(args: string[], dir = repo, run?: (child: ReturnType<typeof spawn>) => Promise<void>) {
  const preload = join(work, 'compiled.cjs');
  writeFileSync(
    preload,
    `const vm = require('node:vm');
     const compiled = [];
     vm.Script = class extends vm.Script {
       constructor(source, options) {
         super(source, options);
         // Not the empty script whose code tells this run's V8 flags (bin/launch.cjs madeUnderTheseFlags: --require is Node's argument).
         if (options.filename !== 'flags') compiled.push([require('node:path').relative(${JSON.stringify(join(dir, 'dist/cli'))}, options.filename), options.cachedData !== undefined && !this.cachedDataRejected]);
       }
     };
     // Not a worker thread's (the preload runs in each).
     if (require('node:worker_threads').isMainThread) process.on('exit', () => require('node:fs').writeSync(2, '\\nCOMPILED ' + JSON.stringify(compiled) + '\\n'));\n`,
  );
  const child = spawn(process.execPath, ['--require', preload, join(dir, 'bin/inotop'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
  child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await run?.(child);
  await exited;
  const line = /^COMPILED (.*)$/m.exec(stderr);
  assert.ok(line, `${args.join(' ')}: ${stderr}`);
  return { compiled: JSON.parse(line[1]!) as [string, boolean][], stdout, stderr };
}

test("a one-shot (--json, -b, check, --version) compiles the core's script only, with V8's code from the build; completion and serve load their parts, each with its own code", async () => {
  for (const args of [['--version'], ...oneShots]) assert.deepEqual((await scriptsCompiled(args)).compiled, [['inotop.cjs', true]], args.join(' '));

  const completion = await scriptsCompiled(['completion', 'bash']);
  assert.deepEqual(completion.compiled[0], ['inotop.cjs', true]);
  assert.ok(
    completion.compiled.some(([file]) => file.startsWith('completion-')),
    `completion's part: ${JSON.stringify(completion.compiled)}`,
  );
  assert.deepEqual(
    completion.compiled.filter(([, taken]) => !taken),
    [],
    "each with the build's code",
  );
  // As the ES modules (another Node's) print it.
  const none = packageCopy('parts-none');
  for (const name of readdirSync(join(none, 'dist/cli')).filter((file) => file.endsWith('.cache'))) rmSync(join(none, 'dist/cli', name));
  const fromModules = spawnSync(process.execPath, [join(none, 'bin/inotop'), 'completion', 'bash'], { encoding: 'utf8' });
  assert.equal(fromModules.stdout, completion.stdout);

  const serve = await scriptsCompiled(['serve', '--web.listen-address', '127.0.0.1:0', '--pods', 'none', '--proc', fixture], repo, async (child) => {
    let said = '';
    await new Promise<void>((resolve) => child.stderr!.on('data', (data: string) => (said += data).includes('serving') && resolve()));
    child.kill('SIGTERM');
  });
  const files = serve.compiled.map(([file]) => file);
  assert.equal(files[0], 'inotop.cjs');
  assert.ok(
    files.some((file) => file.startsWith('serve-')),
    `serve's part: ${files.join(' ')}`,
  );
  assert.equal(new Set(files).size, files.length, 'each script compiled once');
  assert.deepEqual(
    serve.compiled.filter(([, taken]) => !taken),
    [],
    "each with the build's code",
  );
});

/** V8's code of the scan's second thread's script in the package at `dir`, made by the build for this Node. */
const scanThreadCode = (dir: string) => join(dir, 'dist/scan', `worker-${process.version}-${process.arch}.cache`);

/**
 * The fixture node's processes as the scan's second thread in the package at `dir` reads them:
 * started as a one-shot starts it (bin/worker.cjs, its script in its argv) and handed every pid as
 * src/scan/second-thread.ts's ScanThread hands a share (the control array's fourth cell, asked: 1, the share).
 */
async function scanThreadReads(dir: string): Promise<ScanPart> {
  const control = new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT));
  const { port1, port2 } = new MessageChannel();
  const thread = new Worker(join(dir, 'bin/worker.cjs'), {
    argv: [join(dir, 'dist/scan/worker.cjs')],
    workerData: { control, port: port2 } satisfies ThreadInit,
    transferList: [port2],
  });
  const pids = Int32Array.from(
    readdirSync(fixture)
      .filter((name) => /^\d+$/.test(name))
      .map(Number),
  ).sort();
  const share: ShareInit = {
    pids,
    chunkPids: 2,
    procRoot: fixture,
    users: new Map(),
    keyByLength: true,
    orderShared: false,
    readQueues: false,
    fileSet: null,
    firstChunk: 0,
    dieAfterPids: null,
  };
  port1.postMessage(share);
  Atomics.store(control, 3, 1);
  Atomics.notify(control, 3);
  await new Promise((resolve, reject) => thread.once('error', reject).once('exit', resolve));
  const sent = receiveMessageOnPort(port1)?.message as { part: ScanPart } | undefined;
  port1.close();
  assert.ok(sent?.part, `the thread sent its part: ${JSON.stringify(sent)}`);
  return sent.part;
}

test("the scan's second thread: its script as the CLI's (CommonJS's wrapper, ASCII), V8's code of it from the build taken in a thread; without it (another Node) or rejected (damaged), the thread reads the same", async () => {
  const script = readFileSync(join(repo, 'dist/scan/worker.cjs'), 'latin1');
  const { WRAPPER } = createRequire(import.meta.url)('../../bin/launch.cjs') as { WRAPPER: [string, string] };
  assert.ok(script.startsWith(WRAPPER[0]) && script.endsWith(WRAPPER[1]), "CommonJS's wrapper");
  assert.doesNotMatch(script, /[^\x00-\x7f]/);
  assert.ok(existsSync(scanThreadCode(repo)), `the build made ${scanThreadCode(repo)}`);
  // Taken in a thread's isolate as bin/worker.cjs compiles the script (bin/launch.cjs).
  const taken = new Worker(
    `const { compileBundle } = require(${JSON.stringify(join(repo, 'bin/launch.cjs'))});
    const { readFileSync } = require('node:fs');
    const script = compileBundle(readFileSync(${JSON.stringify(join(repo, 'dist/scan/worker.cjs'))}, 'latin1'), readFileSync(${JSON.stringify(scanThreadCode(repo))}), ${JSON.stringify(join(repo, 'dist/scan/worker.cjs'))});
    require('node:worker_threads').parentPort.postMessage(!script.cachedDataRejected);`,
    { eval: true },
  );
  assert.equal(await new Promise((resolve) => taken.once('message', resolve)), true, "V8 took the build's code");

  const read = await scanThreadReads(repo);
  assert.ok(
    read.processes.some((proc) => proc.instances.length > 0),
    'the fixture holders read',
  );
  const none = packageCopy('scan-thread-none');
  rmSync(scanThreadCode(none));
  assert.deepEqual(await scanThreadReads(none), read);
  const damaged = packageCopy('scan-thread-damaged');
  const bytes = readFileSync(scanThreadCode(damaged));
  for (let i = 0; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0x5a;
  writeFileSync(scanThreadCode(damaged), bytes);
  assert.deepEqual(await scanThreadReads(damaged), read);
});

/** A copy of the fixture node whose kubelet (pid 100, fd 3) holds `watches` watches: a recorded /proc tree as big as asked. */
function fixtureWithWatches(watches: number): string {
  const tree = join(work, `proc-${watches}`);
  // As they are: resolved, `anon_inode:inotify` would become a path.
  cpSync(fixture, tree, { recursive: true, verbatimSymlinks: true });
  const fdinfo = join(tree, '100/fdinfo/3');
  const header = readFileSync(fdinfo, 'utf8').split('inotify ')[0]!;
  const lines = Array.from({ length: watches }, (_, i) => {
    const ino = (0x1000 + i).toString(16);
    return `inotify wd:${i + 1} ino:${ino} sdev:2a mask:fc6 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:${ino.padStart(16, '0')}\n`;
  });
  writeFileSync(fdinfo, header + lines.join(''));
  const read = spawnSync(process.execPath, [inotopBin, '--json', '--pods', 'none', '--proc', tree], { encoding: 'utf8' });
  assert.ok((JSON.parse(read.stdout) as { totals: { watches: number } }).totals.watches > watches, `the tree holds the watches: ${read.stderr}`);
  return tree;
}

/** Whether V8 marked or compiled the watch-line parser for TurboFan in `inotop --json` of `tree` (--trace-opt prints it on stdout). */
function parserOptimized(tree: string): boolean {
  const result = spawnSync(process.execPath, ['--trace-opt', inotopBin, '--json', '--pods', 'none', '--proc', tree], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return /^\[(marking|compiling method) .*<JSFunction parseKernelLine .*TURBOFAN/m.test(result.stdout);
}

test("a one-shot's small scan holds V8's optimizing compiler back (its code would come when the scan is over); a big one's releases it", () => {
  // 2,000 watch lines are enough for V8's own budget to optimize the parser (so it was before the
  // hold); the big scan, read from the same kind of tree, shows the parser is what ran.
  assert.equal(parserOptimized(fixtureWithWatches(2_000)), false, 'the parser is optimized in a small scan');
  assert.equal(parserOptimized(fixtureWithWatches(30_000)), true, 'the parser is not optimized in a big scan');
});
