// The single executable's main script (scripts/build-exe.mjs bundles it, with what it imports,
// into one small ES module inside Node's binary), which loads the application (app.ts). The launcher (scripts/exe/launcher.c) ran
// Node on its own loader and libraries: it left this file's path, the descriptors it opened and the
// node's LD_PRELOAD in the environment, taken back here before anything else reads or inherits them.
import { closeSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadApp } from './app.js';

const executable = process.env['INOTOP_EXECUTABLE'];
const launcherFds = process.env['INOTOP_LAUNCHER_FDS'];
if (launcherFds !== undefined) {
  // The loader's libraries came in LD_PRELOAD: the programs inotop runs get the node's own back.
  const preload = process.env['INOTOP_LD_PRELOAD'];
  if (preload === undefined) delete process.env['LD_PRELOAD'];
  else process.env['LD_PRELOAD'] = preload;
  for (const name of ['INOTOP_EXECUTABLE', 'INOTOP_LAUNCHER_FDS', 'INOTOP_LD_PRELOAD']) delete process.env[name];
  for (const fd of launcherFds.split(',').map(Number)) {
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
  }
  // Node found itself through /proc/self/exe, which names the loader's memory file, and its
  // argv[0] is the memory file of this one.
  if (executable) process.execPath = process.argv[0] = process.argv[1] = executable;
  // The kernel shows ARGV0 and then the loader's argument, the file's descriptor, as the command
  // line (ps, top, inotop itself), and names the process after the loader's ("3"): the title goes
  // over the descriptor and the arguments, and the name is the file's.
  process.title = process.argv.slice(2).join(' ');
  try {
    writeFileSync('/proc/self/comm', basename(executable ?? 'inotop'));
  } catch {
    // /proc read-only: the name stays what the title made it
  }
}

const { runProgram } = loadApp();
await runProgram(process.argv.slice(2));
