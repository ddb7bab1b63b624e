// How a screen paints (the process screen's painters in tui/paint/, and the fleet's): styles by
// name, in color and without (NO_COLOR, --no-color), the Painter that wraps escaped text in
// blessed's tags, and a pane's rule.
import { fit } from './format.js';
import { screenText } from '../common/text.js';
import { displayWidth } from '../common/width.js';

export type StyleName =
  | 'title'
  | 'columns'
  | 'selected'
  | 'selectedDim'
  | 'leak'
  | 'warn'
  | 'crit'
  | 'ok'
  | 'grew'
  | 'shrank'
  | 'rule'
  | 'ruleFocused'
  | 'footerKey'
  | 'footerLabel'
  | 'error';

/** Without color (NO_COLOR, --no-color) everything stays readable with bold, underline and inverse. */
const STYLES: Record<'color' | 'mono', Record<StyleName, string[]>> = {
  color: {
    title: ['bold'],
    columns: ['black-fg', 'green-bg'],
    selected: ['black-fg', 'cyan-bg'],
    selectedDim: ['black-fg', 'white-bg'],
    leak: ['red-fg'],
    warn: ['yellow-fg'],
    crit: ['red-fg', 'bold'],
    ok: ['green-fg'],
    grew: ['yellow-fg'],
    shrank: ['green-fg'],
    rule: ['cyan-fg'],
    ruleFocused: ['black-fg', 'cyan-bg'],
    footerKey: ['bold'],
    footerLabel: ['black-fg', 'cyan-bg'],
    error: ['white-fg', 'red-bg'],
  },
  mono: {
    title: ['bold'],
    columns: ['bold', 'underline'],
    selected: ['inverse'],
    selectedDim: ['underline'],
    leak: ['bold'],
    warn: ['bold'],
    crit: ['bold', 'underline'],
    ok: [],
    grew: [],
    shrank: [],
    rule: [],
    ruleFocused: ['bold'],
    footerKey: ['bold'],
    footerLabel: ['inverse'],
    error: ['bold', 'inverse'],
  },
};

export class Painter {
  private readonly styles: Record<StyleName, string[]>;
  constructor(readonly color: boolean) {
    this.styles = STYLES[color ? 'color' : 'mono'];
  }
  /** Wraps already escaped text in a style. */
  paint(style: StyleName, tagged: string): string {
    const tags = this.styles[style];
    if (tags.length === 0) return tagged;
    return (
      tags.map((t) => `{${t}}`).join('') +
      tagged +
      [...tags]
        .reverse()
        .map((t) => `{/${t}}`)
        .join('')
    );
  }
}

/** A pane's rule: "── text ───…", as wide as the screen. */
export function rule(text: string, width: number, focused: boolean, painter: Painter): string {
  const title = `── ${fit(text, width - 4).trimEnd()} `;
  const line = title + '─'.repeat(Math.max(0, width - displayWidth(title)));
  return painter.paint(focused ? 'ruleFocused' : 'rule', screenText(line));
}
