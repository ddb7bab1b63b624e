// When the fleet screen reads Prometheus: at the start, then `intervalMs` after the previous read
// ended (at once where the read says there is more to read now), and at once on `r`. A read never
// overlaps another: one asked for while a read runs comes right after it, once, however many times
// it was asked for.
export class Refresher {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Resolves true where the next read should come at once. */
    private readonly read: () => Promise<boolean>,
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
    let more: boolean;
    try {
      more = await this.read();
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (this.again || more) {
      this.again = false;
      void this.run();
      return;
    }
    this.timer = setTimeout(() => void this.run(), this.intervalMs);
  }
}
