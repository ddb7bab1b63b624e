// HPACK (RFC 7541), as much of it as a gRPC client needs: the request's few headers encoded as
// literals (nothing indexed, no Huffman: always valid, and the runtime's table stays untouched),
// and the runtime's header blocks decoded whole (static and dynamic tables, Huffman strings).

export class HpackError extends Error {}

/** Appendix A. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/**
 * Appendix B's code lengths, symbol by symbol (0–255, then EOS), each as the character '0' +
 * length. The code is canonical (lengths ascending, the codes of one length in symbol order), so
 * the lengths alone give the codes.
 */
const HUFFMAN_LENGTHS =
  '=GLLLLLLLHNLLNLLLLLLLLNLLLLLLLLL6::<=68;::8;8666555666666678?6<:=67777777777777777777777878=C=>6?56565666577666567655677777?;>=' +
  'LDFDDFFFGFGGGGGHGHHFGHGGGGEFGFGGHFEDFFGGEGFFHEFGGEEFEGFGGDFFFGFFGJJDCFGFIJJJKKJHICEJKKJKHEEJJLKKKDHDEFEEGFFIIHHJGJKJJKKKKKLKKKKKJN';
const EOS = 256;
const MAX_CODE_LENGTH = 30;

interface HuffmanTable {
  /** The first code of each length, and where its symbols start in `symbols`; counts per length. */
  first: Int32Array;
  offset: Int32Array;
  count: Int32Array;
  symbols: Uint16Array;
}

let huffman: HuffmanTable | null = null;

function huffmanTable(): HuffmanTable {
  if (huffman) return huffman;
  const count = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let symbol = 0; symbol <= EOS; symbol++) count[HUFFMAN_LENGTHS.charCodeAt(symbol) - 48]!++;
  const first = new Int32Array(MAX_CODE_LENGTH + 1);
  const offset = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let length = 1, code = 0, at = 0; length <= MAX_CODE_LENGTH; length++) {
    first[length] = code;
    offset[length] = at;
    code = (code + count[length]!) << 1;
    at += count[length]!;
  }
  const symbols = new Uint16Array(EOS + 1);
  const filled = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const length = HUFFMAN_LENGTHS.charCodeAt(symbol) - 48;
    symbols[offset[length]! + filled[length]!++] = symbol;
  }
  huffman = { first, offset, count, symbols };
  return huffman;
}

/** A Huffman-coded string (5.2): the padding must be the EOS code's first bits, at most 7 of them. */
export function decodeHuffman(bytes: Uint8Array): string {
  const { first, offset, count, symbols } = huffmanTable();
  const out: number[] = [];
  let code = 0;
  let length = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      length++;
      const index = code - first[length]!;
      if (index >= 0 && index < count[length]!) {
        const symbol = symbols[offset[length]! + index]!;
        if (symbol === EOS) throw new HpackError('EOS in a Huffman string');
        out.push(symbol);
        code = 0;
        length = 0;
      } else if (length >= MAX_CODE_LENGTH) {
        throw new HpackError('invalid Huffman code');
      }
    }
  }
  if (length > 7 || code !== (1 << length) - 1) throw new HpackError('invalid Huffman padding');
  return Buffer.from(out).toString('latin1');
}

/** The bytes of an integer with a 7-bit prefix (5.1): a string's length. */
function lengthBytes(value: number): number {
  if (value < 127) return 1;
  let bytes = 2;
  for (let rest = value - 127; rest >= 128; rest = Math.floor(rest / 128)) bytes++;
  return bytes;
}

/** A string literal (5.2, no Huffman) written into `out` at `at`: where it ends. Header names and values are ASCII. */
function writeString(out: Buffer, at: number, text: string): number {
  const length = text.length;
  if (length < 127) out[at++] = length;
  else {
    out[at++] = 127;
    let rest = length - 127;
    for (; rest >= 128; rest = Math.floor(rest / 128)) out[at++] = (rest % 128) | 128;
    out[at++] = rest;
  }
  // Byte by byte, in code of ours that V8's code cache holds: Buffer's string writer, run cold, took
  // up to a millisecond of a one-shot's start in a profile.
  for (let i = 0; i < length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/**
 * Headers as "literal header field without indexing" (6.2.2), each name as a literal too. Written
 * straight into one buffer: a one-shot encodes its request before the scan, where every
 * intermediate array and buffer is time the scan waits.
 */
export function encodeHeaders(headers: readonly (readonly [string, string])[]): Buffer {
  let size = 0;
  for (const [name, value] of headers) size += 1 + lengthBytes(name.length) + name.length + lengthBytes(value.length) + value.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [name, value] of headers) {
    out[at++] = 0;
    at = writeString(out, at, name);
    at = writeString(out, at, value);
  }
  return out;
}

/** The decoding side of one connection: its dynamic table lives as long as the connection. */
export class HeaderDecoder {
  /** Newest first. */
  private dynamic: [string, string][] = [];
  private size = 0;
  /** The size the encoder chose (a table size update), at most maxSize. */
  private tableSize: number;

  /** `maxSize`: SETTINGS_HEADER_TABLE_SIZE as we announced it (4096 by default). */
  constructor(private readonly maxSize = 4096) {
    this.tableSize = maxSize;
  }

  /** One whole header block (HEADERS and its CONTINUATIONs): name, value pairs in order. */
  decode(block: Uint8Array): [string, string][] {
    const headers: [string, string][] = [];
    let at = 0;
    const integer = (prefixBits: number): number => {
      if (at >= block.length) throw new HpackError('truncated integer');
      const max = (1 << prefixBits) - 1;
      let value = block[at++]! & max;
      if (value < max) return value;
      for (let shift = 1; ; shift *= 128) {
        if (at >= block.length) throw new HpackError('truncated integer');
        const byte = block[at++]!;
        value += (byte & 127) * shift;
        if (value > 2 ** 32) throw new HpackError('integer too large');
        if ((byte & 128) === 0) return value;
      }
    };
    const string = (): string => {
      if (at >= block.length) throw new HpackError('truncated string');
      const huffmanCoded = (block[at]! & 128) !== 0;
      const length = integer(7);
      if (at + length > block.length) throw new HpackError('truncated string');
      const bytes = block.subarray(at, at + length);
      at += length;
      return huffmanCoded ? decodeHuffman(bytes) : Buffer.from(bytes).toString('latin1');
    };
    const entry = (index: number): readonly [string, string] => {
      if (index >= 1 && index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
      const dynamic = this.dynamic[index - STATIC_TABLE.length - 1];
      if (!dynamic) throw new HpackError(`no table entry ${index}`);
      return dynamic;
    };
    while (at < block.length) {
      const byte = block[at]!;
      if (byte & 128) {
        // 6.1 indexed
        const [name, value] = entry(integer(7));
        headers.push([name, value]);
      } else if (byte & 64) {
        // 6.2.1 literal with incremental indexing
        const index = integer(6);
        const name = index === 0 ? string() : entry(index)[0];
        const value = string();
        headers.push([name, value]);
        this.add(name, value);
      } else if (byte & 32) {
        // 6.3 dynamic table size update
        const size = integer(5);
        if (size > this.maxSize) throw new HpackError(`table size ${size} above the ${this.maxSize} allowed`);
        this.tableSize = size;
        this.evict(0);
      } else {
        // 6.2.2 without indexing, 6.2.3 never indexed: both have a 4-bit prefix
        const index = integer(4);
        const name = index === 0 ? string() : entry(index)[0];
        headers.push([name, string()]);
      }
    }
    return headers;
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    if (size > this.tableSize) return;
    this.dynamic.unshift([name, value]);
    this.size += size;
  }

  /** Evicts the oldest entries until `room` more fits. */
  private evict(room: number): void {
    while (this.dynamic.length > 0 && this.size + room > this.tableSize) {
      const [name, value] = this.dynamic.pop()!;
      this.size -= name.length + value.length + 32;
    }
  }
}
