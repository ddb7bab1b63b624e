// Linux names are bytes, not text: a directory may be called "\xff\xfe" and still be watched. The
// model keeps such a name as a string that round-trips exactly to its bytes, the way Python's
// surrogateescape does (PEP 383): each byte that is not part of valid UTF-8 becomes the lone
// surrogate U+DC00 + byte (U+DC80–U+DCFF). Valid UTF-8 never decodes to those, so nothing else
// changes and nothing is ambiguous. The views show such a byte as `\xHH` (common/text.ts); JSON
// carries it as "\udcHH", which Python turns back into the bytes with
// `path.encode('utf-8', 'surrogateescape')`, and encodePathBytes() in JavaScript.

import { isAscii } from 'node:buffer';

let strict: InstanceType<typeof TextDecoder> | undefined;

/** UTF-8 that must be valid, made at the first name decoded: a one-shot on a node with nothing to resolve decodes none. */
function strictDecoder(): InstanceType<typeof TextDecoder> {
  // ignoreBOM: a name may well start with the bytes of a BOM; they are kept.
  return (strict ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }));
}

/** The name's bytes as a string; invalid UTF-8 bytes as U+DC80–U+DCFF. */
export function decodePathBytes(bytes: Uint8Array): string {
  // ASCII is its own UTF-8: a mount table and most names are, and are copied as they are (isAscii is
  // native), without the decoder, whose making and first decode a one-shot paid in cold code.
  if (isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  try {
    return strictDecoder().decode(bytes);
  } catch {
    return decodeEscaping(bytes);
  }
}

/** The bytes decodePathBytes() read the string from (any other string: its UTF-8). */
export function encodePathBytes(text: string): Buffer {
  if (!/[\udc80-\udcff]/.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const lowAfterHigh = i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff;
    if (code >= 0xdc80 && code <= 0xdcff && !lowAfterHigh) {
      parts.push(Buffer.from(text.slice(start, i), 'utf8'), Buffer.of(code - 0xdc00));
      start = i + 1;
    }
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** Length of the valid UTF-8 sequence at `i`, 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const continuation = (k: number, low = 0x80, high = 0xbf) => i + k < bytes.length && bytes[i + k]! >= low && bytes[i + k]! <= high;
  if (b0 >= 0xc2 && b0 <= 0xdf) return continuation(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    // No overlongs (E0 A0..), no surrogates (ED 80..9F).
    const [low, high] = b0 === 0xe0 ? [0xa0, 0xbf] : b0 === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const [low, high] = b0 === 0xf0 ? [0x90, 0xbf] : b0 === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

function decodeEscaping(bytes: Uint8Array): string {
  let text = '';
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += strictDecoder().decode(bytes.subarray(start, i)) + String.fromCharCode(0xdc00 + bytes[i]!);
    i++;
    start = i;
  }
  return text + strictDecoder().decode(bytes.subarray(start));
}
