// `inotop completion bash|zsh|fish`, run in the real shells: bash's completion function called as
// bash calls it, zsh's completion system on a pseudo-terminal (test/helpers/zsh-complete.zsh),
// fish's `complete -C`. Each offers what the flag tables say: every flag of every command, the
// values the table lists, the subcommands, files where a file goes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { commandDescriptions } from '../../src/cli/commands.js';
import { sortableColumns } from '../../src/views/columns.js';
import { FLEET_SORT_FIELDS } from '../../src/fleet/args.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { missingBinaries } from '../helpers/prometheus.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'inotop-completion-'));
const scripts = { bash: join(work, 'inotop.bash'), zsh: join(work, '_inotop'), fish: join(work, 'inotop.fish') };
type Shell = keyof typeof scripts;

const inotop = (args: string[]) => spawnSync(process.execPath, [inotopBin, ...args], { encoding: 'utf8' });

before(() => {
  ensureBuilt();
  for (const shell of Object.keys(scripts) as Shell[]) {
    const made = inotop(['completion', shell]);
    assert.equal(made.status, 0, made.stderr);
    writeFileSync(scripts[shell], made.stdout);
  }
});
after(() => rmSync(work, { recursive: true, force: true }));

/** What the shell offers after `line` (the word at the cursor last, maybe empty), in the repository. */
function complete(shell: Shell, line: string): string[] {
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { cwd: repo, encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0, `${shell} '${line}': ${result.stderr}`);
    return result.stdout.split('\n').filter(Boolean);
  };
  switch (shell) {
    case 'bash': {
      // As bash fills them: the words, an empty last one after a space, "=" a word of its own.
      const words = line.replace(/=/g, ' = ').split(/ +/);
      if (line.endsWith('=')) words.pop();
      const body = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _inotop; printf "%s\\n" "${COMPREPLY[@]}"';
      return run('bash', ['--norc', '-c', body, 'bash', scripts.bash, ...words]);
    }
    case 'zsh':
      return run('zsh', ['-f', join(repo, 'test/helpers/zsh-complete.zsh'), scripts.zsh, line]);
    case 'fish':
      return run('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scripts.fish, line]).map((entry) => entry.split('\t')[0]!);
  }
}

const SHELLS: Shell[] = ['bash', 'zsh', 'fish'];
const skipOf = (shell: Shell) => missingBinaries([`/usr/bin/${shell}`]) && `needs ${shell} (apt-get install ${shell}; .ci/run does)`;

const sortFields = sortableColumns('screen').map((spec) => spec.sort!.field);

for (const shell of SHELLS) {
  test(`${shell}: flags, their values, the subcommands and files, as the flag tables say`, { skip: skipOf(shell) }, () => {
    const cases: [string, (offered: string[]) => void][] = [
      ['inotop --so', (offered) => assert.deepEqual(offered, ['--sort'])],
      ['inotop ch', (offered) => assert.deepEqual(offered, ['check'])],
      ['inotop check --dead', (offered) => assert.deepEqual(offered, ['--deadline'])],
      // check has no --json: nothing.
      ['inotop check --jso', (offered) => assert.deepEqual(offered, [])],
      ['inotop -s ', (offered) => assert.deepEqual([...offered].sort(), [...sortFields, 'help'].sort())],
      ['inotop --sort=wa', (offered) => assert.deepEqual(offered, shell === 'fish' ? ['--sort=watches'] : ['watches'])],
      ['inotop fleet -s ', (offered) => assert.deepEqual([...offered].sort(), [...FLEET_SORT_FIELDS].sort())],
      ['inotop serve --pods c', (offered) => assert.deepEqual(offered, ['cri', 'crictl'])],
      ['inotop completion ', (offered) => assert.deepEqual([...offered].sort(), ['bash', 'fish', 'zsh'])],
      // -o takes a comma-separated list: the word after the last comma.
      ['inotop -o pid,wa', (offered) => assert.deepEqual(offered, shell === 'zsh' ? ['watches'] : ['pid,watches'])],
      ['inotop --replay LICEN', (offered) => assert.deepEqual([...new Set(offered)], ['LICENSE'])],
    ];
    for (const [line, check] of cases) {
      const offered = complete(shell, line);
      try {
        check(offered);
      } catch (error) {
        throw new Error(`${shell} after '${line}': ${(error as Error).message}`, { cause: error });
      }
    }
  });

  test(`${shell}: every long flag of every command, as --help spells it`, { skip: skipOf(shell) }, () => {
    const { inotop: main, subcommands } = commandDescriptions();
    for (const command of [main, ...subcommands.filter((c) => !c.argument)]) {
      const spellings = command.groups
        .flatMap((group) => group.flags)
        .flatMap((spec) => [spec.long, ...(spec.aliases ?? [])].map((name) => `--${spec.defaultOn ? `no-${name}` : name}`));
      const offered = complete(shell, command.name ? `inotop ${command.name} --` : 'inotop --');
      assert.deepEqual([...new Set(offered)].sort(), [...spellings].sort(), `${shell}: inotop ${command.name ?? ''}`);
    }
  });
}

test('inotop completion: a shell it does not know is a usage error; --help says how to install each', () => {
  const unknown = inotop(['completion', 'tcsh']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^inotop completion: expected one of bash, zsh, fish, got 'tcsh'/);
  assert.equal(inotop(['completion']).status, 2);
  const help = inotop(['completion', '--help']);
  assert.equal(help.status, 0);
  for (const shell of SHELLS) assert.match(help.stdout, new RegExp(`^${shell}: `, 'm'));
});
