// `inotop fleet`: every node from Prometheus, as a text table (-b), JSON (--json) or a screen.
import type { FleetOptions } from './args.js';
import { fetchNodes, fleetJson, fleetTable, PrometheusError, sortNodes } from './nodes.js';
import { runFleetScreen } from './screen.js';

export async function runFleet(options: FleetOptions): Promise<number> {
  if (options.mode === 'tui') {
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      process.stderr.write('inotop fleet: the screen needs a terminal; for scripts use -b (text) or --json\n');
      return 2;
    }
    return runFleetScreen(options);
  }
  let rows;
  try {
    rows = sortNodes(await fetchNodes(options.prometheus), options.sort, options.filter);
  } catch (error) {
    if (!(error instanceof PrometheusError)) throw error;
    process.stderr.write(`inotop fleet: ${error.message}\n`);
    return 1;
  }
  if (options.mode === 'json') process.stdout.write(fleetJson(rows));
  else if (rows.length === 0) process.stdout.write(`no node has inotop_* series in ${options.prometheus}\n`);
  else process.stdout.write(fleetTable(rows, Date.now()).join('\n') + '\n');
  return 0;
}
