// Run as a user of its own (test/system/scan-threads.test.ts): takes every inotify instance the
// user may have (fs.inotify.max_user_instances), then makes a scan's FileSet, as a one-shot on a
// node at that limit would. Prints how many instances it took and whether the set was made.
import { FileSet } from '../../src/sys/filesets.js';
import { libcBinding } from '../../src/sys/libc.js';

const IN_CLOEXEC = 0x80000;
const init = libcBinding('inotify-limit', (libc) => libc.func('int inotify_init1(int flags)') as (flags: number) => number)();
if (!init.ok) throw new Error(init.error);
let taken = 0;
while (init.value(IN_CLOEXEC) >= 0) taken++;
const set = FileSet.create();
process.stdout.write(`${JSON.stringify({ taken, made: typeof set === 'string' ? set : true })}\n`);
