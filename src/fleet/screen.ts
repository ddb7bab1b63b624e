// The fleet screen: draws a FleetState into three boxes, turns keys into actions, and queries
// Prometheus every --delay (and for an opened node, once). Like the main screen, nothing else
// prints while it is up, and every way out restores the terminal first.
import blessed from 'blessed';
import type { FleetOptions } from './args.js';
import { fetchNodeDetail, fetchNodes, fleetColumns, nodeDetailLines } from './nodes.js';
import { actionForFleetKey, fleetFooter, fleetHelpLines, initialFleetState, reduceFleet, visibleNodes, type FleetAction } from './screen-state.js';

export function runFleetScreen(options: FleetOptions): Promise<number> {
  return new Promise((resolve) => {
    let state = initialFleetState(options.sort, options.filter);
    const screen = blessed.screen({ smartCSR: true, title: 'inotop fleet', autoPadding: false, warnings: false, forceUnicode: true });
    screen.program.hideCursor();
    const box = (opts: blessed.Widgets.BoxOptions) => blessed.box({ parent: screen, tags: true, wrap: false, left: 0, width: '100%', ...opts });
    const header = box({ top: 0, height: 2 });
    const body = box({ top: 2, bottom: 1 });
    const footer = box({ bottom: 0, height: 1 });
    let timer: NodeJS.Timeout | null = null;
    let finished = false;

    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      screen.destroy();
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    const onSignal = () => finish(143);
    process.on('SIGTERM', onSignal);

    const dispatch = (action: FleetAction) => {
      const before = state;
      state = reduceFleet(state, action);
      if (state.quit) return finish(0);
      if (state.open && state.open.node !== before.open?.node) void loadDetail(state.open.node);
      if (action.type === 'command' && action.command === 'refresh') void refresh();
      draw();
    };
    const refresh = async () => {
      if (timer) clearTimeout(timer);
      try {
        dispatch({ type: 'nodes', rows: await fetchNodes(options.prometheus), at: Date.now() });
      } catch (error) {
        dispatch({ type: 'failed', message: (error as Error).message });
      }
      if (!finished) timer = setTimeout(() => void refresh(), options.intervalMs);
    };
    const loadDetail = async (node: string) => {
      try {
        dispatch({ type: 'detail', detail: await fetchNodeDetail(options.prometheus, node) });
      } catch (error) {
        dispatch({ type: 'detailFailed', node, message: (error as Error).message });
      }
    };

    const draw = () => {
      if (finished) return;
      const width = (screen.width as number) || 80;
      const when = state.fetchedAt ? new Date(state.fetchedAt).toISOString().replace(/\.\d+Z$/, 'Z') : 'waiting';
      const filter = state.prompt !== null ? `  filter: ${state.prompt}_` : state.filter ? `  filter: ${state.filter.source}` : '';
      header.setContent(
        esc(`inotop fleet - ${options.prometheus} - ${state.rows.length} nodes - ${when}${filter}`) +
          '\n' +
          (state.error ? `{red-fg}${esc(state.error)}{/red-fg}` : ''),
      );
      let lines: string[];
      if (state.help) lines = fleetHelpLines().map(esc);
      else if (state.open) {
        const { detail, error, node } = state.open;
        lines = (error ? [`Node ${node}: ${error}`] : detail ? nodeDetailLines(detail) : [`Node ${node}: asking Prometheus...`]).map(esc);
      } else {
        const rows = visibleNodes(state);
        const columns = fleetColumns(rows);
        const now = Date.now();
        const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(columns[i]!.width) : c.padStart(columns[i]!.width))).join('  ');
        const title = line(columns.map((c) => `${c.title}${c.field === state.sort ? (state.inverted ? '^' : 'v') : ''}`));
        lines = [`{bold}${esc(title.slice(0, width))}{/bold}`];
        rows.forEach((row, i) => {
          const text = esc(
            line(columns.map((c) => c.cell(row, now)))
              .slice(0, width)
              .padEnd(width),
          );
          lines.push(i === state.selected ? `{inverse}${text}{/inverse}` : text);
        });
        if (rows.length === 0) lines.push(state.fetchedAt ? 'no node matches' : '');
      }
      body.setContent(lines.join('\n'));
      footer.setContent(esc(fleetFooter()));
      screen.render();
    };

    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      const name = key?.full ?? ch;
      if (name === undefined || name === 'return') return;
      const action = actionForFleetKey(state, name, ch);
      if (action) dispatch(action);
    });
    screen.on('resize', draw);
    draw();
    void refresh();
  });
}

function esc(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}
