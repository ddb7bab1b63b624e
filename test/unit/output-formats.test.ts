// The printed formats (views/output.ts): each is asked for by its own flag and prints one snapshot
// or a series through the same seam, with no case of its own in cli/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions } from '../../src/cli/args.js';
import { flagName, UsageError } from '../../src/options/flags.js';
import { OUTPUT_FORMATS, type OutputFormatName } from '../../src/views/output.js';
import { proc, snapshot } from '../helpers/rows.js';

const names = Object.keys(OUTPUT_FORMATS) as OutputFormatName[];
const made = snapshot([
  proc(10, { comm: 'kubelet', cmdline: '/usr/bin/kubelet', watches: 40 }),
  proc(20, { comm: 'sidecar', cmdline: '/bin/sidecar', watches: 2 }),
]);
const options = { withTargets: false, color: false, width: null };

test('every format is asked for by its flag, and only one at a time', () => {
  for (const name of names) assert.equal(parseOptions([`--${OUTPUT_FORMATS[name].flag.long}`], {}, false).mode, name);
  assert.equal(parseOptions([], {}, false).mode, 'tui');
  const [first, second] = names.map((name) => flagName(OUTPUT_FORMATS[name].flag));
  assert.throws(
    () => parseOptions([first!, second!], {}, false),
    (error) => error instanceof UsageError && /do not go together/.test(error.message),
  );
  // -o only where a format prints columns.
  for (const name of names) {
    const parse = () => parseOptions([`--${OUTPUT_FORMATS[name].flag.long}`, '-o', 'pid,command'], {}, false);
    if (OUTPUT_FORMATS[name].takesColumns) assert.deepEqual(parse().columns, ['pid', 'command']);
    else assert.throws(parse, UsageError);
  }
});

test('each format prints the rows it is given, in their order, and ends with a newline', () => {
  const rows = [made.processes[1]!, made.processes[0]!];
  for (const name of names) {
    const text = OUTPUT_FORMATS[name].render(made, rows, options, { index: 0, series: false, title: null });
    assert.ok(text.endsWith('\n'), name);
    assert.ok(text.indexOf('sidecar') < text.indexOf('kubelet') && text.indexOf('sidecar') >= 0, `${name}: the rows in the order given`);
  }
});

test('a series: JSON one compact document per line; text tables a blank line apart, a replay titled', () => {
  const json = OUTPUT_FORMATS.json;
  const alone = json.render(made, made.processes, options, { index: 0, series: false, title: null });
  assert.ok(alone.split('\n').length > 3, 'one snapshot: indented');
  const lines = [0, 1].map((index) => json.render(made, made.processes, options, { index, series: true, title: 'replay of x' }));
  for (const line of lines) {
    assert.equal(line.split('\n').length, 2, 'one line and its newline');
    assert.deepEqual(
      (JSON.parse(line) as { processes: { pid: number }[] }).processes.map((p) => p.pid),
      [10, 20],
    );
  }
  const text = OUTPUT_FORMATS.batch;
  const first = text.render(made, made.processes, options, { index: 0, series: true, title: 'replay of node-a, snapshot 1' });
  const second = text.render(made, made.processes, options, { index: 1, series: true, title: 'replay of node-a, snapshot 2' });
  assert.match(first, /^replay of node-a, snapshot 1\ninotop - /);
  assert.match(second, /^\nreplay of node-a, snapshot 2\ninotop - /);
});
