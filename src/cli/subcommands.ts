// The names of the subcommands, apart from their code: telling one needs no module of theirs.
export const SUBCOMMANDS = ['check', 'serve', 'fleet', 'install'] as const;

export type Subcommand = (typeof SUBCOMMANDS)[number];

export function isSubcommand(word: string | undefined): word is Subcommand {
  return (SUBCOMMANDS as readonly (string | undefined)[]).includes(word);
}
