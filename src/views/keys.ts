// The shape of a screen's one key table (the process screen's and the fleet's): a binding drives
// the key handling, the help overlay and the footer (like htop's Action.c table and F-key bar).
// Key names are blessed's `key.full`: upper-case letters are `S-x`, control keys `C-x`.

/** What every screen's keys mean alike: leaving, the help, and moving through a table. */
export type NavigationCommand = 'quit' | 'help' | 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end';

export interface KeyBinding<Command extends string> {
  command: Command;
  keys: readonly string[];
  /** The keys as the help overlay shows them. */
  shown: string;
  help: string;
  /** Footer entry, most important first; none: only in the help overlay. */
  footer?: { key: string; label: string };
  /** Does something only live or only when replaying a recording; shown only then. */
  only?: 'live' | 'replay';
}

/** Each key's command, for looking a press up. */
export function commandsByKey<Command extends string>(bindings: readonly KeyBinding<Command>[]): ReadonlyMap<string, Command> {
  return new Map(bindings.flatMap((binding) => binding.keys.map((key) => [key, binding.command] as const)));
}

/** A typed character a prompt takes: one printable character. */
export function isPrintable(ch: string): boolean {
  return ch.length === 1 && ch >= ' ' && ch !== '\x7f';
}
