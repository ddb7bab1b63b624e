// The package as a user gets it: `npm pack` builds and packs the tarball, npm installs it into a
// temporary global prefix, and the installed inotop runs from another directory: its version, a
// live batch refresh (with its CRI client, which needs no file of its own) and the shipped demo.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const work = mkdtempSync(join(tmpdir(), 'inotop-package-'));
const prefix = join(work, 'prefix');
const elsewhere = mkdtempSync(join(work, 'elsewhere-'));
let packed: string[] = [];

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
  assert.equal(result.status, 0, `npm ${args.join(' ')}:\n${result.stdout}${result.stderr}`);
  return result;
}

function installed(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(join(prefix, 'bin', 'inotop'), args, { cwd: elsewhere, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
}

before(() => {
  const [pack] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], repo).stdout) as { filename: string; files: { path: string }[] }[];
  packed = pack!.files.map((file) => file.path);
  // The dependencies come from npm's cache when they are there (an `npm install` put them there).
  npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, pack!.filename)], elsewhere);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the build, the plugin, the man page, the demo and the license, and no source maps', () => {
  for (const path of [
    'bin/inotop',
    'bin/launch.cjs',
    'bin/worker.cjs',
    'dist/cli/program.js',
    'dist/cli/inotop.cjs',
    'dist/collect/worker.js',
    'dist/serve/password-worker.js',
    'dist/scan/worker.cjs',
    `dist/scan/worker-${process.version}-${process.arch}.cache`,
    'deploy/kubectl-inotop',
    'man/inotop.1',
    'fixtures/leaky-kubelet.jsonl.gz',
    'LICENSE',
    'README.md',
  ]) {
    assert.ok(packed.includes(path), `${path} packed`);
  }
  assert.deepEqual(
    packed.filter((path) => path.endsWith('.map')),
    [],
    'no source maps (src/ is not shipped)',
  );
  assert.deepEqual(
    packed.filter((path) => path.startsWith('src/') || path.startsWith('test/')),
    [],
    'no sources or tests',
  );
  assert.deepEqual(
    packed.filter((path) => path.startsWith('dist/exe/') || path.startsWith('vendor/')),
    [],
    'not the single executables (npm run build:exe puts them in dist/exe), nor the CRI api.proto (the client decodes its two answers itself)',
  );
  assert.ok(!packed.includes('dist/pods/cri/runtime-v1-proto.js'), 'no output of a source that is gone: prepack builds afresh');
});

test('the installed inotop: --version', () => {
  const result = installed(['--version']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.split('\n')[0], `inotop ${version}`);
  assert.match(result.stdout, /^commit +([0-9a-f]{12}(-dirty)?|unknown .*)$/m);
  assert.match(result.stdout, new RegExp(`^node +${process.version.replaceAll('.', '\\.')} \\(linux ${process.arch}\\)$`, 'm'));
  assert.match(result.stdout, new RegExp(`^build +npm package: ${prefix}/lib/node_modules/inotop$`, 'm'));
  // npm pack built it under this Node: V8's code from the build is taken where the package was installed.
  const cache = `${prefix}/lib/node_modules/inotop/dist/cli/inotop-${process.version}-${process.arch}.cache`;
  assert.match(result.stdout, new RegExp(`^cache +V8's code from the build \\(${cache.replaceAll('.', '\\.')}\\): used$`, 'm'));
});

test('the installed inotop: -b, with its CRI client', () => {
  const result = installed(['-b', '-n', '1', '--pods', 'cri', '--runtime-endpoint', join(work, 'no-runtime.sock')]);
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /^inotop - .* - kernel /m);
  assert.match(result.stdout, /^limits: max_user_watches \d+, max_user_instances \d+/m);
  // The runtime is missing, so the call fails, and says so.
  assert.match(result.stdout + result.stderr, new RegExp(`CRI unix://${join(work, 'no-runtime.sock')}: connect ENOENT`));
});

test('the installed package puts the kubectl plugin on PATH beside inotop: kubectl-inotop --help', () => {
  const result = spawnSync(join(prefix, 'bin', 'kubectl-inotop'), ['--help'], { cwd: elsewhere, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^usage: kubectl inotop /m);
});

test('the installed package has its man page where man looks, and its completions', () => {
  const page = join(prefix, 'share', 'man', 'man1', 'inotop.1');
  const man = spawnSync('man', ['-l', page], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '100' } });
  assert.equal(man.status, 0, man.stderr);
  assert.match(man.stdout, /inotop - who holds the inotify instances and watches/);
  const bash = installed(['completion', 'bash']);
  assert.equal(bash.status, 0, bash.stderr);
  assert.match(bash.stdout, /^complete -F _inotop inotop$/m);
});

test('the installed inotop: --demo -b replays the shipped recording', () => {
  const result = installed(['--demo', '-b']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^replay of ip-10-0-3-17\.ec2\.internal, snapshot 1 \(2026-11-27T19:20:58\.000Z\)$/m);
  assert.match(result.stdout, /^replay of ip-10-0-3-17\.ec2\.internal, snapshot 7 \(2026-11-27T19:21:10\.000Z\)$/m);
  assert.match(result.stdout, /\/usr\/bin\/kubelet /);
});
