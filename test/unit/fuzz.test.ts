// A fuzz harness kept as a test: fixed seed, bounded run. The parsers of what the node hands us
// (fdinfo, mountinfo), the recording reader and the sanitising boundary get mutated input; none
// may throw, and nothing a reader accepts may crash a view. Run it long with
//   INOTOP_FUZZ_ITERATIONS=200000 INOTOP_FUZZ_SEED=7 node --import tsx --test test/fuzz.test.ts
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decodePathBytes, encodePathBytes } from '../../src/model/path-bytes.js';
import type { Snapshot } from '../../src/model/types.js';
import { RecordingError } from '../../src/record/format.js';
import { readRecording } from '../../src/record/reader.js';
import { parseMountinfo } from '../../src/resolve/mountinfo.js';
import { devOf, watchesOf } from '../../src/model/watches.js';
import { parseInotifyFdinfo } from '../../src/scan/parse.js';
import { fit } from '../../src/views/format.js';
import { displayWidth } from '../../src/common/width.js';
import { jsonText, screenText, visible, visibleLine } from '../../src/common/text.js';
import { renderEverywhere } from '../helpers/views.js';

/** Iterations per target; the default keeps the whole file to a few seconds. */
const ITERATIONS = Number(process.env['INOTOP_FUZZ_ITERATIONS'] ?? 300);
const SEED = Number(process.env['INOTOP_FUZZ_SEED'] ?? 1);

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Fuzzer {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = random(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Bytes with a few flips, cuts, duplications and insertions of interesting bytes. */
  mutateBytes(input: Buffer): Buffer {
    let bytes = Buffer.from(input);
    const interesting = [0x00, 0x0a, 0x1b, 0x1f, 0x20, 0x3a, 0x7f, 0x80, 0x8b, 0x9b, 0xc2, 0xff];
    for (let n = 1 + this.int(4); n > 0; n--) {
      const at = this.int(bytes.length + 1);
      switch (this.int(5)) {
        case 0:
          if (at < bytes.length) bytes[at] = bytes[at]! ^ (1 << this.int(8));
          break;
        case 1:
          bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + this.int(16)))]);
          break;
        case 2:
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(this.pick(interesting)), bytes.subarray(at)]);
          break;
        case 3:
          bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(this.int(bytes.length), this.int(bytes.length)), bytes.subarray(at)]);
          break;
        case 4:
          bytes = bytes.subarray(0, at);
          break;
      }
    }
    return bytes;
  }
  /** A string of code units a hostile name could hold: controls, C1, surrogates, braces, wide characters. */
  hostileString(): string {
    const pieces = [
      '\x1b',
      '\n',
      '\r',
      '\t',
      '\x07',
      '\x00',
      '\x7f',
      '\u009b',
      '\u0085',
      '{',
      '}',
      '\\',
      'x1b',
      '\u202e',
      '\u2028',
      '\ud83d',
      '\ude00',
      '😀',
      '\udcff',
      'é',
      'a',
      ' ',
      '[',
      '{red-fg}',
      '{/red-fg}',
    ];
    let text = '';
    for (let n = this.int(12); n > 0; n--) text += this.pick(pieces);
    return text;
  }
  /** The value with one key renamed, dropped or given a value of another type, somewhere deep. */
  mutateValue(value: unknown): unknown {
    const replacements = [null, 0, -1, 1.5, '', 'x', true, [], {}, [null], { a: 1 }, '\x1b[2J', 2 ** 60];
    if (value === null || typeof value !== 'object') return this.pick(replacements);
    const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (keys.length === 0) return this.pick(replacements);
    const key = this.pick(keys);
    const record = copy as Record<string, unknown>;
    switch (this.int(4)) {
      case 0:
        record[key] = this.mutateValue(record[key]);
        break;
      case 1:
        record[key] = this.pick(replacements);
        break;
      case 2:
        if (!Array.isArray(copy)) {
          record[`${key}x`] = record[key];
          delete record[key];
        }
        break;
      case 3:
        record[key] = this.mutateValue(record[key]);
        record[this.pick(keys)] = this.mutateValue(record[this.pick(keys)]);
        break;
    }
    return copy;
  }
}

const FDINFO =
  'pos:\t0\nflags:\t00\nmnt_id:\t15\nino:\t1057\ninotify wd:1f ino:1234 sdev:800001 mask:800afff ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:d204000000000000\ninotify wd:2 ino:5 sdev:23 mask:fff ignored_mask:0\n';

describe(`fuzz (seed ${SEED}, ${ITERATIONS} iterations each)`, () => {
  let dir: string;
  let recordingLines: string[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'inotop-fuzz-'));
    const fixture = fileURLToPath(new URL('../../fixtures/healthy-node.jsonl', import.meta.url));
    recordingLines = readFileSync(fixture, 'utf8').trimEnd().split('\n').slice(0, 3);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('fdinfo parser', () => {
    const fuzz = new Fuzzer(SEED);
    for (let i = 0; i < ITERATIONS * 10; i++) {
      const bytes = fuzz.mutateBytes(Buffer.from(FDINFO));
      const list = parseInotifyFdinfo(bytes);
      for (let w = 0; w < list.length; w++) {
        const start = list.handleStart[w]!;
        const end = list.handleStart[w + 1]!;
        assert.ok(start <= end && end <= list.handleBytes.length, `handle ${w} within the list's bytes`);
      }
      for (const watch of watchesOf(list)) {
        assert.ok(Number.isFinite(watch.ino) && Number.isFinite(watch.sdev) && Number.isFinite(watch.wd), JSON.stringify(watch));
        assert.match(devOf(watch.sdev), /^\d+:\d+$/);
      }
    }
  });

  // Garbage in gives garbage fields (a dev "254:p", a NaN mount id) but never a throw: the kernel
  // writes mountinfo, so only the shape is asserted.
  test('mountinfo parser', () => {
    const fuzz = new Fuzzer(SEED + 1);
    const sample = readFileSync(fileURLToPath(new URL('../../fixtures/mountinfo/escapes-and-binds.txt', import.meta.url)));
    for (let i = 0; i < ITERATIONS * 3; i++) {
      for (const entry of parseMountinfo(fuzz.mutateBytes(sample).toString('utf8'))) {
        assert.ok(typeof entry.mountpoint === 'string' && typeof entry.dev === 'string' && typeof entry.mountId === 'number', JSON.stringify(entry));
      }
    }
  });

  test('recording reader: mutated bytes, plain and gzip; what it accepts renders everywhere', async () => {
    const fuzz = new Fuzzer(SEED + 2);
    const plain = Buffer.from(recordingLines.join('\n') + '\n');
    const packed = Buffer.concat(recordingLines.map((line) => gzipSync(line + '\n')));
    for (let i = 0; i < ITERATIONS; i++) {
      const gz = i % 2 === 1;
      const file = join(dir, gz ? 'r.jsonl.gz' : 'r.jsonl');
      writeFileSync(file, fuzz.mutateBytes(gz ? packed : plain));
      let snapshots: Snapshot[] = [];
      try {
        snapshots = readRecording(file).snapshots;
      } catch (error) {
        if (!(error instanceof RecordingError)) throw error;
      }
      for (const snapshot of snapshots) await renderEverywhere(snapshot);
    }
  });

  test('recording reader: mutated documents never reach the views unchecked', async () => {
    const fuzz = new Fuzzer(SEED + 3);
    const [header, ...snapshots] = recordingLines;
    const file = join(dir, 'm.jsonl');
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const value = fuzz.mutateValue(JSON.parse(fuzz.pick(snapshots)));
      writeFileSync(file, `${header}\n${JSON.stringify(value)}\n`);
      try {
        const recording = readRecording(file);
        accepted++;
        for (const snapshot of recording.snapshots) await renderEverywhere(snapshot);
      } catch (error) {
        if (!(error instanceof RecordingError)) throw error;
        assert.match(error.message, /holds no snapshot \(.*line 2: not a snapshot: /);
      }
    }
    // Some mutations keep a valid snapshot (an extra key, another string): those must render.
    assert.ok(accepted > 0 && accepted < ITERATIONS, `accepted ${accepted} of ${ITERATIONS}`);
  });

  test('sanitiser: nothing a terminal acts on, widths exact, JSON the same value, path bytes exact', () => {
    const fuzz = new Fuzzer(SEED + 4);
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    for (let i = 0; i < ITERATIONS * 20; i++) {
      const text = fuzz.hostileString();
      const shown = visible(text);
      assert.ok(!unsafe.test(shown), JSON.stringify(shown));
      assert.equal(visible(shown), shown, 'idempotent');
      assert.ok(!/\{(?!open\}|close\})/.test(screenText(text).replace(/\{(open|close)\}/g, '')), screenText(text));
      const width = 1 + fuzz.int(20);
      assert.equal(displayWidth(fit(text, width)), width, JSON.stringify([text, fit(text, width)]));
      assert.ok(!unsafe.test(fit(text, width)));
      const line = visibleLine(text, 80);
      assert.ok(Buffer.byteLength(line) <= 80 && !unsafe.test(line));
      const json = jsonText({ text });
      assert.ok(!/[\u007f-\u009f\u2028\u2029]/.test(json), json);
      assert.equal((JSON.parse(json) as { text: string }).text, text);
      const bytes = Buffer.from(Array.from({ length: fuzz.int(24) }, () => fuzz.int(256)));
      const name = decodePathBytes(bytes);
      assert.ok(encodePathBytes(name).equals(bytes), bytes.toString('hex'));
      assert.ok(!unsafe.test(visible(name)));
    }
  });
});
