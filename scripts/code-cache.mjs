#!/usr/bin/env node
// The build's last step (scripts/build.mjs runs it under the Node that builds): V8's code of
// dist/cli/inotop.cjs, written where bin/inotop looks for it under this Node (bin/launch.cjs:
// dist/cli/inotop-NODE-ARCH.cache), and of each of its parts beside (PART-NODE-ARCH.cache, made
// once the part has run its top level: the warm runs load none). V8 keeps in a script's cache the functions compiled so far,
// so it is made after the one-shots have run once: --json of the live /proc while this process
// holds inotify instances of its own (warmLive), then --version, --json, -b and check on the
// fixture node (fixtures/node-a), without pods, and --json once more
// with a runtime answering CRI through the default pod source (auto), as a node runs it: a
// one-shot's CRI client, the decoders of its answers and auto's waits for the sources after it
// are then compiled already, where they would be compiled cold while the scan waits for them
// (some 10 ms of a start on an idle node; auto's waits 0.2 ms of it), and once where no source can
// answer (warmWithoutPodSource). The runtime is a socket
// that replays a containerd's answer to the one-shot's two calls (fixtures/cri). A run under
// another Node finds no cache of its own and loads the ES modules (bin/inotop). It makes V8's code
// of the scan's second thread's script too (warmScanThread). The single executable's build runs
// it on its own scripts under the Node the executable carries: `code-cache.mjs SCRIPT CACHE
// THREAD_SCRIPT [THREAD_CACHE]` (build-exe.mjs), the thread's code written at THREAD_CACHE, by
// default beside its script as THREAD_SCRIPT.cache, where the executable looks for it
// (src/exe/carried-scripts.ts); the other architecture's under qemu-user, its caches elsewhere.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { EventEmitter, once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

const root = fileURLToPath(new URL('..', import.meta.url));
const { codeCacheFile, loadBundle } = createRequire(import.meta.url)('../bin/launch.cjs');
const fixture = join(root, 'fixtures/node-a/proc');
const none = ['--pods', 'none', '--proc', fixture];
const runs = [
  ['--version'],
  ...(existsSync(fixture)
    ? [
        ['--json', ...none],
        ['-b', ...none],
        ['check', '--no-trace', ...none],
      ]
    : []),
];
const criAnswer = join(root, 'fixtures/cri/containerd-answer.bin');

// The warm runs' output goes nowhere: build.mjs spawns this with stdout ignored.
const [scriptFile, cacheFile = codeCacheFile(), threadScript, threadCache = threadScript?.replace(/\.cjs$/, '.cache')] = process.argv.slice(2);
// The thread's code: the npm build's (no arguments), the one named (the single executable's), or
// none where only a CLI script is named (a test's copy: the package's own thread code stays as built).
const scanThread =
  scriptFile === undefined
    ? { script: join(root, 'dist/scan/worker.cjs'), cache: codeCacheFile(join(root, 'dist/scan'), 'worker') }
    : threadScript === undefined
      ? null
      : { script: threadScript, cache: threadCache };
if (scanThread && existsSync(fixture)) await warmScanThread(scanThread.script, scanThread.cache);
const loaded = loadBundle(undefined, scriptFile);
const { exports, script } = loaded;
if (existsSync('/proc/self/fdinfo')) await warmLive();
for (const argv of runs) await exports.runProgram(argv);
if (existsSync(fixture) && existsSync(criAnswer)) {
  // Made only now, and removed whatever the run does: nothing of the build's is left in /tmp.
  const runtimeDir = mkdtempSync(join(tmpdir(), 'inotop-build-cri-'));
  try {
    await warmWithRuntime(runtimeDir);
  } finally {
    rmSync(runtimeDir, { recursive: true, force: true });
  }
}
if (existsSync(fixture)) {
  const emptyDir = mkdtempSync(join(tmpdir(), 'inotop-build-nopods-'));
  try {
    await warmWithoutPodSource(emptyDir);
  } finally {
    rmSync(emptyDir, { recursive: true, force: true });
  }
}
writeFileSync(cacheFile, script.createCachedData());
// The parts' (one-script.mjs buildSplitScript): each loaded as its first import() loads it, its
// code made once it has run its top level (what a start of the screen, serve or fleet runs first),
// written beside the core's, named as the core's is (NAME for inotop). The warm runs loaded none.
const { parts, requireScript } = loaded;
if (parts.size > 0)
  throw new Error(`the warm runs loaded parts of ${scriptFile ?? 'the CLI'}: ${[...parts.keys()].join(' ')} (a one-shot should load the core only)`);
// Each warm run gave the output streams an error handler (src/common/stdout.ts): not a leak in a process that runs the CLI a dozen times.
EventEmitter.defaultMaxListeners = 0;
const scriptDir = dirname(scriptFile ?? join(root, 'dist/cli/inotop.cjs'));
for (const name of readdirSync(scriptDir).filter((file) => file.endsWith('.cjs') && file !== 'inotop.cjs')) requireScript(`./${name}`);
for (const [specifier, part] of parts) {
  const name = basename(specifier, '.cjs');
  writeFileSync(join(dirname(cacheFile), basename(cacheFile).replace(/^inotop/, name)), part.script.createCachedData());
}
// check's verdict (1 or 2 on the fixture node) is not the build's.
process.exitCode = 0;

/**
 * V8's code of the scan's second thread's script (`scriptFile`), written at `cacheFile`: beside it,
 * where bin/worker.cjs (or the single executable) looks for it. The thread is started as a one-shot starts it (src/package-files.ts:
 * bin/worker.cjs, the script in its argv, here with the file to write its code to) and handed the
 * fixture node's pids as src/scan/second-thread.ts's ScanThread hands a scan's share to it (its
 * control array's cells: claimed, state, beat, asked): it reads them all, sends its part, and
 * writes the code of its script as it then is. Without kcmp and the queues (ShareInit's
 * orderShared, readQueues, fileSet): the fixture's pids would be asked of this machine's processes.
 */
async function warmScanThread(scriptFile, cacheFile) {
  const control = new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT));
  // The cell of what the main thread asked, and its word for the share sent.
  const ASKED = 3;
  const SHARE = 1;
  const { port1, port2 } = new MessageChannel();
  const thread = new Worker(join(root, 'bin/worker.cjs'), {
    argv: [scriptFile, cacheFile],
    workerData: { control, port: port2 },
    transferList: [port2],
    stdout: true,
    stderr: true,
  });
  const pids = Int32Array.from(
    readdirSync(fixture)
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b),
  );
  port1.postMessage({
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
  });
  Atomics.store(control, ASKED, SHARE);
  Atomics.notify(control, ASKED);
  // It ends once it has sent its part and written its code.
  await new Promise((resolve, reject) => thread.once('error', reject).once('exit', resolve));
  const sent = receiveMessageOnPort(port1)?.message;
  port1.close();
  if (!sent || !('part' in sent) || sent.part.processes.length === 0)
    throw new Error(`${scriptFile}: its thread read no fixture process: ${JSON.stringify(sent)}`);
  if (!existsSync(cacheFile)) throw new Error(`${scriptFile}: its thread wrote no code at ${cacheFile}`);
}

/** --json on the fixture node with the recorded runtime answering on a socket in `dir`: its answer is sent whatever is asked, as the client always asks the same. */
async function warmWithRuntime(dir) {
  const socket = join(dir, 'containerd.sock');
  const answer = readFileSync(criAnswer);
  const server = createServer((connection) => {
    connection.on('error', () => connection.destroy());
    connection.resume();
    connection.end(answer);
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  try {
    await exports.runProgram(['--json', '--runtime-endpoint', `unix://${socket}`, '--kubelet-root', join(dir, 'kubelet'), '--proc', fixture]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * --json on the fixture node where no pod source can answer (auto), as on a machine without a
 * cluster: each source tells why at once (src/pods/sources.ts toldNow), and those functions are
 * compiled already where they would be compiled cold before the scan. Nothing is asked of this
 * machine's: the runtime endpoint is one no runtime serves (not a unix socket: refused before
 * any connect), PATH and $KUBECONFIG name an empty directory, and kubelet's root is in it.
 */
async function warmWithoutPodSource(dir) {
  const names = ['PATH', 'KUBECONFIG', 'KUBERNETES_SERVICE_HOST'];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  process.env.PATH = dir;
  process.env.KUBECONFIG = join(dir, 'kubeconfig');
  delete process.env.KUBERNETES_SERVICE_HOST;
  try {
    await exports.runProgram(['--json', '--runtime-endpoint', 'tcp://127.0.0.1:1', '--kubelet-root', join(dir, 'kubelet'), '--proc', fixture]);
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

/**
 * --json of the live /proc (output discarded) while this process holds two inotify instances
 * watching one directory made for it (its event loop's and a worker thread's): the paths a scan
 * takes only on the kernel's answers about live processes (event queues read through pidfd_getfd,
 * the FileSet their duplicates go to, long lists keyed by a sample, fdinfo files read as they come,
 * the resolver's file handles) run once, so that V8's code holds them. The fixture node cannot
 * take them: pidfd_getfd and kcmp would be asked of this machine's processes. Without it, a
 * one-shot on any node holding instances compiled some 36 functions of its first holder lazily.
 * The machine's other processes are read as a one-shot reads them (where this user may), and
 * nothing is left: the directory is removed, the instances end with the thread and this process.
 */
async function warmLive() {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-build-watched-'));
  let watcher;
  let thread;
  try {
    try {
      watcher = watch(dir);
      thread = new Worker(
        `require('node:fs').watch(${JSON.stringify(dir)}); require('node:worker_threads').parentPort.postMessage('watching'); setInterval(() => {}, 60_000);`,
        { eval: true },
      );
      await once(thread, 'message');
    } catch (error) {
      // No instance to be had (this user at fs.inotify.max_user_instances or max_user_watches: what
      // inotop is for): the build's code goes without those paths, as it did before.
      process.stderr.write(`code-cache.mjs: no warm run of the live /proc: ${error.message}\n`);
      return;
    }
    await exports.runProgram(['--json', '--pods', 'none']);
  } finally {
    watcher?.close();
    await thread?.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}
