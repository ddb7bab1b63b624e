// A collector's scan asked to stop (its thread's stop cell, src/common/thread-stop.ts) while it
// reads or parses one big instance, on the real kernel: a child process holds an instance whose fdinfo takes
// the first read (64 KB) and several reads of 1 MB. The scanner's own checkpoint (ScanOptions
// .checkpoint) is the seam: it is the stop cell's check, and the cell is asked from inside it at
// the moment under test, as the collector's main thread would ask it meanwhile. Nothing in src/ is
// there for the test.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { StopCell, Stopped } from '../../src/common/thread-stop.js';
import { Misses } from '../../src/scan/coverage.js';
import { Scanner } from '../../src/scan/index.js';
import { isRoot, rootSkip } from '../helpers/inowatch.js';
import { startLoad, type Load } from '../helpers/load.js';

/** Some 3.5 MB of watch lines: the first read's 64 KB, then three full reads of 1 MB and a short one. */
const WATCHES = 30_000;

/** Whether this process has an fd open on `path` (procfs: /proc/self/fd/N links to it). */
function haveOpen(path: string): boolean {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) return true;
    } catch {
      // the listing's own fd, closed by now
    }
  }
  return false;
}

/** Where each check of a scanner's checkpoint came, from the ask on, and what went into its misses. */
interface StopRun {
  /** The checks from the one at which the cell was asked on (that one included). */
  checksAfterAsk: number;
  /** What the scan ended with. */
  outcome: 'stopped' | 'returned' | Error;
  /** Misses.add's calls during the scan: cause, pid, detail. */
  misses: [string, number, string | undefined][];
}

/**
 * One scan of a new collector-like Scanner (not once-only: its fdinfo files are read through
 * FdinfoFiles, with the checkpoint between their 1 MB reads), whose checkpoint is a real stop
 * cell's check; the cell is asked at the first check at which `askNow` says so.
 */
function scanStoppedWhen(askNow: () => boolean): StopRun {
  const cell = new StopCell();
  let checksAfterAsk = 0;
  const checkpoint = (): void => {
    if (!cell.asked() && askNow()) cell.ask();
    if (cell.asked()) checksAfterAsk++;
    cell.check();
  };
  const misses: StopRun['misses'] = [];
  const add = Misses.prototype.add;
  Misses.prototype.add = function (this: Misses, cause: string, pid: number, detail?: string) {
    misses.push([cause, pid, detail]);
    add.call(this, cause, pid, detail);
  };
  const scanner = new Scanner({ checkpoint });
  let outcome: StopRun['outcome'];
  try {
    scanner.scan();
    outcome = 'returned';
  } catch (error) {
    outcome = error instanceof Stopped ? 'stopped' : (error as Error);
  } finally {
    Misses.prototype.add = add;
    scanner.close();
  }
  return { checksAfterAsk, outcome, misses };
}

describe('a scan asked to stop in the middle of a big instance', { skip: rootSkip }, () => {
  let load: Load;
  let pid: number;
  let fdinfoPath: string;

  before(async () => {
    if (!isRoot) return;
    load = await startLoad({ processes: 1, instances: 1, watches: WATCHES, noiseFds: 0 });
    pid = load.pids[0]!;
    const fd = readdirSync(`/proc/${pid}/fd`).find((name) => readlinkSync(`/proc/${pid}/fd/${name}`) === 'anon_inode:inotify')!;
    fdinfoPath = `/proc/${pid}/fdinfo/${fd}`;
    // Several 1 MB reads after the first 64 KB.
    const bytes = readFileSync(fdinfoPath).length;
    assert.ok(bytes > (1 << 16) + 2 * (1 << 20), `${bytes} bytes of fdinfo`);
  });

  after(async () => {
    await load?.stop();
  });

  test('between its 1 MB reads: the scan ends there with Stopped, that instance not counted as a miss', () => {
    // The scanner opens the fdinfo file, reads its first 64 KB and calls the checkpoint before its
    // second read: the first check at which it has the file open is that one (a new Scanner holds
    // no file of an earlier scan).
    const run = scanStoppedWhen(() => haveOpen(fdinfoPath));
    assert.equal(run.outcome, 'stopped', 'the scan ended with Stopped');
    assert.deepEqual(
      run.misses.filter(([, missed]) => missed === pid),
      [],
      'the instance read when the stop came is not a miss',
    );
    // The stop ended the scan at the check where it was asked: it went on to no other process nor fd.
    assert.equal(run.checksAfterAsk, 1, 'checks from the ask on');
  });

  test('in its parse (some 3.5 MB of lines read, hundreds of ms at 500,000 watches): the scan ends at the next megabyte, with Stopped', () => {
    // The first check made from inside the parse (its caller's frames name it): the whole file has
    // been read, its lines are being parsed. A parse without checks of its own never gets here.
    let inParse = 0;
    const run = scanStoppedWhen(() => {
      if (!new Error().stack!.includes('parseInotifyFdinfo')) return false;
      inParse++;
      return true;
    });
    assert.equal(inParse, 1, 'the stop was asked in the parse');
    assert.equal(run.outcome, 'stopped', 'the scan ended with Stopped');
    assert.equal(run.checksAfterAsk, 1, 'the parse ended at the check where the stop was asked');
    assert.deepEqual(
      run.misses.filter(([, missed]) => missed === pid),
      [],
      'the instance parsed when the stop came is not a miss',
    );
  });
});
