// The single executable's main script (scripts/build-exe.mjs bundles it, with everything it
// imports, into one ES module inside Node's binary). The launcher (scripts/exe/launcher.c) ran
// Node on its own loader and libraries: it left this file's path and the descriptors it opened in
// the environment, taken back here before anything else reads the one or inherits the others.
import { closeSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { runProgram } from '../cli/program.js';

const executable = process.env['INOTOP_EXECUTABLE'];
const launcherFds = process.env['INOTOP_LAUNCHER_FDS'];
delete process.env['INOTOP_EXECUTABLE'];
delete process.env['INOTOP_LAUNCHER_FDS'];
// Node found itself through /proc/self/exe, which names the loader's memory file.
if (executable) process.execPath = process.argv[0] = executable;
if (launcherFds !== undefined) {
  // The kernel shows the loader's command line (its options, the memory files) and names the
  // process after the descriptor it ran ("3"): ps, top and inotop itself would show those.
  process.title = [process.argv[1], ...process.argv.slice(2)].join(' ');
  try {
    writeFileSync('/proc/self/comm', basename(process.argv[1] ?? 'inotop'));
  } catch {
    // /proc read-only: the name stays what the title made it
  }
}
for (const fd of launcherFds?.split(',').map(Number) ?? []) {
  if (Number.isInteger(fd) && fd > 2) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
  }
}

await runProgram(process.argv.slice(2));
