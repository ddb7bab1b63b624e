// The screen's state as data: what the reducer (state.ts) changes, the views (views.ts) read and
// the painters (paint/) draw. Types and the views' ids, below every other module of the screen.
import type { Pace } from '../../collect/protocol.js';
import type { ReplayPosition, SnapshotContext } from '../../collect/source.js';
import type { History } from '../../model/history.js';
import type { ProcessFilter, SortField } from '../../model/query.js';
import type { HolderDetail, Snapshot } from '../../model/types.js';
import type { PaneSlice } from '../../model/pane.js';
import type { ScanProgress } from '../../scan/index.js';
import type { ColumnId } from '../columns.js';
import type { NavigationCommand } from '../keys.js';

/** The table's views, in the order `v` goes through them; each is one file (views.ts lists them). */
export const VIEW_IDS = ['processes', 'pods'] as const;
export type ViewId = (typeof VIEW_IDS)[number];

export type Focus = 'table' | 'detail';

/**
 * Inspect shows one target of one process, found again by (dev, ino) in each new snapshot, or one
 * row of the view's table by its key (a pod by uid).
 */
export type Overlay =
  | { kind: 'inspect'; pid: number; dev: string; ino: number; top: number }
  /** A process's traffic: its queues and permission waits (traffic-inspect.ts), for one without a target to inspect. */
  | { kind: 'inspect'; pid: number; traffic: true; top: number }
  | { kind: 'inspect'; key: string | number; top: number }
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

/** One sort for every view: each view says how it sorts its rows by it (views.ts). */
export interface Sort {
  field: SortField;
  descending: boolean;
}

export interface ViewState {
  snapshot: Snapshot | null;
  /** How far the first scan has got, until its snapshot comes. */
  scanProgress: ScanProgress | null;
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
  // The process view's place: the selected process (the collector sends its targets), where it
  // was (for when its process exits) and the table's first shown row.
  selectedPid: number | null;
  /**
   * The user picked a row (keys, mouse): until then the selection follows the process to open on
   * (a recording's), else the first leaking one, else the top one, as snapshots come.
   */
  selectionPicked: boolean;
  /** The process a recording opens on (its last snapshot's leaker), while the selection follows; null live. */
  openOn: number | null;
  selectedIndex: number;
  tableTop: number;
  // The pod view's place: the selected pod's uid, its index and the table's first shown row.
  selectedPod: string | null;
  podIndex: number;
  podTop: number;
  detailTop: number;
  /** The detail pane's row under the cursor (Enter inspects it), an index into the targets it shows. */
  detailCursor: number;
  /** The collector's last answer to the pane's ask (process-rows.ts's paneAsk): a window of the selected process's targets. */
  targetSlice: PaneSlice | null;
  /** What the collector told of the selected process's holders (command line, cgroup, pod). */
  holderDetails: ReadonlyMap<number, HolderDetail>;
  /** Text `y` asked to copy; the screen sends it (OSC 52) and clears it. */
  copy: string | null;
  /** `t`: processes under their parents. */
  tree: boolean;
  /** `v`: which view the table shows. */
  view: ViewId;
  /** Table columns hidden with the column chooser (F2); PID and COMMAND always show. */
  hiddenColumns: ColumnId[];
  /** Table columns shown with the chooser that show only when asked for (ADD/s, POD, columns.ts). */
  shownColumns: ColumnId[];
  /** Notes of the session, not of a refresh (a broken settings file). */
  sessionNotes: string[];
  /** When this session first saw each pod (snapshot time): the pod view's AGE. */
  podsSeen: ReadonlyMap<string, string>;
  focus: Focus;
  overlay: Overlay | null;
  paused: boolean;
  intervalMs: number;
  /** The live collector's pace: the interval it keeps, when a refresh costs too much of the one asked for. */
  pace: Pace | null;
  /** Pids in display order while the order is held after a navigation key. */
  heldOrder: readonly number[] | null;
  orderHeldUntil: number;
  /** Rows the table and the detail pane show; the layout sets them. */
  tableRows: number;
  detailRows: number;
  /** The last refresh failure or a bad filter; cleared by the next good refresh or edit. */
  message: string | null;
  /** Why the last refresh failed (/proc could not be listed), until one succeeds: the figures shown are older. */
  refreshFailed: string | null;
  quit: boolean;
}

/** What a key (keys.ts's table) or the mouse asks of the view. */
export type Command =
  | NavigationCommand
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
  /** A window of the selected process's targets, and its holders' details: a live snapshot carries no targets. */
  | { type: 'slice'; slice: PaneSlice; holders: HolderDetail[] }
  | { type: 'failed'; message: string }
  | { type: 'progress'; progress: ScanProgress }
  /** Something the whole session should know (settings not saved): on the notes line until the screen closes. */
  | { type: 'sessionNote'; note: string }
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
  view?: ViewId;
  hiddenColumns?: ColumnId[];
  shownColumns?: ColumnId[];
  /** Notes of the session itself (a broken settings file): shown with each snapshot's. */
  notes?: string[];
}
