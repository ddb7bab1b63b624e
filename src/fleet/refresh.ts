// When the fleet screen reads Prometheus: at the start, then `intervalMs` after the previous read
// ended, and at once on `r`. A read never overlaps another: one asked for while a read runs comes
// right after it, once, however many times it was asked for.
export class Refresher {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly read: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    void this.run();
  }

  /** A read now, or right after the one under way. */
  now(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else void this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async run(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = true;
    try {
      await this.read();
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      void this.run();
      return;
    }
    this.timer = setTimeout(() => void this.run(), this.intervalMs);
  }
}
