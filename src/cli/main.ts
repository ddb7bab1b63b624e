// Entry point: parses flags, then runs the screen, batch text or JSON.
import { Collector } from '../collect/collector.js';
import { isSubcommand } from './subcommands.js';
import { openStdin } from '../common/stdin.js';
import { stdoutIsTerminal, writeSeriesThroughStream, writeStdout } from '../common/stdout.js';
import { churnByPid, queryRows, type ProcessFilter } from '../model/query.js';
import type { SnapshotTargets } from '../model/snapshot.js';
import type { Snapshot } from '../model/types.js';
import { RecordingError } from '../record/format.js';
import type { Recording, RecordingSource } from '../record/reader.js';
import { collectorOptions } from '../options/node.js';
import { defaultPasswdPath, ScanError } from '../scan/index.js';
import { parsePasswd } from '../scan/parse.js';
import { readProcTextOrNull } from '../scan/procfs.js';
import { OUTPUT_FORMATS, type OutputFormat, type SeriesPlace } from '../views/output.js';
import { endOneShot, exitOnSignals } from '../signals.js';
import { VERSION } from '../version.js';
import { versionText } from './build-info.js';
import { columnsHelpText, helpText, parseOptions, sortHelpText, UsageError, type Options } from './args.js';

export async function main(argv: string[]): Promise<number> {
  // The screen's, the metrics' and the runtime's modules load only where they are used: a
  // one-shot run on a node in trouble starts in a fraction of a second.
  if (argv[0] === 'completion') return (await import('./completion.js')).runCompletion(argv.slice(1));
  if (isSubcommand(argv[0])) return (await import('./subcommand.js')).runSubcommand(argv[0], argv.slice(1));
  let options: Options;
  try {
    options = parseOptions(argv, process.env, stdoutIsTerminal());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`inotop: ${error.message} (see ${error.seeAlso ?? 'inotop --help'})\n`);
    return 2;
  }
  if (options.mode === 'help' || options.mode === 'version' || options.mode === 'sort-help' || options.mode === 'columns-help')
    return await printHelp(options.mode);
  const unknown = await unknownUser(options.user, options.replay, options.procRoot);
  if (unknown) {
    process.stderr.write(`inotop: ${unknown} (see inotop --help)\n`);
    return 2;
  }
  if (options.mode !== 'tui') {
    const format = OUTPUT_FORMATS[options.mode];
    if (options.replay !== null) return printReplay(options, format, options.replay);
    const status = await printLive(options, format);
    // Its output is out (a recording's too: written synchronously): a one-shot ends the process now.
    if ((options.iterations ?? 1) <= 1) endOneShot(status);
    return status;
  }
  if (!stdoutIsTerminal() || !openStdin().isTTY) {
    process.stderr.write('inotop: the screen needs a terminal; for scripts use -b (text) or --json\n');
    return 2;
  }
  const recording = options.replay !== null ? await loadRecording(options.replay) : null;
  if (recording === undefined) return 1;
  if (options.record !== null && !(await canRecord(options.record))) return 1;
  const [{ runScreen }, { ReplaySource }, { loadSettings, settingsPath }, { BackgroundCollector }] = await Promise.all([
    import('../views/tui/screen.js'),
    import('../collect/replay-source.js'),
    import('../views/tui/settings.js'),
    import('../collect/background.js'),
  ]);
  const path = settingsPath(process.env);
  const saved = options.config ? loadSettings(path) : { settings: {}, note: null, writable: false };
  const { settings } = saved;
  const intervalMs = options.delayGiven || !settings.intervalMs ? options.delaySeconds * 1000 : settings.intervalMs;
  return runScreen({
    source: recording ? new ReplaySource(recording) : new BackgroundCollector(liveCollectorOptions(options), intervalMs, 'asked', false, options.stretch),
    initial: {
      filter: filterFromOptions(options),
      sort: options.sortGiven || !settings.sort ? { field: options.sort, descending: options.descending } : settings.sort,
      intervalMs,
      ...(settings.view ? { view: settings.view } : {}),
      ...(settings.hiddenColumns ? { hiddenColumns: settings.hiddenColumns } : {}),
      ...(settings.shownColumns ? { shownColumns: settings.shownColumns } : {}),
      ...(saved.note ? { notes: [saved.note] } : {}),
    },
    // A replay shows another node's past: what is chosen there is not the live screen's choice.
    settings: options.config && saved.writable && recording === null ? path : null,
    color: options.color,
  });
}

async function printHelp(mode: 'help' | 'version' | 'sort-help' | 'columns-help'): Promise<number> {
  const texts = { help: () => helpText(VERSION), version: versionText, 'sort-help': sortHelpText, 'columns-help': columnsHelpText };
  await writeStdout(texts[mode]());
  return 0;
}

/**
 * Like top, a user name nobody has is a mistake, not an empty table: names are looked up in the
 * passwd the scan reads, or among the users of the recording (read through once, streamed). A
 * numeric uid is always taken.
 */
async function unknownUser(user: string | null, replay: RecordingSource | null, procRoot: string): Promise<string | null> {
  if (user === null || /^\d+$/.test(user)) return null;
  if (replay !== null) {
    const { openRecording } = await import('../record/reader.js');
    try {
      for (const snapshot of openRecording(replay, () => undefined).snapshots) if (snapshot.users.some((u) => u.name === user)) return null;
    } catch (error) {
      if (!(error instanceof RecordingError)) throw error;
      return null; // the replay says what is wrong with the file
    }
    return `no user '${user}' in the recording`;
  }
  const passwd = defaultPasswdPath(procRoot);
  const names = new Set(parsePasswd(readProcTextOrNull(passwd) ?? '').values());
  return names.has(user) ? null : `no user '${user}' in ${passwd}`;
}

function liveCollectorOptions(options: Options) {
  return collectorOptions(options, { intervalSeconds: options.delaySeconds, record: options.record, appendRecord: options.append });
}
export function filterFromOptions(options: Options): ProcessFilter {
  return { pids: options.pids, user: options.user, command: options.commandFilter, text: null, leakedOnly: false };
}

/** The live node, once or every -d for -n N. */
async function printLive(options: Options, format: OutputFormat): Promise<number> {
  if (options.record !== null && !(await canRecord(options.record))) return 1;
  // One snapshot sees a moment, not the calls that fail over time: it traces nothing, and starts
  // at once (the tracer's set-up would be most of a one-shot run on an idle node).
  const oneShot = (options.iterations ?? 1) <= 1;
  const traceOff = options.trace && oneShot ? { trace: false, traceOffReason: 'a one-shot run: -n N, the screen or serve trace failed calls' } : {};
  const collector = new Collector({ ...liveCollectorOptions(options), ...traceOff, once: oneShot, secondThread: oneShot });
  const keepSignals = exitOnSignals(() => collector.stop());
  if (!oneShot) writeSeriesThroughStream();
  try {
    await collector.start();
    // The first scan runs while the pod list is fetched; its snapshot waits for the list.
    const firstScan = collector.scan();
    await collector.podsReady();
    const iterations = options.iterations ?? 1;
    for (let i = 0; i < iterations; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, options.delaySeconds * 1000));
      const snapshot = collector.collect(targetsFor(options), i === 0 ? firstScan : undefined);
      await writeStdout(print(format, snapshot, options, { index: i, series: options.iterations !== null, title: null }));
    }
    // The snapshots were printed (their notes say it too); the recording asked for is not whole.
    if (collector.recordingStopped) {
      process.stderr.write(`inotop: ${collector.recordingStopped}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof ScanError) {
      process.stderr.write(`inotop: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    keepSignals();
    collector.stop();
  }
}

/** Targets are looked up only for what is printed: with --targets, of the pids asked for (all without -p). */
function targetsFor(options: Options): SnapshotTargets {
  if (!options.targets) return 'none';
  return options.pids ? new Set(options.pids) : 'all';
}

/** Says why when `path` cannot be recorded to. */
async function canRecord(path: string): Promise<boolean> {
  const { RecordingWriter } = await import('../record/writer.js');
  try {
    RecordingWriter.probe(path);
    return true;
  } catch (error) {
    if (!(error instanceof RecordingError)) throw error;
    process.stderr.write(`inotop: ${error.message}\n`);
    return false;
  }
}

/** The whole recording (the screen steps through it), or undefined after saying why it cannot be read. */
async function loadRecording(path: RecordingSource): Promise<Recording | undefined> {
  const { readRecording } = await import('../record/reader.js');
  try {
    return readRecording(path);
  } catch (error) {
    if (!(error instanceof RecordingError)) throw error;
    process.stderr.write(`inotop: ${error.message}\n`);
    return undefined;
  }
}

/**
 * Every snapshot of the recording (up to -n), in the format asked for, as a series. Streamed: a
 * snapshot is printed as it is read. A damaged line is said on stderr and skipped; a recording
 * without one good snapshot exits 1.
 */
async function printReplay(options: Options, format: OutputFormat, path: RecordingSource): Promise<number> {
  const warn = (message: string) => process.stderr.write(`inotop: warning: ${message}\n`);
  const { openRecording } = await import('../record/reader.js');
  let shown = 0;
  try {
    const recording = openRecording(path, warn);
    for (const snapshot of recording.snapshots) {
      if (options.iterations !== null && shown >= options.iterations) break;
      const title = `replay of ${recording.header.hostname}, snapshot ${shown + 1} (${snapshot.time})`;
      await writeStdout(print(format, snapshot, options, { index: shown, series: true, title }));
      shown++;
    }
  } catch (error) {
    if (!(error instanceof RecordingError)) throw error;
    process.stderr.write(`inotop: ${error.message}\n`);
    return 1;
  }
  if (shown > 0) return 0;
  process.stderr.write(`inotop: ${String(path)} holds no good snapshot\n`);
  return 1;
}

/** One snapshot in `format`, with only the rows the flags select, in their order. */
function print(format: OutputFormat, snapshot: Snapshot, options: Options, place: SeriesPlace): string {
  const rows = queryRows(snapshot.processes, filterFromOptions(options), { field: options.sort, descending: options.descending }, null, churnByPid(snapshot));
  return format.render(
    snapshot,
    rows,
    { withTargets: options.targets, color: options.color, width: stdoutIsTerminal() ? process.stdout.columns : null, columns: options.columns },
    place,
  );
}
