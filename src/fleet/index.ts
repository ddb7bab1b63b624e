// The fleet subcommands: `inotop check` (node-problem-detector) and `inotop serve` (Prometheus).
import { UsageError } from '../cli/args.js';
import { parseFleetArgs, type FleetArgs, type FleetCommand } from './args.js';
import { runCheck } from './check.js';
import { runServe } from './serve.js';

export async function runFleetCommand(command: FleetCommand, argv: string[]): Promise<number> {
  let args: FleetArgs;
  try {
    args = parseFleetArgs(command, argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // node-problem-detector shows a check's stdout as the condition's message: a bad rule says so there.
    const stream = command === 'check' ? process.stdout : process.stderr;
    stream.write(`inotop ${command}: ${error.message} (see inotop ${command} --help)\n`);
    // 2 is also "cannot tell" to node-problem-detector.
    return 2;
  }
  switch (args.command) {
    case 'help':
      process.stdout.write(args.text);
      return 0;
    case 'check':
      return runCheck(args.options);
    case 'serve':
      return runServe(args.options);
  }
}
