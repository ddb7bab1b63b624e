// The screen's state and everything it can do, as pure functions: `reduce(state, action)`.
// The blessed layer only renders a state and dispatches actions, so all behaviour is testable
// without a terminal. What differs between the table's views (rows, selection, Enter) is asked of
// the current view (views.ts), never branched on here.
import { advanceHistory, EMPTY_HISTORY } from '../../model/history.js';
import type { ProcessFilter, SortField } from '../../model/query.js';
import { HIDEABLE_COLUMNS, sortableColumns, sortColumn, toggleColumn } from '../columns.js';
import { inspectParagraphs, inspectText, type Paragraph } from './inspect.js';
import { hasTrafficToInspect, trafficParagraphs } from './traffic-inspect.js';
import { withPodsSeen } from './pod-rows.js';
import { holderDetailsOf, inspectedTarget, paneTargetAt, processRows, selectedRow, targetPane } from './process-rows.js';
import { columnChoice } from './process-view.js';
import type { AnyView } from './screen-view.js';
import type { Action, Command, Focus, InitialView, Sort, ViewState } from './view-state.js';
import { nextView, viewOf, VIEWS } from './views.js';
import { snapshotNotes } from '../notes.js';

export const INTERVAL_STEPS_MS: readonly number[] = [250, 500, 1000, 2000, 3000, 5000, 10_000, 30_000, 60_000];

export function initialState(initial: InitialView): ViewState {
  return {
    snapshot: null,
    scanProgress: null,
    replay: null,
    history: EMPTY_HISTORY,
    filter: initial.filter,
    processFilterText: '',
    targetFilterText: '',
    targetFilter: null,
    prompt: null,
    sort: initial.sort,
    selectedPid: null,
    selectionPicked: false,
    openOn: null,
    selectedIndex: 0,
    tableTop: 0,
    selectedPod: null,
    podIndex: 0,
    podTop: 0,
    detailTop: 0,
    detailCursor: 0,
    targetSlice: null,
    holderDetails: new Map(),
    copy: null,
    tree: false,
    view: initial.view ?? 'processes',
    hiddenColumns: initial.hiddenColumns ?? [],
    shownColumns: initial.shownColumns ?? [],
    podsSeen: new Map(),
    focus: 'table',
    overlay: null,
    paused: false,
    intervalMs: initial.intervalMs,
    pace: null,
    heldOrder: null,
    orderHeldUntil: 0,
    tableRows: 10,
    detailRows: 5,
    sessionNotes: initial.notes ?? [],
    message: null,
    refreshFailed: null,
    quit: false,
  };
}

export function reduce(state: ViewState, action: Action): ViewState {
  return normalize(apply(state, action), state);
}

function apply(state: ViewState, action: Action): ViewState {
  switch (action.type) {
    case 'command':
      return runCommand(state, action.command, action.now);
    case 'snapshot': {
      const next = {
        ...state,
        snapshot: action.snapshot,
        scanProgress: null,
        replay: action.replay ?? null,
        pace: action.pace ?? null,
        history: advanceHistory(state.history, action.snapshot),
        podsSeen: withPodsSeen(state.podsSeen, action.snapshot),
        message: null,
        refreshFailed: null,
      };
      return next.selectionPicked ? next : { ...next, openOn: action.openOn ?? null, selectedPid: openingPid(next, action.openOn ?? null) };
    }
    case 'slice':
      // Only the selected process's: those of one selected before may come late, and are not kept.
      if (action.slice.ask.pid !== state.selectedPid) return state;
      return { ...state, targetSlice: action.slice, holderDetails: new Map(action.holders.map((h) => [h.pid, h])) };
    case 'failed':
      return { ...state, message: `refresh failed: ${action.message}`, refreshFailed: action.message };
    case 'progress':
      return state.snapshot ? state : { ...state, scanProgress: action.progress };
    case 'sessionNote':
      return { ...state, sessionNotes: [...state.sessionNotes, action.note] };
    case 'copied':
      return { ...state, copy: null };
    case 'resize':
      return { ...state, tableRows: Math.max(1, action.tableRows), detailRows: Math.max(1, action.detailRows) };
    case 'tick':
      return state.heldOrder && action.now >= state.orderHeldUntil ? { ...state, heldOrder: null } : state;
    case 'promptType':
      return state.prompt ? setFilterText(state, state.prompt.pane, state.prompt.text + action.text) : state;
    case 'promptErase':
      return state.prompt ? setFilterText(state, state.prompt.pane, [...state.prompt.text].slice(0, -1).join('')) : state;
    case 'promptAccept':
      return { ...state, prompt: null };
    case 'promptClear':
      return state.prompt ? { ...setFilterText(state, state.prompt.pane, ''), prompt: null } : state;
    case 'menuMove':
      return moveMenu(state, action.delta);
    case 'menuChoose':
      return chooseFromMenu(state);
    case 'closeOverlay':
      return { ...state, overlay: null };
    case 'selectIndex': {
      const view = viewOf(state);
      const rows = view.rows(state);
      if (rows.length === 0) return state;
      return view.picked(placeAt(view, { ...state, focus: 'table' }, Math.min(action.index, rows.length - 1)), action.now);
    }
    case 'sortBy':
      return withSort(state, state.sort.field === action.field ? { ...state.sort, descending: !state.sort.descending } : naturalSort(action.field));
    case 'scroll':
      return action.pane === 'detail' ? { ...state, detailCursor: state.detailCursor + action.delta } : moveSelection(state, action.delta, action.now);
  }
}

function runCommand(state: ViewState, command: Command, now: number): ViewState {
  const page = state.focus === 'detail' ? state.detailRows : state.tableRows;
  switch (command) {
    case 'quit':
      return { ...state, quit: true };
    case 'help':
      return { ...state, overlay: state.overlay?.kind === 'help' ? null : { kind: 'help', top: 0 } };
    case 'up':
      return move(state, -1, now);
    case 'down':
      return move(state, 1, now);
    case 'pageUp':
      return move(state, -page, now);
    case 'pageDown':
      return move(state, page, now);
    case 'home':
      return move(state, -Infinity, now);
    case 'end':
      return move(state, Infinity, now);
    case 'focusDetail': {
      const view = viewOf(state);
      const { key } = view.place(state);
      if (key === null) return state;
      if (view.inspect) return { ...state, overlay: { kind: 'inspect', key, top: 0 } };
      return state.focus === 'detail' ? inspectCursor(state) : { ...state, focus: 'detail' };
    }
    case 'copy': {
      const paragraphs = inspectedParagraphs(state);
      return paragraphs ? { ...state, copy: inspectText(paragraphs), message: 'copied (OSC 52)' } : state;
    }
    case 'toggleFocus':
      return state.focus === 'detail' ? leaveDetail(state) : runCommand(state, 'focusDetail', now);
    case 'back':
      if (state.focus === 'detail') return leaveDetail(state);
      return state.processFilterText ? setFilterText(state, 'table', '') : state;
    case 'filter':
      return { ...state, prompt: { pane: state.focus, text: state.focus === 'detail' ? state.targetFilterText : state.processFilterText } };
    case 'sortNext':
    case 'sortPrevious': {
      // Across the columns that show, as htop's < and >.
      const fields = viewOf(state).sortFields(state);
      const index = fields.indexOf(state.sort.field);
      const step = command === 'sortNext' ? 1 : -1;
      const next = fields[index < 0 && step < 0 ? fields.length - 1 : (index + step + fields.length) % fields.length];
      return next === undefined ? state : withSort(state, naturalSort(next));
    }
    case 'sortMenu':
      return {
        ...state,
        overlay: {
          kind: 'sort',
          index: Math.max(
            0,
            sortableColumns('screen').findIndex((spec) => spec.sort?.field === state.sort.field),
          ),
        },
      };
    case 'invertSort':
      return withSort(state, { ...state.sort, descending: !state.sort.descending });
    case 'chooseUser': {
      const index = userChoices(state).indexOf(state.filter.user);
      return { ...state, overlay: { kind: 'user', index: Math.max(0, index) } };
    }
    case 'leakedOnly':
      return withFilter(state, { ...state.filter, leakedOnly: !state.filter.leakedOnly });
    case 'pause':
      return { ...state, paused: !state.paused };
    case 'toggleView': {
      const view = VIEWS[nextView(state.view)];
      const switched: ViewState = { ...state, view: view.id, focus: 'table' };
      // Where it was left, else on its row to open on.
      return view.place(switched).key === null ? placeAt(view, switched, view.openingIndex(view.rows(switched))) : switched;
    }
    case 'notes':
      return { ...state, overlay: state.overlay?.kind === 'notes' ? null : { kind: 'notes', top: 0 } };
    case 'toggleTree':
      return { ...state, tree: !state.tree, heldOrder: null };
    case 'chooseColumns':
      return { ...state, overlay: { kind: 'columns', index: 0 } };
    case 'slower':
      return { ...state, intervalMs: INTERVAL_STEPS_MS.find((ms) => ms > state.intervalMs) ?? state.intervalMs };
    case 'faster':
      return { ...state, intervalMs: [...INTERVAL_STEPS_MS].reverse().find((ms) => ms < state.intervalMs) ?? state.intervalMs };
    case 'stepBack':
    case 'stepForward':
      // The snapshot source steps (see the screen); the view only changes when the snapshot comes.
      return state;
  }
}

function move(state: ViewState, delta: number, now: number): ViewState {
  if (state.focus === 'detail') {
    const cursor = delta === -Infinity ? 0 : delta === Infinity ? Number.MAX_SAFE_INTEGER : state.detailCursor + delta;
    return { ...state, detailCursor: cursor };
  }
  return moveSelection(state, delta, now);
}

/** The user moves the view's selection: by rows, or to the first or last. */
function moveSelection(state: ViewState, delta: number, now: number): ViewState {
  const view = viewOf(state);
  const rows = view.rows(state);
  if (rows.length === 0) return state;
  const index = delta === -Infinity ? 0 : delta === Infinity ? rows.length - 1 : view.place(state).index + delta;
  return view.picked(placeAt(view, state, index), now);
}

/** The view's selection on its row at `index` (kept within its rows), its table scrolled to show it. */
function placeAt(view: AnyView, state: ViewState, index: number): ViewState {
  const rows = view.rows(state);
  const at = Math.max(0, Math.min(rows.length - 1, index));
  const row = rows[at];
  let top = Math.min(view.place(state).top, Math.max(0, rows.length - state.tableRows));
  if (at < top) top = at;
  if (at >= top + state.tableRows) top = at - state.tableRows + 1;
  return view.withPlace(state, { key: row === undefined ? null : view.keyOf(row), index: at, top: Math.max(0, top) });
}

/** The view's selection on its row (or, when the row is gone, on the one that took its place). */
function settle(view: AnyView, state: ViewState): ViewState {
  const place = view.place(state);
  const rows = view.rows(state);
  const found = place.key === null ? -1 : rows.findIndex((row) => view.keyOf(row) === place.key);
  return placeAt(view, state, found >= 0 ? found : place.index);
}

function inspectCursor(state: ViewState): ViewState {
  const target = paneTargetAt(targetPane(state), state.detailCursor);
  if (state.selectedPid === null) return state;
  if (target) return { ...state, overlay: { kind: 'inspect', pid: state.selectedPid, dev: target.dev, ino: target.ino, top: 0 } };
  // No target (an instance without watches): its traffic, when there is something to say.
  const row = selectedRow(state);
  if (!row || !state.snapshot || !hasTrafficToInspect(row, state.snapshot)) return state;
  return { ...state, overlay: { kind: 'inspect', pid: state.selectedPid, traffic: true, top: 0 } };
}

/** What inspect shows: a target, or a row of the view; null once it is gone from the snapshot. */
export function inspectedParagraphs(state: ViewState): Paragraph[] | null {
  const overlay = state.overlay;
  if (overlay?.kind !== 'inspect') return null;
  if ('key' in overlay) return viewOf(state).inspect?.(state, overlay.key) ?? null;
  if ('traffic' in overlay) {
    const snapshot = state.snapshot;
    const row = snapshot?.processes.find((candidate) => candidate.pid === overlay.pid);
    const paragraphs = row && snapshot ? trafficParagraphs(row, snapshot) : [];
    return paragraphs.length > 0 ? paragraphs : null;
  }
  const view = inspectedTarget(state);
  // A process's traffic in trouble comes first: it is more urgent than any one target.
  if (!view) return null;
  return [...(state.snapshot ? trafficParagraphs(view.row, state.snapshot) : []), ...inspectParagraphs(view.row, view.target, holderDetailsOf(state))];
}

/** The header's notes: the session's, then the snapshot's. */
export function allNotes(state: ViewState): string[] {
  return [...state.sessionNotes, ...(state.snapshot ? snapshotNotes(state.snapshot) : [])];
}

/** The process to show before the user picks one. */
function openingPid(state: ViewState, openOn: number | null): number | null {
  const rows = processRows(state);
  const row = rows.find((candidate) => candidate.pid === openOn) ?? rows.find((candidate) => candidate.leaked > 0) ?? rows[0];
  return row?.pid ?? null;
}

function leaveDetail(state: ViewState): ViewState {
  return { ...setFilterText(state, 'detail', ''), focus: 'table' };
}

function naturalSort(field: SortField): Sort {
  return { field, descending: sortColumn(field).sort?.descending ?? false };
}

/** An explicit reorder: the user asked for rows to move, so the held order is dropped. */
function withSort(state: ViewState, sort: Sort): ViewState {
  return followOpening({ ...state, sort, heldOrder: null });
}

function withFilter(state: ViewState, filter: ProcessFilter): ViewState {
  return followOpening({ ...state, filter, heldOrder: null });
}

/**
 * Until the user picks a row, the selection is the row to open on in the order shown now: a new
 * sort or filter moves it at once, not at the next refresh (never while paused).
 */
function followOpening(state: ViewState): ViewState {
  return state.selectionPicked || !state.snapshot ? state : { ...state, selectedPid: openingPid(state, state.openOn) };
}

/** Filter text applies as typed; an unfinished regex keeps the last good one and says so. */
function setFilterText(state: ViewState, pane: Focus, text: string): ViewState {
  const prompt = state.prompt ? { ...state.prompt, text } : null;
  let regex: RegExp | null = null;
  if (text !== '') {
    try {
      regex = new RegExp(text, 'i');
    } catch {
      const invalid = { ...state, prompt, message: `not a valid regular expression: ${text}` };
      return pane === 'detail' ? { ...invalid, targetFilterText: text } : { ...invalid, processFilterText: text };
    }
  }
  const cleared = { ...state, prompt, message: null };
  if (pane === 'detail') return { ...cleared, targetFilterText: text, targetFilter: regex, detailTop: 0 };
  return withFilter({ ...cleared, processFilterText: text }, { ...state.filter, text: regex });
}

/** The user menu's entries: null is "all users". */
export function userChoices(state: ViewState): (string | null)[] {
  const names = new Set((state.snapshot?.users ?? []).map((user) => user.name));
  if (state.filter.user !== null) names.add(state.filter.user);
  return [null, ...names];
}

function menuLength(state: ViewState): number {
  switch (state.overlay?.kind) {
    case 'columns':
      return HIDEABLE_COLUMNS.length;
    case 'sort':
      return sortableColumns('screen').length;
    case 'user':
      return userChoices(state).length;
    default:
      return 0;
  }
}

function moveMenu(state: ViewState, delta: number): ViewState {
  const overlay = state.overlay;
  if (!overlay) return state;
  if (overlay.kind === 'help' || overlay.kind === 'notes' || overlay.kind === 'inspect')
    return { ...state, overlay: { ...overlay, top: Math.max(0, overlay.top + delta) } };
  const index = Math.min(menuLength(state) - 1, Math.max(0, overlay.index + delta));
  return { ...state, overlay: { ...overlay, index } };
}

function chooseFromMenu(state: ViewState): ViewState {
  const overlay = state.overlay;
  const closed = { ...state, overlay: null };
  if (overlay?.kind === 'sort') {
    const field = sortableColumns('screen')[overlay.index]?.sort?.field;
    return field ? withSort(closed, naturalSort(field)) : closed;
  }
  if (overlay?.kind === 'columns') {
    // Stays open: several columns are often toggled in a row.
    const id = HIDEABLE_COLUMNS[overlay.index];
    if (id === undefined) return state;
    const { hidden, shown } = toggleColumn(columnChoice(state), id, 'screen');
    return { ...state, hiddenColumns: hidden, shownColumns: shown };
  }
  if (overlay?.kind === 'user') return withFilter(closed, { ...state.filter, user: userChoices(state)[overlay.index] ?? null });
  return closed;
}

/**
 * Keeps each selection on its row (or its place, when the row is gone) and the scroll offsets in
 * range. The process selection is kept in every view: the collector sends its targets.
 */
function normalize(state: ViewState, before: ViewState): ViewState {
  const settled = settle(VIEWS.processes, state);
  const selectedPid = settled.selectedPid;
  const selectionMoved = selectedPid !== before.selectedPid;
  const targets = selectedPid === null ? 0 : targetPane(settled).total;
  const detailCursor = selectionMoved ? 0 : Math.max(0, Math.min(state.detailCursor, targets - 1));
  let detailTop = selectionMoved ? 0 : Math.max(0, Math.min(state.detailTop, targets - state.detailRows));
  if (detailCursor < detailTop) detailTop = detailCursor;
  if (detailCursor >= detailTop + state.detailRows) detailTop = detailCursor - state.detailRows + 1;
  const normalized: ViewState = {
    ...settled,
    detailTop,
    detailCursor,
    focus: selectedPid === null ? 'table' : state.focus,
    holderDetails: selectionMoved ? new Map() : state.holderDetails,
  };
  return settle(viewOf(normalized), normalized);
}
