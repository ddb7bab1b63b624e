// `inotop fleet`: every node from Prometheus, as a text table (-b), JSON (--json) or a screen.
import { openStdin } from '../common/stdin.js';
import { writeStdout } from '../common/stdout.js';
import { visible } from '../common/text.js';
import type { FleetOptions } from './args.js';
import { fleetTable } from './columns.js';
import { FleetReader, fleetJson, sortRows, type ReaderOptions } from './nodes.js';
import { PrometheusError } from './prometheus.js';
import { queriesText } from './queries.js';
import { runFleetScreen } from './screen.js';

export function readerOptions(options: FleetOptions): ReaderOptions {
  return { prometheus: options.prometheus, cluster: options.cluster, timeoutMs: options.timeoutMs, maxResponseBytes: options.maxResponseBytes };
}

export async function runFleet(options: FleetOptions): Promise<number> {
  if (options.mode === 'tui') {
    if (!process.stdout.isTTY || !openStdin().isTTY) {
      process.stderr.write('inotop fleet: the screen needs a terminal; for scripts use -b (text) or --json\n');
      return 2;
    }
    return runFleetScreen(options);
  }
  let fleet;
  try {
    fleet = await new FleetReader(readerOptions(options)).readAll();
  } catch (error) {
    if (!(error instanceof PrometheusError)) throw error;
    process.stderr.write(`inotop fleet: ${visible(error.message)}\n`);
    return 1;
  }
  const { filter } = options;
  const rows = sortRows(fleet.rows, options.sort, false).filter((row) => !filter || filter.test(row.node));
  if (options.mode === 'json') {
    // Each piece out before the next is made: a pipe's reader may be slower than we write.
    for (const piece of fleetJson(fleet, rows)) await writeStdout(piece);
    return 0;
  }
  if (fleet.mode === 'raw') process.stderr.write(`inotop fleet: ${queriesText(fleet.mode)}\n`);
  if (rows.length === 0) process.stdout.write(`no node has inotop_* series in ${visible(options.prometheus)}\n`);
  else process.stdout.write(fleetTable(rows, Date.now()).join('\n') + '\n');
  return 0;
}
