// Who the kernel charges above a user namespace, and the namespace's own limits. Every instance,
// watch, group and mark is charged to its maker's key (user namespace, euid) and then, namespace
// by namespace up to the host's, to (parent, the uid that made the namespace) (kernel/ucount.c
// inc_ucount). The owner and parent come from nsfs ioctls on /proc/PID/ns/user; a namespace's own
// /proc/sys/user/max_* can only be read from inside it (the sysctl shows the reader's namespace's),
// and setns is refused to a multi-threaded process such as Node: a short-lived helper reads them.
//
// Each namespace is looked up once, when first seen, and kept while some scanned process is in it
// or below it. Its fd stays open meanwhile: a live namespace's inode number cannot be given to a
// new one, so what is kept for a number is always that namespace's.
import { fail, type Result } from '../common/result.js';
import type { ChargeLimits, ScanNote, ScannedProcess, UserNamespace } from '../model/types.js';
import { errnoName } from '../sys/errno.js';
import { namespaceCalls, type NamespaceCalls } from '../sys/nsfs.js';
import { uptimeMs } from '../deadline.js';

/** The files a namespace's own limits are read from, in ChargeLimits' order. */
const LIMIT_FILES = ['max_inotify_instances', 'max_inotify_watches', 'max_fanotify_groups', 'max_fanotify_marks'] as const;
/** What a new user namespace's limits start at (kernel/user_namespace.c): no limit of its own. */
const UNLIMITED = 2 ** 31 - 1;
/** The helper's time at most, when the refresh has no deadline of its own. */
const HELPER_TIMEOUT_MS = 2000;
/** Its time for the one namespace of a failing process that the scan did not meet. */
const ONE_LOOKUP_MS = 500;
/**
 * For each namespace fd given (3, 4, ...), a line "ns FD", then "PATH:VALUE" for each limit file
 * read inside it (none when it cannot be entered). nsenter keeps our credentials (the namespace
 * may not map uid 0); grep reads each file at once (a sysctl file read in pieces, as the shell's
 * read does, ends after its first byte).
 */
const HELPER_SCRIPT = `for fd; do echo "ns $fd"; nsenter --user=/proc/self/fd/$fd --preserve-credentials grep -H '' ${LIMIT_FILES.map((file) => `/proc/sys/user/${file}`).join(' ')}; done`;

interface Known {
  /** Held open while the namespace is kept. */
  fd: number;
  namespace: UserNamespace;
}

export class UserNamespaces {
  private readonly known = new Map<string, Known>();

  constructor(private readonly procRoot: string) {}

  /**
   * The namespaces of these processes and their ancestors, the host's left out: looked up for
   * those new since the previous call, and forgotten (their fds closed) for those no process is
   * in or below any more. `deadline` (uptimeMs() time) bounds the helper that reads new
   * namespaces' limits.
   */
  update(
    processes: readonly ScannedProcess[],
    hostUserns: string | null,
    names: ReadonlyMap<number, string>,
    deadline: number | null,
  ): { namespaces: UserNamespace[]; notes: ScanNote[] } {
    const notes: ScanNote[] = [];
    const wanted = new Map<string, number>();
    for (const proc of processes) if (proc.userns !== null && proc.userns !== hostUserns && !wanted.has(proc.userns)) wanted.set(proc.userns, proc.pid);
    if (wanted.size === 0) {
      this.forgetAllBut(new Set());
      return { namespaces: [], notes };
    }
    const available = this.calls();
    if (!available.ok) {
      notes.push({ kind: 'userns-uncharged', reason: available.error });
      return { namespaces: [], notes };
    }
    const calls = available.value;
    const added: Known[] = [];
    const failed: string[] = [];
    for (const [id, pid] of wanted) {
      if (this.known.has(id)) continue;
      const why = this.lookUp(calls, id, pid, hostUserns, names, added);
      if (why) failed.push(why);
    }
    if (added.length > 0) this.readLimits(added, deadline, notes);
    if (failed.length > 0) notes.push({ kind: 'userns-owners-unread', reasons: failed.slice(0, 3), count: failed.length });
    // Kept: what the processes are in, and every ancestor of that.
    const kept = new Set<string>();
    for (const id of wanted.keys()) {
      for (let at: string | null = id; at !== null && !kept.has(at) && this.known.has(at); at = this.known.get(at)!.namespace.parent) kept.add(at);
    }
    this.forgetAllBut(kept);
    return { namespaces: [...kept].map((id) => this.known.get(id)!.namespace), notes };
  }

  /**
   * One namespace and its ancestors, for a process the scan did not list (a failing process whose
   * namespace holds nothing); null when it cannot be looked up. Kept until the next update().
   */
  lookUpOne(id: string, pid: number, hostUserns: string | null, names: ReadonlyMap<number, string>): UserNamespace | null {
    const known = this.known.get(id);
    if (known) return known.namespace;
    const calls = this.calls();
    if (!calls.ok) return null;
    const added: Known[] = [];
    this.lookUp(calls.value, id, pid, hostUserns, names, added);
    // A failure is being judged: its refresh waits for this one at most ONE_LOOKUP_MS.
    if (added.length > 0) this.readLimits(added, uptimeMs() + ONE_LOOKUP_MS, []);
    return this.known.get(id)?.namespace ?? null;
  }

  /** What is known of a namespace, and every ancestor of it known too. */
  get(id: string): UserNamespace | null {
    return this.known.get(id)?.namespace ?? null;
  }

  close(): void {
    this.forgetAllBut(new Set());
  }

  private calls(): Result<NamespaceCalls> {
    return this.procRoot === '/proc' ? namespaceCalls() : fail(`${this.procRoot} is not the live /proc`);
  }

  /** Looks up `id` (through a process in it) and its ancestors not known yet; why not, or null. */
  private lookUp(calls: NamespaceCalls, id: string, pid: number, hostUserns: string | null, names: ReadonlyMap<number, string>, added: Known[]): string | null {
    let fd = calls.open(`${this.procRoot}/${pid}/ns/user`);
    if (fd < 0) return `pid ${pid}: ${errnoName(-fd)}`;
    // The process may have moved (or ended, its pid taken) since it was read.
    if (String(calls.inode(fd)) !== id) {
      calls.close(fd);
      return `pid ${pid} left user namespace ${id}`;
    }
    for (let current = id; ;) {
      const owner = calls.ownerUid(fd);
      const parentFd = calls.parent(fd);
      if (owner < 0) {
        calls.close(fd);
        if (parentFd >= 0) calls.close(parentFd);
        return `user namespace ${current}: ${errnoName(-owner)}`;
      }
      // EPERM: the parent is outside our own user namespace (inotop runs in one of its own, the
      // host's above it as far as we can tell).
      const parentId = parentFd >= 0 ? String(calls.inode(parentFd)) : null;
      const parent = parentId === hostUserns ? null : parentId;
      const known: Known = { fd, namespace: { id: current, parent, ownerUid: owner, ownerName: names.get(owner) ?? String(owner), limits: null } };
      this.known.set(current, known);
      added.push(known);
      if (parent === null || this.known.has(parent)) {
        if (parentFd >= 0) calls.close(parentFd);
        return null;
      }
      current = parent;
      fd = parentFd;
    }
  }

  /** The namespaces' own limits, through one helper for all of them (see HELPER_SCRIPT). */
  private readLimits(added: readonly Known[], deadline: number | null, notes: ScanNote[]): void {
    const timeout = Math.max(1, Math.min(HELPER_TIMEOUT_MS, deadline === null ? HELPER_TIMEOUT_MS : deadline - uptimeMs()));
    // node:child_process only where some process runs in a user namespace of its own.
    const { spawnSync } = process.getBuiltinModule('node:child_process');
    const fds = added.map((known) => known.fd);
    const helper = spawnSync('sh', ['-c', HELPER_SCRIPT, 'sh', ...fds.map((_, i) => String(3 + i))], {
      stdio: ['ignore', 'pipe', 'pipe', ...fds],
      timeout,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
    });
    // Each namespace's files, by the index of its fd.
    const read = new Map<number, Map<string, string>>();
    let files: Map<string, string> | undefined;
    for (const line of (helper.stdout ?? '').split('\n')) {
      const fd = /^ns (\d+)$/.exec(line)?.[1];
      if (fd !== undefined) read.set(Number(fd) - 3, (files = new Map()));
      const value = /^\/proc\/sys\/user\/(\w+):(.*)$/.exec(line);
      if (value && files) files.set(value[1]!, value[2]!.trim());
    }
    let unread = 0;
    added.forEach((known, i) => {
      const values = read.get(i);
      // Its inotify limits at least: fanotify's files are missing before Linux 5.13.
      if (!values?.has('max_inotify_instances') || !values.has('max_inotify_watches')) {
        unread++;
        return;
      }
      const [instances, watches, fanotifyGroups, fanotifyMarks] = LIMIT_FILES.map((file) => limitValue(values.get(file)));
      known.namespace.limits = { instances, watches, fanotifyGroups, fanotifyMarks } as ChargeLimits;
    });
    if (unread > 0) {
      const why = helper.error
        ? (helper.error as NodeJS.ErrnoException).code === 'ETIMEDOUT'
          ? `the helper did not answer in ${timeout} ms`
          : helper.error.message
        : helper.stderr.trim().split('\n').pop() || 'nsenter could not enter them';
      notes.push({ kind: 'userns-limits-unread', namespaces: unread, reason: why });
    }
  }

  private forgetAllBut(kept: ReadonlySet<string>): void {
    // Nothing known, no call: a scan's worker that read nothing closes its scanner while the main
    // thread may be ending it, and a koffi call in an isolate being terminated aborts the process
    // (node-addon-api cannot throw there: seen under strace -f).
    if (this.known.size === 0) return;
    const calls = namespaceCalls();
    for (const [id, known] of this.known) {
      if (kept.has(id)) continue;
      if (calls.ok) calls.value.close(known.fd);
      this.known.delete(id);
    }
  }
}

/** A limit file's value: null where unlimited (INT_MAX, as a new namespace starts) or missing (fanotify's, before 5.13). */
function limitValue(text: string | undefined): number | null {
  const value = Number(text);
  return text === undefined || text === '' || !Number.isSafeInteger(value) || value >= UNLIMITED ? null : value;
}
