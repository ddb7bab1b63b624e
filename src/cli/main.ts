// Entry point: parses flags, then runs the screen, batch text or JSON.
import { BackgroundCollector } from '../collect/background.js';
import { Collector } from '../collect/collector.js';
import { isFleetCommand, runFleetCommand } from '../fleet/index.js';
import { queryRows, type ProcessFilter } from '../model/query.js';
import type { Snapshot } from '../model/types.js';
import { RecordingError } from '../record/format.js';
import { readRecording, type Recording } from '../record/reader.js';
import { ScanError } from '../scan/index.js';
import { batchText } from '../views/batch.js';
import { snapshotJson } from '../views/json.js';
import { ReplaySource } from '../views/tui/replay-source.js';
import { runScreen } from '../views/tui/screen.js';
import { VERSION } from '../version.js';
import { collectorOptions, helpText, parseOptions, sortHelpText, UsageError, type Options } from './args.js';

export async function main(argv: string[]): Promise<number> {
  if (isFleetCommand(argv[0])) return runFleetCommand(argv[0], argv.slice(1));
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
      const recording = options.replay !== null ? openRecording(options.replay) : null;
      if (recording === undefined) return 1;
      return runScreen({
        source: options.replay !== null ? new ReplaySource(recording!) : new BackgroundCollector(collectorOptions(options), options.delaySeconds * 1000, 'selected'),
        initial: {
          filter: filterFromOptions(options),
          sort: { field: options.sort, descending: options.descending },
          intervalMs: options.delaySeconds * 1000,
        },
        color: options.color,
      });
  }
}

export function filterFromOptions(options: Options): ProcessFilter {
  return { pids: options.pids, user: options.user, command: options.commandFilter, text: null, leakedOnly: false };
}

async function runBatch(options: Options): Promise<number> {
  if (options.replay !== null) return printReplay(options, options.replay);
  const collector = new Collector(collectorOptions(options));
  try {
    await collector.start();
    const iterations = options.iterations ?? 1;
    for (let i = 0; i < iterations; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, options.delaySeconds * 1000));
      const snapshot = collector.collect();
      // --json -n N: one compact document per line, as a replay prints them.
      if (options.mode === 'json' && options.iterations !== null) await write(snapshotJson(selectRows(snapshot, options), options.targets, 0) + '\n');
      else await write(render(snapshot, options) + (i < iterations - 1 ? '\n' : ''));
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

/** The recording, or undefined after saying why it cannot be read. */
function openRecording(path: string): Recording | undefined {
  try {
    return readRecording(path);
  } catch (error) {
    if (!(error instanceof RecordingError)) throw error;
    process.stderr.write(`inotop: ${error.message}\n`);
    return undefined;
  }
}

/** With -b every snapshot of the recording (up to -n) as tables; with --json one compact JSON document per line. */
async function printReplay(options: Options, path: string): Promise<number> {
  const recording = openRecording(path);
  if (!recording) return 1;
  if (recording.warning) process.stderr.write(`inotop: warning: ${recording.warning}\n`);
  const snapshots = recording.snapshots.slice(0, options.iterations ?? undefined);
  for (const [i, snapshot] of snapshots.entries()) {
    if (options.mode === 'json') {
      await write(snapshotJson(selectRows(snapshot, options), options.targets, 0) + '\n');
    } else {
      const title = `replay of ${recording.header.hostname}, snapshot ${i + 1}/${recording.snapshots.length}\n`;
      await write((i > 0 ? '\n' : '') + title + render(snapshot, options));
    }
  }
  return 0;
}

/** The snapshot with only the rows the flags select, in their order. */
function selectRows(snapshot: Snapshot, options: Options): Snapshot {
  const rows = queryRows(snapshot.processes, filterFromOptions(options), { field: options.sort, descending: options.descending });
  return { ...snapshot, processes: rows };
}

function render(snapshot: Snapshot, options: Options): string {
  const selected = selectRows(snapshot, options);
  if (options.mode === 'json') return snapshotJson(selected, options.targets) + '\n';
  return batchText(snapshot, selected.processes, {
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
