// Runs a script that stops real threads at swept moments (scan-thread-stops.ts, collector-stops.ts)
// in a child Node, and asserts that it ended normally: a thread terminated inside koffi aborts the
// whole process ("FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw", exit 134).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** Its output's lines, once it exited with status 0; `what` names the run in a failure. */
export function stopsEndNormally(script: string, args: readonly string[], what: string): { pid: number; lines: string[] } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 120_000 });
  const aborted = child.status === 134 || child.signal === 'SIGABRT' ? 'aborted: ' : '';
  assert.equal(child.status, 0, `${what}: ${aborted}${child.signal ?? ''} ${child.stderr.slice(0, 2_000)}\n${child.stdout.slice(-2_000)}`);
  return { pid: child.pid!, lines: child.stdout.split('\n').filter(Boolean) };
}
