// A real terminal for screen tests: a private tmux server with one fixed-size pane running a
// command; keys go in with send-keys and the screen comes back with capture-pane.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';

let sessions = 0;

export interface TmuxOptions {
  width: number;
  height: number;
  /** Extra environment for the command, e.g. TERM or NO_COLOR. */
  env?: Record<string, string>;
  /**
   * The screen's settings to start from (config.json in the pane's own $XDG_CONFIG_HOME), e.g.
   * hiddenColumns: columns that show by what the whole node holds (FAN-G and FAN-M where any
   * process holds a fanotify group, QUEUE where any queue is stuck) would otherwise come and go
   * with what other processes on the machine do.
   */
  settings?: Record<string, unknown>;
}

export class TmuxPane {
  /** The private tmux server's name (-L): a control-mode client can attach to it. */
  readonly socket = `inotop-test-${process.pid}-${++sessions}`;

  /** Runs `argv` in the pane; when it ends the pane shows `EXIT=<code>` and stays. */
  /** The pane's own $XDG_CONFIG_HOME, unless the test gave one: screen settings saved by one test never reach another. */
  private readonly configHome: string | null;
  /** Where the server listens: tmux leaves the socket behind when its server is killed. */
  private readonly socketPath: string;

  constructor(argv: string[], options: TmuxOptions) {
    this.configHome = options.env?.XDG_CONFIG_HOME === undefined ? mkdtempSync(join(tmpdir(), 'inotop-config-')) : null;
    if (options.settings) {
      if (this.configHome === null) throw new Error('TmuxPane: settings go in the pane’s own config home, not in a given XDG_CONFIG_HOME');
      mkdirSync(join(this.configHome, 'inotop'));
      writeFileSync(join(this.configHome, 'inotop', 'config.json'), JSON.stringify(options.settings));
    }
    const withConfig = { ...(this.configHome !== null ? { XDG_CONFIG_HOME: this.configHome } : {}), ...options.env };
    const env = Object.entries(withConfig).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const command = `env ${env.join(' ')} ${argv.map(shellQuote).join(' ')}; echo "EXIT=$?"; sleep 3600`;
    this.tmux('new-session', '-d', '-x', String(options.width), '-y', String(options.height), command);
    this.socketPath = this.tmux('display-message', '-p', '#{socket_path}').trim();
  }

  /** The screen as text; with `escapes`, with its colors and attributes as SGR sequences. */
  screen(escapes = false): string {
    return this.tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', '0');
  }

  /**
   * Polls the screen until `check` finds what it wants on a settled screen; fails with the last
   * screen seen. Settled: the same in two captures a poll apart. tmux parses a frame as it reads it
   * from the pty, a piece at a time, and answers capture-pane between pieces: a capture can show a
   * new frame's top over the old frame's bottom, so a test that matched the top would assert on
   * rows not drawn yet.
   */
  // Generous by default: the first refresh on a busy node (other tests, benchmarks) can take seconds.
  async waitFor(check: RegExp | ((screen: string) => boolean), what: string, timeoutMs = 20_000): Promise<string> {
    const test = typeof check === 'function' ? check : (s: string) => check.test(s);
    let previous: string | null = null;
    return eventually(
      () => {
        const screen = this.screen();
        const settled = screen === previous;
        previous = screen;
        if (!test(screen)) throw new Error(`timed out waiting for ${what}; the screen:\n${screen}`);
        if (!settled) throw new Error(`timed out waiting for ${what} on a settled screen; it kept changing, last:\n${screen}`);
        return screen;
      },
      { timeoutMs },
    );
  }

  /**
   * The foreground color (an SGR parameter such as "31", or null for the default) where `text`
   * first shows: capture-pane only emits a color where it changes, so earlier lines count.
   */
  foregroundAt(text: string): string | null {
    const screen = this.screen(true);
    const at = screen.indexOf(text);
    if (at < 0) throw new Error(`"${text}" is not on the screen`);
    let foreground: string | null = null;
    for (const match of screen.slice(0, at).matchAll(/\x1b\[([\d;]*)m/g)) {
      const params = match[1]!.split(';');
      for (let i = 0; i < params.length; i++) {
        const p = params[i]!;
        if (p === '' || p === '0' || p === '39') foreground = null;
        else if (/^(3[0-7]|9[0-7])$/.test(p)) foreground = p;
        else if (p === '38') {
          foreground = params.slice(i, i + 3).join(';');
          i += 2;
        } else if (p === '48') i += 2;
      }
    }
    return foreground;
  }

  /** tmux key names (Enter, Escape, Up, F1, C-c) or literal text with `literal`. */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', '0', ...keys);
  }

  type(text: string): void {
    this.tmux('send-keys', '-t', '0', '-l', text);
  }

  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', '0', '-x', String(width), '-y', String(height));
  }

  /** The pid of the command run in the pane (a child of the pane's shell). */
  commandPid(): number {
    const shell = this.tmux('display-message', '-p', '-t', '0', '#{pane_pid}').trim();
    const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/);
    return Number(children[0]);
  }

  /** Everything the pane's program writes from now on, escapes and all, appended to `file`. */
  pipeTo(file: string): void {
    this.tmux('pipe-pane', '-o', '-t', '0', `cat >> ${shellQuote(file)}`);
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(this.socketPath, { force: true });
    if (this.configHome !== null) rmSync(this.configHome, { recursive: true, force: true });
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
}

function shellQuote(text: string): string {
  return /^[\w./=:,@+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
