// What the fault matrix (test/system/faults.test.ts) expects of each fault, in each of its modes:
// `--json --targets`, `-b`, `check` (Outcome: exact, said, failed, runtime, hung; a|b: either).
// Read off a whole run (INOTOP_FAULTS=all INOTOP_FAULTS_REPORT=FILE, kernel 6.18, Node 20) and
// each row weighed against what is true; why, by the rows' kinds:
//
// - Nothing may pass for the truth: no row is "exact" where the fault hit a figure. A figure the
//   fault hid is "said" (json, -b: "not read whole"; check: exit 2, "cannot tell") or "failed".
// - ENOENT and ESRCH are the kernel's words for an fd closed or a process exited. Injected, they
//   are a lie the scan must not believe: every process here is alive and holds its fds, so no row
//   of theirs may be "exact" with rows missing, nor check "ok". The scan asks again (the fd dir
//   listed afresh, the /proc/PID stat'ed) and, where the kernel still lists what was "gone", says
//   it could not read it: readlinkat:ENOENT:50+ said ok before (every later fd read as closed).
// - From the 1st call (1+), openat, read, pread64, statx and write fail Node before inotop runs
//   (its loader, its entry point, libuv's aborts): runtime. getdents64 from the 1st: /proc cannot
//   be listed, json and -b fail saying so, check cannot tell. readlinkat from the 1st: no fd's
//   link read, every mode says so.
// - From the 50th: openat and readlinkat reach the scan's own calls (said); read from the 50th
//   still fails Node's start-up (runtime); pread64 and statx from the 50th come after the scan of
//   these three processes (-p): exact. getdents64's 50th falls at the edge of the scan for json
//   and -b, before or after its last listing as the machine's other directories go (the full run
//   exact, the CI subset's said, on one machine): either, both true; so readlinkat's 50th, which
//   falls among the last of these processes' ~45 fds (readlinkat:EIO:50+ was exact for json, said
//   for -b). check scans the whole node, so its 50th getdents64 or readlinkat is early in it: a
//   listing or a link missed (said); this is the row that said ok before (readlinkat:ENOENT:50+).
// - From the 500th: after every figure is read: exact.
// - ioctl, open_by_handle_at, name_to_handle_at, open_tree serve the targets' paths (--targets),
//   which the matrix does not judge; the counts stay exact.
// - EINTR at every try from the start: libuv and Node retry an interrupted call without end
//   (uv__fs_work, the stream writes), so a run hangs until killed; a real EINTR comes once per
//   signal. These rows expect the hang and no other outcome, so that a hang anywhere else is
//   still a failure.
import type { FaultMode, Outcome } from './faults.js';

const TABLE = `
openat:EIO:1+                  runtime   runtime   runtime
openat:EIO:50+                 said      said      said
openat:EIO:500+                exact     exact     exact
openat:ENOMEM:1+               runtime   runtime   runtime
openat:ENOMEM:50+              said      said      said
openat:ENOMEM:500+             exact     exact     exact
openat:EMFILE:1+               runtime   runtime   runtime
openat:EMFILE:50+              said      said      said
openat:EMFILE:500+             exact     exact     exact
openat:EINTR:1+                runtime   runtime   runtime
openat:EINTR:50+               said|hung said|hung said|hung
openat:EINTR:500+              exact     exact     exact
openat:EACCES:1+               runtime   runtime   runtime
openat:EACCES:50+              said      said      said
openat:EACCES:500+             exact     exact     exact
openat:ENOENT:1+               runtime   runtime   runtime
openat:ENOENT:50+              said      said      said
openat:ENOENT:500+             exact     exact     exact
openat:ESRCH:1+                runtime   runtime   runtime
openat:ESRCH:50+               said      said      said
openat:ESRCH:500+              exact     exact     exact
read:EIO:1+                    runtime   runtime   runtime
read:EIO:50+                   runtime   runtime   runtime
read:EIO:500+                  exact     exact     exact
read:ENOMEM:1+                 runtime   runtime   runtime
read:ENOMEM:50+                runtime   runtime   runtime
read:ENOMEM:500+               exact     exact     exact
read:EMFILE:1+                 runtime   runtime   runtime
read:EMFILE:50+                runtime   runtime   runtime
read:EMFILE:500+               exact     exact     exact
read:EINTR:1+                  runtime   runtime   runtime
read:EINTR:50+                 hung      hung      hung
read:EINTR:500+                exact     exact     exact
read:EACCES:1+                 runtime   runtime   runtime
read:EACCES:50+                runtime   runtime   runtime
read:EACCES:500+               exact     exact     exact
read:ENOENT:1+                 runtime   runtime   runtime
read:ENOENT:50+                runtime   runtime   runtime
read:ENOENT:500+               exact     exact     exact
read:ESRCH:1+                  runtime   runtime   runtime
read:ESRCH:50+                 runtime   runtime   runtime
read:ESRCH:500+                exact     exact     exact
pread64:EIO:1+                 runtime   runtime   runtime
pread64:EIO:50+                exact     exact     exact
pread64:EIO:500+               exact     exact     exact
pread64:ENOMEM:1+              runtime   runtime   runtime
pread64:ENOMEM:50+             exact     exact     exact
pread64:ENOMEM:500+            exact     exact     exact
pread64:EMFILE:1+              runtime   runtime   runtime
pread64:EMFILE:50+             exact     exact     exact
pread64:EMFILE:500+            exact     exact     exact
pread64:EINTR:1+               runtime   runtime   runtime
pread64:EINTR:50+              exact     exact     exact
pread64:EINTR:500+             exact     exact     exact
pread64:EACCES:1+              runtime   runtime   runtime
pread64:EACCES:50+             exact     exact     exact
pread64:EACCES:500+            exact     exact     exact
pread64:ENOENT:1+              runtime   runtime   runtime
pread64:ENOENT:50+             exact     exact     exact
pread64:ENOENT:500+            exact     exact     exact
pread64:ESRCH:1+               runtime   runtime   runtime
pread64:ESRCH:50+              exact     exact     exact
pread64:ESRCH:500+             exact     exact     exact
getdents64:EIO:1+              failed    failed    said
getdents64:EIO:50+             exact|said exact|said said
getdents64:EIO:500+            exact     exact     exact
getdents64:ENOMEM:1+           failed    failed    said
getdents64:ENOMEM:50+          exact|said exact|said said
getdents64:ENOMEM:500+         exact     exact     exact
getdents64:EMFILE:1+           failed    failed    said
getdents64:EMFILE:50+          exact|said exact|said said
getdents64:EMFILE:500+         exact     exact     exact
getdents64:EINTR:1+            hung      hung      hung
getdents64:EINTR:50+           exact|said exact|said said
getdents64:EINTR:500+          exact     exact     exact
getdents64:EACCES:1+           failed    failed    said
getdents64:EACCES:50+          exact|said exact|said said
getdents64:EACCES:500+         exact     exact     exact
getdents64:ENOENT:1+           failed    failed    said
getdents64:ENOENT:50+          exact|said exact|said said
getdents64:ENOENT:500+         exact     exact     exact
getdents64:ESRCH:1+            failed    failed    said
getdents64:ESRCH:50+           exact|said exact|said said
getdents64:ESRCH:500+          exact     exact     exact
readlinkat:EIO:1+              said      said      said
readlinkat:EIO:50+             exact|said exact|said said
readlinkat:EIO:500+            exact     exact     exact
readlinkat:ENOMEM:1+           said      said      said
readlinkat:ENOMEM:50+          exact|said exact|said said
readlinkat:ENOMEM:500+         exact     exact     exact
readlinkat:EMFILE:1+           said      said      said
readlinkat:EMFILE:50+          exact|said exact|said said
readlinkat:EMFILE:500+         exact     exact     exact
readlinkat:EINTR:1+            said      said      said
readlinkat:EINTR:50+           exact|said exact|said said
readlinkat:EINTR:500+          exact     exact     exact
readlinkat:EACCES:1+           said      said      said
readlinkat:EACCES:50+          exact|said exact|said said
readlinkat:EACCES:500+         exact     exact     exact
readlinkat:ENOENT:1+           said      said      said
readlinkat:ENOENT:50+          exact|said exact|said said
readlinkat:ENOENT:500+         exact     exact     exact
readlinkat:ESRCH:1+            said      said      said
readlinkat:ESRCH:50+           exact|said exact|said said
readlinkat:ESRCH:500+          exact     exact     exact
ioctl:EIO:1+                   exact     exact     exact
ioctl:EIO:50+                  exact     exact     exact
ioctl:EIO:500+                 exact     exact     exact
ioctl:ENOMEM:1+                exact     exact     exact
ioctl:ENOMEM:50+               exact     exact     exact
ioctl:ENOMEM:500+              exact     exact     exact
ioctl:EMFILE:1+                exact     exact     exact
ioctl:EMFILE:50+               exact     exact     exact
ioctl:EMFILE:500+              exact     exact     exact
ioctl:EINTR:1+                 exact     exact     exact
ioctl:EINTR:50+                exact     exact     exact
ioctl:EINTR:500+               exact     exact     exact
ioctl:EACCES:1+                exact     exact     exact
ioctl:EACCES:50+               exact     exact     exact
ioctl:EACCES:500+              exact     exact     exact
ioctl:ENOENT:1+                exact     exact     exact
ioctl:ENOENT:50+               exact     exact     exact
ioctl:ENOENT:500+              exact     exact     exact
ioctl:ESRCH:1+                 exact     exact     exact
ioctl:ESRCH:50+                exact     exact     exact
ioctl:ESRCH:500+               exact     exact     exact
open_by_handle_at:EIO:1+       exact     exact     exact
open_by_handle_at:EIO:50+      exact     exact     exact
open_by_handle_at:EIO:500+     exact     exact     exact
open_by_handle_at:ENOMEM:1+    exact     exact     exact
open_by_handle_at:ENOMEM:50+   exact     exact     exact
open_by_handle_at:ENOMEM:500+  exact     exact     exact
open_by_handle_at:EMFILE:1+    exact     exact     exact
open_by_handle_at:EMFILE:50+   exact     exact     exact
open_by_handle_at:EMFILE:500+  exact     exact     exact
open_by_handle_at:EINTR:1+     exact     exact     exact
open_by_handle_at:EINTR:50+    exact     exact     exact
open_by_handle_at:EINTR:500+   exact     exact     exact
open_by_handle_at:EACCES:1+    exact     exact     exact
open_by_handle_at:EACCES:50+   exact     exact     exact
open_by_handle_at:EACCES:500+  exact     exact     exact
open_by_handle_at:ENOENT:1+    exact     exact     exact
open_by_handle_at:ENOENT:50+   exact     exact     exact
open_by_handle_at:ENOENT:500+  exact     exact     exact
open_by_handle_at:ESRCH:1+     exact     exact     exact
open_by_handle_at:ESRCH:50+    exact     exact     exact
open_by_handle_at:ESRCH:500+   exact     exact     exact
name_to_handle_at:EIO:1+       exact     exact     exact
name_to_handle_at:EIO:50+      exact     exact     exact
name_to_handle_at:EIO:500+     exact     exact     exact
name_to_handle_at:ENOMEM:1+    exact     exact     exact
name_to_handle_at:ENOMEM:50+   exact     exact     exact
name_to_handle_at:ENOMEM:500+  exact     exact     exact
name_to_handle_at:EMFILE:1+    exact     exact     exact
name_to_handle_at:EMFILE:50+   exact     exact     exact
name_to_handle_at:EMFILE:500+  exact     exact     exact
name_to_handle_at:EINTR:1+     exact     exact     exact
name_to_handle_at:EINTR:50+    exact     exact     exact
name_to_handle_at:EINTR:500+   exact     exact     exact
name_to_handle_at:EACCES:1+    exact     exact     exact
name_to_handle_at:EACCES:50+   exact     exact     exact
name_to_handle_at:EACCES:500+  exact     exact     exact
name_to_handle_at:ENOENT:1+    exact     exact     exact
name_to_handle_at:ENOENT:50+   exact     exact     exact
name_to_handle_at:ENOENT:500+  exact     exact     exact
name_to_handle_at:ESRCH:1+     exact     exact     exact
name_to_handle_at:ESRCH:50+    exact     exact     exact
name_to_handle_at:ESRCH:500+   exact     exact     exact
open_tree:EIO:1+               exact     exact     exact
open_tree:EIO:50+              exact     exact     exact
open_tree:EIO:500+             exact     exact     exact
open_tree:ENOMEM:1+            exact     exact     exact
open_tree:ENOMEM:50+           exact     exact     exact
open_tree:ENOMEM:500+          exact     exact     exact
open_tree:EMFILE:1+            exact     exact     exact
open_tree:EMFILE:50+           exact     exact     exact
open_tree:EMFILE:500+          exact     exact     exact
open_tree:EINTR:1+             exact     exact     exact
open_tree:EINTR:50+            exact     exact     exact
open_tree:EINTR:500+           exact     exact     exact
open_tree:EACCES:1+            exact     exact     exact
open_tree:EACCES:50+           exact     exact     exact
open_tree:EACCES:500+          exact     exact     exact
open_tree:ENOENT:1+            exact     exact     exact
open_tree:ENOENT:50+           exact     exact     exact
open_tree:ENOENT:500+          exact     exact     exact
open_tree:ESRCH:1+             exact     exact     exact
open_tree:ESRCH:50+            exact     exact     exact
open_tree:ESRCH:500+           exact     exact     exact
statx:EIO:1+                   runtime   runtime   runtime
statx:EIO:50+                  exact     exact     exact
statx:EIO:500+                 exact     exact     exact
statx:ENOMEM:1+                runtime   runtime   runtime
statx:ENOMEM:50+               exact     exact     exact
statx:ENOMEM:500+              exact     exact     exact
statx:EMFILE:1+                runtime   runtime   runtime
statx:EMFILE:50+               exact     exact     exact
statx:EMFILE:500+              exact     exact     exact
statx:EINTR:1+                 hung      hung      hung
statx:EINTR:50+                exact     exact     exact
statx:EINTR:500+               exact     exact     exact
statx:EACCES:1+                runtime   runtime   runtime
statx:EACCES:50+               exact     exact     exact
statx:EACCES:500+              exact     exact     exact
statx:ENOENT:1+                runtime   runtime   runtime
statx:ENOENT:50+               exact     exact     exact
statx:ENOENT:500+              exact     exact     exact
statx:ESRCH:1+                 runtime   runtime   runtime
statx:ESRCH:50+                exact     exact     exact
statx:ESRCH:500+               exact     exact     exact
write:EIO:1+                   runtime   runtime   runtime
write:EIO:50+                  exact     exact     exact
write:EIO:500+                 exact     exact     exact
write:ENOMEM:1+                runtime   runtime   runtime
write:ENOMEM:50+               exact     exact     exact
write:ENOMEM:500+              exact     exact     exact
write:EMFILE:1+                runtime   runtime   runtime
write:EMFILE:50+               exact     exact     exact
write:EMFILE:500+              exact     exact     exact
write:EINTR:1+                 hung      hung      hung
write:EINTR:50+                exact     exact     exact
write:EINTR:500+               exact     exact     exact
write:EACCES:1+                runtime   runtime   runtime
write:EACCES:50+               exact     exact     exact
write:EACCES:500+              exact     exact     exact
write:ENOENT:1+                runtime   runtime   runtime
write:ENOENT:50+               exact     exact     exact
write:ENOENT:500+              exact     exact     exact
write:ESRCH:1+                 runtime   runtime   runtime
write:ESRCH:50+                exact     exact     exact
write:ESRCH:500+               exact     exact     exact
`;

/** By fault name ("readlinkat:ENOENT:50+"): the outcomes allowed in each mode. */
export const FAULT_OUTCOMES: ReadonlyMap<string, Readonly<Record<FaultMode, readonly Outcome[]>>> = new Map(
  TABLE.trim()
    .split('\n')
    .map((line) => {
      const [fault, json, batch, check] = line.trim().split(/\s+/) as [string, string, string, string];
      const allowed = (cell: string) => cell.split('|') as Outcome[];
      return [fault, { json: allowed(json), batch: allowed(batch), check: allowed(check) }];
    }),
);
