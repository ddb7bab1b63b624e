// The footer: the filter being typed, else the key table's footer entries that fit (quit always),
// after the last message.
import { fit } from '../../format.js';
import { screenText as esc } from '../../../common/text.js';
import { activeBindings } from '../keys.js';
import type { ViewState } from '../view-state.js';
import { viewOf } from '../views.js';
import type { Painter } from '../../painter.js';

export function footerLine(state: ViewState, width: number, painter: Painter): string {
  if (state.prompt) {
    const where = state.prompt.pane === 'detail' ? 'paths and pods' : viewOf(state).rowsName;
    const text = ` Filter ${where}: ${state.prompt.text}_`;
    const hint = '   Enter keep · Esc clear';
    const message = state.message ? `   ${state.message}` : '';
    return painter.paint('footerKey', esc(fit(text + hint, width - message.length))) + painter.paint('error', esc(message));
  }
  const entries = activeBindings(state.replay !== null).flatMap((binding) => {
    if (!binding.footer) return [];
    const label = binding.command === 'pause' && state.paused ? 'Resume' : binding.footer.label;
    return [{ key: binding.footer.key, label, quit: binding.command === 'quit' }];
  });
  const size = (entry: { key: string; label: string }) => entry.key.length + entry.label.length + 1;
  const message = state.message ? fit(` ${state.message} `, Math.min(width, state.message.length + 2)) : '';
  // Quit always shows; the others as they fit, most important first.
  let room = width - (message ? message.length + 1 : 0) - entries.filter((e) => e.quit).reduce((sum, e) => sum + size(e), 0);
  const shown = entries.filter((entry) => {
    if (entry.quit) return true;
    if (size(entry) > room) return false;
    room -= size(entry);
    return true;
  });
  const used = width - room;
  const line = shown.map((e) => painter.paint('footerKey', esc(e.key)) + painter.paint('footerLabel', esc(e.label)) + ' ').join('');
  return (message ? painter.paint('error', esc(message)) + ' ' : '') + line + ' '.repeat(Math.max(0, width - used));
}
