import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stopped } from '../../src/common/thread-stop.js';
import { devFromKernelDev, devicesOf, devOf, watchesOf } from '../../src/model/watches.js';
import {
  INOTIFY_LINKS,
  parseCmdline,
  parseEffectiveUid,
  parseInotifyFdinfo as parseBytes,
  parseNamespaceLink,
  parsePasswd,
  parseStat,
  parseSysctlNumber,
  parseWatchDevices,
  WatchListReader,
} from '../../src/scan/parse.js';

const HEADER = 'pos:\t0\nflags:\t02000000\nmnt_id:\t15\nino:\t1038\n';

/** The watches of an fdinfo text, as objects with their device names. */
const parseInotifyFdinfo = (text: string) => watchesOf(parseBytes(Buffer.from(text, 'latin1'))).map((watch) => ({ ...watch, dev: devOf(watch.sdev) }));

test('a watch line: every number is hex, wd included', () => {
  const [watch, ...rest] = parseInotifyFdinfo(
    HEADER + 'inotify wd:1f ino:3f7e8 sdev:fe00000 mask:fc6 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7030000000000\n',
  );
  assert.equal(rest.length, 0);
  assert.deepEqual(watch, {
    wd: 31,
    ino: 0x3f7e8,
    sdev: 0xfe00000,
    dev: '254:0',
    mask: 0xfc6,
    handle: { type: 1, bytes: Uint8Array.from(Buffer.from('e8f7030000000000', 'hex')) },
  });
});

test('numbers past a small integer (an inode of 2^40, mask bits 30 and 31) parse exactly, between lines of small ones', () => {
  const line = (ino: string, mask: string) =>
    `inotify wd:1 ino:${ino} sdev:800001 mask:${mask} ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:0100000000000000\n`;
  const watches = parseInotifyFdinfo(HEADER + line('1f', 'fc6') + line('10000000001', 'c0000fce') + line('3e', '2'));
  assert.deepEqual(
    watches.map(({ ino, mask }) => [ino, mask]),
    [
      [0x1f, 0xfc6],
      [2 ** 40 + 1, 0xc0000fce],
      [0x3e, 2],
    ],
  );
});

test("a line whose key differs from the kernel's by one byte anywhere is read as the tolerant parse reads it, never as the kernel's form", () => {
  const line = 'inotify wd:1f ino:3f7e8 sdev:fe00000 mask:fc6 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7030000000000';
  const [whole] = parseInotifyFdinfo(`${HEADER}${line}\n`);
  // What is left of the watch when a key is not recognised: the tolerant parse skips the field.
  const without: Record<string, typeof whole | undefined> = {
    inotify: undefined,
    wd: undefined,
    ino: undefined,
    sdev: undefined,
    mask: { ...whole!, mask: 0 },
    ignored_mask: whole,
    'fhandle-bytes': { ...whole!, handle: null },
    'fhandle-type': { ...whole!, handle: null },
    f_handle: { ...whole!, handle: null },
  };
  for (const [key, expected] of Object.entries(without)) {
    const at = line.indexOf(key === 'inotify' ? key : ` ${key}:`) + (key === 'inotify' ? 0 : 1);
    // Each byte of the key's name and its colon, in turn.
    for (let i = at; i <= at + key.length; i++) {
      if (key === 'inotify' && i === at + key.length) continue; // the space after "inotify"
      const changed = `${line.slice(0, i)}Q${line.slice(i + 1)}`;
      assert.deepEqual(parseInotifyFdinfo(`${HEADER}${changed}\n`)[0], expected, changed);
    }
  }
});

test('the header ino: line of the anon inode is not a watch', () => {
  assert.deepEqual(parseInotifyFdinfo(HEADER), []);
});

test('an instance with no watches has no watch lines', () => {
  assert.deepEqual(parseInotifyFdinfo('pos:\t0\nflags:\t02000000\nmnt_id:\t15\n'), []);
});

test('fhandle fields are missing when the filesystem cannot encode a handle', () => {
  const [watch] = parseInotifyFdinfo(HEADER + 'inotify wd:1 ino:1 sdev:1e mask:100 ignored_mask:0\n');
  assert.equal(watch!.handle, null);
  assert.equal(watch!.dev, '0:30');
});

test("old kernels' internal mask bits are kept as printed", () => {
  const [watch] = parseInotifyFdinfo('pos:\t0\nflags:\t00\ninotify wd:2 ino:1234 sdev:800001 mask:800afff ignored_mask:0\n');
  assert.equal(watch!.mask, 0x800afff);
  assert.equal(watch!.dev, '8:1');
});

test('only lines that begin with "inotify " are watches; malformed ones are skipped', () => {
  const text =
    HEADER +
    'fanotify flags:0 event-flags:0\n' +
    'xinotify wd:1 ino:1 sdev:1\n' +
    'inotify wd:2 ino:5 sdev:27 mask:2 ignored_mask:0\n' +
    'inotify garbage\n' +
    'inotify wd:3 ino:6 sdev:27 mask:2 ignored_mask:0'; // no trailing newline
  assert.deepEqual(
    parseInotifyFdinfo(text).map((w) => [w.wd, w.ino, w.dev]),
    [
      [2, 5, '0:39'],
      [3, 6, '0:39'],
    ],
  );
});

test("a big instance's fdinfo read in chunks parses as it does whole, wherever the chunks are cut", () => {
  const lines = [
    'inotify wd:1 ino:3f7e8 sdev:fe00000 mask:fc6 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7030000000000',
    'inotify garbage',
    'inotify wd:2 ino:5 sdev:27 mask:2 ignored_mask:0',
    'inotify mask:4 wd:3 sdev:27 ino:6', // not as the kernel prints it: the tolerant parser's
    'inotify wd:4 ino:7 sdev:27 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:0700000000000000',
  ];
  for (const end of ['\n', '']) {
    const bytes = Buffer.from(lines.join('\n') + end, 'latin1');
    const whole = watchesOf(parseBytes(bytes));
    assert.equal(whole.length, 4);
    for (let first = 0; first <= bytes.length; first++) {
      for (const second of [first, Math.min(bytes.length, first + 1), Math.min(bytes.length, first + 40)]) {
        const chunks = [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)];
        assert.deepEqual(watchesOf(parseBytes(chunks)), whole, `cut at ${first} and ${second}`);
      }
    }
  }
});

test('watch lines parsed for their devices first are, field by field, the watches of the whole parse: whatever a byte of the lines is', () => {
  const first = 'inotify wd:1f ino:3f7e8 sdev:fe00000 mask:fc6 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7030000000000';
  const second = (sdev: string) => `inotify wd:2 ino:10000000001 sdev:${sdev} mask:c0000fce ignored_mask:0`;
  const variants: string[] = [];
  // On one device (parsed for it first) and on two (parsed whole at once).
  for (const lines of [`${first}\n${second('fe00000')}`, `${first}\n${second('27')}`]) {
    variants.push(lines, `${lines}\n`, `${lines}\n\n`);
    // Each byte in turn made a digit, an upper-case digit, a letter of no key, a space, a line's end, or left out.
    for (let at = 0; at < lines.length; at++) {
      for (const byte of ['0', 'F', 'Q', ' ', '\n', '']) variants.push(`${lines.slice(0, at)}${byte}${lines.slice(at + 1)}`);
    }
  }
  // A handle of another length than fhandle-bytes says, one past MAX_HANDLE_SZ, none at all; the same field twice.
  variants.push(
    'inotify wd:1 ino:2 sdev:27 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7',
    `inotify wd:1 ino:2 sdev:27 mask:2 ignored_mask:0 fhandle-bytes:81 fhandle-type:1 f_handle:${'00'.repeat(0x81)}`,
    'inotify wd:1 ino:2 sdev:27 mask:2 ignored_mask:0 fhandle-bytes:0 fhandle-type:1 f_handle:',
    'inotify wd:1 ino:2 sdev:27 sdev:28 mask:2 ignored_mask:0',
  );
  for (const text of variants) {
    const bytes = Buffer.from(text, 'latin1');
    const devices = parseWatchDevices(bytes);
    const whole = parseBytes(bytes);
    assert.equal(devices.length, whole.length, text);
    assert.deepEqual(devices.sdev, whole.sdev, text);
    assert.deepEqual(watchesOf(devices), watchesOf(whole), text);
  }
});

test("a list parsed for its devices first keeps its own copy of the lines: the reader's buffer is reused", () => {
  const bytes = Buffer.from('inotify wd:1 ino:2 sdev:27 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:0200000000000000\n', 'latin1');
  const whole = watchesOf(parseBytes(bytes));
  const devices = parseWatchDevices(bytes);
  bytes.fill(0x78);
  assert.deepEqual(watchesOf(devices), whole);
});

/** The watches of `bytes` read as a WatchListReader takes them: cut at `cuts`, each piece handed over in one buffer overwritten after it. */
function readInPieces(bytes: Buffer, cuts: readonly number[]) {
  const reader = new WatchListReader();
  const reused = Buffer.alloc(bytes.length);
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    bytes.copy(reused, 0, from, to);
    reader.add(reused.subarray(0, to - from));
    reused.fill(0x78); // the next read's bytes: nothing handed over may be kept by reference
    from = to;
  }
  const read = reader.end();
  return read && { watches: watchesOf(read.watches), bytes: read.bytes };
}

test('a file parsed as it is read, a reused chunk at a time, gives the watches and list bytes of it parsed whole', () => {
  const lines = [
    'inotify wd:1 ino:3f7e8 sdev:fe00000 mask:fc6 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7030000000000',
    'inotify garbage',
    'inotify wd:2 ino:5 sdev:27 mask:2 ignored_mask:0',
    'inotify mask:4 wd:3 sdev:27 ino:6',
    'inotify wd:4 ino:7 sdev:27 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:07000000000000', // a handle cut short
    'inotify wd:5 ino:8 sdev:27 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:0800000000000000',
  ];
  for (const end of ['\n', '', '\ninotify wd:6 ino:9 sd']) {
    const text = HEADER + lines.join('\n') + end;
    const bytes = Buffer.from(text, 'latin1');
    const whole = watchesOf(parseBytes(bytes));
    const listBytes = bytes.length - HEADER.length;
    for (let first = 0; first <= bytes.length; first++) {
      for (const second of [first, Math.min(bytes.length, first + 1), Math.min(bytes.length, first + 57)]) {
        assert.deepEqual(readInPieces(bytes, [first, second]), { watches: whole, bytes: listBytes }, `cut at ${first} and ${second}`);
      }
    }
    const bytewise = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(readInPieces(bytes, bytewise), { watches: whole, bytes: listBytes }, 'a byte at a time');
  }
});

test('a file read as it comes with no watch line has no list; its first watch line is found wherever the pieces are cut', () => {
  assert.equal(readInPieces(Buffer.from(HEADER, 'latin1'), [5, 20]), null);
  assert.equal(readInPieces(Buffer.from(HEADER + 'inotifyx wd:1 ino:2 sdev:3\n', 'latin1'), [HEADER.length + 3]), null);
  assert.equal(new WatchListReader().end(), null);
  const one = Buffer.from(HEADER + 'inotify wd:1 ino:2 sdev:3\n', 'latin1');
  for (let cut = 0; cut <= one.length; cut++) {
    assert.deepEqual(
      readInPieces(one, [cut]),
      { watches: [{ wd: 1, ino: 2, sdev: 3, mask: 0, handle: null }], bytes: one.length - HEADER.length },
      `cut at ${cut}`,
    );
  }
});

test('a long list read as it comes grows its own arrays: 100,000 watches, handles and all, as parsed whole', () => {
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const handle = i % 3 === 0 ? '' : ` fhandle-bytes:8 fhandle-type:1 f_handle:${i.toString(16).padStart(16, '0')}`;
    lines.push(
      `inotify wd:${(i + 1).toString(16)} ino:${(i * 7919).toString(16)} sdev:${(i % 5).toString(16)} mask:${(i & 0xfff).toString(16)} ignored_mask:0${handle}\n`,
    );
  }
  const bytes = Buffer.from(HEADER + lines.join(''), 'latin1');
  const cuts: number[] = [];
  for (let at = 1 << 16; at < bytes.length; at += 1 << 20) cuts.push(at);
  const read = readInPieces(bytes, cuts)!;
  assert.equal(read.watches.length, 100_000);
  assert.deepEqual(read.watches, watchesOf(parseBytes(bytes)));
});

test('a long list read as it comes whose handles outgrow their room before its watches do: handles and all, as parsed whole', () => {
  // 64-byte handles, four times the room a list makes for each watch's: the handles' room grows first, then the watches'.
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    const handle = i.toString(16).padStart(8, '0').repeat(16);
    lines.push(
      `inotify wd:${(i + 1).toString(16)} ino:${(i * 31).toString(16)} sdev:27 mask:fce ignored_mask:0 fhandle-bytes:40 fhandle-type:81 f_handle:${handle}\n`,
    );
  }
  const bytes = Buffer.from(HEADER + lines.join(''), 'latin1');
  const cuts: number[] = [];
  for (let at = 1 << 16; at < bytes.length; at += 1 << 20) cuts.push(at);
  const read = readInPieces(bytes, cuts)!;
  assert.equal(read.watches.length, 40_000);
  assert.equal(read.watches[39_999]!.handle?.bytes.length, 64);
  assert.deepEqual(read.watches, watchesOf(parseBytes(bytes)));
});

test("a list's devices: each once, in the order it first appears, with its watches, however the runs of one device fall", () => {
  const line = (wd: number, sdev: number) => `inotify wd:${wd} ino:${wd} sdev:${sdev.toString(16)} mask:2 ignored_mask:0\n`;
  const sdevs = [0x27, 0x27, 0x27, 0x2f, 0x27, 0x800001, 0x800001, 0x2f, 0x27];
  const list = parseBytes(Buffer.from(sdevs.map((sdev, i) => line(i + 1, sdev)).join(''), 'latin1'));
  assert.deepEqual(devicesOf(list), { sdevs: [0x27, 0x2f, 0x800001], counts: [5, 2, 2] });
  assert.deepEqual(devicesOf(parseBytes(Buffer.from(line(1, 0x27), 'latin1'))), { sdevs: [0x27], counts: [1] });
  assert.deepEqual(devicesOf(parseBytes(new Uint8Array(0))), { sdevs: [], counts: [] });
});

test('kernel dev_t to MAJ:MIN', () => {
  assert.equal(devFromKernelDev(0xfe00000), '254:0');
  assert.equal(devFromKernelDev(0x800001), '8:1');
  assert.equal(devFromKernelDev(0x27), '0:39');
  assert.equal(devFromKernelDev(0xfff00000 + 0xfffff), '4095:1048575');
});

test('inotify fd links, new and old kernels', () => {
  assert.ok(INOTIFY_LINKS.includes('anon_inode:inotify'));
  assert.ok(INOTIFY_LINKS.includes('inotify'));
  assert.ok(!INOTIFY_LINKS.includes('anon_inode:[fanotify]'));
  assert.ok(!INOTIFY_LINKS.includes('/tmp/inotify'));
});

test('stat: a comm with spaces and ")" ends at the last ")"', () => {
  assert.deepEqual(parseStat('300 (my (weird)) app) S 1 300 300 0 -1 4194560'), { comm: 'my (weird)) app', state: 'S', ppid: 1, numThreads: 1, startTime: 0 });
  const full = '4242 (kubelet) D 1 4242 4242 0 -1 4194560 8174 0 2 0 120 95 0 0 20 0 14 0 31337 1924 1 18446744073709551615';
  assert.deepEqual(
    parseStat(full),
    { comm: 'kubelet', state: 'D', ppid: 1, numThreads: 14, startTime: 31337 },
    'field 3: state, field 20: threads, field 22: start time, ticks after boot',
  );
  assert.equal(parseStat(''), null);
  assert.equal(parseStat('12 (x'), null);
});

test('status: the effective uid is the second Uid field', () => {
  assert.equal(parseEffectiveUid('Name:\tsu\nPPid:\t1\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n'), 0);
  assert.equal(parseEffectiveUid('Name:\tx\n'), null);
});

test('cmdline: NUL-separated, empty for kernel threads', () => {
  assert.equal(parseCmdline('/usr/bin/kubelet\0--v=2\0'), '/usr/bin/kubelet --v=2');
  assert.equal(parseCmdline(''), '');
});

test('namespace links, passwd, sysctls', () => {
  assert.equal(parseNamespaceLink('user:[4026531837]'), '4026531837');
  assert.equal(parseNamespaceLink('garbage'), null);
  const names = parsePasswd('root:x:0:0::/root:/bin/sh\n# comment\nbroken\nalice:x:1000:1000::/h:/bin/sh\ntoor:x:0:0::/:/bin/sh\n');
  assert.equal(names.get(0), 'root');
  assert.equal(names.get(1000), 'alice');
  assert.equal(names.size, 2);
  assert.equal(parseSysctlNumber('8192\n'), 8192);
  assert.equal(parseSysctlNumber(''), null);
  assert.equal(parseSysctlNumber(null), null);
  assert.equal(parseSysctlNumber('lots'), null);
});

test("a big list's parse calls its checkpoint at each megabyte: a stop thrown there ends the parse, chunks or one buffer", () => {
  // 40,000 kernel lines of some 110 bytes: 4.4 MB, as the scanner reads it (a 64 KB first read,
  // then 1 MB chunks, lines cut across them) and as one buffer (a recorded tree's file).
  const text = Array.from({ length: 40_000 }, (_, i) => {
    const hex = (i + 1).toString(16);
    return `inotify wd:${hex} ino:${hex} sdev:800001 mask:fce ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:${hex.padStart(16, '0')}\n`;
  }).join('');
  const whole = Buffer.from(text, 'latin1');
  const chunks = [whole.subarray(0, 1 << 16)];
  for (let at = 1 << 16; at < whole.length; at += 1 << 20) chunks.push(whole.subarray(at, at + (1 << 20)));
  const unchecked = parseBytes(whole);
  assert.equal(unchecked.length, 40_000);
  for (const [form, bytes] of [
    ['chunks', chunks],
    ['one buffer', whole],
  ] as const) {
    let checks = 0;
    const list = parseBytes(bytes, () => void checks++);
    assert.deepEqual(watchesOf(list), watchesOf(unchecked), `${form}: the same watches, checked or not`);
    assert.ok(checks >= 4 && checks <= 5, `${form}: ${checks} checks, one a megabyte`);
    // Asked to stop at the second check: the parse ends there, its list never made.
    let asked = 0;
    assert.throws(
      () =>
        parseBytes(bytes, () => {
          if (++asked === 2) throw new Stopped();
        }),
      Stopped,
      `${form}: the stop ends the parse`,
    );
    assert.equal(asked, 2, `${form}: no check after the stop`);
  }
});
