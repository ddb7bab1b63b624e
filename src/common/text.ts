// The one boundary text from the node crosses on its way out. Any local process chooses its comm
// (prctl), its argv and the names of what it watches; runtime CLIs print what they like on stderr;
// a recording is a file anyone may have edited. None of it may reach a terminal as control
// sequences, split a row, or apply blessed tags. Every view renders node text through here:
//   - visible(): for terminals (the screen, -b, check): C0 and C1 controls, DEL, line and paragraph
//     separators and bidi overrides become visible escapes, as `ps` and `ls -b` show them;
//   - screenText(): visible() with blessed's tag braces escaped too;
//   - jsonText(): JSON.stringify, with what it leaves raw (DEL, C1, U+2028/U+2029, bidi) escaped
//     as \uXXXX, so `--json | cat` is as safe as the screen and still parses to the same value.
// A path that is not valid UTF-8 arrives with its invalid bytes as lone surrogates U+DC80–U+DCFF
// (see model/path-bytes.ts): visible() shows each as the byte it stands for, `\xHH`.
import { codePointWidth } from './width.js';

/** What visible() rewrites: C0, DEL, C1, U+2028/U+2029, bidi controls and lone surrogates. */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  // A raw byte of a name that is not UTF-8 (surrogate escape): show the byte itself.
  if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code - 0xdc00).toString(16).padStart(2, '0')}`;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** Text for a terminal: one line, nothing in it the terminal would act on. Idempotent. */
export function visible(text: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, escapeChar);
}

/** visible() for a blessed box with tags on: `{red-fg}` in a command stays text. */
export function screenText(text: string): string {
  return visible(text).replace(/[{}]/g, (brace) => (brace === '{' ? '{open}' : '{close}'));
}

/** What JSON.stringify leaves raw that a terminal (or a JavaScript eval of the line) would act on. */
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify with every control escaped. The characters rewritten can only stand inside
 * strings, so the result parses to the same value. Lone surrogates (non-UTF-8 bytes of a path)
 * are already written as \udcXX by JSON.stringify.
 */
export function jsonText(value: unknown, indent?: number): string {
  const json = JSON.stringify(value, null, indent);
  JSON_RAW.lastIndex = 0;
  if (!JSON_RAW.test(json)) return json;
  return json.replace(JSON_RAW, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An escape visible() wrote, or one code point: the pieces a cut may not split. */
const UNIT = /\\(?:x[0-9a-f]{2}|u\{[0-9a-f]+\}|[nrt])|[\s\S]/gu;

/** visible(text) as the pieces a cut may not split (escapes whole, surrogate pairs whole). */
export function visibleUnits(text: string): string[] {
  const shown = visible(text);
  return shown.includes('\\') ? (shown.match(UNIT) ?? []) : [...shown];
}

/** Terminal columns a unit of visibleUnits() takes: an escape its length, a code point its display width (CJK, emoji: 2). */
export function unitColumns(unit: string): number {
  return unit.length > 1 && unit.charCodeAt(0) === 0x5c ? unit.length : codePointWidth(unit.codePointAt(0)!);
}

/**
 * visible() on one line of at most `max` bytes of UTF-8 (what node-problem-detector counts),
 * ending in "..." when cut. Space runs become one space.
 */
export function visibleLine(text: string, max: number): string {
  const units = visibleUnits(text.trim().replace(/ {2,}/g, ' '));
  const line = units.join('');
  if (Buffer.byteLength(line) <= max) return line;
  const kept: string[] = [];
  let used = 0;
  for (const unit of units) {
    const size = Buffer.byteLength(unit);
    if (used + size > max - 3) break;
    kept.push(unit);
    used += size;
  }
  return `${kept.join('')}...`;
}
