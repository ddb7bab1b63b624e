// The fleet subcommands: `inotop check` (node-problem-detector), `inotop serve` (Prometheus) and
// `inotop fleet` (every node, from Prometheus).
import { UsageError } from '../options/flags.js';
import { parseFleetArgs, type FleetArgs } from './args.js';
import { runCheck } from './check.js';
import type { FleetCommand } from './commands.js';

export async function runFleetCommand(command: FleetCommand, argv: string[]): Promise<number> {
  let args: FleetArgs;
  try {
    args = parseFleetArgs(command, argv, process.env, process.stdout.isTTY === true);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // node-problem-detector shows a check's stdout as the condition's message: a bad rule says so there.
    const stream = command === 'check' ? process.stdout : process.stderr;
    stream.write(`inotop ${command}: ${error.message} (see ${error.seeAlso ?? `inotop ${command} --help`})\n`);
    // 2 is also "cannot tell" to node-problem-detector.
    return 2;
  }
  switch (args.command) {
    case 'help':
      process.stdout.write(args.text);
      return 0;
    // check, run by node-problem-detector every few minutes, comes with this module (one
    // dynamic import less: 10 ms of start-up where Node reads modules asynchronously, as 20
    // does), and never loads the screen's or the metrics' modules; serve and fleet load theirs.
    case 'check':
      return runCheck(args.options);
    case 'serve':
      return (await import('./serve.js')).runServe(args.options);
    case 'fleet':
      return (await import('./view.js')).runFleet(args.options);
  }
}
