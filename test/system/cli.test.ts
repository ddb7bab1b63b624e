// The CLI as a user meets it: help, version, bad flags, output modes on a recorded tree.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { before, test } from 'node:test';
import { parseOptions, UsageError } from '../../src/cli/args.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';

const fixture = fileURLToPath(new URL('../../fixtures/node-a/proc', import.meta.url));
const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });

before(() => ensureBuilt());

test('--help and --version', () => {
  const help = run(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: inotop \[options\]/m);
  for (const flag of ['--batch', '--json', '--targets', '--pid', '--user', '--sort', '--filter', '--proc', '--delay']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const version = run(['-V']);
  assert.equal(version.status, 0);
  // The version, then the build (the lines package.test.ts checks).
  assert.match(version.stdout, /^inotop \d+\.\d+\.\d+\ncommit .*\nnode +v\d+\.\d+\.\d+ \(linux \w+\)\nbuild +npm package: /);
});

test('a Node without process.getBuiltinModule (before 20.16, or 22.3): says which Nodes, exit 2', () => {
  // That Node, as inotop's start sees it: the same binary with the function gone.
  const script = `delete process.getBuiltinModule; process.argv = [process.argv[0], ${JSON.stringify(inotopBin)}, '--version']; await import(${JSON.stringify(pathToFileURL(inotopBin).href)});`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, `inotop: needs Node.js 20.16 or later within 20, or 22.3 or later; this is ${process.version}\n`);
});

test('unknown flags and bad values: one line on stderr, exit 2', () => {
  for (const args of [['--frobnicate'], ['-n', '0'], ['-d', 'soon'], ['-s', 'size'], ['-F', '('], ['-p', 'abc'], ['--pods', 'docker'], ['extra']]) {
    const result = run(args);
    assert.equal(result.status, 2, args.join(' '));
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^inotop: /);
  }
});

test('-s help lists the sort fields', () => {
  const result = run(['-s', 'help']);
  assert.equal(result.status, 0);
  for (const field of ['watches', 'instances', 'pid', 'user', 'command']) assert.match(result.stdout, new RegExp(`^  ${field} `, 'm'));
});

test('the screen needs a terminal: a clear error pointing at -b and --json', () => {
  const result = run(['--proc', fixture]);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /-b.*--json/);
});

test('batch text on a recorded tree: sorted, filtered, uncolored in a pipe', () => {
  const result = run(['-b', '--proc', fixture, '--pods', 'none']);
  assert.equal(result.status, 0, result.stderr);
  const pids = result.stdout
    .split('\n')
    .filter((l) => /^ +\d+ /.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  assert.deepEqual(pids, [100, 1, 300, 200, 201, 500]);
  // A recorded tree has no namespaces to ask who owns them, nor their own limits: bare counts, and a note says why.
  assert.match(result.stdout, /user alice \(userns 4026532999\): instances 1, watches 3\n/);
  assert.match(result.stdout, /note: users in user namespaces not charged to the namespaces' owners \(.*not the live \/proc\)/);
  const byPid = run(['-b', '--proc', fixture, '--pods', 'none', '-s', 'pid', '-u', 'root', '-F', 'shim|init']);
  assert.deepEqual(
    byPid.stdout
      .split('\n')
      .filter((l) => /^ +\d+ /.test(l))
      .map((l) => Number(l.trim().split(/\s+/)[0])),
    [1, 200, 201],
  );
});

test('-n repeats; colors only on a terminal and never with NO_COLOR', () => {
  const result = run(['-b', '-n', '2', '-d', '0.1', '--proc', fixture, '--pods', 'none']);
  assert.equal(result.status, 0);
  assert.equal(result.stdout.match(/^inotop - node-a/gm)?.length, 2);
  assert.equal(parseOptions(['-b'], {}, true).color, true);
  assert.equal(parseOptions(['-b'], { NO_COLOR: '1' }, true).color, false);
  assert.equal(parseOptions(['-b', '--no-color'], {}, true).color, false);
  assert.equal(parseOptions(['-b'], {}, false).color, false);
});

test('flags parse into options', () => {
  const options = parseOptions(['-b', '-p', '1,2', '-u', 'root', '-s', 'pid', '-F', 'kube', '-d', '0.5'], {}, false);
  assert.deepEqual(
    [options.mode, options.pids, options.user, options.sort, options.descending, options.delaySeconds],
    ['batch', [1, 2], 'root', 'pid', false, 0.5],
  );
  assert.ok(options.commandFilter!.test('KUBElet'));
  assert.throws(() => parseOptions(['-d', '0'], {}, false), UsageError);
});

test('output that cannot be written (a full disk) ends with one line and 1; a pipe closed early ends quietly with 0', () => {
  const full = spawnSync(process.execPath, [inotopBin, '-b', '--proc', fixture, '--pods', 'none'], {
    encoding: 'utf8',
    stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'],
  });
  assert.equal(full.status, 1);
  assert.match(full.stderr, /^inotop: cannot write the output: ENOSPC: no space left on device, write\n$/);
  const head = spawnSync(
    'bash',
    ['-c', `"$0" "$1" -b -n 3 -d 0.1 --proc "$2" --pods none | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`, process.execPath, inotopBin, fixture],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(head.stdout, '0\n');
  assert.equal(head.stderr, '');
});

test('a recording the disk takes no more of stops with a note; -b goes on, then says it and exits 1', () => {
  const result = run(['-b', '-n', '2', '-d', '0.1', '--proc', fixture, '--pods', 'none', '--record', '/dev/full']);
  assert.equal(result.status, 1);
  assert.equal(result.stdout.match(/^inotop - /gm)?.length, 2, 'both refreshes printed');
  assert.equal(result.stdout.match(/^note: recording to \/dev\/full stopped: ENOSPC \(no space left on device\); the refreshes go on$/gm)?.length, 2);
  assert.equal(result.stderr, 'inotop: recording to /dev/full stopped: ENOSPC (no space left on device)\n');
});

test('an unexpected error is one line; its stack trace only with INOTOP_DEBUG=1', () => {
  // An error thrown where no caller catches it (a timer), as a bug would.
  const script = `process.argv = [process.argv[0], ${JSON.stringify(inotopBin)}, '-b', '-n', '2', '-d', '1', '--proc', ${JSON.stringify(fixture)}, '--pods', 'none'];
    setTimeout(() => { throw new Error('boom\\nsecond line'); }, 300);
    await import(${JSON.stringify(pathToFileURL(inotopBin).href)});`;
  const plain = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, INOTOP_DEBUG: '' } });
  assert.equal(plain.status, 1);
  assert.equal(plain.stderr, 'inotop: boom\n');
  const debug = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, INOTOP_DEBUG: '1' } });
  assert.equal(debug.status, 1);
  assert.match(debug.stderr, /^inotop: Error: boom\nsecond line\n {4}at /);
});
