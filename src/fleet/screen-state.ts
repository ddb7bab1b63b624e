// The fleet screen's state and keys, the main screen's way: one key table of the shape both screens
// share (views/keys.ts) drives keys, help and footer; a pure reducer turns actions into the next
// state; the blessed layer (screen.ts) only draws and dispatches. What a key costs does not grow
// with the fleet where it need not: the rows are sorted once per read or change of sort (not per
// key), filtered once per change of filter (narrowing what the last filter kept when the typed
// text only grew), and the table and the detail pane hold a window on them that scrolls.
import { commandsByKey, isPrintable, type KeyBinding, type NavigationCommand } from '../views/keys.js';
import { FLEET_SORT_FIELDS, type FleetSortField } from './args.js';
import { fleetShape, type FleetShape } from './columns.js';
import { nodeDetailLines } from './detail.js';
import { sortRows, type Fleet, type NodeDetail, type NodeRow } from './nodes.js';

export type FleetScreenCommand = NavigationCommand | 'open' | 'back' | 'filter' | 'sortNext' | 'sortPrevious' | 'invertSort' | 'refresh';

/** The main screen's keys where they mean the same thing here. */
export const FLEET_KEY_BINDINGS: readonly KeyBinding<FleetScreenCommand>[] = [
  { command: 'help', keys: ['?', 'f1'], shown: '? F1', help: 'this help', footer: { key: 'F1', label: 'Help' } },
  { command: 'up', keys: ['up', 'k'], shown: '↑ k', help: 'row above (in a node: scroll up)' },
  { command: 'down', keys: ['down', 'j'], shown: '↓ j', help: 'row below (in a node: scroll down)' },
  { command: 'pageUp', keys: ['pageup'], shown: 'PgUp', help: 'one page up' },
  { command: 'pageDown', keys: ['pagedown'], shown: 'PgDn', help: 'one page down' },
  { command: 'home', keys: ['home', 'g'], shown: 'Home g', help: 'first row' },
  { command: 'end', keys: ['end', 'S-g'], shown: 'End G', help: 'last row' },
  { command: 'open', keys: ['enter'], shown: 'Enter', help: 'the node: its gone pods, leaks and top processes', footer: { key: 'Enter', label: 'Node' } },
  { command: 'back', keys: ['escape'], shown: 'Esc', help: 'back to the nodes; in the table: clear the filter' },
  {
    command: 'filter',
    keys: ['/', 'f4'],
    shown: '/ F4',
    help: 'filter nodes by regex as you type; Enter keeps, Esc clears',
    footer: { key: 'F4', label: 'Filter' },
  },
  { command: 'sortPrevious', keys: ['<', ','], shown: '<', help: 'sort by the column to the left', footer: { key: '<>', label: 'Sort' } },
  { command: 'sortNext', keys: ['>', '.'], shown: '>', help: 'sort by the column to the right' },
  { command: 'invertSort', keys: ['S-i'], shown: 'I', help: 'invert the sort order', footer: { key: 'I', label: 'Invert' } },
  {
    command: 'refresh',
    keys: ['r', 'f5'],
    shown: 'r F5',
    help: 'read Prometheus again now (after the read under way)',
    footer: { key: 'F5', label: 'Refresh' },
  },
  { command: 'quit', keys: ['q', 'f10', 'C-c'], shown: 'q F10 ^C', help: 'quit', footer: { key: 'F10', label: 'Quit' } },
];

const COMMAND_BY_KEY = commandsByKey(FLEET_KEY_BINDINGS);

/** A node opened with Enter: its detail once it came in, as lines, and where they are scrolled to. */
export interface OpenNode {
  cluster: string;
  node: string;
  detail: NodeDetail | null;
  lines: readonly string[];
  error: string | null;
  top: number;
}

export interface FleetState {
  fleet: Fleet | null;
  shape: FleetShape;
  error: string | null;
  sort: FleetSortField;
  inverted: boolean;
  /** The fleet's rows in the sort order. */
  sorted: readonly NodeRow[];
  filter: RegExp | null;
  /** What the filter was made of: typing more of it narrows what it kept. */
  filterText: string;
  /** The sorted rows the filter keeps: the table. */
  visible: readonly NodeRow[];
  /** The filter being typed (it applies as it is typed), or null. */
  prompt: string | null;
  selected: number;
  /** The first row shown, and how many show: the table's window. */
  top: number;
  pageRows: number;
  open: OpenNode | null;
  help: boolean;
  quit: boolean;
}

export type FleetAction =
  | { type: 'command'; command: FleetScreenCommand }
  | { type: 'nodes'; fleet: Fleet }
  | { type: 'failed'; message: string }
  | { type: 'detail'; detail: NodeDetail }
  | { type: 'detailFailed'; cluster: string; node: string; message: string }
  | { type: 'resize'; pageRows: number }
  | { type: 'promptType'; text: string }
  | { type: 'promptErase' }
  | { type: 'promptAccept' }
  | { type: 'promptClear' };

const NO_SHAPE: FleetShape = { clusters: 0, clusterWidth: 0, nodeWidth: 0, failures: false };

export function initialFleetState(sort: FleetSortField, filter: RegExp | null, pageRows = 20): FleetState {
  return {
    fleet: null,
    shape: NO_SHAPE,
    error: null,
    sort,
    inverted: false,
    sorted: [],
    filter,
    filterText: filter?.source ?? '',
    visible: [],
    prompt: null,
    selected: 0,
    top: 0,
    pageRows,
    open: null,
    help: false,
    quit: false,
  };
}

export function selectedNode(state: FleetState): NodeRow | null {
  return state.visible[state.selected] ?? null;
}

/** The rows the table shows now: only these get cells. */
export function shownRows(state: FleetState): readonly NodeRow[] {
  return state.visible.slice(state.top, state.top + state.pageRows);
}

export function actionForFleetKey(state: FleetState, key: string, ch: string | undefined): FleetAction | null {
  if (key === 'C-c') return { type: 'command', command: 'quit' };
  if (state.prompt !== null) {
    if (key === 'enter') return { type: 'promptAccept' };
    if (key === 'escape') return { type: 'promptClear' };
    if (key === 'backspace') return { type: 'promptErase' };
    return ch !== undefined && isPrintable(ch) ? { type: 'promptType', text: ch } : null;
  }
  // The help overlay goes away on any key, like the main screen's.
  if (state.help) return key === 'q' ? { type: 'command', command: 'quit' } : { type: 'command', command: 'help' };
  const command = COMMAND_BY_KEY.get(key);
  return command ? { type: 'command', command } : null;
}

/** The filter a typed text makes: a regex, or the text itself where it is not one (`[` typed first). */
export function filterRegex(text: string): RegExp | null {
  if (text === '') return null;
  try {
    return new RegExp(text, 'i');
  } catch {
    return new RegExp(escapeRegex(text), 'i');
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Text with no regex syntax matches fewer nodes as it grows: what the shorter text kept is all there is to look at. */
const LITERAL = /^[^.*+?^${}()|[\]\\]*$/;

/** The rows a filter keeps of the sorted ones; `narrowing` from what the previous, shorter literal text kept. */
function applyFilter(state: FleetState, filter: RegExp | null, text: string): FleetState {
  const narrowing = filter !== null && state.filter !== null && text.startsWith(state.filterText) && LITERAL.test(text) && LITERAL.test(state.filterText);
  const from = narrowing ? state.visible : state.sorted;
  const visible = filter === null ? state.sorted : from.filter((row) => filter.test(row.node));
  return follow(state, { ...state, filter, filterText: text, visible }, 0);
}

/**
 * After the rows changed: the selection stays on its node where it still shows; else at `otherwise`
 * (the first row for a new filter, the same place for a new read).
 */
function follow(before: FleetState, next: FleetState, otherwise = next.selected): FleetState {
  const selected = selectedNode(before);
  const index = selected ? next.visible.findIndex((row) => row.node === selected.node && row.cluster === selected.cluster) : -1;
  return scrolled({ ...next, selected: index >= 0 ? index : otherwise });
}

/** The selection within the rows, and the window moved just enough to show it. */
function scrolled(state: FleetState): FleetState {
  const last = state.visible.length - 1;
  const selected = Math.max(0, Math.min(last, state.selected));
  const page = Math.max(1, state.pageRows);
  let top = Math.max(0, Math.min(state.top, state.visible.length - page));
  if (selected < top) top = selected;
  if (selected >= top + page) top = selected - page + 1;
  return { ...state, selected, top: Math.max(0, top) };
}

/** The sorted rows the state's filter keeps. */
function filtered(state: FleetState, order: readonly NodeRow[]): readonly NodeRow[] {
  const filter = state.filter;
  return filter === null ? order : order.filter((row) => filter.test(row.node));
}

function sorted(state: FleetState, sort: FleetSortField, inverted: boolean): FleetState {
  const rows = state.fleet?.rows ?? [];
  // Inverting reverses the order as it is: a stable sort inverted is the same order read backwards.
  const order = sort === state.sort && inverted !== state.inverted ? state.sorted.slice().reverse() : sortRows(rows, sort, inverted);
  return follow(state, { ...state, sort, inverted, sorted: order, visible: filtered(state, order) });
}

export function reduceFleet(state: FleetState, action: FleetAction): FleetState {
  switch (action.type) {
    case 'nodes': {
      const order = sortRows(action.fleet.rows, state.sort, state.inverted);
      return follow(state, {
        ...state,
        fleet: action.fleet,
        shape: fleetShape(action.fleet.rows),
        error: null,
        sorted: order,
        visible: filtered(state, order),
      });
    }
    case 'failed':
      return { ...state, error: action.message };
    case 'detail': {
      const open = state.open;
      if (!open || open.cluster !== action.detail.cluster || open.node !== action.detail.node) return state;
      return { ...state, open: { ...open, detail: action.detail, lines: nodeDetailLines(action.detail, state.fleet), error: null } };
    }
    case 'detailFailed': {
      const open = state.open;
      if (!open || open.cluster !== action.cluster || open.node !== action.node) return state;
      return { ...state, open: { ...open, error: action.message } };
    }
    case 'resize':
      return scrolled({ ...state, pageRows: action.pageRows, open: state.open && scrollDetail(state.open, 0, action.pageRows) });
    case 'promptType': {
      const text = (state.prompt ?? '') + action.text;
      return { ...applyFilter(state, filterRegex(text), text), prompt: text };
    }
    case 'promptErase': {
      const text = (state.prompt ?? '').slice(0, -1);
      return { ...applyFilter(state, filterRegex(text), text), prompt: text };
    }
    case 'promptClear':
      return { ...applyFilter(state, null, ''), prompt: null };
    case 'promptAccept':
      return { ...state, prompt: null };
    case 'command':
      return command(state, action.command);
  }
}

/** The detail's window moved by `delta` lines, kept within its lines. */
function scrollDetail(open: OpenNode, delta: number, pageRows: number): OpenNode {
  const top = Math.max(0, Math.min(open.top + delta, open.lines.length - pageRows));
  return { ...open, top };
}

function command(state: FleetState, name: FleetScreenCommand): FleetState {
  const fields = FLEET_SORT_FIELDS;
  const sortIndex = fields.indexOf(state.sort);
  const page = Math.max(1, state.pageRows);
  const move = (delta: number): FleetState => {
    if (state.open) return { ...state, open: scrollDetail(state.open, delta, page) };
    return scrolled({ ...state, selected: state.selected + delta });
  };
  switch (name) {
    case 'quit':
      return { ...state, quit: true };
    case 'help':
      return { ...state, help: !state.help };
    case 'up':
      return move(-1);
    case 'down':
      return move(1);
    case 'pageUp':
      return move(-page);
    case 'pageDown':
      return move(page);
    case 'home':
      return move(-Infinity);
    case 'end':
      return move(Infinity);
    case 'open': {
      const node = selectedNode(state);
      if (!node || state.open) return state;
      return { ...state, open: { cluster: node.cluster, node: node.node, detail: null, lines: [], error: null, top: 0 } };
    }
    case 'back':
      return state.open ? { ...state, open: null } : applyFilter(state, null, '');
    case 'filter':
      return state.open ? state : { ...state, prompt: state.filterText };
    case 'sortNext':
      return sorted(state, fields[(sortIndex + 1) % fields.length]!, state.inverted);
    case 'sortPrevious':
      return sorted(state, fields[(sortIndex + fields.length - 1) % fields.length]!, state.inverted);
    case 'invertSort':
      return sorted(state, state.sort, !state.inverted);
    case 'refresh':
      return state;
  }
}
