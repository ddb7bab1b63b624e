// The screen's state and everything it can do, as pure functions: `reduce(state, action)`.
// The blessed layer only renders a state and dispatches actions, so all behaviour is testable
// without a terminal.
import type { Pace } from '../../collect/protocol.js';
import { advanceHistory, deltasOf, EMPTY_HISTORY, type History } from '../../model/history.js';
import { churnByPid, queryRows, type ProcessFilter, type SortField } from '../../model/query.js';
import type { HolderDetail, ProcessRow, Snapshot, TargetRow } from '../../model/types.js';
import { HIDEABLE_COLUMNS, shownColumns, sortableColumns, sortColumn, toggleColumn, type ColumnChoice, type ColumnId, type ColumnSpec } from '../columns.js';
import { podLabel, targetPathText } from '../format.js';
import { inspectParagraphs, inspectText, type Paragraph } from './inspect.js';
import { hasTrafficToInspect, trafficParagraphs } from './traffic-inspect.js';
import { someQueueTrouble } from '../traffic.js';
import { podInspectParagraphs, podRows, visiblePods } from './pods-view.js';
import { treeOf } from './tree.js';
import type { ReplayPosition, SnapshotContext } from '../../collect/source.js';

/** How long rows keep their order after a navigation key, so they do not jump under the cursor. */
export const ORDER_HOLD_MS = 1500;
export const INTERVAL_STEPS_MS: readonly number[] = [250, 500, 1000, 2000, 3000, 5000, 10_000, 30_000, 60_000];

export type Focus = 'table' | 'detail';

/**
 * Inspect shows one target of one process, found again by (dev, ino) in each new snapshot, a
 * process's traffic (its queues, permission waits: traffic-inspect.ts), or one pod by uid.
 */
export type Overlay =
  | { kind: 'inspect'; pid: number; dev: string; ino: number; top: number }
  | { kind: 'inspect'; pid: number; traffic: true; top: number }
  | { kind: 'inspect'; uid: string; top: number }
  | { kind: 'help'; top: number }
  | { kind: 'notes'; top: number }
  | { kind: 'columns'; index: number }
  | { kind: 'sort'; index: number }
  | { kind: 'user'; index: number };

/** A filter being typed: it applies as it is typed, like htop's. */
export interface Prompt {
  pane: Focus;
  text: string;
}

export interface Sort {
  field: SortField;
  descending: boolean;
}

export interface ViewState {
  snapshot: Snapshot | null;
  /** Where in a recording the snapshot is; null when live. */
  replay: ReplayPosition | null;
  history: History;
  /** Command-line -p, -u, -F, plus the u and l keys, plus the compiled `/` text. */
  filter: ProcessFilter;
  processFilterText: string;
  targetFilterText: string;
  /** The detail pane's compiled filter (null: none). */
  targetFilter: RegExp | null;
  prompt: Prompt | null;
  sort: Sort;
  selectedPid: number | null;
  /**
   * The user picked a row (keys, mouse): until then the selection follows the process to open on
   * (a recording's), else the first leaking one, else the top one, as snapshots come.
   */
  selectionPicked: boolean;
  /** Where the selection was, for when its process exits. */
  selectedIndex: number;
  tableTop: number;
  detailTop: number;
  /** The detail pane's row under the cursor (Enter inspects it), an index into targetRows. */
  detailCursor: number;
  /** What the collector told of the selected process's holders (command line, cgroup, pod). */
  holderDetails: ReadonlyMap<number, HolderDetail>;
  /** Text `y` asked to copy; the screen sends it (OSC 52) and clears it. */
  copy: string | null;
  /** `t`: processes under their parents. */
  tree: boolean;
  /** `v`: a row per process, or a row per pod. */
  view: 'processes' | 'pods';
  /** Table columns hidden with the column chooser (F2); PID and COMMAND always show. */
  hiddenColumns: ColumnId[];
  /** Table columns shown with the chooser that show only when asked for (ADD/s, POD, columns.ts). */
  shownColumns: ColumnId[];
  /** Notes of the session, not of a refresh (a broken settings file). */
  sessionNotes: string[];
  /** The pod view's selection, by uid, and its place. */
  selectedPod: string | null;
  podIndex: number;
  podTop: number;
  /** When this session first saw each pod (snapshot time): the pod view's AGE. */
  podsSeen: ReadonlyMap<string, string>;
  focus: Focus;
  overlay: Overlay | null;
  paused: boolean;
  intervalMs: number;
  /** The live collector's pace: the interval it keeps, when a refresh costs too much of the one asked for. */
  pace: Pace | null;
  /** Pids in display order while the order is held after a navigation key. */
  heldOrder: number[] | null;
  orderHeldUntil: number;
  /** Rows the table and the detail pane show; the layout sets them. */
  tableRows: number;
  detailRows: number;
  /** The last refresh failure or a bad filter; cleared by the next good refresh or edit. */
  message: string | null;
  quit: boolean;
}

/** What a key (keys.ts's table) or the mouse asks of the view. */
export type Command =
  | 'quit'
  | 'help'
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'home'
  | 'end'
  | 'focusDetail'
  | 'toggleFocus'
  | 'back'
  | 'filter'
  | 'sortNext'
  | 'sortPrevious'
  | 'sortMenu'
  | 'invertSort'
  | 'chooseUser'
  | 'leakedOnly'
  | 'pause'
  | 'notes'
  | 'toggleView'
  | 'toggleTree'
  | 'chooseColumns'
  | 'copy'
  | 'slower'
  | 'faster'
  | 'stepBack'
  | 'stepForward';

export type Action =
  | { type: 'command'; command: Command; now: number }
  | ({ type: 'snapshot'; snapshot: Snapshot } & SnapshotContext)
  /** The targets of `pid`, for a snapshot that came without them (a live one carries the selected process's only). */
  | { type: 'targets'; pid: number; targets: TargetRow[]; holders?: HolderDetail[] }
  | { type: 'failed'; message: string }
  /** The screen sent what `copy` held. */
  | { type: 'copied' }
  | { type: 'resize'; tableRows: number; detailRows: number }
  | { type: 'tick'; now: number }
  | { type: 'promptType'; text: string }
  | { type: 'promptErase' }
  | { type: 'promptAccept' }
  | { type: 'promptClear' }
  | { type: 'menuMove'; delta: number }
  | { type: 'menuChoose' }
  | { type: 'closeOverlay' }
  | { type: 'selectIndex'; index: number; now: number }
  | { type: 'sortBy'; field: SortField }
  | { type: 'scroll'; pane: Focus; delta: number; now: number };

export interface InitialView {
  filter: ProcessFilter;
  sort: Sort;
  intervalMs: number;
  view?: ViewState['view'];
  hiddenColumns?: ColumnId[];
  shownColumns?: ColumnId[];
  /** Notes of the session itself (a broken settings file): shown with each snapshot's. */
  notes?: string[];
}

export function initialState(initial: InitialView): ViewState {
  return {
    snapshot: null,
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
    selectedIndex: 0,
    tableTop: 0,
    detailTop: 0,
    detailCursor: 0,
    holderDetails: new Map(),
    copy: null,
    tree: false,
    view: initial.view ?? 'processes',
    hiddenColumns: initial.hiddenColumns ?? [],
    shownColumns: initial.shownColumns ?? [],
    selectedPod: null,
    podIndex: 0,
    podTop: 0,
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
        replay: action.replay ?? null,
        pace: action.pace ?? null,
        history: advanceHistory(state.history, action.snapshot),
        podsSeen: withPodsSeen(state.podsSeen, action.snapshot),
        message: null,
      };
      return next.selectionPicked ? next : { ...next, selectedPid: openingPid(next, action.openOn ?? null) };
    }
    case 'targets': {
      const filled = fillTargets(state, action.pid, action.targets);
      return filled === state || !action.holders ? filled : { ...filled, holderDetails: new Map(action.holders.map((h) => [h.pid, h])) };
    }
    case 'failed':
      return { ...state, message: `refresh failed: ${action.message}` };
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
      const rows = processRows(state);
      const row = rows[Math.min(action.index, rows.length - 1)];
      return row ? holdOrder({ ...state, focus: 'table', selectedPid: row.pid, selectionPicked: true }, action.now) : state;
    }
    case 'sortBy':
      return withSort(state, state.sort.field === action.field ? { ...state.sort, descending: !state.sort.descending } : naturalSort(action.field));
    case 'scroll':
      return action.pane === 'detail' ? { ...state, detailCursor: state.detailCursor + action.delta } : moveSelection(state, action.delta, action.now);
  }
}

/** Only the selected process's: those of one selected before may come late, and are not kept. */
function fillTargets(state: ViewState, pid: number, targets: TargetRow[]): ViewState {
  const snapshot = state.snapshot;
  if (!snapshot || pid !== state.selectedPid) return state;
  return { ...state, snapshot: { ...snapshot, processes: snapshot.processes.map((row) => (row.pid === pid ? { ...row, targets } : row)) } };
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
    case 'focusDetail':
      if (state.view === 'pods') return state.selectedPod === null ? state : { ...state, overlay: { kind: 'inspect', uid: state.selectedPod, top: 0 } };
      if (state.selectedPid === null) return state;
      return state.focus === 'detail' ? inspectCursor(state) : { ...state, focus: 'detail' };
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
      const sortable = screenColumns(state).filter((spec) => spec.sort !== null);
      const index = sortable.findIndex((spec) => spec.sort!.field === state.sort.field);
      const step = command === 'sortNext' ? 1 : -1;
      const next = sortable[index < 0 && step < 0 ? sortable.length - 1 : (index + step + sortable.length) % sortable.length]!;
      return withSort(state, naturalSort(next.sort!.field));
    }
    case 'sortMenu':
      return {
        ...state,
        overlay: {
          kind: 'sort',
          index: Math.max(
            0,
            sortableColumns('screen').findIndex((spec) => spec.sort!.field === state.sort.field),
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
    case 'toggleView':
      if (state.view === 'pods') return { ...state, view: 'processes' };
      return selectPodAt({ ...state, view: 'pods', focus: 'table' }, state.selectedPod === null ? firstLeakingPod(state) : state.podIndex);
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
  if (state.view === 'pods') {
    const index = delta === -Infinity ? 0 : delta === Infinity ? Number.MAX_SAFE_INTEGER : state.podIndex + delta;
    return selectPodAt(state, index);
  }
  if (state.focus === 'detail') {
    const cursor = delta === -Infinity ? 0 : delta === Infinity ? Number.MAX_SAFE_INTEGER : state.detailCursor + delta;
    return { ...state, detailCursor: cursor };
  }
  return moveSelection(state, delta, now);
}

function inspectCursor(state: ViewState): ViewState {
  const target = targetRows(state)[state.detailCursor];
  if (state.selectedPid === null) return state;
  if (target) return { ...state, overlay: { kind: 'inspect', pid: state.selectedPid, dev: target.dev, ino: target.ino, top: 0 } };
  // No target (an instance without watches): its traffic, when there is something to say.
  const row = selectedRow(state);
  if (!row || !state.snapshot || !hasTrafficToInspect(row, state.snapshot)) return state;
  return { ...state, overlay: { kind: 'inspect', pid: state.selectedPid, traffic: true, top: 0 } };
}

/**
 * What is known of holders: the collector's word, else (a recording, a holder that exited) the
 * snapshot's row of a holder that holds inotify instances itself.
 */
export function holderDetailsOf(state: ViewState): ReadonlyMap<number, HolderDetail> {
  const view = inspectedTarget(state);
  if (!view) return state.holderDetails;
  const details = new Map(state.holderDetails);
  for (const holder of view.target.holders) {
    if (details.has(holder.pid)) continue;
    const row = state.snapshot?.processes.find((candidate) => candidate.pid === holder.pid);
    if (row) details.set(holder.pid, { pid: row.pid, cmdline: row.cmdline, cgroup: null, pod: row.pod });
  }
  return details;
}

/** What inspect shows: a target, or a pod; null once it is gone from the snapshot. */
export function inspectedParagraphs(state: ViewState): Paragraph[] | null {
  const overlay = state.overlay;
  if (overlay?.kind !== 'inspect') return null;
  if ('uid' in overlay) {
    const pod = podRows(state.snapshot).find((row) => row.pod.uid === overlay.uid);
    return pod ? podInspectParagraphs(pod, state.snapshot!) : null;
  }
  if ('traffic' in overlay) {
    const row = state.snapshot?.processes.find((candidate) => candidate.pid === overlay.pid);
    const paragraphs = row ? trafficParagraphs(row, state.snapshot!) : [];
    return paragraphs.length > 0 ? paragraphs : null;
  }
  const view = inspectedTarget(state);
  // A process's traffic in trouble comes first: it is more urgent than any one target.
  return view ? [...trafficParagraphs(view.row, state.snapshot!), ...inspectParagraphs(view.row, view.target, holderDetailsOf(state))] : null;
}

/** The process and target inspect shows, null once they are gone. */
export function inspectedTarget(state: ViewState): { row: ProcessRow; target: TargetRow } | null {
  const overlay = state.overlay;
  if (overlay?.kind !== 'inspect' || !('dev' in overlay)) return null;
  const row = state.snapshot?.processes.find((candidate) => candidate.pid === overlay.pid);
  const target = row?.targets.find((candidate) => candidate.dev === overlay.dev && candidate.ino === overlay.ino);
  return row && target ? { row, target } : null;
}

function moveSelection(state: ViewState, delta: number, now: number): ViewState {
  const rows = processRows(state);
  if (rows.length === 0) return state;
  const index = Math.min(rows.length - 1, Math.max(0, delta === -Infinity ? 0 : delta === Infinity ? rows.length - 1 : state.selectedIndex + delta));
  return holdOrder({ ...state, selectedPid: rows[index]!.pid, selectedIndex: index, selectionPicked: true }, now);
}

/** Where the pod view opens: on the first pod with leaked watches, else the top one. */
function firstLeakingPod(state: ViewState): number {
  return Math.max(
    0,
    visiblePods(state).findIndex((row) => row.leaked > 0),
  );
}

function selectPodAt(state: ViewState, index: number): ViewState {
  const rows = visiblePods(state);
  const podIndex = Math.max(0, Math.min(rows.length - 1, index));
  const selectedPod = rows[podIndex]?.pod.uid ?? null;
  let podTop = Math.min(state.podTop, podIndex);
  if (podIndex >= podTop + state.tableRows) podTop = podIndex - state.tableRows + 1;
  return { ...state, selectedPod, podIndex, podTop: Math.max(0, podTop) };
}

function withPodsSeen(seen: ReadonlyMap<string, string>, snapshot: Snapshot): ReadonlyMap<string, string> {
  let next: Map<string, string> | null = null;
  for (const row of snapshot.processes) {
    for (const pod of [row.pod, ...(row.watchedPods ?? []).map((entry) => entry.pod)]) {
      if (!pod || seen.has(pod.uid) || next?.has(pod.uid)) continue;
      next ??= new Map(seen);
      next.set(pod.uid, snapshot.time);
    }
  }
  return next ?? seen;
}

/** The header's notes: the session's, then the snapshot's. */
export function allNotes(state: ViewState): string[] {
  return [...state.sessionNotes, ...(state.snapshot?.notes ?? [])];
}

/** The process to show before the user picks one. */
function openingPid(state: ViewState, openOn: number | null): number | null {
  const rows = processRows(state);
  const row = rows.find((candidate) => candidate.pid === openOn) ?? rows.find((candidate) => candidate.leaked > 0) ?? rows[0];
  return row?.pid ?? null;
}

function holdOrder(state: ViewState, now: number): ViewState {
  return { ...state, heldOrder: processRows(state).map((row) => row.pid), orderHeldUntil: now + ORDER_HOLD_MS };
}

function leaveDetail(state: ViewState): ViewState {
  return { ...setFilterText(state, 'detail', ''), focus: 'table' };
}

function naturalSort(field: SortField): Sort {
  return { field, descending: sortColumn(field).sort!.descending };
}

/** An explicit reorder: the user asked for rows to move, so the held order is dropped. */
function withSort(state: ViewState, sort: Sort): ViewState {
  return { ...state, sort, heldOrder: null };
}

function withFilter(state: ViewState, filter: ProcessFilter): ViewState {
  return { ...state, filter, heldOrder: null };
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

/** What decides the table's columns: the user's choices, and whether the node holds fanotify groups. */
export function columnChoice(state: ViewState): ColumnChoice {
  return {
    fanotify: (state.snapshot?.totals.fanotifyGroups ?? 0) > 0,
    queues: someQueueTrouble(state.snapshot),
    hidden: state.hiddenColumns,
    shown: state.shownColumns,
  };
}

/** The table's columns, in table order (columns.ts). */
export function screenColumns(state: ViewState): ColumnSpec[] {
  return shownColumns('screen', columnChoice(state));
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
  if (overlay?.kind === 'sort') return withSort(closed, naturalSort(sortableColumns('screen')[overlay.index]!.sort!.field));
  if (overlay?.kind === 'columns') {
    // Stays open: several columns are often toggled in a row.
    const { hidden, shown } = toggleColumn(columnChoice(state), HIDEABLE_COLUMNS[overlay.index]!, 'screen');
    return { ...state, hiddenColumns: hidden, shownColumns: shown };
  }
  if (overlay?.kind === 'user') return withFilter(closed, { ...state.filter, user: userChoices(state)[overlay.index] ?? null });
  return closed;
}

/** Keeps the selection on its pid (or its place, when the pid is gone) and the scroll offsets in range. */
function normalize(state: ViewState, before: ViewState): ViewState {
  const rows = processRows(state);
  let index = state.selectedPid === null ? -1 : rows.findIndex((row) => row.pid === state.selectedPid);
  if (index < 0) index = Math.min(state.selectedIndex, rows.length - 1);
  const selectedPid = index >= 0 ? rows[index]!.pid : null;
  let tableTop = Math.min(state.tableTop, Math.max(0, rows.length - state.tableRows));
  if (index >= 0 && index < tableTop) tableTop = index;
  if (index >= tableTop + state.tableRows) tableTop = index - state.tableRows + 1;
  const selectionMoved = selectedPid !== before.selectedPid;
  const targets = selectedPid === null ? 0 : targetRows({ ...state, selectedPid }).length;
  const detailCursor = selectionMoved ? 0 : Math.max(0, Math.min(state.detailCursor, targets - 1));
  let detailTop = selectionMoved ? 0 : Math.max(0, Math.min(state.detailTop, targets - state.detailRows));
  if (detailCursor < detailTop) detailTop = detailCursor;
  if (detailCursor >= detailTop + state.detailRows) detailTop = detailCursor - state.detailRows + 1;
  const focus = selectedPid === null ? 'table' : state.focus;
  const holderDetails = selectionMoved ? new Map<number, HolderDetail>() : state.holderDetails;
  const normalized = {
    ...state,
    selectedPid,
    selectedIndex: Math.max(0, index),
    tableTop: Math.max(0, tableTop),
    detailTop,
    detailCursor,
    focus,
    holderDetails,
  };
  if (state.view !== 'pods') return normalized;
  const podIndex = visiblePods(state).findIndex((row) => row.pod.uid === state.selectedPod);
  return selectPodAt(normalized, podIndex >= 0 ? podIndex : state.podIndex);
}

let rowsCache: { key: unknown[]; rows: ProcessRow[]; prefixes: Map<number, string> } | null = null;

/** The table's rows: filtered, sorted (in the tree view, under their parents), and in the held order for a moment after navigation. */
export function processRows(state: ViewState): ProcessRow[] {
  const key = [state.snapshot, state.history, state.filter, state.sort, state.heldOrder, state.tree];
  if (rowsCache && rowsCache.key.every((part, i) => part === key[i])) return rowsCache.rows;
  const sorted = state.snapshot ? queryRows(state.snapshot.processes, state.filter, state.sort, deltasOf(state.history), churnByPid(state.snapshot)) : [];
  const tree = state.tree ? treeOf(sorted) : null;
  const ordered = tree?.rows ?? sorted;
  const rows = state.heldOrder ? inHeldOrder(ordered, state.heldOrder) : ordered;
  rowsCache = { key, rows, prefixes: tree?.prefixes ?? new Map() };
  return rows;
}

/** The tree branch before a process's command in the tree view; '' otherwise. */
export function treePrefix(state: ViewState, pid: number): string {
  processRows(state);
  return rowsCache?.prefixes.get(pid) ?? '';
}

/** Rows still there keep their place; new ones go last. */
function inHeldOrder(sorted: ProcessRow[], heldOrder: number[]): ProcessRow[] {
  const place = new Map(heldOrder.map((pid, i) => [pid, i]));
  const kept = sorted.filter((row) => place.has(row.pid)).sort((a, b) => place.get(a.pid)! - place.get(b.pid)!);
  return [...kept, ...sorted.filter((row) => !place.has(row.pid))];
}

export function selectedRow(state: ViewState): ProcessRow | null {
  return processRows(state).find((row) => row.pid === state.selectedPid) ?? null;
}

let leakedFirstCache: { targets: TargetRow[]; sorted: TargetRow[] } | null = null;

/** Leaked targets first, each part in its order (most watched first): the ones to look at come on top. */
function leakedFirst(targets: TargetRow[]): TargetRow[] {
  if (leakedFirstCache?.targets === targets) return leakedFirstCache.sorted;
  const sorted = [...targets.filter((target) => target.leak !== null), ...targets.filter((target) => target.leak === null)];
  leakedFirstCache = { targets, sorted };
  return sorted;
}

/**
 * The selected process's targets the detail pane shows (leaked first, then most watched first). With `l`
 * (leaked only) on, only its leaked targets: the ones to look at among thousands.
 */
export function targetRows(state: ViewState): TargetRow[] {
  const all = leakedFirst(selectedRow(state)?.targets ?? []);
  const targets = state.filter.leakedOnly ? all.filter((target) => target.leak !== null) : all;
  const filter = state.targetFilter;
  if (!filter) return targets;
  return targets.filter((target) => filter.test(targetPathText(target)) || filter.test(podLabel(target.pod)));
}
