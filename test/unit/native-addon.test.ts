// Where the single executable may write and load koffi's native module (src/exe/native-addon.ts):
// the directories in order, and the check that no one but root and the user can change a path.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addonDirectories, trustedPath } from '../../src/exe/native-addon.js';

test('directories: the cache (/var/cache as root, XDG_CACHE_HOME or ~/.cache otherwise), $XDG_RUNTIME_DIR, /dev/shm; relative variables ignored', () => {
  assert.deepEqual(addonDirectories({ XDG_RUNTIME_DIR: '/run/user/0', XDG_CACHE_HOME: '/ignored/as/root' }, 0), [
    '/var/cache/inotop',
    '/run/user/0/inotop',
    '/dev/shm/inotop-0',
  ]);
  assert.deepEqual(addonDirectories({}, 0), ['/var/cache/inotop', '/dev/shm/inotop-0']);
  assert.deepEqual(addonDirectories({ XDG_CACHE_HOME: '/home/u/.cache-x', XDG_RUNTIME_DIR: 'relative' }, 1000), [
    '/home/u/.cache-x/inotop',
    '/dev/shm/inotop-1000',
  ]);
  assert.match(addonDirectories({ XDG_CACHE_HOME: 'relative' }, 1000)[0]!, /^\/.*\/\.cache\/inotop$/);
});

test('a path is trusted when every directory on it is writable by no one else, or sticky; a world-writable one is not', (t) => {
  const uid = process.geteuid!();
  const dir = mkdtempSync(join(tmpdir(), 'inotop-trust-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mine = join(dir, 'mine');
  mkdirSync(mine, { mode: 0o700 });
  // The temp dir itself sits in /tmp, sticky and world-writable: trusted for what is ours in it.
  assert.doesNotThrow(() => trustedPath(mine, uid));

  const open = join(dir, 'open');
  mkdirSync(join(open, 'inside'), { recursive: true });
  chmodSync(open, 0o777);
  assert.throws(() => trustedPath(join(open, 'inside'), uid), /open is writable by others \(mode 777\)/);
  chmodSync(open, 0o1777);
  assert.doesNotThrow(() => trustedPath(join(open, 'inside'), uid), 'sticky: others cannot move what is ours');

  // Through a link: the link's directory and the target's path are both checked.
  chmodSync(open, 0o777);
  symlinkSync(join(open, 'inside'), join(dir, 'link'));
  assert.throws(() => trustedPath(join(dir, 'link'), uid), /open is writable by others/);
});
