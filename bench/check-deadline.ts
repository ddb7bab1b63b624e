// node --import tsx bench/check-deadline.ts [--runs N]: `inotop check` against pod sources that
// never answer (a CRI socket that accepts and stays silent, crictl and kubectl that hang), timed
// as whole processes. The goal: it exits within its --deadline (default 4 s), whatever the
// sources do, and starts no command that outlives it. The test (test/deadlines.test.ts) checks
// the exit code, message and leftovers; the time is measured here, not asserted there.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hungPodSources } from '../test/helpers/fake-node.js';

const inotop = fileURLToPath(new URL('../bin/inotop', import.meta.url));

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const sources = await hungPodSources();
const flags = sources.flags;
const cases: [string, string[]][] = [
  ['defaults (--pods-timeout 2, --deadline 4)', []],
  ['--pods-timeout 3.5 (the chain reaches crictl)', ['--pods-timeout', '3.5']],
  ['--pods-timeout 10 --deadline 4', ['--pods-timeout', '10']],
];
try {
  console.log('case | median ms | max ms | exit');
  for (const [name, extra] of cases) {
    const times: number[] = [];
    let status: number | null = null;
    for (let i = 0; i < Number(values.runs); i++) {
      const started = performance.now();
      // Not spawnSync: the silent socket is served (accepted, never answered) by this event loop.
      const child = spawn(process.execPath, [inotop, 'check', ...flags, ...extra], { stdio: 'ignore' });
      status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(`${name} | ${times[Math.floor(times.length / 2)]!.toFixed(0)} | ${times.at(-1)!.toFixed(0)} | ${status}`);
  }
} finally {
  sources.close();
}
