// What opens over the panes: the help (from the key table and the column table), every note,
// and the menus (sort, columns, user). Inspect is inspect.ts's text, wrapped by the screen.
import { grouped } from '../../../common/format.js';
import { POD_LIST_PENDING } from '../../../pods/sources.js';
import { columnSpec, HIDEABLE_COLUMNS, isShown, sortableColumns, viewColumns } from '../../columns.js';
import { fit } from '../../format.js';
import { screenText as esc, visible } from '../../../common/text.js';
import { displayWidth, wrapColumns } from '../../../common/width.js';
import { activeBindings, MOUSE_HELP } from '../keys.js';
import { columnChoice } from '../process-view.js';
import { sortMarker } from '../screen-view.js';
import { allNotes, userChoices } from '../state.js';
import type { ViewState } from '../view-state.js';
import type { Painter } from '../../painter.js';
import { fromNamespacesShort } from '../charges.js';

/** A line of the help: a heading, or a key (or column title) and what it does, or a remark. */
type HelpEntry = { heading: string; after?: string } | { key: string; text: string } | { text: string };

/** The help's keys' (and column titles') column, after the entry's indent. */
const HELP_KEY_WIDTH = 10;
const HELP_INDENT = '  ';
/** Where what a key does starts, and goes on when it wraps. */
const HELP_TEXT_INDENT = ' '.repeat(HELP_INDENT.length + HELP_KEY_WIDTH + 1);
/** The help box's border and padding, both sides. */
const HELP_BOX_FRAME = 4;

function helpEntries(replaying: boolean): HelpEntry[] {
  return [
    { heading: 'keys' },
    ...activeBindings(replaying).map((binding) => ({ key: binding.shown, text: binding.help })),
    { text: '' },
    { heading: 'mouse' },
    ...MOUSE_HELP.map((text) => ({ text })),
    { text: '' },
    { heading: 'columns', after: ' (F2 shows and hides them)' },
    ...viewColumns('screen').map((spec) => ({ key: spec.title, text: spec.help })),
    { key: 'FAILED', text: 'the process had inotify calls fail for want of a limit in the last 5 minutes' },
    { key: 'BLOCKING', text: "processes have waited 1 s or more for this process's fanotify permission answers" },
    { key: 'WAITING', text: 'the process waits for a fanotify permission answer (state D)' },
    { key: '×N', text: 'detail pane: an inode this process watches N times' },
    { key: 'HELD BY', text: 'detail pane: the process whose mount namespace keeps the target alive (+N: more)' },
    { text: '/ in the detail pane filters its paths and pods' },
    { text: '' },
    { heading: 'a leak' },
    { key: 'LEAK …', text: 'the header names the leaking process, the gone pods and who keeps them' },
    { key: 'Enter', text: 'on a target in the detail pane: what keeps it and the safe next step' },
    { text: '' },
    { heading: 'traffic' },
    { key: 'BLOCKED …', text: 'the header names the process whose fanotify permission answers others wait for' },
    { key: 'QUEUE …', text: 'a reader whose event queue is not draining (stuck) or may be full (full?: events lost)' },
    { key: 'Enter', text: 'in the detail pane of such a process: what it means and the safe next step' },
  ];
}

/** An entry's text on one line, however long. */
function helpEntryText(entry: HelpEntry): string {
  if ('heading' in entry) return entry.heading + (entry.after ?? '');
  if ('key' in entry) return `${HELP_INDENT}${fit(entry.key, HELP_KEY_WIDTH)} ${entry.text}`;
  return entry.text === '' ? '' : HELP_INDENT + entry.text;
}

/**
 * The help box's width in a terminal `width` columns wide: the terminal's but a margin each side,
 * and no wider than its longest entry needs (the rest of a wide terminal is left to the screen).
 */
export function helpBoxWidth(width: number, replaying: boolean): number {
  const widest = Math.max(...helpEntries(replaying).map((entry) => displayWidth(helpEntryText(entry))));
  return Math.min(width - 4, widest + HELP_BOX_FRAME);
}

/**
 * The help (from the key table and the column table) in lines of at most `width` columns: what a
 * key does wraps at words and goes on under itself, past the keys' column.
 */
export function helpLines(replaying: boolean, width: number): string[] {
  const textWidth = width - HELP_TEXT_INDENT.length;
  return helpEntries(replaying).flatMap((entry) => {
    if ('heading' in entry) return [`{bold}${esc(entry.heading)}{/bold}${esc(entry.after ?? '')}`];
    if (!('key' in entry)) return entry.text === '' ? [''] : wrapColumns(HELP_INDENT + entry.text, width, HELP_INDENT.repeat(2)).map(esc);
    return wrapColumns(entry.text, textWidth).map((line, i) =>
      i === 0 ? `${HELP_INDENT}{bold}${esc(fit(entry.key, HELP_KEY_WIDTH))}{/bold} ${esc(line)}` : esc(HELP_TEXT_INDENT + line),
    );
  });
}

/**
 * The notes overlay: every note of the last refresh, whole, wrapped to `width`; first, while the
 * pod source fails, its error (said once as a note, and only shortened in the title after).
 */
export function notesLines(state: ViewState, width: number): string[] {
  const pods = state.snapshot?.pods;
  const failing = pods?.error && pods.error !== POD_LIST_PENDING ? `pods: ${pods.error}` : null;
  const notes = allNotes(state);
  if (failing !== null && !notes.some((note) => note.startsWith(failing))) notes.unshift(failing);
  if (notes.length === 0) return ['no notes'];
  return notes.flatMap((note) => wrapColumns(`• ${note}`, width, '  ').map(esc));
}

/** A menu's entries, as plain text (node text made visible by the painter's caller), and the one under its cursor. */
function menuEntries(state: ViewState): { title: string; texts: string[]; index: number } {
  const overlay = state.overlay;
  if (overlay?.kind === 'sort') {
    return {
      title: 'Sort by',
      texts: sortableColumns('screen').map((spec) => {
        const current = spec.sort?.field === state.sort.field ? sortMarker(state.sort) : ' ';
        return `${current} ${fit(spec.title, 8)} ${spec.help}`;
      }),
      index: overlay.index,
    };
  }
  if (overlay?.kind === 'columns') {
    const choice = columnChoice(state);
    return {
      title: 'Columns (Enter shows or hides)',
      texts: HIDEABLE_COLUMNS.map((id) => {
        const spec = columnSpec(id);
        return `[${isShown(spec, 'screen', choice) ? 'x' : ' '}] ${fit(spec.title, 8)} ${spec.help}`;
      }),
      index: overlay.index,
    };
  }
  if (overlay?.kind === 'user') {
    const users = state.snapshot?.users ?? [];
    return {
      title: 'Show user',
      texts: userChoices(state).map((name) => {
        const user = users.find((u) => u.name === name);
        const current = name === state.filter.user ? '•' : ' ';
        const from = user ? fromNamespacesShort(user) : '';
        const label = name === null ? 'all users' : `${fit(name, 16)} ${user ? `${grouped(user.charged.watches)} watches${from ? ` (${from})` : ''}` : ''}`;
        return `${current} ${label}`;
      }),
      index: overlay.index,
    };
  }
  return { title: '', texts: [], index: 0 };
}

/** The menu box's width in a terminal `width` columns wide: its longest entry's, within the terminal's but a margin each side. */
export function menuBoxWidth(state: ViewState, width: number): number {
  const widest = Math.max(0, ...menuEntries(state).texts.map((text) => displayWidth(visible(text))));
  return Math.min(width - 4, Math.max(MENU_MIN_WIDTH, widest + HELP_BOX_FRAME));
}

/** Menus are no narrower than this where the terminal allows. */
const MENU_MIN_WIDTH = 40;

/**
 * The open menu's title and lines, the entry under the cursor highlighted; `width` (the box's
 * inside) cuts an entry too long for it with "…", never at the box's edge unmarked.
 */
export function menuLines(state: ViewState, painter: Painter, width = Infinity): { title: string; lines: string[] } {
  const { title, texts, index } = menuEntries(state);
  return {
    title,
    lines: texts.map((text, i) => {
      const shown = esc(Number.isFinite(width) && displayWidth(visible(text)) > width ? fit(text, width).trimEnd() : text);
      return i === index ? painter.paint('selected', shown) : shown;
    }),
  };
}
