// inotop as a process, around main(): what bin/inotop (the npm package) and the single
// executable's entry (src/exe/main.ts) both run once they have set up.
import { closeSync, writeSync } from 'node:fs';
import { errorText } from '../common/error-text.js';
import { whenStdinFails } from '../common/stdin.js';
import { stdoutIsTerminal, whenOutputFails } from '../common/stdout.js';
import { noteCodeCache, type CodeCacheNote } from './build-info.js';
import { processIsOwn } from '../signals.js';
import { main } from './main.js';

/** One line to stderr, straight to fd 2: the stream may be what failed. */
function say(line: string): void {
  try {
    writeSync(2, `inotop: ${line}\n`);
  } catch {
    // nowhere left to say it
  }
}

/**
 * Output that goes away is expected: a pipe closed early (`| head`: EPIPE) ends us quietly with
 * 0, a terminal closed under the screen (EIO, or EPIPE on its restore write) with 129 like SIGHUP.
 * The hangup that comes with it lets the screen stop its threads and children; should none come,
 * the unref'd timer ends the process once nothing else would. Output that fails otherwise (a full
 * disk: `> /dev/full`) ends us with one line and 1.
 */
const HANGUP_EXIT = 129;

/** How the launcher loaded the CLI: bin/inotop says whether V8's code from the build was used (--version shows it). */
export interface Launch {
  codeCache?: CodeCacheNote;
  /** The process is inotop's alone (bin/inotop, the single executable): a one-shot may end it once its output is out (endOneShot). */
  ownProcess?: boolean;
}

export async function runProgram(argv: string[], launch: Launch = {}): Promise<void> {
  if (launch.codeCache !== undefined) noteCodeCache(launch.codeCache);
  if (launch.ownProcess === true) processIsOwn();
  // A crash is never an exit 0, whatever listener was left behind, and says one line (an error
  // thrown in a callback). The screen has handlers of its own, which restore the terminal first:
  // this one then leaves the error to them.
  const unexpected = (error: unknown): void => {
    if (process.listenerCount('uncaughtException') > 1) return;
    say(errorText(error));
    process.exit(1);
  };
  process.on('uncaughtException', unexpected);
  process.on('unhandledRejection', unexpected);

  let outputGone = false;
  const onOutputError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE' && error.code !== 'EIO') {
      say(`cannot write the output: ${errorText(error)}`);
      process.exit(1);
    }
    if (!stdoutIsTerminal()) process.exit(0);
    if (outputGone) return;
    outputGone = true;
    process.exitCode ??= HANGUP_EXIT;
    setTimeout(() => process.exit(HANGUP_EXIT), 2_000).unref();
  };
  // At exit Node puts back the terminal settings it found at start, and aborts (SIGABRT, a core)
  // when the terminal is gone and that fails with EIO. It skips descriptors that are closed: close
  // them once the terminal has hung up. The screen has restored what it changed already.
  process.on('exit', (code) => {
    if (!outputGone && code !== HANGUP_EXIT) return;
    for (const fd of [0, 1, 2]) {
      try {
        closeSync(fd);
      } catch {
        // closed already
      }
    }
  });
  // Node opens the standard streams when first asked for them, and that can fail (an ioctl of a pipe).
  // The standard input only where keys are read (src/common/stdin.ts), the output streams only where
  // something is written to them that does not go straight to fd 1 (src/common/stdout.ts).
  whenStdinFails(onOutputError);
  try {
    whenOutputFails(onOutputError);
  } catch (error) {
    say(`cannot open the standard streams: ${errorText(error)}`);
    process.exit(1);
  }
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    say(errorText(error));
    process.exitCode = 1;
  }
}
