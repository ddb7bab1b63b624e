// inotop as a process, around main(): what bin/inotop (the npm package) and the single
// executable's entry (src/exe/main.ts) both run once they have set up.
import { closeSync } from 'node:fs';
import { main } from './main.js';

/**
 * Output that goes away is expected: a pipe closed early (`| head`: EPIPE) ends us quietly with
 * 0, a terminal closed under the screen (EIO, or EPIPE on its restore write) with 129 like SIGHUP.
 * The hangup that comes with it lets the screen stop its threads and children; should none come,
 * the unref'd timer ends the process once nothing else would.
 */
const HANGUP_EXIT = 129;

export async function runProgram(argv: string[]): Promise<void> {
  let outputGone = false;
  const onOutputError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
    if (!process.stdout.isTTY) process.exit(0);
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
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
  process.stdin.on('error', onOutputError);
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    // A crash is never an exit 0, whatever listener was left behind.
    process.stderr.write(`inotop: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
