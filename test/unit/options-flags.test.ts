// The one flag parser (src/options/flags.ts) as every command uses it: aliases, repeats, booleans
// in their three spellings, and messages that say one thing once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { parseOptions } from '../../src/cli/args.js';
import type { CheckOptions } from '../../src/check/args.js';
import { parseSubcommandArgs } from '../../src/cli/subcommand.js';
import type { ServeOptions } from '../../src/serve/args.js';
import { flagHelpLines, parseFlags, UsageError, type FlagSpec } from '../../src/options/flags.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';

const fixture = fileURLToPath(new URL('../../fixtures/node-a/proc', import.meta.url));
const recording = fileURLToPath(new URL('../../fixtures/healthy-node.jsonl', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

before(() => ensureBuilt());

const SPECS: readonly FlagSpec[] = [
  { long: 'interval', short: 'd', aliases: ['delay'], value: 'SECS', help: 'how often' },
  { long: 'pid', short: 'p', value: 'PID', multiple: true, help: 'which' },
  { long: 'leaks', help: 'leaks too' },
  { long: 'color', defaultOn: true, help: 'no colors' },
];

test('aliases, repeats and the last value winning', () => {
  const flags = parseFlags(SPECS, ['-d', '1', '--delay=2', '-p', '1', '--pid', '2', '-p3']);
  assert.equal(flags.string('interval'), '2');
  assert.deepEqual(flags.strings('pid'), ['1', '2', '3']);
  assert.equal(flags.string('pid'), '3');
  assert.equal(parseFlags(SPECS, ['--interval', '5']).string('delay'), '5');
});

test('booleans: --x, --x=true|false, --x true|false, --no-x; the last one wins', () => {
  const leaks = (argv: string[]) => parseFlags(SPECS, argv).boolean('leaks');
  assert.equal(leaks([]), null);
  assert.equal(leaks(['--leaks']), true);
  assert.equal(leaks(['--leaks=false']), false);
  assert.equal(leaks(['--leaks', 'false']), false);
  assert.equal(leaks(['--leaks', 'true']), true);
  assert.equal(leaks(['--no-leaks']), false);
  assert.equal(leaks(['--no-leaks', '--leaks']), true);
  assert.throws(
    () => leaks(['--leaks=maybe']),
    (e: Error) => e instanceof UsageError && e.message === "--leaks: expected true or false, got 'maybe'",
  );
  assert.throws(() => leaks(['--leaks', 'maybe']), /unexpected argument 'maybe'/);
});

test('an unknown flag gets a guess where one flag is close: a typo, two letters swapped, a prefix, a single dash', () => {
  const guess = (...argv: string[]) => {
    try {
      parseOptions(argv, {}, false);
    } catch (error) {
      if (error instanceof UsageError) return error.message;
      throw error;
    }
    return 'parsed';
  };
  assert.equal(guess('--jsno'), 'no option --jsno (did you mean --json?)');
  assert.equal(guess('--dealy', '1'), 'no option --dealy (did you mean --delay?)');
  assert.equal(guess('--colour'), 'no option --colour (did you mean --color?)');
  assert.equal(guess('--no-colr'), 'no option --no-colr (did you mean --no-color?)');
  assert.equal(guess('--targ'), 'no option --targ (did you mean --targets?)');
  assert.equal(guess('--nodename', 'a'), 'no option --nodename (did you mean --node-name?)');
  assert.equal(guess('-json'), 'no option -json (did you mean --json?)');
  assert.equal(guess('-batch'), 'no option -batch (did you mean --batch?)');
  // Nothing close, or a letter: no guess.
  assert.equal(guess('--frobnicate'), 'no option --frobnicate');
  assert.equal(guess('-x'), 'no option -x');
  // Too short to tell --record from --replay.
  assert.equal(guess('--re'), 'no option --re');
});

test('mistakes: unknown flags, positionals, missing values', () => {
  assert.throws(
    () => parseFlags(SPECS, ['--frobnicate']),
    (e: Error) => e instanceof UsageError && e.message === 'no option --frobnicate',
  );
  assert.throws(
    () => parseFlags(SPECS, ['extra']),
    (e: Error) => e instanceof UsageError && e.message === "unexpected argument 'extra'",
  );
  assert.throws(() => parseFlags(SPECS, ['-d']), UsageError);
  // parseArgs is given only the flags the arguments name: one named by its long name still shows its short one.
  assert.throws(
    () => parseFlags(SPECS, ['--leaks', '--interval']),
    (e: Error) => e instanceof UsageError && e.message === "Option '-d, --interval <value>' argument missing",
  );
  assert.throws(
    () => parseFlags(SPECS, ['-p', '1', '-x']),
    (e: Error) => e instanceof UsageError && e.message === 'no option -x',
  );
});

test('help: aliases, repeats and default-on booleans shown', () => {
  const lines = flagHelpLines(SPECS);
  assert.match(lines[0]!, /^ {2}-d, --interval, --delay SECS +how often$/);
  assert.match(lines[1]!, /which \(may be repeated\)$/);
  assert.match(lines[3]!, /^ {6}--no-color +no colors$/);
});

test("--help of every command: each flag's help starts in the help column, on the next line after names too long for theirs", () => {
  for (const argv of [['--help'], ['check', '--help'], ['serve', '--help'], ['fleet', '--help']]) {
    const lines = run(argv).stdout.split('\n');
    lines.forEach((line, i) => {
      if (!/^ {2}(-\w, | {4})--/.test(line)) return;
      // Names alone on their line: the help under them, in the column.
      if (lines[i + 1]?.startsWith(' '.repeat(33))) return assert.match(lines[i + 1]!, /^ {33}\S/, `${argv.join(' ')}: ${line}`);
      assert.match(line, /^.{32} \S/, `${argv.join(' ')}: the help of "${line}" not in its column`);
    });
  }
});

test('plain inotop: -p accumulates, --record replaces (and says so), -d and --delay alike', () => {
  assert.deepEqual(parseOptions(['-p', '1', '-p', '2,3'], {}, false).pids, [1, 2, 3]);
  assert.equal(parseOptions(['--delay', '0.5'], {}, false).delaySeconds, 0.5);
  assert.equal(parseOptions(['--color=false'], {}, true).color, false);
  const help = run(['--help']).stdout;
  assert.match(help, /--record FILE +write every snapshot to FILE, replacing it/);
  assert.match(help, /--append +with --record: add to the recording in FILE instead of replacing it/);
});

test('check and serve share the parser: --fail-on-leaked false, serve -d, --listen as an alias', () => {
  const check = (argv: string[]) => (parseSubcommandArgs('check', argv) as { options: CheckOptions }).options;
  assert.equal(check(['--fail-on-leaked', 'false']).failOnLeaked, false);
  assert.equal(check(['--no-fail-on-leaked']).failOnLeaked, false);
  assert.equal(check(['--fail-on-leaked', '--pods', 'none']).failOnLeaked, true);
  const serve = (argv: string[]) => (parseSubcommandArgs('serve', argv) as { options: ServeOptions }).options;
  assert.equal(serve(['-d', '5']).intervalMs, 5000);
  assert.equal(serve(['--delay', '5']).intervalMs, 5000);
  assert.deepEqual(serve(['--listen', ':9000']).listen, { host: null, port: 9000 });
  assert.deepEqual(serve(['--web.listen-address=127.0.0.1:0']).listen, { host: '127.0.0.1', port: 0 });
  assert.throws(() => serve(['--textfile', '/tmp', '--listen', ':1']), UsageError);
  // One node name: the kubectl pod source's and the series' label; --node-name (the DaemonSet's) the same flag.
  assert.equal(serve(['--node', 'node-7']).shared.pods.nodeName, 'node-7');
  assert.equal(serve(['--node-name', 'node-7']).shared.pods.nodeName, 'node-7');
  assert.equal(check(['--node-name', 'node-7']).shared.pods.nodeName, 'node-7');
  assert.equal(serve([]).shared.pods.nodeName, null);
});

test('errors say it once, each pointing at the right help; exit 2', () => {
  for (const [args, message] of [
    [['-s', 'bogus'], "inotop: unknown sort field 'bogus' (see inotop -s help)\n"],
    [['--frobnicate'], 'inotop: no option --frobnicate (see inotop --help)\n'],
    [['serve', '--frobnicate'], 'inotop serve: no option --frobnicate (see inotop serve --help)\n'],
    [['--jsno'], 'inotop: no option --jsno (did you mean --json?) (see inotop --help)\n'],
    [['check', '--deadlin', '3'], 'inotop check: no option --deadlin (did you mean --deadline?) (see inotop check --help)\n'],
    [['fleet', '--promethues', 'x'], 'inotop fleet: no option --promethues (did you mean --prometheus?) (see inotop fleet --help)\n'],
    [['fleet', '-b'], 'inotop fleet: --prometheus URL is needed: the Prometheus that scrapes inotop serve (see inotop fleet --help)\n'],
  ] as const) {
    const result = run([...args]);
    assert.equal(result.status, 2, args.join(' '));
    // check says it on stdout, where node-problem-detector reads its message.
    assert.equal(args[0] === 'check' ? result.stdout : result.stderr, message);
  }
});

test('-u with a user nobody has is an error, as in top; a uid, a known name or a recorded user is fine', () => {
  const unknown = run(['-b', '--proc', fixture, '--pods', 'none', '-u', 'nosuchuser']);
  assert.equal(unknown.status, 2);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^inotop: no user 'nosuchuser' in .*fixtures\/node-a\/etc\/passwd \(see inotop --help\)\n$/);
  assert.equal(run(['-b', '--proc', fixture, '--pods', 'none', '-u', 'alice']).status, 0);
  assert.equal(run(['-b', '--proc', fixture, '--pods', 'none', '-u', '4242']).status, 0);
  const replayed = run(['-b', '--replay', recording, '-u', 'nosuchuser']);
  assert.equal(replayed.status, 2);
  assert.match(replayed.stderr, /no user 'nosuchuser' in the recording/);
  assert.equal(run(['-b', '--replay', recording, '-u', 'root', '-n', '1']).status, 0);
});
