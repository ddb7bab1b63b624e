// The whole command line described once, from the flag tables: inotop's own flags, each
// subcommand's, and `completion`'s one word. The shell completions (completion.ts) and the man page
// (manpage.ts) are made from it, as --help is from the same tables.
import type { FlagGroup } from '../options/flags.js';
import { INOTOP_FLAG_GROUPS, INOTOP_SUMMARY, INOTOP_USAGE } from './args.js';
import { SUBCOMMAND_FLAGS, subcommandFlagGroups } from './subcommand.js';
import { SUBCOMMANDS } from './subcommands.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CommandDescription {
  /** null: inotop itself. */
  name: string | null;
  /** One line: what it does. */
  summary: string;
  /** The first lines of its --help. */
  intro: readonly string[];
  groups: readonly FlagGroup[];
  /** Its one positional word, when it takes one. */
  argument?: { name: string; words: readonly string[] };
}

/** A subcommand's line of inotop's usage ("inotop check [options]    what it does"): what it does. */
function usageSummary(name: string): string {
  const line = INOTOP_USAGE.find((usage) => usage.startsWith(`inotop ${name} `));
  if (!line) throw new Error(`inotop's usage has no line for ${name}`);
  return line.replace(/^\S+ \S+ \S+\s+/, '');
}

export const COMPLETION_INTRO = [
  'Usage: inotop completion bash|zsh|fish   a completion script for that shell, on stdout',
  '',
  'bash: eval "$(inotop completion bash)" in ~/.bashrc, or save it as /usr/share/bash-completion/completions/inotop',
  'zsh:  save it as _inotop in a directory of $fpath, or source <(inotop completion zsh) after compinit',
  'fish: inotop completion fish > ~/.config/fish/completions/inotop.fish',
];

export function commandDescriptions(): { inotop: CommandDescription; subcommands: CommandDescription[] } {
  const subcommands: CommandDescription[] = SUBCOMMANDS.map((name) => ({
    name,
    summary: usageSummary(name),
    intro: SUBCOMMAND_FLAGS[name].intro,
    groups: subcommandFlagGroups(SUBCOMMAND_FLAGS[name]),
  }));
  subcommands.push({
    name: 'completion',
    summary: usageSummary('completion'),
    intro: COMPLETION_INTRO,
    groups: [],
    argument: { name: 'SHELL', words: SHELLS },
  });
  return { inotop: { name: null, summary: INOTOP_SUMMARY, intro: INOTOP_USAGE, groups: INOTOP_FLAG_GROUPS }, subcommands };
}
