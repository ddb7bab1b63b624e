// The subcommands: `inotop check` (node-problem-detector, src/check), `inotop serve` (Prometheus,
// src/serve), `inotop fleet` (every node, from Prometheus: src/fleet) and `inotop install` (the
// single executable copying itself: src/exe). Each room declares its
// flags (its args.ts); here they are parsed, with the node flags for those that scan this node.
import { CHECK_FLAGS, type CheckOptions } from '../check/args.js';
import { runCheck } from '../check/check.js';
import { INSTALL_FLAGS, runInstall, type InstallOptions } from '../exe/install.js';
import { FLEET_FLAGS, type FleetOptions } from '../fleet/args.js';
import { helpText, parseFlags, UsageError, type FlagGroup, type FlagSpec, type SubcommandFlags } from '../options/flags.js';
import { NODE_FLAGS } from '../options/node.js';
import { stdoutIsTerminal, writeStdout } from '../common/stdout.js';
import { SERVE_FLAGS, type ServeOptions } from '../serve/args.js';
import type { Subcommand } from './subcommands.js';

const HELP_FLAG: FlagSpec = { long: 'help', short: 'h', help: 'show this help' };

export type SubcommandArgs =
  | { command: 'help'; text: string }
  | { command: 'check'; options: CheckOptions }
  | { command: 'serve'; options: ServeOptions }
  | { command: 'fleet'; options: FleetOptions }
  | { command: 'install'; options: InstallOptions };

export async function runSubcommand(command: Subcommand, argv: string[]): Promise<number> {
  let args: SubcommandArgs;
  try {
    args = parseSubcommandArgs(command, argv, process.env, stdoutIsTerminal());
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
      await writeStdout(args.text);
      return 0;
    // check, run by node-problem-detector every few minutes, comes with this module (one
    // dynamic import less: 10 ms of start-up where Node reads modules asynchronously, as 20
    // does), and never loads the screen's or the metrics' modules; serve and fleet load theirs.
    case 'check':
      return runCheck(args.options);
    case 'serve':
      return (await import('../serve/serve.js')).runServe(args.options);
    case 'fleet':
      return (await import('../fleet/view.js')).runFleet(args.options);
    case 'install':
      return runInstall(args.options);
  }
}

export function parseSubcommandArgs(command: Subcommand, argv: string[], env: NodeJS.ProcessEnv = {}, stdoutIsTTY = false): SubcommandArgs {
  switch (command) {
    case 'check':
      return parse(CHECK_FLAGS, argv, env, stdoutIsTTY, (options) => ({ command, options }));
    case 'serve':
      return parse(SERVE_FLAGS, argv, env, stdoutIsTTY, (options) => ({ command, options }));
    case 'fleet':
      return parse(FLEET_FLAGS, argv, env, stdoutIsTTY, (options) => ({ command, options }));
    case 'install':
      return parse(INSTALL_FLAGS, argv, env, stdoutIsTTY, (options) => ({ command, options }));
  }
}

function parse<Options>(
  spec: SubcommandFlags<Options>,
  argv: string[],
  env: NodeJS.ProcessEnv,
  stdoutIsTTY: boolean,
  args: (options: Options) => SubcommandArgs,
): SubcommandArgs {
  const flags = parseFlags([...spec.flags, ...(spec.scansNode ? NODE_FLAGS : []), HELP_FLAG], argv);
  if (flags.boolean('help')) return { command: 'help', text: subcommandHelpText(spec) };
  return args(spec.options(flags, env, stdoutIsTTY));
}

/** Each subcommand's flags, for the man page and the shell completions. */
export const SUBCOMMAND_FLAGS: Record<Subcommand, SubcommandFlags<unknown>> = {
  check: CHECK_FLAGS,
  serve: SERVE_FLAGS,
  fleet: FLEET_FLAGS,
  install: INSTALL_FLAGS,
};

/** A subcommand's flags, grouped as its --help shows them. */
export function subcommandFlagGroups(spec: SubcommandFlags<unknown>): FlagGroup[] {
  const groups = [{ title: 'Options', flags: spec.flags }];
  if (spec.scansNode) groups.push({ title: 'Node and pod source (as for inotop itself)', flags: NODE_FLAGS });
  groups.push({ title: 'Other', flags: [HELP_FLAG] });
  return groups;
}

function subcommandHelpText(spec: SubcommandFlags<unknown>): string {
  return helpText(spec.intro, subcommandFlagGroups(spec)) + '\nBoolean flags also take =true, =false and a --no- prefix.\n';
}
