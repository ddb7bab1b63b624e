// Files made from one source each (scripts/generate.ts) are checked in: each must be what
// `npm run generate` writes from the sources as they are now.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { generatedFiles } from '../../scripts/generate.js';
import { commandDescriptions } from '../../src/cli/commands.js';
import { missingBinaries } from '../helpers/prometheus.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

for (const file of generatedFiles()) {
  test(`${file.path} is current (npm run generate)`, () => {
    const onDisk = readFileSync(join(repo, file.path), 'utf8');
    assert.ok(onDisk === file.text, `${file.path} is stale: run npm run generate and commit it`);
  });
}

test(
  'man/inotop.1: groff renders it without a warning, with every flag of every command and the subcommands',
  { skip: missingBinaries(['/usr/bin/groff']) },
  () => {
    const page = join(repo, 'man/inotop.1');
    const rendered = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-P', '-c', '-P', '-b', '-P', '-u', page], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
    assert.equal(rendered.status, 0, rendered.stderr);
    assert.equal(rendered.stderr, '', 'no warnings');
    // groff may hyphenate a long word at a line's end: read it joined up.
    const text = rendered.stdout.replace(/\u2010\n\s*/g, '').replace(/-\n\s+/g, '-');
    const { inotop, subcommands } = commandDescriptions();
    for (const command of [inotop, ...subcommands]) {
      if (command.name) assert.match(text, new RegExp(`^ {3}inotop ${command.name}$`, 'm'), `a section for ${command.name}`);
      for (const spec of command.groups.flatMap((group) => group.flags)) {
        const long = `--${spec.defaultOn ? `no-${spec.long}` : spec.long}`;
        assert.ok(text.includes(long), `${command.name ?? 'inotop'}: ${long}`);
      }
    }
  },
);
