// The names of the fleet subcommands, apart from their code: telling one needs no module of theirs.
export const FLEET_COMMANDS = ['check', 'serve', 'fleet'] as const;

export type FleetCommand = (typeof FLEET_COMMANDS)[number];

export function isFleetCommand(word: string | undefined): word is FleetCommand {
  return (FLEET_COMMANDS as readonly (string | undefined)[]).includes(word);
}
