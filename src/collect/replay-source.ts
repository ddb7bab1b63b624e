// Feeds the screen from a recording instead of the live node: steps with the recording's own
// timing, holds on Z, and steps one snapshot back or forward on ← →.
import type { Recording } from '../record/reader.js';
import type { ReplayPosition, SnapshotSource, SourceListener } from './source.js';
import { leakingProcesses } from '../model/query.js';

/** Gaps in a recording longer than this (a node that hung) are shortened when played. */
const LONGEST_STEP_MS = 10_000;
const SHORTEST_STEP_MS = 100;

export class ReplaySource implements SnapshotSource {
  private listener: SourceListener | null = null;
  private index = 0;
  private paused = false;
  private timer: NodeJS.Timeout | null = null;

  /** The process the recording ends with as its story: the first leaking one, or the top one. */
  private readonly openOn: number | undefined;

  constructor(private readonly recording: Recording) {
    const last = recording.snapshots.at(-1);
    const leaking = last ? leakingProcesses(last.processes) : [];
    const top = last ? [...last.processes].sort((a, b) => b.watches - a.watches || a.pid - b.pid)[0] : undefined;
    this.openOn = (leaking[0] ?? top)?.pid;
  }

  start(listener: SourceListener): void {
    this.listener = listener;
    for (const warning of this.recording.warnings) listener.output(`inotop: warning: ${warning}\n`);
    this.show(0);
  }

  /** The recording's timing decides when the next snapshot shows; only pausing is taken from the screen. */
  schedule(_intervalMs: number, paused: boolean): void {
    this.paused = paused;
    this.planNext();
  }

  step(delta: number): void {
    this.show(this.index + delta);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listener = null;
  }

  private show(index: number): void {
    const { snapshots, header } = this.recording;
    this.index = Math.max(0, Math.min(snapshots.length - 1, index));
    const replay: ReplayPosition = { hostname: header.hostname, started: header.started, index: this.index, count: snapshots.length };
    this.listener?.snapshot(snapshots[this.index]!, { replay, ...(this.openOn !== undefined ? { openOn: this.openOn } : {}) });
    this.planNext();
  }

  private planNext(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const { snapshots, header } = this.recording;
    if (this.paused || this.index >= snapshots.length - 1 || !this.listener) return;
    const gap = Date.parse(snapshots[this.index + 1]!.time) - Date.parse(snapshots[this.index]!.time);
    const wait = Number.isFinite(gap) && gap > 0 ? gap : header.intervalSeconds * 1000;
    this.timer = setTimeout(() => this.show(this.index + 1), Math.min(LONGEST_STEP_MS, Math.max(SHORTEST_STEP_MS, wait)));
  }
}
