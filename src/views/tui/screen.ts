// The blessed layer: draws a view state into a few boxes and turns keys, mouse, resizes and
// snapshots into actions. One box per region, filled with only the lines that show (a widget per
// row is far too slow at thousands of processes). It owns the terminal: nothing else prints while
// it is up, and every way out (q, Ctrl-C, signals, an exception) restores the terminal first.
import blessed from 'blessed';
import type contrib from 'blessed-contrib';
import sparkline from 'blessed-contrib/lib/widget/sparkline.js';
import { format } from 'node:util';
import { EXIT_SIGNALS, signalExitCode } from '../../signals.js';
import { fit } from '../format.js';
import { screenText } from '../../common/text.js';
import { errorText } from '../../common/error-text.js';
import { actionForKey, commandForKey } from './keys.js';
import { columnAt } from '../columns.js';
import type { SnapshotSource } from '../../collect/source.js';
import { logLines } from './paint/changes.js';
import { detailLines } from './paint/detail.js';
import { footerLine } from './paint/footer.js';
import { headerLines, sparklineTitle } from './paint/header.js';
import { layout, layoutNeeds, paneRows, tooSmall, tooSmallLines, type Layout } from './paint/layout.js';
import { helpBoxWidth, helpLines, menuBoxWidth, menuLines, notesLines } from './paint/overlays.js';
import { Painter } from '../painter.js';
import { tableColumns, tableLines } from './paint/table.js';
import { releaseSnapshot } from './memo.js';
import { ORDER_HOLD_MS } from './process-view.js';
import { paneAsk } from './process-rows.js';
import type { PaneAsk } from '../../model/pane.js';
import { saveSettings, SettingsError } from './settings.js';
import { inspectLines, osc52 } from './inspect.js';
import { initialState, inspectedParagraphs, reduce } from './state.js';
import type { Action, InitialView, ViewState } from './view-state.js';

export interface ScreenOptions {
  source: SnapshotSource;
  initial: InitialView;
  color: boolean;
  /** Where the sort, columns, interval and view are saved as they change; null: nowhere (--no-config, a broken file). */
  settings: string | null;
}

/** Runs the screen until the user quits; resolves to the exit code, with the terminal restored. */
export function runScreen(options: ScreenOptions): Promise<number> {
  return new Promise((resolve) => new TerminalUi(options, resolve).start());
}

class TerminalUi {
  private state: ViewState;
  private readonly painter: Painter;
  private readonly output = new HeldOutput();
  private screen!: blessed.Widgets.Screen;
  private header!: blessed.Widgets.BoxElement;
  private sparkline!: contrib.Widgets.SparklineElement;
  private table!: blessed.Widgets.BoxElement;
  private detail!: blessed.Widgets.BoxElement;
  private log!: blessed.Widgets.BoxElement;
  private footer!: blessed.Widgets.BoxElement;
  private overlay!: blessed.Widgets.BoxElement;
  private notice!: blessed.Widgets.BoxElement;
  private geometry: Layout | null = null;
  /** What each region shows: one drawn as it was is not set again (place). */
  private readonly drawn = new Map<blessed.Widgets.BoxElement, { top: number; height: number; content: string }>();
  private holdTimer: NodeJS.Timeout | null = null;
  /** The detail pane's window last asked of the source. */
  private asked: PaneAsk | null = null;
  private finished = false;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();
  private readonly onUncaught = (error: unknown) => void this.finish(1, error);

  constructor(
    private readonly options: ScreenOptions,
    private readonly resolve: (code: number) => void,
  ) {
    this.state = initialState(options.initial);
    this.painter = new Painter(options.color);
    this.settingsPath = options.settings;
  }

  /** A failure while starting (the first snapshot drawn here too) closes the screen with exit 1 like any other. */
  start(): void {
    try {
      this.begin();
    } catch (error) {
      void this.finish(1, error);
    }
  }

  private begin(): void {
    this.output.hold();
    this.createWidgets();
    // After blessed's own handlers: those stand aside while another listener exists, but when
    // they come later in the same emit they see ours already removed by finish() and exit(0).
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUncaught);
    for (const signal of EXIT_SIGNALS) {
      const handler = () => void this.finish(signalExitCode(signal));
      this.signalHandlers.set(signal, handler);
      process.on(signal, handler);
    }
    this.options.source.start({
      snapshot: (snapshot, context) => this.dispatch({ type: 'snapshot', snapshot, ...context }),
      slice: (slice, holders) => this.dispatch({ type: 'slice', slice, holders }),
      progress: (progress) => this.dispatch({ type: 'progress', progress }),
      failed: (message) => this.dispatch({ type: 'failed', message }),
      fatal: (error) => void this.finish(1, error),
      output: (text) => this.output.add(text),
    });
    this.draw();
  }

  private createWidgets(): void {
    this.screen = blessed.screen({ smartCSR: true, title: 'inotop', autoPadding: false, warnings: false, forceUnicode: true });
    // Line drawing as UTF-8, not ACS: terminals today are UTF-8 even where the locale says C (a
    // node shell), tmux and screen do it this way (as ncurses does there), and capture-pane shows it.
    (this.screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
    this.screen.program.hideCursor();
    const box = (options: blessed.Widgets.BoxOptions = {}) =>
      blessed.box({ parent: this.screen, tags: true, wrap: false, left: 0, width: '100%', height: 1, ...options });
    this.header = box();
    this.table = box();
    this.detail = box();
    this.log = box();
    this.footer = box();
    const titleColor = this.options.color ? 'white' : 'default';
    // A box, not a canvas widget: it may take a parent.
    this.sparkline = sparkline({
      parent: this.screen,
      tags: true,
      style: { fg: this.options.color ? 'cyan' : 'default', titleFg: titleColor },
    } as contrib.Widgets.SparklineOptions);
    this.notice = box({ hidden: true, height: '100%' });
    this.overlay = box({ hidden: true, border: { type: 'line' }, padding: { left: 1, right: 1 } });

    this.screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      const name = key?.full ?? ch;
      // blessed reports Return twice, as "enter" and as "return".
      if (name === undefined || name === 'return') return;
      // Too small a terminal shows only what to do: q (F10, ^C) quits, even over a filter being
      // typed or an overlay opened before it shrank; any other key would open or type into what
      // cannot be seen, and the q it asks for would then close that instead.
      if (this.geometry === null) {
        if (commandForKey(name) === 'quit') this.dispatch({ type: 'command', command: 'quit', now: Date.now() });
        return;
      }
      const action = actionForKey(this.state, name, ch, Date.now());
      if (action) this.dispatch(action);
    });
    this.screen.on('resize', () => this.draw());
    this.table.on('click', (data: blessed.Widgets.Events.IMouseEventArg) => this.clickTable(data));
    this.table.on('wheelup', () => this.dispatch({ type: 'scroll', pane: 'table', delta: -3, now: Date.now() }));
    this.table.on('wheeldown', () => this.dispatch({ type: 'scroll', pane: 'table', delta: 3, now: Date.now() }));
    this.detail.on('wheelup', () => this.dispatch({ type: 'scroll', pane: 'detail', delta: -3, now: Date.now() }));
    this.detail.on('wheeldown', () => this.dispatch({ type: 'scroll', pane: 'detail', delta: 3, now: Date.now() }));
  }

  private clickTable(data: blessed.Widgets.Events.IMouseEventArg): void {
    if (!this.geometry) return;
    const line = data.y - this.geometry.table.top;
    if (line === 0) {
      const column = columnAt(tableColumns(this.state, this.geometry.width), data.x);
      if (column?.spec.sort) this.dispatch({ type: 'sortBy', field: column.spec.sort.field });
      return;
    }
    this.dispatch({ type: 'selectIndex', index: this.state.tableTop + line - 1, now: Date.now() });
  }

  private dispatch(action: Action): void {
    if (this.finished) return;
    if (action.type === 'command' && (action.command === 'stepBack' || action.command === 'stepForward')) {
      this.options.source.step?.(action.command === 'stepBack' ? -1 : 1);
    }
    const before = this.state;
    this.state = reduce(before, action);
    if (before.snapshot && this.state.snapshot !== before.snapshot) releaseSnapshot(before.snapshot);
    if (this.state.quit) return void this.finish(0);
    if (this.state.intervalMs !== before.intervalMs || this.state.paused !== before.paused) {
      this.options.source.schedule(this.state.intervalMs, this.state.paused);
    }
    const ask = paneAsk(this.state, this.asked);
    if (ask !== this.asked) {
      this.asked = ask;
      this.options.source.askTargets?.(ask);
    }
    if (settingsChanged(before, this.state)) this.saveSettings();
    if (this.state.copy !== null) {
      this.screen.program.output.write(osc52(this.state.copy));
      this.state = reduce(this.state, { type: 'copied' });
    }
    if (this.state.orderHeldUntil !== before.orderHeldUntil) this.releaseOrderLater();
    this.draw();
  }

  private settingsPath: string | null;

  private saveSettings(): void {
    if (this.settingsPath === null) return;
    const { sort, intervalMs, view, hiddenColumns, shownColumns } = this.state;
    try {
      saveSettings(this.settingsPath, { sort, intervalMs, view, hiddenColumns, shownColumns });
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      // Said for the rest of the session, which goes on without saving.
      this.state = reduce(this.state, { type: 'sessionNote', note: `settings not saved: ${error.message}` });
      this.settingsPath = null;
    }
  }

  private releaseOrderLater(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => this.dispatch({ type: 'tick', now: Date.now() }), ORDER_HOLD_MS);
  }

  private draw(): void {
    const width = this.screen.width as number;
    const height = this.screen.height as number;
    if (tooSmall(width, height)) {
      this.geometry = null;
      for (const element of [this.header, this.sparkline, this.table, this.detail, this.log, this.footer, this.overlay]) element.hide();
      this.drawn.clear();
      this.notice.setContent(tooSmallLines(width, height).map(screenText).join('\n'));
      this.notice.show();
      this.screen.render();
      return;
    }
    this.notice.hide();
    const l = layout(width, height, this.state.snapshot?.users.length ?? 0, layoutNeeds(this.state));
    this.geometry = l;
    const rows = paneRows(l);
    if (rows.tableRows !== this.state.tableRows || rows.detailRows !== this.state.detailRows) {
      this.state = reduce(this.state, { type: 'resize', ...rows });
    }
    const state = this.state;
    this.place(this.header, l.header.top, l.header.height, headerLines(state, l, this.painter));
    this.place(this.table, l.table.top, l.table.height, tableLines(state, width, l.table.height, this.painter));
    this.place(this.detail, l.detail.top, l.detail.height, detailLines(state, width, l.detail.height, this.painter));
    this.place(this.log, l.log.top, l.log.height, logLines(state, width, l.log.height, this.painter));
    this.place(this.footer, l.footer.top, 1, [footerLine(state, width, this.painter)]);
    this.drawSparkline(l);
    this.drawOverlay(width, height);
    this.screen.render();
  }

  /**
   * A region whose place and lines are as drawn before is left alone: setting its content again
   * would blank it and have blessed compare every cell of it with the terminal's.
   */
  private place(element: blessed.Widgets.BoxElement, top: number, height: number, lines: string[]): void {
    const content = lines.join('\n');
    const before = this.drawn.get(element);
    if (before && before.top === top && before.height === height && before.content === content) return;
    this.drawn.set(element, { top, height, content });
    element.top = top;
    element.height = height;
    element.setContent(content);
    element.show();
  }

  private drawSparkline(l: Layout): void {
    const { sparkline } = this;
    sparkline.top = l.sparkline.top;
    sparkline.left = l.sparkline.left;
    sparkline.width = l.sparkline.width;
    sparkline.height = l.sparkline.height;
    sparkline.show();
    // The widget draws the oldest points that fit: hand it the newest ones.
    const points = this.state.history.totals.slice(-(l.sparkline.width - 2));
    // The widget adds a colon after the title and wraps what does not fit.
    // Unpadded, with room for that colon: a title as wide as the box wraps the sparkline out of it.
    sparkline.setData(
      [screenText(fit(sparklineTitle(this.state, l.sparkline.width - 2), l.sparkline.width - 2).trimEnd())],
      [points.length > 0 ? [...points] : [0]],
    );
  }

  private drawOverlay(width: number, height: number): void {
    const overlay = this.state.overlay;
    if (!overlay) return void this.overlay.hide();
    let title: string;
    let lines: string[];
    if (overlay.kind === 'inspect') return this.drawInspect(width, height, overlay.top);
    const replaying = this.state.replay !== null;
    // The help is as wide as the terminal lets it be; notes read best narrow; a menu is as wide as its longest entry.
    const boxWidth =
      overlay.kind === 'help' ? helpBoxWidth(width, replaying) : overlay.kind === 'notes' ? Math.min(width - 4, 76) : menuBoxWidth(this.state, width);
    if (overlay.kind === 'help') {
      title = ' Help: ↑↓ scroll, any other key closes ';
      lines = helpLines(replaying, boxWidth - 4);
    } else if (overlay.kind === 'notes') {
      title = ' Notes: ↑↓ scroll, any other key closes ';
      lines = notesLines(this.state, boxWidth - 4);
    } else {
      const menu = menuLines(this.state, this.painter, boxWidth - 4);
      title = ` ${menu.title}: ↑↓ Enter, Esc `;
      lines = menu.lines;
    }
    const boxHeight = Math.min(height - 2, lines.length + 2);
    const top = overlay.kind === 'help' || overlay.kind === 'notes' ? Math.min(overlay.top, Math.max(0, lines.length - (boxHeight - 2))) : 0;
    this.overlay.setLabel(title);
    this.overlay.left = Math.floor((width - boxWidth) / 2);
    this.overlay.top = Math.floor((height - boxHeight) / 2);
    this.overlay.width = boxWidth;
    this.overlay.height = boxHeight;
    this.overlay.setContent(lines.slice(top, top + boxHeight - 2).join('\n'));
    this.overlay.show();
    this.overlay.setFront();
  }

  /** Inspect takes the whole screen but a line above and below: nothing in it is cut. */
  private drawInspect(width: number, height: number, top: number): void {
    const paragraphs = inspectedParagraphs(this.state);
    const inner = width - 4;
    const lines = paragraphs ? inspectLines(paragraphs, inner) : ['it is gone from the latest snapshot'];
    const boxHeight = height - 2;
    const first = Math.min(top, Math.max(0, lines.length - (boxHeight - 2)));
    this.overlay.setLabel(' Inspect: ↑↓ scroll, y copy, Esc close ');
    this.overlay.left = 0;
    this.overlay.top = 1;
    this.overlay.width = width;
    this.overlay.height = boxHeight;
    this.overlay.setContent(
      lines
        .slice(first, first + boxHeight - 2)
        .map((line) => blessed.escape(line))
        .join('\n'),
    );
    this.overlay.show();
    this.overlay.setFront();
  }

  /** Restores the terminal, then prints what was held back and the error, if any. */
  private async finish(code: number, error?: unknown): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    try {
      this.screen?.destroy();
    } finally {
      this.output.release();
      process.off('uncaughtException', this.onUncaught);
      process.off('unhandledRejection', this.onUncaught);
      for (const [signal, handler] of this.signalHandlers) process.off(signal, handler);
      if (error !== undefined) process.stderr.write(`inotop: ${errorText(error)}\n`);
    }
    await this.options.source.stop().catch(() => undefined);
    this.resolve(code);
  }
}

function settingsChanged(before: ViewState, after: ViewState): boolean {
  return (
    before.sort !== after.sort ||
    before.intervalMs !== after.intervalMs ||
    before.view !== after.view ||
    before.hiddenColumns !== after.hiddenColumns ||
    before.shownColumns !== after.shownColumns
  );
}

/** Keeps stderr and console output back while the screen is up, and prints it afterwards. */
class HeldOutput {
  private readonly held: string[] = [];
  private restore: (() => void) | null = null;

  hold(): void {
    const stderrWrite = process.stderr.write;
    const consoleMethods = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
    process.stderr.write = ((chunk: string | Uint8Array) => {
      this.add(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    }) as typeof process.stderr.write;
    for (const name of Object.keys(consoleMethods) as (keyof typeof consoleMethods)[]) {
      console[name] = (...args: unknown[]) => this.add(format(...args) + '\n');
    }
    this.restore = () => {
      process.stderr.write = stderrWrite;
      Object.assign(console, consoleMethods);
    };
  }

  add(text: string): void {
    this.held.push(text);
  }

  release(): void {
    this.restore?.();
    this.restore = null;
    if (this.held.length > 0) process.stderr.write(this.held.join(''));
  }
}
