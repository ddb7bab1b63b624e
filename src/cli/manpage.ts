// man/inotop.1, made from the command line's description (commands.ts: the flag tables, as --help
// is) by `npm run generate`; a test fails while the checked-in page is not what this makes.
import type { FlagGroup, FlagSpec } from '../options/flags.js';
import { VERSION } from '../version.js';
import { commandDescriptions, type CommandDescription } from './commands.js';

/** Text as roff prints it: backslashes escaped, a line never taken for a request. */
function roff(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

/** A flag or command name: minus signs, not hyphens, so that it can be searched and pasted. */
const literal = (text: string) => roff(text).replaceAll('-', '\\-');

function flagEntry(spec: FlagSpec): string[] {
  const names = [spec.short ? `-${spec.short}` : null, ...[spec.long, ...(spec.aliases ?? [])].map((name) => `--${spec.defaultOn ? `no-${name}` : name}`)]
    .filter((name): name is string => name !== null)
    .map((name) => `\\fB${literal(name)}\\fR`)
    .join(', ');
  const value = spec.value ? ` \\fI${roff(spec.value)}\\fR` : '';
  return ['.TP', `${names}${value}`, `${roff(spec.help)}${spec.multiple ? ' (may be repeated)' : ''}`];
}

function groups(groupsOfFlags: readonly FlagGroup[], heading: '.SS' | '.TP'): string[] {
  return groupsOfFlags.flatMap((group) => [
    heading === '.SS' ? `.SS ${roff(group.title)}` : `.PP\n\\fI${roff(group.title)}:\\fR`,
    ...group.flags.flatMap(flagEntry),
  ]);
}

function commandSection(command: CommandDescription): string[] {
  return [
    `.SS inotop ${literal(command.name!)}`,
    '.nf',
    // --help's first lines, as the command prints them.
    ...command.intro.map(roff),
    '.fi',
    ...groups(command.groups, '.TP'),
    ...(command.argument ? ['.TP', `\\fI${command.argument.name}\\fR`, command.argument.words.map(literal).join(', ')] : []),
  ];
}

export function manPage(): string {
  const { inotop, subcommands } = commandDescriptions();
  return (
    [
      `.\\" man/inotop.1: made by \`npm run generate\` from inotop's flag tables (src/cli/manpage.ts); do not edit.`,
      `.TH INOTOP 1 "" "inotop ${VERSION}" "User Commands"`,
      '.SH NAME',
      `inotop \\- ${roff(inotop.summary)}`,
      '.SH SYNOPSIS',
      '.nf',
      ...inotop.intro.map(roff),
      '.fi',
      '.SH DESCRIPTION',
      'A top-like view of inotify (and fanotify) on a Linux node: the processes ranked by watches and',
      'instances, each user against fs.inotify.max_user_watches and max_user_instances, every watched',
      'inode resolved to a path across mount namespaces and to its Kubernetes pod, and the watches that',
      'outlived their pod (leaks), with the processes that keep them. The same data comes as text',
      '(\\fB\\-b\\fR), JSON (\\fB\\-\\-json\\fR), recordings, a node-problem-detector check and a Prometheus exporter.',
      'Run it as root to see every process; press \\fB?\\fR on the screen for its keys.',
      '.SH OPTIONS',
      ...groups(inotop.groups, '.SS'),
      '.SH COMMANDS',
      ...subcommands.flatMap(commandSection),
      '.SH EXIT STATUS',
      '0: done; 1: an error (a scan, a recording); 2: a usage error. \\fBinotop check\\fR: 0 fine, 1 a problem,',
      "2 cannot tell. A signal ends inotop with 128 + the signal's number (a terminal gone: 129).",
      '.SH ENVIRONMENT',
      '.TP',
      '\\fBNO_COLOR\\fR',
      'no colors when set and not empty.',
      '.TP',
      '\\fBXDG_CONFIG_HOME\\fR',
      "where the screen's settings are kept (inotop/config.json; else ~/.config).",
      '.TP',
      '\\fBCONTAINER_RUNTIME_ENDPOINT\\fR',
      "the container runtime's CRI socket, when \\fB\\-\\-runtime\\-endpoint\\fR does not name it.",
      '.TP',
      '\\fBINOTOP_TRACEFS\\fR',
      'the tracefs to trace failed inotify calls in.',
      '.SH FILES',
      '.TP',
      '\\fI$XDG_CONFIG_HOME/inotop/config.json\\fR',
      "the screen's sort, columns, interval and view (\\fB\\-\\-no\\-config\\fR: neither read nor written).",
      '.SH SEE ALSO',
      '\\fBinotify\\fR(7), \\fBfanotify\\fR(7), \\fBproc\\fR(5), \\fBtop\\fR(1), \\fBhtop\\fR(1)',
    ].join('\n') + '\n'
  );
}
