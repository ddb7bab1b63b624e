// The fleet screen's state and keys, the main screen's way (src/views/tui/keys.ts, state.ts): one
// key table drives key handling, the help overlay and the footer; a pure reducer turns actions into
// the next state; the blessed layer (screen.ts) only draws and dispatches.
import { FLEET_SORT_FIELDS, type FleetSortField } from './args.js';
import { sortNodes, type NodeDetail, type NodeRow } from './nodes.js';

export type FleetScreenCommand =
  'quit' | 'help' | 'up' | 'down' | 'home' | 'end' | 'open' | 'back' | 'filter' | 'sortNext' | 'sortPrevious' | 'invertSort' | 'refresh';

export interface FleetKeyBinding {
  command: FleetScreenCommand;
  keys: readonly string[];
  shown: string;
  help: string;
  footer?: { key: string; label: string };
}

/** The main screen's keys where they mean the same thing here. */
export const FLEET_KEY_BINDINGS: readonly FleetKeyBinding[] = [
  { command: 'help', keys: ['?', 'f1'], shown: '? F1', help: 'this help', footer: { key: 'F1', label: 'Help' } },
  { command: 'up', keys: ['up', 'k'], shown: '↑ k', help: 'row above' },
  { command: 'down', keys: ['down', 'j'], shown: '↓ j', help: 'row below' },
  { command: 'home', keys: ['home', 'g'], shown: 'Home g', help: 'first row' },
  { command: 'end', keys: ['end', 'S-g'], shown: 'End G', help: 'last row' },
  { command: 'open', keys: ['enter'], shown: 'Enter', help: "the node's top processes and leaked pods", footer: { key: 'Enter', label: 'Node' } },
  { command: 'back', keys: ['escape'], shown: 'Esc', help: 'back to the nodes; in the table: clear the filter' },
  { command: 'filter', keys: ['/', 'f4'], shown: '/ F4', help: 'filter nodes by regex; Esc clears', footer: { key: 'F4', label: 'Filter' } },
  { command: 'sortPrevious', keys: ['<', ','], shown: '<', help: 'sort by the column to the left', footer: { key: '<>', label: 'Sort' } },
  { command: 'sortNext', keys: ['>', '.'], shown: '>', help: 'sort by the column to the right' },
  { command: 'invertSort', keys: ['S-i'], shown: 'I', help: 'invert the sort order', footer: { key: 'I', label: 'Invert' } },
  { command: 'refresh', keys: ['r', 'f5'], shown: 'r F5', help: 'query Prometheus now', footer: { key: 'F5', label: 'Refresh' } },
  { command: 'quit', keys: ['q', 'f10', 'C-c'], shown: 'q F10 ^C', help: 'quit', footer: { key: 'F10', label: 'Quit' } },
];

const COMMAND_BY_KEY = new Map(FLEET_KEY_BINDINGS.flatMap((b) => b.keys.map((key) => [key, b.command] as const)));

export interface FleetState {
  rows: readonly NodeRow[];
  error: string | null;
  fetchedAt: number | null;
  sort: FleetSortField;
  inverted: boolean;
  filter: RegExp | null;
  /** The filter being typed, or null. */
  prompt: string | null;
  selected: number;
  /** The node whose detail shows, and the detail once it came in. */
  open: { node: string; detail: NodeDetail | null; error: string | null } | null;
  help: boolean;
  quit: boolean;
}

export type FleetAction =
  | { type: 'command'; command: FleetScreenCommand }
  | { type: 'nodes'; rows: readonly NodeRow[]; at: number }
  | { type: 'failed'; message: string }
  | { type: 'detail'; detail: NodeDetail }
  | { type: 'detailFailed'; node: string; message: string }
  | { type: 'promptType'; text: string }
  | { type: 'promptErase' }
  | { type: 'promptAccept' }
  | { type: 'promptClear' };

export function initialFleetState(sort: FleetSortField, filter: RegExp | null): FleetState {
  return { rows: [], error: null, fetchedAt: null, sort, inverted: false, filter, prompt: null, selected: 0, open: null, help: false, quit: false };
}

export function visibleNodes(state: FleetState): NodeRow[] {
  return sortNodes(state.rows, state.sort, state.filter, state.inverted);
}

export function selectedNode(state: FleetState): NodeRow | null {
  return visibleNodes(state)[state.selected] ?? null;
}

export function actionForFleetKey(state: FleetState, key: string, ch: string | undefined): FleetAction | null {
  if (key === 'C-c') return { type: 'command', command: 'quit' };
  if (state.prompt !== null) {
    if (key === 'enter') return { type: 'promptAccept' };
    if (key === 'escape') return { type: 'promptClear' };
    if (key === 'backspace') return { type: 'promptErase' };
    return ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f' ? { type: 'promptType', text: ch } : null;
  }
  // The help overlay goes away on any key, like the main screen's.
  if (state.help) return key === 'q' ? { type: 'command', command: 'quit' } : { type: 'command', command: 'help' };
  const command = COMMAND_BY_KEY.get(key);
  return command ? { type: 'command', command } : null;
}

export function reduceFleet(state: FleetState, action: FleetAction): FleetState {
  const clamp = (s: FleetState): FleetState => ({ ...s, selected: Math.max(0, Math.min(visibleNodes(s).length - 1, s.selected)) });
  switch (action.type) {
    case 'nodes': {
      // The selection stays on its node when the order changes.
      const before = selectedNode(state)?.node;
      const next = { ...state, rows: action.rows, error: null, fetchedAt: action.at };
      const index = visibleNodes(next).findIndex((row) => row.node === before);
      return clamp({ ...next, selected: index >= 0 ? index : state.selected });
    }
    case 'failed':
      return { ...state, error: action.message };
    case 'detail':
      return state.open?.node === action.detail.node ? { ...state, open: { ...state.open, detail: action.detail, error: null } } : state;
    case 'detailFailed':
      return state.open?.node === action.node ? { ...state, open: { ...state.open, error: action.message } } : state;
    case 'promptType':
      return { ...state, prompt: (state.prompt ?? '') + action.text };
    case 'promptErase':
      return { ...state, prompt: (state.prompt ?? '').slice(0, -1) };
    case 'promptClear':
      return clamp({ ...state, prompt: null, filter: null });
    case 'promptAccept': {
      const text = state.prompt ?? '';
      let filter: RegExp | null;
      try {
        filter = text === '' ? null : new RegExp(text, 'i');
      } catch {
        filter = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      }
      return clamp({ ...state, prompt: null, filter, selected: 0 });
    }
    case 'command':
      return command(state, action.command, clamp);
  }
}

function command(state: FleetState, name: FleetScreenCommand, clamp: (s: FleetState) => FleetState): FleetState {
  const sortIndex = FLEET_SORT_FIELDS.indexOf(state.sort);
  const count = FLEET_SORT_FIELDS.length;
  switch (name) {
    case 'quit':
      return { ...state, quit: true };
    case 'help':
      return { ...state, help: !state.help };
    case 'up':
      return clamp({ ...state, selected: state.selected - 1 });
    case 'down':
      return clamp({ ...state, selected: state.selected + 1 });
    case 'home':
      return clamp({ ...state, selected: 0 });
    case 'end':
      return clamp({ ...state, selected: Infinity });
    case 'open': {
      const node = selectedNode(state);
      return node && !state.open ? { ...state, open: { node: node.node, detail: null, error: null } } : state;
    }
    case 'back':
      return state.open ? { ...state, open: null } : clamp({ ...state, filter: null });
    case 'filter':
      return { ...state, prompt: state.filter?.source ?? '' };
    case 'sortNext':
      return clamp({ ...state, sort: FLEET_SORT_FIELDS[(sortIndex + 1) % count]! });
    case 'sortPrevious':
      return clamp({ ...state, sort: FLEET_SORT_FIELDS[(sortIndex + count - 1) % count]! });
    case 'invertSort':
      return { ...state, inverted: !state.inverted };
    case 'refresh':
      return state;
  }
}

export function fleetHelpLines(): string[] {
  return ['Keys:', ...FLEET_KEY_BINDINGS.map((b) => `  ${b.shown.padEnd(10)} ${b.help}`)];
}

export function fleetFooter(): string {
  return FLEET_KEY_BINDINGS.flatMap((b) => (b.footer ? [`${b.footer.key} ${b.footer.label}`] : [])).join('  ');
}
