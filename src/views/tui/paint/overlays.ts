// What opens over the panes: the help (from the key table and the column table), every note,
// and the menus (sort, columns, user). Inspect is inspect.ts's text, wrapped by the screen.
import { grouped } from '../../../common/format.js';
import { columnSpec, HIDEABLE_COLUMNS, isShown, sortableColumns, viewColumns } from '../../columns.js';
import { fit } from '../../format.js';
import { screenText as esc } from '../../../common/text.js';
import { wrapColumns } from '../../../common/width.js';
import { activeBindings, MOUSE_HELP } from '../keys.js';
import { columnChoice } from '../process-view.js';
import { sortMarker } from '../screen-view.js';
import { allNotes, userChoices } from '../state.js';
import type { ViewState } from '../view-state.js';
import type { Painter } from '../../painter.js';
import { fromNamespacesShort } from '../charges.js';

export function helpLines(replaying: boolean): string[] {
  const lines = ['{bold}keys{/bold}'];
  for (const binding of activeBindings(replaying)) lines.push(`  {bold}${esc(fit(binding.shown, 10))}{/bold} ${esc(binding.help)}`);
  lines.push('', '{bold}mouse{/bold}', ...MOUSE_HELP.map((text) => `  ${esc(text)}`));
  lines.push(
    '',
    '{bold}columns{/bold} (F2 shows and hides them)',
    ...viewColumns('screen').map((spec) => `  ${esc(fit(spec.title, 10))} ${esc(spec.help)}`),
    '  FAILED     the process had inotify calls fail for want of a limit in the last 5 minutes',
    '  ×N         detail pane: an inode this process watches N times',
    '  HELD BY    detail pane: the process whose mount namespace keeps the target alive (+N: more)',
    '  / in the detail pane filters its paths and pods',
    '',
    '{bold}a leak{/bold}',
    '  LEAK …     the header names the leaking process, the gone pods and who keeps them',
    '  Enter      on a target in the detail pane: what keeps it and the safe next step',
  );
  return lines;
}

/** The notes overlay: every note of the last refresh, whole, wrapped to `width`. */
export function notesLines(state: ViewState, width: number): string[] {
  const notes = allNotes(state);
  if (notes.length === 0) return ['no notes'];
  return notes.flatMap((note) => wrapColumns(`• ${note}`, width, '  ').map(esc));
}

export function menuLines(state: ViewState, painter: Painter): { title: string; lines: string[] } {
  const overlay = state.overlay;
  if (overlay?.kind === 'sort') {
    return {
      title: 'Sort by',
      lines: sortableColumns('screen').map((spec, i) => {
        const current = spec.sort?.field === state.sort.field ? sortMarker(state.sort) : ' ';
        const text = esc(`${current} ${fit(spec.title, 8)} ${spec.help}`);
        return i === overlay.index ? painter.paint('selected', text) : text;
      }),
    };
  }
  if (overlay?.kind === 'columns') {
    const choice = columnChoice(state);
    return {
      title: 'Columns (Enter shows or hides)',
      lines: HIDEABLE_COLUMNS.map((id, i) => {
        const spec = columnSpec(id);
        const text = esc(`[${isShown(spec, 'screen', choice) ? 'x' : ' '}] ${fit(spec.title, 8)} ${spec.help}`);
        return i === overlay.index ? painter.paint('selected', text) : text;
      }),
    };
  }
  if (overlay?.kind === 'user') {
    const users = state.snapshot?.users ?? [];
    return {
      title: 'Show user',
      lines: userChoices(state).map((name, i) => {
        const user = users.find((u) => u.name === name);
        const current = name === state.filter.user ? '•' : ' ';
        const from = user ? fromNamespacesShort(user) : '';
        const label = name === null ? 'all users' : `${fit(name, 16)} ${user ? `${grouped(user.charged.watches)} watches${from ? ` (${from})` : ''}` : ''}`;
        const text = esc(`${current} ${label}`);
        return i === overlay.index ? painter.paint('selected', text) : text;
      }),
    };
  }
  return { title: '', lines: [] };
}
