// What a test made, undone when it ends: passed, failed or timed out. node:test runs a test's
// after hooks in the order they were registered and skips the rest once one throws, so a
// containerd that failed to stop would leave the Prometheus, the tmux server and the temp dirs
// registered after it. Here every undo runs, the last made first (a process before the dir it
// writes in), and their errors are thrown together once all have run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

type Undo = () => unknown;

const undosOf = new WeakMap<TestContext, Undo[]>();

/** Runs `undo` when `t` ends, whatever happened to it or to the undos registered after this one. */
export function undoAtEnd(t: TestContext, undo: Undo): void {
  const undos = undosOf.get(t);
  if (undos) {
    undos.push(undo);
    return;
  }
  const first = [undo];
  undosOf.set(t, first);
  t.after(async () => {
    const errors: unknown[] = [];
    for (const step of first.reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} of the test's clean-ups failed`);
  });
}

/** A temp dir of the test's own, removed when it ends. */
export function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  undoAtEnd(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
