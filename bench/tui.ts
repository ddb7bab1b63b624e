// The TUI measured as a user runs it: `inotop` in a tmux pane on a private tmux server.
// - Steady state: CPU (utime+stime of every thread, /proc/PID/stat) and RSS (/proc/PID/status)
//   over a window after the first refreshes, at the default 2 s interval. The window is a whole
//   number of cycles of the pace the header tells (a full scan every N s), from the end of a full
//   scan to the end of a later one (steadyWindow): any other length holds a full scan or none by
//   chance, and the share comes out high or low.
// - Key latency: "?" opens the help overlay. A tmux control-mode client sees the pane's output as
//   it is written (%output), so the time from send-keys to the output that draws the overlay is
//   measured without polling. Every other press lands at a random moment, the rest as soon as the
//   scan worker thread is seen running (its state in /proc/PID/task/TID/stat is R, looked at
//   every 5 ms): scans are rare and short where only what changed is read. The presses that count
//   are those made while the worker ran.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBuilt, inotopBin } from '../test/helpers/build.js';
import { TmuxPane } from '../test/helpers/tmux.js';
import { spread, type Spread } from './measure.js';

export interface TuiMeasurement {
  seconds: number;
  intervalSeconds: number;
  /** CPU time over the window, as % of one core: the whole process, its main thread, the scan worker. */
  cpuPercent: number;
  mainCpuPercent: number;
  workerCpuPercent: number;
  rssMb: Spread;
  /** RSS at each interval of the window: growth or steady. */
  rssSeriesMb: number[];
  /** Presses made while a scan ran; null when the worker was never caught running. */
  keyLatencyMs: Spread | null;
  /** Presses at any moment. */
  keyLatencyAllMs: Spread;
  /** Share of the presses that found the scan worker running. */
  scanBusyPercent: number;
  /** inotop's flags besides -d and --pods. */
  args: readonly string[];
  /** The pace the header told at the end of the window ("every 2s (all processes every 66.7s: …)"). */
  pace: string;
  /** How the window relates to the pace's cycle (steadyWindow). */
  window: string;
  /** Whether the window was watched with the top process selected and its detail pane scrolled to its end. */
  detailEnd: boolean;
}

const INTERVAL_SECONDS = 2;
const COLUMNS = 160;
const ROWS = 48;
const SCANNING_PRESSES = 20;
/** The longest window, whatever the pace. */
const MAX_WINDOW_SECONDS = 300;
/** How often the window looks at the scan worker's CPU time. */
const POLL_MS = 100;
const MAX_PRESSES = 60;
/** How long a press waits for the scan worker to run (a refresh starts every 2 s). */
const WORKER_WAIT_MS = 3000;
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function cpuTicks(path: string): number {
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
}

function threadState(pid: number, tid: number): string {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]![0]!;
  } catch {
    return '?';
  }
}

function rssMb(pid: number): number {
  const match = /\nVmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/**
 * A tmux control-mode client: commands in, one %begin/%end block per command out, and %output
 * whenever the pane writes.
 */
export class ControlClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: ((lines: string[]) => void)[] = [];
  private block: string[] | null = null;
  /** When the pane last wrote. */
  lastOutputAt = 0;
  private onOutput: (() => void) | null = null;

  constructor(pane: TmuxPane) {
    this.child = spawn('tmux', ['-L', pane.socket, '-C', 'attach'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.resume();
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (line.startsWith('%output ')) {
        this.lastOutputAt = performance.now();
        this.onOutput?.();
      } else if (line.startsWith('%begin ')) {
        this.block = [];
      } else if ((line.startsWith('%end ') || line.startsWith('%error ')) && this.block) {
        const lines = this.block;
        this.block = null;
        this.replies.shift()?.(lines);
      } else if (this.block) {
        this.block.push(line);
      }
    });
  }

  /** The first block is tmux's greeting on attach, answered to no command. */
  async ready(): Promise<void> {
    await new Promise<string[]>((resolve) => this.replies.push(resolve));
  }

  command(command: string): Promise<string[]> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.child.stdin.write(command + '\n');
    });
  }

  /** Resolves at the next pane output. */
  nextOutput(): Promise<void> {
    return new Promise((resolve) => {
      this.onOutput = () => {
        this.onOutput = null;
        resolve();
      };
    });
  }

  close(): void {
    this.child.kill();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The full scans' pace the header tells ("all processes every 74.5s: a full scan takes 2234 ms"); null where every refresh reads all. */
function fullScanPace(header: string): { everySeconds: number; scanMs: number } | null {
  const match = /all processes every (\d+(?:\.\d+)?)s: a full scan takes (\d+) ms/.exec(header);
  return match ? { everySeconds: Number(match[1]), scanMs: Number(match[2]) } : null;
}

interface SteadyWindow {
  seconds: number;
  /** CPU ticks over the window: the whole process, its main thread, the scan worker. */
  ticks: number;
  mainTicks: number;
  workerTicks: number;
  rssMb: number[];
  /** How the window relates to the pace's cycle. */
  told: string;
}

/**
 * The steady state's window. Where full scans come less often than refreshes, it is a whole
 * number of their cycles, from the end of one full scan to the end of a later one, so that it
 * holds exactly as many full scans as cycles (and the garbage collection that follows each): a
 * window of any other length holds one full scan or none by chance, and the share comes out high
 * or low. A full scan is the worker busy for at least a quarter of what the header says one takes (and 300 ms),
 * seen every POLL_MS. Where the cycle is longer than MAX_WINDOW_SECONDS, or no full scan ends in
 * time, the window is `seconds` long and says so.
 */
async function steadyWindow(pane: TmuxPane, pid: number, worker: number | null, seconds: number): Promise<SteadyWindow> {
  const header = () => pane.screen().split('\n')[0] ?? '';
  const full = fullScanPace(header());
  const workerTicks = () => (worker === null ? 0 : threadTicksOf(pid, worker));
  // A scan so short that a refresh between full scans looks like it: cycles are short too, and
  // whole intervals of -d are near enough.
  const aligned = full !== null && full.scanMs >= 400 && full.everySeconds <= MAX_WINDOW_SECONDS && worker !== null;
  const cycles = aligned ? Math.max(1, Math.min(Math.floor(MAX_WINDOW_SECONDS / full.everySeconds), Math.round(seconds / full.everySeconds))) : 0;
  const rss: number[] = [];
  let lastRssAt = 0;
  const sampleRss = () => {
    if (performance.now() - lastRssAt < INTERVAL_SECONDS * 1000) return;
    lastRssAt = performance.now();
    rss.push(rssMb(pid));
  };
  /** Resolves when a full scan ends (true), or after `ms` without one (false). */
  const fullScanEnd = async (ms: number): Promise<boolean> => {
    const until = performance.now() + ms;
    // The header's cost counts every thread (refreshCostMs): the worker's own share of it may be
    // half or less. A refresh between full scans costs the worker some 20 ms.
    const busyTicks = Math.max(0.3, full!.scanMs / 1000 / 4) * ticksPerSecond;
    let streak = 0;
    let last = workerTicks();
    while (performance.now() < until) {
      await sleep(POLL_MS);
      sampleRss();
      const now = workerTicks();
      const used = now - last;
      last = now;
      // Busy for at least half of the poll: the scan goes on.
      if (used >= (POLL_MS / 1000) * ticksPerSecond * 0.5) streak += used;
      else if (streak >= busyTicks) return true;
      else streak = 0;
    }
    return false;
  };
  const cycleMs = (full?.everySeconds ?? 0) * 1000;
  // The first full scan's end comes within a cycle and a refresh.
  if (aligned && (await fullScanEnd(cycleMs + 10_000))) {
    const before = { all: cpuTicks(`/proc/${pid}/stat`), threads: threadTicks(pid) };
    const started = performance.now();
    lastRssAt = 0;
    rss.length = 0;
    sampleRss();
    let ended = 0;
    while (ended < cycles && (await fullScanEnd(cycleMs + 10_000))) ended++;
    const elapsed = (performance.now() - started) / 1000;
    const after = { all: cpuTicks(`/proc/${pid}/stat`), threads: threadTicks(pid) };
    if (ended === cycles) {
      return {
        seconds: elapsed,
        ticks: after.all - before.all,
        mainTicks: after.threads.get(pid)! - before.threads.get(pid)!,
        workerTicks: after.threads.get(worker!)! - before.threads.get(worker!)!,
        rssMb: rss,
        told: `${cycles} whole cycle${cycles > 1 ? 's' : ''} of the pace, from the end of a full scan to the end of the ${ordinal(cycles)} after (${(elapsed / cycles).toFixed(1)} s each)`,
      };
    }
  }
  const why = !full
    ? 'every refresh reads all'
    : full.everySeconds > MAX_WINDOW_SECONDS
      ? `a cycle of the pace is longer than ${MAX_WINDOW_SECONDS} s`
      : full.scanMs < 400
        ? 'full scans too short to tell from the refreshes between'
        : 'no full scan seen ending in time';
  const before = { all: cpuTicks(`/proc/${pid}/stat`), threads: threadTicks(pid) };
  const started = performance.now();
  lastRssAt = 0;
  rss.length = 0;
  // Whole intervals of -d, at least one cycle of the full scans where it fits.
  const windowMs = Math.min(MAX_WINDOW_SECONDS, Math.max(seconds, full?.everySeconds ?? 0)) * 1000;
  while (performance.now() - started < windowMs) {
    sampleRss();
    await sleep(POLL_MS);
  }
  const elapsed = (performance.now() - started) / 1000;
  const after = { all: cpuTicks(`/proc/${pid}/stat`), threads: threadTicks(pid) };
  const busiest = busiestThread(pid, before.threads, after.threads);
  return {
    seconds: elapsed,
    ticks: after.all - before.all,
    mainTicks: after.threads.get(pid)! - before.threads.get(pid)!,
    workerTicks: worker === null ? busiest.ticks : (after.threads.get(worker) ?? 0) - (before.threads.get(worker) ?? 0),
    rssMb: rss,
    told: `${elapsed.toFixed(0)} s from any moment, not whole cycles (${why}${full ? `; the cycle: ${full.everySeconds} s` : ''})`,
  };
}

function ordinal(n: number): string {
  return n === 1 ? 'next' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

function threadTicksOf(pid: number, tid: number): number {
  try {
    return cpuTicks(`/proc/${pid}/task/${tid}/stat`);
  } catch {
    return 0;
  }
}

/** The busiest thread besides the main one over the window (the scan worker), and its ticks. */
function busiestThread(pid: number, before: Map<number, number>, after: Map<number, number>): { tid: number | null; ticks: number } {
  let busiest: { tid: number | null; ticks: number } = { tid: null, ticks: 0 };
  for (const [tid, ticks] of after) {
    const used = ticks - (before.get(tid) ?? 0);
    if (tid !== pid && used > busiest.ticks) busiest = { tid, ticks: used };
  }
  return busiest;
}

function threadTicks(pid: number): Map<number, number> {
  return new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [Number(tid), cpuTicks(`/proc/${pid}/task/${tid}/stat`)]));
}

/**
 * `extraArgs`: inotop flags besides `-d 2 --pods none` (e.g. --no-trace, for every refresh a full
 * scan). `detailEnd`: the window is watched with the top process (the most watches: the default
 * sort) selected and its detail pane scrolled to its last target, what a user at a leak looks at.
 */
export async function measureTui(seconds: number, extraArgs: readonly string[] = [], detailEnd = false): Promise<TuiMeasurement | { skipped: string }> {
  let helpMarker: string;
  try {
    const { KEY_BINDINGS } = await import('../src/views/tui/keys.js');
    helpMarker = KEY_BINDINGS.find((binding) => binding.command === 'help')!.help;
  } catch (error) {
    return { skipped: `no TUI to measure (${(error as Error).message})` };
  }
  ensureBuilt();
  const pane = new TmuxPane([process.execPath, inotopBin, '-d', String(INTERVAL_SECONDS), '--pods', 'none', ...extraArgs], { width: COLUMNS, height: ROWS });
  try {
    const first = await pane.waitFor((text) => text.includes('EXIT=') || text.includes('Help'), 'the first screen', 30_000);
    if (first.includes('EXIT=')) return { skipped: `inotop exits at once: ${first.trim().split('\n').slice(-3).join(' / ')}` };
    const pid = pane.commandPid();
    const threadsAtStart = threadTicks(pid);
    // The first refreshes (cold caches, module loading) are not the steady state.
    await pane.waitFor((text) => !text.includes('first scan…'), 'the first snapshot', 120_000);
    // The first scan ran in the worker: the busiest thread besides the main one since the start.
    const worker = busiestThread(pid, threadsAtStart, threadTicks(pid)).tid;
    if (detailEnd) {
      // Home: the top row; Tab: into its detail pane; End: its last target, once its targets
      // have come (the collector sends a new selection's after the snapshot: an End before them
      // stays on the first row).
      pane.keys('Home');
      pane.keys('Tab');
      await sleep(2 * INTERVAL_SECONDS * 1000);
      pane.keys('End');
    }
    await sleep(2 * INTERVAL_SECONDS * 1000);
    const window = await steadyWindow(pane, pid, worker, seconds);
    const elapsed = window.seconds;
    const percent = (ticks: number): number => (ticks / ticksPerSecond / elapsed) * 100;
    const cpuPercent = percent(window.ticks);
    const rss = window.rssMb;
    const pace = /every \S+(?: \([^)]*\))*/.exec(pane.screen().split('\n')[0] ?? '')?.[0] ?? 'unknown';

    const latencies = await measureKeys(pane, pid, worker, helpMarker);
    const scanning = latencies.filter((press) => press.scanning).map((press) => press.ms);
    return {
      seconds: Math.round(elapsed),
      intervalSeconds: INTERVAL_SECONDS,
      cpuPercent,
      mainCpuPercent: percent(window.mainTicks),
      workerCpuPercent: percent(window.workerTicks),
      rssMb: spread(rss),
      rssSeriesMb: rss.map((mb) => Math.round(mb)),
      keyLatencyMs: scanning.length > 0 ? spread(scanning) : null,
      keyLatencyAllMs: spread(latencies.map((press) => press.ms)),
      scanBusyPercent: (scanning.length / latencies.length) * 100,
      pace,
      window: window.told,
      args: extraArgs,
      detailEnd,
    };
  } finally {
    pane.kill();
  }
}

/** Waits, looking every 5 ms for at most `ms`, for the scan worker to run; whether it was seen running. */
async function workerRunning(pid: number, worker: number | null, ms: number): Promise<boolean> {
  if (worker === null) return false;
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (threadState(pid, worker) === 'R') return true;
    await sleep(5);
  }
  return false;
}

async function measureKeys(pane: TmuxPane, pid: number, worker: number | null, marker: string): Promise<{ ms: number; scanning: boolean }[]> {
  const client = new ControlClient(pane);
  await client.ready();
  const shows = async (): Promise<boolean> => (await client.command('capture-pane -p')).some((line) => line.includes(marker));
  const presses: { ms: number; scanning: boolean }[] = [];
  try {
    while (presses.length < MAX_PRESSES && presses.filter((press) => press.scanning).length < SCANNING_PRESSES) {
      let scanning: boolean;
      if (presses.length % 2 === 0) {
        await sleep(100 + Math.random() * 600);
        scanning = worker !== null && threadState(pid, worker) === 'R';
      } else {
        scanning = await workerRunning(pid, worker, WORKER_WAIT_MS);
      }
      const pressedAt = performance.now();
      let output = client.nextOutput();
      await client.command('send-keys ?');
      // The overlay may come after an unrelated refresh: check the pane after each write.
      for (;;) {
        await withTimeout(output, 5_000, 'no screen update within 5 s of a key press');
        output = client.nextOutput();
        const drawnAt = client.lastOutputAt;
        if (await shows()) {
          presses.push({ ms: drawnAt - pressedAt, scanning });
          break;
        }
      }
      await client.command('send-keys ?');
      while (await shows()) await sleep(20);
    }
  } finally {
    client.close();
  }
  return presses;
}
