// `-s user` and `-s command` order text by code unit, as the screen does: the same on every node,
// whatever its locale. Run under locales whose collations disagree (Swedish sorts "ä" after "z",
// German beside "a"), the order is the same, and it is code-unit order.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const query = new URL('../../src/model/query.ts', import.meta.url).href;
const rows = new URL('../helpers/rows.ts', import.meta.url).href;

/** pids in the order `-s field` lists processes whose user and command are these names, in a Node started under `locale`. */
function sortedUnder(locale: string, field: 'user' | 'command', names: readonly string[]): number[] {
  const script = `
    import { NO_FILTER, queryRows } from ${JSON.stringify(query)};
    import { proc } from ${JSON.stringify(rows)};
    const names = ${JSON.stringify(names)};
    const made = names.map((name, i) => proc(i + 1, { user: name, cmdline: '/usr/bin/' + name, watches: 1 }));
    console.log(JSON.stringify(queryRows(made, NO_FILTER, { field: ${JSON.stringify(field)}, descending: false }).map((row) => row.pid)));`;
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, LC_ALL: locale, LANG: locale },
    encoding: 'utf8',
  });
  return JSON.parse(output.trim()) as number[];
}

test('-s user and -s command: code-unit order, the same under any locale', () => {
  const names = ['zoe', 'äbel', 'adam', 'Zed'];
  // "Zed" < "adam" < "zoe" < "äbel": uppercase before lowercase, ä (U+00E4) after every ASCII letter.
  const codeUnitOrder = [4, 3, 1, 2];
  for (const field of ['user', 'command'] as const) {
    for (const locale of ['sv_SE.UTF-8', 'de_DE.UTF-8', 'C.UTF-8'])
      assert.deepEqual(sortedUnder(locale, field, names), codeUnitOrder, `-s ${field} under ${locale}`);
  }
});
