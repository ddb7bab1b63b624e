// Entry point: parses flags, then runs the screen, batch text or JSON.
import { readFileSync } from 'node:fs';
import { Collector } from '../collect/collector.js';
import { queryRows, type ProcessFilter } from '../model/query.js';
import type { Snapshot } from '../model/types.js';
import { ScanError } from '../scan/index.js';
import { batchText } from '../views/batch.js';
import { snapshotJson } from '../views/json.js';
import { helpText, parseOptions, sortHelpText, UsageError, type Options } from './args.js';

export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

export async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv, process.env, process.stdout.isTTY === true);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`inotop: ${error.message} (see inotop --help)\n`);
    return 2;
  }
  switch (options.mode) {
    case 'help':
      process.stdout.write(helpText(VERSION));
      return 0;
    case 'version':
      process.stdout.write(`inotop ${VERSION}\n`);
      return 0;
    case 'sort-help':
      process.stdout.write(sortHelpText());
      return 0;
    case 'json':
    case 'batch':
      return runBatch(options);
    case 'tui':
      if (!process.stdout.isTTY || !process.stdin.isTTY) {
        process.stderr.write('inotop: the screen needs a terminal; for scripts use -b (text) or --json\n');
        return 2;
      }
      process.stderr.write('inotop: the screen is not built yet; use -b or --json\n');
      return 2;
  }
}

export function filterFromOptions(options: Options): ProcessFilter {
  return { pids: options.pids, user: options.user, command: options.commandFilter, text: null, leakedOnly: false };
}

async function runBatch(options: Options): Promise<number> {
  const collector = new Collector({ procRoot: options.procRoot });
  try {
    await collector.start();
    const iterations = options.mode === 'json' ? 1 : (options.iterations ?? 1);
    for (let i = 0; i < iterations; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, options.delaySeconds * 1000));
      const snapshot = collector.collect();
      await write(render(snapshot, options) + (i < iterations - 1 ? '\n' : ''));
    }
    return 0;
  } catch (error) {
    if (error instanceof ScanError) {
      process.stderr.write(`inotop: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    collector.stop();
  }
}

function render(snapshot: Snapshot, options: Options): string {
  const rows = queryRows(snapshot.processes, filterFromOptions(options), { field: options.sort, descending: options.descending });
  if (options.mode === 'json') return snapshotJson({ ...snapshot, processes: rows }, options.targets) + '\n';
  return batchText(snapshot, rows, {
    withTargets: options.targets,
    color: options.color,
    width: process.stdout.isTTY ? process.stdout.columns : null,
  });
}

/** Waits for stdout to take the text, so a pipe closing early (head) ends us quietly. */
function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
