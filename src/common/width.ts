// Text widths in terminal columns, not code points: a CJK character or an emoji takes two
// columns, a combining mark or a variation selector none. Enough of Unicode's East Asian Width
// (UAX #11, W and F) and emoji presentation for paths and pod names; ambiguous characters count
// as one, as terminals in a non-CJK locale draw them.

/** Ranges [first, last] of code points two columns wide. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initials
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f5],
  [0x26fa, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x274e, 0x274e],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2b55, 0x2b55],
  [0x2e80, 0x303e], // CJK radicals, punctuation
  [0x3041, 0x33ff], // kana, CJK symbols
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff],
  [0x1b000, 0x1b2ff],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f], // pictographs, emoticons
  [0x1f680, 0x1f6ff], // transport
  [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x2fffd], // CJK extensions B-F
  [0x30000, 0x3fffd],
];

/** Code points that take no column of their own: they modify the one before. */
function isZeroWidth(code: number): boolean {
  return (
    (code >= 0x0300 && code <= 0x036f) || // combining diacritics
    (code >= 0x0483 && code <= 0x0489) ||
    (code >= 0x0591 && code <= 0x05bd) ||
    (code >= 0x0610 && code <= 0x061a) ||
    (code >= 0x064b && code <= 0x065f) ||
    (code >= 0x1ab0 && code <= 0x1aff) ||
    (code >= 0x1dc0 && code <= 0x1dff) ||
    (code >= 0x200b && code <= 0x200f) || // zero width space, joiners, marks
    (code >= 0x20d0 && code <= 0x20ff) ||
    (code >= 0xfe00 && code <= 0xfe0f) || // variation selectors
    (code >= 0xfe20 && code <= 0xfe2f) ||
    code === 0xfeff ||
    (code >= 0x1f3fb && code <= 0x1f3ff) || // skin tone modifiers
    (code >= 0xe0000 && code <= 0xe0fff)
  );
}

function isWide(code: number): boolean {
  if (code < 0x1100) return false;
  let low = 0;
  let high = WIDE.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [first, last] = WIDE[mid]!;
    if (code < first) high = mid - 1;
    else if (code > last) low = mid + 1;
    else return true;
  }
  return false;
}

/** Columns one code point takes: 0, 1 or 2. */
export function codePointWidth(code: number): number {
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0;
  if (code < 0x300) return 1;
  if (isZeroWidth(code)) return 0;
  return isWide(code) ? 2 : 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // ASCII, the common case, without iterating code points.
    if (code >= 0x20 && code < 0x7f) {
      width++;
      continue;
    }
    const point = text.codePointAt(i)!;
    if (point > 0xffff) i++;
    width += codePointWidth(point);
  }
  return width;
}

/** The longest start of `text` that fits in `width` columns. */
function headOf(text: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const w = codePointWidth(char.codePointAt(0)!);
    if (used + w > width) break;
    used += w;
    end += char.length;
  }
  return text.slice(0, end);
}

/** The longest end of `text` that fits in `width` columns. */
function tailOf(text: string, width: number): string {
  const chars = [...text];
  let used = 0;
  let start = chars.length;
  while (start > 0) {
    const w = codePointWidth(chars[start - 1]!.codePointAt(0)!);
    if (used + w > width) break;
    used += w;
    start--;
  }
  return chars.slice(start).join('');
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const room = Math.max(0, width - displayWidth(text));
  return align === 'left' ? text + ' '.repeat(room) : ' '.repeat(room) + text;
}

/** Pads or cuts to `width` columns; cut text ends with "…". */
export function fitColumns(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return pad(text, width, align);
  return pad(headOf(text, width - 1) + '…', width, align);
}

/**
 * Pads or shortens to `width` columns by taking out the middle: a path keeps its start and,
 * longer, its end (the file's name and its volume, what tells one target from another).
 */
export function elideMiddle(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return pad(text, width, align);
  if (width === 1) return '…';
  const head = Math.floor((width - 1) / 3);
  const tail = width - 1 - head;
  return pad(headOf(text, head) + '…' + tailOf(text, tail), width, align);
}

/**
 * Lines of at most `width` columns, broken at spaces; a word longer than a line (a path) is
 * broken where it must. `indent` starts the lines after the first.
 */
export function wrapColumns(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  const room = () => width - (lines.length > 0 ? displayWidth(indent) : 0);
  const push = () => {
    lines.push((lines.length > 0 ? indent : '') + line);
    line = '';
  };
  // Leading spaces are the text's own indent: kept on its first line.
  const lead = /^ */.exec(text)![0];
  line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const candidate = line === '' || line === lead ? line + word : `${line} ${word}`;
    if (displayWidth(candidate) <= room()) {
      line = candidate;
      continue;
    }
    if (line !== '') push();
    let rest = word;
    while (displayWidth(rest) > room()) {
      const head = headOf(rest, Math.max(1, room()));
      line = head;
      push();
      rest = rest.slice(head.length);
    }
    line = rest;
  }
  if (line !== '' || lines.length === 0) push();
  return lines;
}
