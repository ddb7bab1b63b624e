// A scan's worker that read nothing closes its scanner while the main thread may be ending it: a
// koffi call there aborts the process (node-addon-api cannot throw in an isolate being terminated).
// So a UserNamespaces that knows nothing makes no call, and does not even load koffi. This file runs
// in a process of its own (node:test), so nothing else has loaded it.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { UserNamespaces } from '../../src/scan/userns.js';

const koffiLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('koffi'));

test('closing, or updating to no namespace, with nothing known loads no koffi', () => {
  const namespaces = new UserNamespaces('/proc');
  assert.deepEqual(namespaces.update([], null, new Map(), null), { namespaces: [], notes: [] });
  namespaces.close();
  assert.equal(koffiLoaded(), false);
});
