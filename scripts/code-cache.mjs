#!/usr/bin/env node
// The build's last step (scripts/build.mjs runs it under the Node that builds): V8's code of
// dist/cli/inotop.cjs, written where bin/inotop looks for it under this Node (bin/launch.cjs:
// dist/cli/inotop-NODE-ARCH.cache). V8 keeps in a script's cache the functions compiled so far,
// so it is made after the one-shots have run once: --version, --json, -b and check, on the fixture
// node (fixtures/node-a; no process of this machine is read), without pods, and --json once more
// with a runtime answering CRI through the default pod source (auto), as a node runs it: a
// one-shot's CRI client, the decoders of its answers and auto's waits for the sources after it
// are then compiled already, where they would be compiled cold while the scan waits for them
// (some 10 ms of a start on an idle node; auto's waits 0.2 ms of it). The runtime is a socket
// that replays a containerd's answer to the one-shot's two calls (fixtures/cri). A run under
// another Node finds no cache of its own and loads the ES modules (bin/inotop). The single
// executable's build runs it on its own script under the Node the executable carries:
// `code-cache.mjs SCRIPT CACHE` (build-exe.mjs).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
const [scriptFile, cacheFile = codeCacheFile()] = process.argv.slice(2);
const { exports, script } = loadBundle(undefined, scriptFile);
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
writeFileSync(cacheFile, script.createCachedData());
// check's verdict (1 or 2 on the fixture node) is not the build's.
process.exitCode = 0;

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
