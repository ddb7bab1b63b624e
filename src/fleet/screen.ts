// The fleet screen: draws a FleetState (paint.ts) into three boxes, turns keys into actions, reads
// Prometheus every --delay after the previous read ended (refresh.ts) and an opened node once. Like
// the main screen, nothing else prints while it is up, and every way out restores the terminal first.
import blessed from 'blessed';
import { Painter } from '../views/painter.js';
import type { FleetOptions } from './args.js';
import { fetchNodeDetail, FleetReader } from './nodes.js';
import { detailLines, footerLine, FOOTER_LINES, HEADER_LINES, headerLines, helpLines, pageRowsFor, tableLines } from './paint.js';
import { Refresher } from './refresh.js';
import { actionForFleetKey, initialFleetState, reduceFleet, type FleetAction } from './screen-state.js';
import { readerOptions } from './view.js';

/**
 * Resolves once the event loop has polled for input again: the check phase after this poll runs
 * before input that came meanwhile is read, the one after the next poll after it.
 */
async function afterNextPoll(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function runFleetScreen(options: FleetOptions): Promise<number> {
  return new Promise((resolve) => {
    const painter = new Painter(options.color);
    const reading = readerOptions(options);
    const reader = new FleetReader(reading);
    const screen = blessed.screen({ smartCSR: true, title: 'inotop fleet', autoPadding: false, warnings: false, forceUnicode: true });
    screen.program.hideCursor();
    const box = (opts: blessed.Widgets.BoxOptions) => blessed.box({ parent: screen, tags: true, wrap: false, left: 0, width: '100%', ...opts });
    const header = box({ top: 0, height: HEADER_LINES });
    const body = box({ top: HEADER_LINES, bottom: FOOTER_LINES });
    const footer = box({ bottom: 0, height: FOOTER_LINES });
    const height = () => (screen.height as number) || 24;
    let state = initialFleetState(options.sort, options.filter, pageRowsFor(height()));
    let finished = false;

    const dispatch = (action: FleetAction) => {
      if (finished) return;
      const before = state;
      state = reduceFleet(state, action);
      if (state.quit) return finish(0);
      if (state.open && (state.open.node !== before.open?.node || state.open.cluster !== before.open?.cluster))
        void loadDetail(state.open.cluster, state.open.node);
      if (action.type === 'command' && action.command === 'refresh') refresher.now();
      draw();
    };
    // Until every node has been read once, the groups come back to back: the first rows at once, the rest soon.
    const refresher = new Refresher(async () => {
      try {
        const fleet = await reader.read();
        // Keys that came while the answers were merged go first: the rows' sort and drawing (tens
        // of ms at 100,000 nodes, at each of the reads back to back) wait for them, not they for it.
        await afterNextPoll();
        dispatch({ type: 'nodes', fleet });
        return !fleet.complete;
      } catch (error) {
        dispatch({ type: 'failed', message: (error as Error).message });
        return false;
      }
    }, options.intervalMs);
    const loadDetail = async (cluster: string, node: string) => {
      try {
        dispatch({ type: 'detail', detail: await fetchNodeDetail(reading, cluster, node) });
      } catch (error) {
        dispatch({ type: 'detailFailed', cluster, node, message: (error as Error).message });
      }
    };

    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      refresher.stop();
      screen.destroy();
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    const onSignal = () => finish(143);
    process.on('SIGTERM', onSignal);

    const draw = () => {
      if (finished) return;
      const width = (screen.width as number) || 80;
      header.setContent(headerLines(state, options.prometheus, width, painter).join('\n'));
      const lines = state.help ? helpLines() : state.open ? detailLines(state, width, painter) : tableLines(state, width, painter);
      body.setContent(lines.join('\n'));
      footer.setContent(footerLine(state, width, painter));
      screen.render();
    };

    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      const name = key?.full ?? ch;
      if (name === undefined || name === 'return') return;
      const action = actionForFleetKey(state, name, ch);
      if (action) dispatch(action);
    });
    screen.on('resize', () => dispatch({ type: 'resize', pageRows: pageRowsFor(height()) }));
    draw();
    refresher.start();
  });
}
