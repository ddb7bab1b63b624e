// The single executable's main script (scripts/build-exe.mjs bundles it, with what it imports,
// into one small CommonJS script inside Node's binary: Node then starts no ES module loader, and
// its built-in modules come without the ES facades that load node:fs's streams and fs/promises),
// which runs the application: the npm package's CLI script (dist/cli/inotop.cjs) with V8's code of
// it made by the build's warm runs under the Node the executable carries, both SEA assets, run as
// bin/launch.cjs runs the npm package's (where V8 takes no code the executable carries, with the
// code an earlier start kept: kept-code.ts); and the packages it requires, each a script among the
// assets, run when first required (carried-scripts.ts). The launcher (scripts/exe/launcher.c) ran
// Node on its own loader and libraries: it left this file's path, the descriptors it opened and the
// node's LD_PRELOAD in the environment, taken back here before anything else reads or inherits them.
import { closeSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Script } from 'node:vm';
import { compileBundle, madeUnderTheseFlags } from '../../bin/launch.cjs';
import type { CodeCacheNote } from '../cli/build-info.js';
import { carriedCode, carriedPath, carriedScript, runCompiledCarried } from './carried-scripts.js';
import { keepCode, keptCode } from './kept-code.js';

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

/** Where the build put the application's script (and V8's code of it beside: carriedCode). */
const APP_SCRIPT = 'exe/app/inotop.cjs';

/** The CLI's entry, as src/cli/program.ts's exports: what bin/inotop runs in the npm package. */
interface AppEntry {
  runProgram(argv: string[], launch: { codeCache: CodeCacheNote; ownProcess: boolean }): Promise<void>;
}

const appFile = carriedPath(APP_SCRIPT);
const app = compileApp(carriedScript(APP_SCRIPT));
// Not awaited (a CommonJS script has no top-level await): as bin/inotop, a failure it does not say itself is Node's uncaught rejection.
void (runCompiledCarried(app.script, APP_SCRIPT).exports as AppEntry).runProgram(process.argv.slice(2), { codeCache: app.note, ownProcess: true });

/**
 * The application's script compiled with the build's code; where it carries none for this
 * architecture or V8 would reject it (made under other flags), with the code an earlier start
 * kept, and where there is none V8 takes either, this start's kept as it exits. What --version says of it.
 */
function compileApp(source: string): { script: Script; note: CodeCacheNote } {
  const carried = carriedCode(APP_SCRIPT);
  // Not tried where made under other flags (NODE_OPTIONS): V8 would compile the script in full before it
  // rejected it, and the kept code tried next would be answered from that compile, taken or not.
  const otherFlags = carried !== undefined && !madeUnderTheseFlags(carried);
  const withCarried = carried === undefined || otherFlags ? undefined : (compileBundle(source, carried, appFile) as Script);
  if (withCarried !== undefined && !withCarried.cachedDataRejected) {
    return { script: withCarried, note: { text: "V8's code from the build: used", kept: true } };
  }
  const build =
    carried === undefined
      ? `no V8 code from the build for ${process.arch}`
      : otherFlags
        ? "V8's code from the build made under other V8 flags than NODE_OPTIONS gives: not tried"
        : "V8's code from the build rejected by V8 (its flags differ from the build's)";
  const kept = keptCode();
  const withKept = kept.code === undefined ? undefined : (compileBundle(source, kept.code, appFile) as Script);
  if (withKept !== undefined && !withKept.cachedDataRejected) {
    return { script: withKept, note: { text: `${build}; V8's code kept by an earlier start (${kept.path}): used`, kept: true } };
  }
  const script = withKept ?? withCarried ?? (compileBundle(source, undefined, appFile) as Script);
  const problem = withKept !== undefined ? 'rejected by V8' : kept.problem;
  if (kept.path === null) return { script, note: { text: `${build}: compiled, ${problem}`, kept: false } };
  const { path } = kept;
  process.once('exit', () => keepCode(path, script));
  return { script, note: { text: `${build}; kept code (${path}): ${problem}: compiled, kept there for the next start`, kept: true } };
}
