// `inotop completion bash|zsh|fish`: a completion script for the shell, made from the flag tables
// (commands.ts) as --help is: every flag of every command in every spelling it shows, the values
// the table offers (sort fields, columns, pod sources, files and directories), the subcommands.
import type { FlagSpec, FlagValues } from '../options/flags.js';
import { commandDescriptions, COMPLETION_INTRO, SHELLS, type CommandDescription, type Shell } from './commands.js';

export function runCompletion(argv: readonly string[]): number {
  const [shell, ...rest] = argv;
  if (shell === '--help' || shell === '-h') {
    process.stdout.write(`${COMPLETION_INTRO.join('\n')}\n`);
    return 0;
  }
  if (!SHELLS.includes(shell as Shell) || rest.length > 0) {
    process.stderr.write(`inotop completion: expected one of ${SHELLS.join(', ')}${shell ? `, got '${argv.join(' ')}'` : ''} (see inotop completion --help)\n`);
    return 2;
  }
  process.stdout.write(completionScript(shell as Shell));
  return 0;
}

export function completionScript(shell: Shell): string {
  const { inotop, subcommands } = commandDescriptions();
  return { bash: bashScript, zsh: zshScript, fish: fishScript }[shell](inotop, subcommands);
}

/** A flag's long names as --help shows them (--no-x for a boolean that is on unless turned off), with its aliases. */
function longSpellings(spec: FlagSpec): string[] {
  return [spec.long, ...(spec.aliases ?? [])].map((name) => `--${spec.defaultOn ? `no-${name}` : name}`);
}

const allSpellings = (spec: FlagSpec): string[] => [...(spec.short ? [`-${spec.short}`] : []), ...longSpellings(spec)];
const flagsOf = (command: CommandDescription): FlagSpec[] => command.groups.flatMap((group) => group.flags);
const wordsOf = (values: FlagValues | undefined) => (values !== undefined && typeof values === 'object' ? values : null);

// ---- bash ----

function bashValueCase(spec: FlagSpec): string {
  const pattern = allSpellings(spec).join('|');
  const values = spec.complete;
  const words = wordsOf(values);
  const action =
    values === 'file'
      ? '_inotop_files'
      : values === 'directory'
        ? '_inotop_directories'
        : values === 'user'
          ? '_inotop_users'
          : words
            ? `${words.commaSeparated ? '_inotop_list' : '_inotop_words'} '${words.words.join(' ')}'`
            : ':';
  return `        ${pattern}) ${action}; return ;;`;
}

function bashBranch(command: CommandDescription, firstWords: string[]): string[] {
  const flags = flagsOf(command);
  const valueFlags = flags.filter((spec) => spec.value);
  const names = flags.flatMap(allSpellings).join(' ');
  const lines: string[] = [];
  if (command.argument) {
    lines.push(`      ((COMP_CWORD == 2)) && _inotop_words '${command.argument.words.join(' ')}'`);
    return lines;
  }
  if (valueFlags.length > 0) lines.push('      case $prev in', ...valueFlags.map(bashValueCase), '      esac');
  if (firstWords.length > 0) {
    lines.push(`      if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then _inotop_words '${firstWords.join(' ')} ${names}'; else _inotop_words '${names}'; fi`);
  } else {
    lines.push(`      _inotop_words '${names}'`);
  }
  return lines;
}

function bashScript(inotop: CommandDescription, subcommands: CommandDescription[]): string {
  const names = subcommands.map((command) => command.name!);
  return [
    '# bash completion for inotop, made from its flag table by `inotop completion bash`:',
    '#   eval "$(inotop completion bash)"   (in ~/.bashrc), or save it as',
    '#   /usr/share/bash-completion/completions/inotop',
    '_inotop_words() { mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"); }',
    '# A comma-separated list: the word after the last comma.',
    '_inotop_list() {',
    '  local head=',
    '  [[ $cur == *,* ]] && head=${cur%,*},',
    '  mapfile -t COMPREPLY < <(compgen -P "$head" -W "$1" -- "${cur##*,}")',
    '  compopt -o nospace 2>/dev/null',
    '}',
    '_inotop_files() { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); }',
    '_inotop_directories() { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); }',
    '_inotop_users() { mapfile -t COMPREPLY < <(compgen -u -- "$cur"); }',
    '_inotop() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} command=',
    '  # --flag=value: bash splits the word at "=".',
    '  if [[ $cur == = ]]; then',
    '    cur=',
    '  elif [[ $prev == = ]]; then',
    '    prev=${COMP_WORDS[COMP_CWORD-2]}',
    '  fi',
    `  case \${COMP_WORDS[1]} in ${names.join('|')}) ((COMP_CWORD > 1)) && command=\${COMP_WORDS[1]} ;; esac`,
    '  COMPREPLY=()',
    '  case $command in',
    ...subcommands.flatMap((command) => [`    ${command.name})`, ...bashBranch(command, []), '      ;;']),
    '    *)',
    ...bashBranch(inotop, names),
    '      ;;',
    '  esac',
    '}',
    'complete -F _inotop inotop',
    '',
  ].join('\n');
}

// ---- zsh ----

/** Text inside single quotes in zsh. */
const zshQuoted = (text: string) => text.replaceAll("'", "'\\''");
/** An _arguments description ([...]) and message (:...:) need their brackets and colons escaped. */
const zshDescription = (text: string) => text.replace(/[[\]\\]/g, '\\$&');
const zshMessage = (text: string) => text.replaceAll(':', '\\:');

function zshAction(values: FlagValues | undefined): string {
  if (values === 'file') return '_files';
  if (values === 'directory') return '_files -/';
  if (values === 'user') return '_users';
  const words = wordsOf(values);
  if (!words) return ' ';
  return words.commaSeparated ? `{_values -s , value ${words.words.join(' ')}}` : `(${words.words.join(' ')})`;
}

function zshSpec(spec: FlagSpec): string {
  const names = allSpellings(spec);
  const exclusive = spec.multiple ? '*' : `(${names.join(' ')})`;
  const withValue = (name: string) => (spec.value ? (name.startsWith('--') ? `${name}=` : `${name}+`) : name);
  const forms = names.map(withValue);
  const spelled = forms.length > 1 ? `{${forms.join(',')}}` : forms[0]!;
  const tail = `[${zshDescription(spec.help)}]${spec.value ? `:${zshMessage(spec.value)}:${zshAction(spec.complete)}` : ''}`;
  return `'${zshQuoted(exclusive)}'${spelled}'${zshQuoted(tail)}'`;
}

function zshFunction(name: string, command: CommandDescription, extra: string[]): string[] {
  const specs = [...flagsOf(command).map(zshSpec), ...extra];
  return [`${name}() {`, '  _arguments -s -S : \\', ...specs.map((spec, i) => `    ${spec}${i < specs.length - 1 ? ' \\' : ''}`), '}'];
}

function zshScript(inotop: CommandDescription, subcommands: CommandDescription[]): string {
  const names = subcommands.map((command) => command.name!);
  const functionName = (command: CommandDescription) => `_inotop_${command.name!}`;
  return [
    '#compdef inotop',
    '# zsh completion for inotop, made from its flag table by `inotop completion zsh`: save it as',
    '# _inotop in a directory of $fpath, or `source <(inotop completion zsh)` after compinit.',
    '_inotop_commands() {',
    '  local -a commands=(',
    ...subcommands.map((command) => `    '${zshQuoted(`${command.name!}:${command.summary}`)}'`),
    '  )',
    "  _describe -t commands 'inotop command' commands",
    '}',
    ...subcommands.flatMap((command) =>
      command.argument
        ? [`${functionName(command)}() {`, `  _arguments ':${zshMessage(command.argument.name)}:(${command.argument.words.join(' ')})'`, '}']
        : zshFunction(functionName(command), command, []),
    ),
    ...zshFunction('_inotop_main', inotop, ["'1:command:_inotop_commands'"]),
    '_inotop() {',
    `  if (( CURRENT > 2 )) && [[ \${words[2]} == (${names.join('|')}) ]]; then`,
    '    local command=${words[2]}',
    '    shift words',
    '    (( CURRENT-- ))',
    '    _inotop_$command',
    '  else',
    '    _inotop_main',
    '  fi',
    '}',
    'if [[ ${funcstack[1]} == _inotop ]]; then _inotop "$@"; else compdef _inotop inotop; fi',
    '',
  ].join('\n');
}

// ---- fish ----

const fishQuoted = (text: string) => `'${text.replace(/[\\']/g, '\\$&')}'`;

function fishFlag(spec: FlagSpec, condition: string): string[] {
  const values = spec.complete;
  const words = wordsOf(values);
  const value = !spec.value
    ? ''
    : values === 'file'
      ? ' -r -F'
      : values === 'directory'
        ? " -x -a '(__fish_complete_directories (commandline -ct))'"
        : values === 'user'
          ? " -x -a '(__fish_complete_users)'"
          : words
            ? ` -x -a ${fishQuoted(words.commaSeparated ? `(__inotop_list ${words.words.join(' ')})` : words.words.join(' '))}`
            : ' -x';
  return longSpellings(spec).map(
    (long, i) =>
      `complete -c inotop -n ${fishQuoted(condition)}${i === 0 && spec.short ? ` -s ${spec.short}` : ''} -l ${long.slice(2)}${value} -d ${fishQuoted(spec.help)}`,
  );
}

function fishScript(inotop: CommandDescription, subcommands: CommandDescription[]): string {
  const names = subcommands.map((command) => command.name!);
  return [
    '# fish completion for inotop, made from its flag table by `inotop completion fish`:',
    '#   inotop completion fish > ~/.config/fish/completions/inotop.fish',
    'complete -c inotop -e',
    '# Whether the first word is the subcommand COMMAND, or (with none) a subcommand at all.',
    'function __inotop_using',
    '    set -l words (commandline -opc)',
    '    test (count $words) -ge 2; or return 1',
    '    if set -q argv[1]',
    '        test "$words[2]" = "$argv[1]"',
    '    else',
    `        contains -- $words[2] ${names.join(' ')}`,
    '    end',
    'end',
    '# A comma-separated list: each word after what the token has up to its last comma.',
    'function __inotop_list',
    "    set -l head (string replace -r '[^,]*$' '' -- (commandline -ct))",
    '    printf "$head%s\\n" $argv',
    'end',
    'complete -c inotop -f',
    ...subcommands.map((command) => `complete -c inotop -n 'test (count (commandline -opc)) -eq 1' -a ${command.name!} -d ${fishQuoted(command.summary)}`),
    ...flagsOf(inotop).flatMap((spec) => fishFlag(spec, 'not __inotop_using')),
    ...subcommands.flatMap((command) =>
      command.argument
        ? [
            `complete -c inotop -n ${fishQuoted(`__inotop_using ${command.name!}; and test (count (commandline -opc)) -eq 2`)} -a ${fishQuoted(command.argument.words.join(' '))}`,
          ]
        : flagsOf(command).flatMap((spec) => fishFlag(spec, `__inotop_using ${command.name!}`)),
    ),
    '',
  ].join('\n');
}
