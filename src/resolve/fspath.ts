// Paths are bytes to the kernel and strings to us. A name need not be valid UTF-8, so paths are
// decoded the way Python's surrogateescape does: valid UTF-8 as such, and each byte that is not
// part of a valid sequence as the lone surrogate U+DC00 + byte (U+DC80..U+DCFF). That is
// reversible: encodeFsPath gives the kernel back the very bytes, and a name with invalid UTF-8
// resolves like any other. JSON keeps such a surrogate as "\udcXX"; views show it as \xXX.

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes of a path (readlink, mountinfo, a directory entry) as a string, reversibly. */
export function decodeFsBytes(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    return decodeEscaping(bytes);
  }
}

function decodeEscaping(bytes: Uint8Array): string {
  let out = '';
  let at = 0;
  while (at < bytes.length) {
    const length = sequenceLength(bytes, at);
    if (length === 0) {
      out += String.fromCharCode(0xdc00 + bytes[at]!);
      at++;
    } else {
      out += decoder.decode(bytes.subarray(at, at + length));
      at += length;
    }
  }
  return out;
}

/** Length of the valid UTF-8 sequence at `at`, 0 when the byte there does not start one. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const first = bytes[at]!;
  if (first < 0x80) return 1;
  const length = first >= 0xc2 && first <= 0xdf ? 2 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xf0 && first <= 0xf4 ? 4 : 0;
  if (length === 0 || at + length > bytes.length) return 0;
  for (let i = 1; i < length; i++) if ((bytes[at + i]! & 0xc0) !== 0x80) return 0;
  const second = bytes[at + 1]!;
  // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
  if (first === 0xe0 && second < 0xa0) return 0;
  if (first === 0xed && second >= 0xa0) return 0;
  if (first === 0xf0 && second < 0x90) return 0;
  if (first === 0xf4 && second >= 0x90) return 0;
  return length;
}

/** Whether a decoded path holds bytes that are not UTF-8 (escaped surrogates). */
export function hasEscapedBytes(path: string): boolean {
  return /[\udc80-\udcff]/.test(path);
}

/** A path string back to its bytes: what system calls take. Plain strings go as they are. */
export function encodeFsPath(path: string): string | Buffer {
  if (!hasEscapedBytes(path)) return path;
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0xdc80 || code > 0xdcff) continue;
    parts.push(Buffer.from(path.slice(from, i), 'utf8'), Buffer.of(code - 0xdc00));
    from = i + 1;
  }
  parts.push(Buffer.from(path.slice(from), 'utf8'));
  return Buffer.concat(parts);
}
