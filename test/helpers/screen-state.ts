// The screen's state driven as a user drives it, for tests that need no terminal: keys through the
// one key table, render output without blessed's tags.
import { actionForKey } from '../../src/views/tui/keys.js';
import { Painter } from '../../src/views/painter.js';
import { reduce } from '../../src/views/tui/state.js';
import type { ViewState } from '../../src/views/tui/view-state.js';

/** The state after these keys, each pressed in turn (a one-character name is also its character). */
export const keys = (state: ViewState, ...names: string[]): ViewState =>
  names.reduce((s, name) => {
    const action = actionForKey(s, name, name.length === 1 ? name : undefined, 0);
    return action ? reduce(s, action) : s;
  }, state);

/** A painter without colors. */
export const mono = new Painter(false);

/** Rendered lines without blessed's tags. */
export const plain = (lines: string[]): string[] => lines.map((l) => l.replace(/\{\/?[a-z-]+\}/g, ''));
