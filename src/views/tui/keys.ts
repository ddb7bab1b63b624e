// The one key table: it drives the key handling, the help overlay and the footer (like htop's
// Action.c table and F-key bar, or k9s's key actions that generate its menu); its shape is both
// screens' (views/keys.ts).
import { commandsByKey, isPrintable, type KeyBinding as TableKeyBinding } from '../keys.js';
import type { Action, Command, ViewState } from './view-state.js';

export type KeyBinding = TableKeyBinding<Command>;

export const KEY_BINDINGS: readonly KeyBinding[] = [
  { command: 'help', keys: ['?', 'f1'], shown: '? F1', help: 'this help', footer: { key: 'F1', label: 'Help' } },
  { command: 'up', keys: ['up', 'k'], shown: '↑ k', help: 'row above (in the detail pane: scroll up)' },
  { command: 'down', keys: ['down', 'j'], shown: '↓ j', help: 'row below (in the detail pane: scroll down)' },
  { command: 'pageUp', keys: ['pageup'], shown: 'PgUp', help: 'one page up' },
  { command: 'pageDown', keys: ['pagedown'], shown: 'PgDn', help: 'one page down' },
  { command: 'home', keys: ['home', 'g'], shown: 'Home g', help: 'first row' },
  { command: 'end', keys: ['end', 'S-g'], shown: 'End G', help: 'last row' },
  {
    command: 'focusDetail',
    keys: ['enter'],
    shown: 'Enter',
    help: "detail pane: the selected process's watched targets; there: inspect the target under the cursor; in the pod view: inspect the pod",
    footer: { key: 'Enter', label: 'Detail' },
  },
  { command: 'copy', keys: ['y'], shown: 'y', help: 'inspect: copy its text to the clipboard (OSC 52)' },
  { command: 'toggleFocus', keys: ['tab'], shown: 'Tab', help: 'switch between the table and the detail pane' },
  { command: 'back', keys: ['escape'], shown: 'Esc', help: 'leave the detail pane; in the table: clear the filter' },
  {
    command: 'filter',
    keys: ['/', 'f4'],
    shown: '/ F4',
    help: 'filter by regex over command, pid, user, pod; Esc clears',
    footer: { key: 'F4', label: 'Filter' },
  },
  { command: 'chooseColumns', keys: ['f2', 'c'], shown: 'F2 c', help: 'choose the shown columns (Enter toggles one)', footer: { key: 'F2', label: 'Columns' } },
  { command: 'sortMenu', keys: ['f6', 's'], shown: 'F6 s', help: 'choose the sort column', footer: { key: 'F6', label: 'Sort' } },
  { command: 'sortPrevious', keys: ['<', ','], shown: '<', help: 'sort by the column to the left', footer: { key: '<>', label: 'Column' } },
  { command: 'sortNext', keys: ['>', '.'], shown: '>', help: 'sort by the column to the right' },
  { command: 'invertSort', keys: ['S-i'], shown: 'I', help: 'invert the sort order', footer: { key: 'I', label: 'Invert' } },
  { command: 'chooseUser', keys: ['u'], shown: 'u', help: "show one user's processes", footer: { key: 'u', label: 'User' } },
  {
    command: 'leakedOnly',
    keys: ['l'],
    shown: 'l',
    help: 'leaked only: processes with leaked watches, and their leaked targets',
    footer: { key: 'l', label: 'Leaked' },
  },
  {
    command: 'toggleView',
    keys: ['v'],
    shown: 'v',
    help: 'process view / pod view: a row per pod, live or gone, its watchers and holders',
    footer: { key: 'v', label: 'Pods' },
  },
  {
    command: 'toggleTree',
    keys: ['t', 'f5'],
    shown: 't F5',
    help: 'tree view: processes under their parents, a shared instance counted at the ancestor holding it',
    footer: { key: 'F5', label: 'Tree' },
  },
  { command: 'notes', keys: ['n'], shown: 'n', help: "the last refresh's notes, and a failing pod source's error, whole" },
  { command: 'pause', keys: ['S-z'], shown: 'Z', help: 'pause / resume refreshing', footer: { key: 'Z', label: 'Pause' } },
  { command: 'stepBack', keys: ['left'], shown: '←', help: 'replay: one snapshot back', footer: { key: '←→', label: 'Step' }, only: 'replay' },
  { command: 'stepForward', keys: ['right'], shown: '→', help: 'replay: one snapshot forward', only: 'replay' },
  { command: 'slower', keys: ['+'], shown: '+', help: 'refresh less often', footer: { key: '+-', label: 'Interval' }, only: 'live' },
  { command: 'faster', keys: ['-'], shown: '-', help: 'refresh more often', only: 'live' },
  { command: 'quit', keys: ['q', 'f10', 'C-c'], shown: 'q F10 ^C', help: 'quit', footer: { key: 'F10', label: 'Quit' } },
];

const COMMAND_BY_KEY = commandsByKey(KEY_BINDINGS);

export function commandForKey(key: string): Command | null {
  return COMMAND_BY_KEY.get(key) ?? null;
}

/** The bindings that apply live, or while replaying. */
export function activeBindings(replaying: boolean): KeyBinding[] {
  return KEY_BINDINGS.filter((binding) => binding.only === undefined || binding.only === (replaying ? 'replay' : 'live'));
}

/** What the mouse does; shown in the help overlay below the keys. */
export const MOUSE_HELP: readonly string[] = [
  'click a row: select it; click a column title: sort by it (again: invert)',
  'wheel: scroll the table or the detail pane',
];

/** What a key does in the screen's current mode: typing a filter, in a menu, or the table. */
export function actionForKey(state: ViewState, key: string, ch: string | undefined, now: number): Action | null {
  if (key === 'C-c') return { type: 'command', command: 'quit', now };
  if (state.prompt) {
    switch (key) {
      case 'enter':
        return { type: 'promptAccept' };
      case 'escape':
        return { type: 'promptClear' };
      case 'backspace':
        return { type: 'promptErase' };
    }
    return ch !== undefined && isPrintable(ch) ? { type: 'promptType', text: ch } : null;
  }
  if (state.overlay) {
    const inspecting = state.overlay.kind === 'inspect';
    const reading = inspecting || state.overlay.kind === 'help' || state.overlay.kind === 'notes';
    const page = reading ? 10 : Infinity;
    const command = commandForKey(key);
    switch (command) {
      case 'up':
        return { type: 'menuMove', delta: -1 };
      case 'down':
        return { type: 'menuMove', delta: 1 };
      case 'pageUp':
      case 'home':
        return { type: 'menuMove', delta: -page };
      case 'pageDown':
      case 'end':
        return { type: 'menuMove', delta: page };
    }
    if (inspecting) {
      // What is inspected stays up while it is copied; Enter, Esc or q put it away.
      if (command === 'copy') return { type: 'command', command: 'copy', now };
      return key === 'escape' || key === 'q' || key === 'enter' ? { type: 'closeOverlay' } : null;
    }
    if (command === 'focusDetail') return reading ? { type: 'closeOverlay' } : { type: 'menuChoose' };
    // The help and notes go away on any other key, like htop's help; a menu only on Esc or q.
    return reading || key === 'escape' || key === 'q' ? { type: 'closeOverlay' } : null;
  }
  const command = commandForKey(key);
  return command ? { type: 'command', command, now } : null;
}
