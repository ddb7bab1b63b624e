// The epoll sets' own fds (src/sys/epoll.ts): close-on-exec, so a command inotop runs while a set
// is open (crictl, kubectl) inherits none of them.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { FileSet } from '../../src/sys/filesets.js';
import { QueueSet } from '../../src/sys/queue-set.js';

const O_CLOEXEC = 0o2000000;

/** Our open fds but the listing's own (open while it lists, gone when it returns). */
function ownFds(): Set<number> {
  return new Set(
    readdirSync('/proc/self/fd')
      .map(Number)
      .filter((fd) => existsSync(`/proc/self/fdinfo/${fd}`)),
  );
}

/** The fds a set made, each with its fdinfo flags. */
function madeBy(make: () => { close(): void } | string): { fd: number; flags: number }[] {
  const before = ownFds();
  const set = make();
  assert.notEqual(typeof set, 'string', `the set could not be made: ${String(set)}`);
  try {
    return [...ownFds()]
      .filter((fd) => !before.has(fd))
      .map((fd) => {
        const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
        return { fd, flags: flags ? Number.parseInt(flags[1]!, 8) : -1 };
      });
  } finally {
    (set as { close(): void }).close();
  }
}

for (const [name, make] of [
  ['QueueSet', () => QueueSet.create()],
  ['FileSet', () => FileSet.create()],
] as const) {
  test(`${name}: its epoll instance and its slot are close-on-exec`, () => {
    const made = madeBy(make);
    assert.ok(made.length >= 2, `expected the epoll fd and the slot, found ${JSON.stringify(made)}`);
    for (const { fd, flags } of made) assert.ok(flags >= 0 && (flags & O_CLOEXEC) !== 0, `fd ${fd} has flags 0${flags.toString(8)}: not close-on-exec`);
  });
}
