// The scanner: every process under a procfs root, its inotify instances and their watches, its
// fanotify groups and their marks.
// Synchronous on purpose: it runs in a worker thread (or a batch run), and sync procfs reads are
// several times cheaper than promises at tens of thousands of fds.
import { statSync } from 'node:fs';
import { hostname as osHostname, release as osRelease } from 'node:os';
import { EqualGroups, groupBy, mergeGrouped } from '../common/group.js';
import type { FanotifyGroup, InotifyInstance, Limits, ScanNote, ScanResult, ScannedProcess, UserNamespace, WatchList } from '../model/types.js';
import {
  FANOTIFY_LINK,
  firstFanotifyLine,
  INOTIFY_LINKS,
  parseFanotifyFdinfo,
  firstWatchLine,
  parseInotifyFdinfo,
  parseNamespaceLink,
  parseWatchDevices,
  unparsedLines,
  WatchListReader,
  parsePasswd,
  parseSysctlNumber,
  type FanotifyFdinfo,
} from './parse.js';
import {
  FdDirs,
  FdLinks,
  FdinfoFiles,
  FIRST_READ_BYTES,
  fdsNow,
  listNumericEntries,
  listPids,
  readProcBytes,
  readProcBytesOrStream,
  readProcTextOrNull,
  readlinkOrNull,
} from './procfs.js';
import { causeOf, Misses } from './coverage.js';
import { KeptHolderFiles, readHolder } from './holders.js';
import { errorCode, isOutOfFds, isPermissionDenied, isVanished } from '../sys/errno.js';
import { LinkSet } from '../sys/dirents.js';
import { KcmpError, kcmpComparator, type FileComparator } from '../sys/kcmp.js';
import { FileSet, type HeldFd } from '../sys/filesets.js';
import { holdOptimizer, optimizerWork, releaseOptimizer, WATCH_LINE_BYTES } from '../sys/optimizer.js';
import { nodePath } from '../common/node-root.js';
import { objectArray } from '../common/object-array.js';
import { errnoText } from '../common/error-text.js';
import { Stopped } from '../common/thread-stop.js';
import { uptimeMs } from '../deadline.js';
import { UserNamespaces } from './userns.js';
import { readQueuesOf } from './queues.js';
import { queueCalls, type QueueCalls } from '../sys/queues.js';
import { ScanProgressMeter, type ScanProgressListener } from './progress.js';
import {
  PidShares,
  ScanThread,
  SECOND_THREAD,
  type PidRange,
  type ScanPart,
  type SecondThreadTuning,
  type ShareInit,
  type SharedOrder,
  type SharedRuns,
  type ThreadUse,
} from './second-thread.js';

export interface ScanOptions {
  /** procfs root; default /proc. Anything else is a recorded tree: kcmp cannot apply there. */
  procRoot?: string;
  /** Where user names come from; default the node's /etc/passwd (a recorded tree's etc/passwd beside its proc/). */
  passwdPath?: string;
  /** How to tell shared instances: kcmp when possible (default), or the heuristic only. */
  sharedDetection?: 'auto' | 'heuristic';
  /**
   * No scan follows (a one-shot run): with kcmp, a long watch list is keyed by its length, not a
   * digest of its bytes (see LENGTH_KEYED_BYTES).
   */
  once?: boolean;
  /**
   * A once-only scan of the live /proc without a deadline that turns out big is read by a second
   * thread beside this one (second-thread.ts): true for the defaults (SECOND_THREAD), or tuned
   * (tests force a small scan onto two threads). Off by default.
   */
  secondThread?: boolean | Partial<SecondThreadTuning>;
  /**
   * A once-only scan of the live /proc reads each holder's event queues as it reads the holder
   * (ScanResult.queued), on whichever thread reads it: for a one-shot that reads them once, right
   * after the scan (QueueReader.read's readAlready), where they would be read on the main thread alone.
   */
  readQueues?: boolean;
  /**
   * Called before each process is read, at each instance or group read, between the 1 MB reads
   * of a big one (of the live /proc) and at each megabyte of a big list's parse (parseInotifyFdinfo):
   * a collector's thread asked to stop throws there
   * (StopCell.check), and the scan ends, what it read dropped. None by default.
   */
  checkpoint?: () => void;
}

export class ScanError extends Error {}

/** An instance's parse, kept for the next scan: the same bytes parse the same. */
interface ParsedInstance {
  listKey: string;
  watches: WatchList;
}

const NO_WATCHES = parseInotifyFdinfo(new Uint8Array(0));
const NO_MARKS = parseFanotifyFdinfo(new Uint8Array(0));

/** The previous scan, as a scan of only the changed processes needs it. */
interface PreviousScan {
  /** Every process listed, holder or not. */
  pids: ReadonlySet<number>;
  /** Those whose fds were off limits, and why (EACCES, EPERM). */
  denied: ReadonlyMap<number, string>;
  /** Those holding instances or groups, as read. */
  holders: ReadonlyMap<number, ScannedProcess>;
  /** The holders' identities when read (procIdentity). */
  identities: ReadonlyMap<number, number>;
}

/** A group's parse, kept for the next scan as ParsedInstance is (checked by the digest of its fanotify lines). */
interface ParsedGroup {
  digest: string;
  fdinfo: FanotifyFdinfo;
}

/** The links the scan looks for: inotify's, then fanotify's (its index is FANOTIFY). */
const WATCHED = new LinkSet([...INOTIFY_LINKS, FANOTIFY_LINK]);
const FANOTIFY = WATCHED.links.length - 1;

/**
 * Scans a procfs tree, keeping what the next scan can reuse: the fdinfo files of instances (see
 * FdinfoFiles) and each instance's parse, keyed by pid and fd and checked by a digest of its
 * watch lines. A refresh in which an instance did not change costs the kernel's read and one
 * native digest of the bytes: no JavaScript work per watch.
 */
export class Scanner {
  private readonly procRoot: string;
  private readonly passwdPath: string;
  private readonly sharedDetection: 'auto' | 'heuristic';
  private readonly once: boolean;
  private readonly secondThread: SecondThreadTuning | null;
  private readonly readQueues: boolean;
  private readonly checkpoint: () => void;
  /** How the last scan used a second thread; null when it could not have (see ScanOptions.secondThread). */
  lastThreads: ThreadUse | null = null;
  /** What told the last scan's shared instances apart: its FileSet, kcmp, or neither (the heuristic). */
  lastSharedBy: 'file-set' | 'kcmp' | null = null;
  /** The second thread started as this scanner was made, for its first scan (ScanThread.early); null once taken or where none was. */
  private earlyThread: ScanThread | null = null;
  /** A recorded tree's files do not change under an open fd as procfs files do: those are read afresh. */
  private readonly fdinfoFiles: FdinfoFiles | null;
  /** The /proc/PID/fd directories kept open for the next scan (a live /proc's, when one follows). */
  private readonly fdDirs: FdDirs | null;
  /** The holders' own files (stat, status, cgroup, cmdline) kept open for the next scan (a live /proc's, when one follows). */
  private readonly holderFiles: KeptHolderFiles | null;
  /** The sysctl files each scan reads (sysctlText), kept open for the next (a live /proc's, when one follows). */
  private readonly sysctlFiles: FdinfoFiles | null;
  private parsed = new Map<string, ParsedInstance>();
  private parsedGroups = new Map<string, ParsedGroup>();
  /** What a scan of only the changed processes builds on: the last scan that read every process. */
  private previous: PreviousScan | null = null;
  /** The user namespaces of the processes read, kept while they are there. */
  private readonly userNamespaces: UserNamespaces;
  /** The last scan's host namespace and user names, for namespaceOf(). */
  private lastHost: { userns: string | null; names: ReadonlyMap<number, string> } = { userns: null, names: new Map() };

  constructor(options: ScanOptions = {}) {
    this.procRoot = (options.procRoot ?? '/proc').replace(/\/+$/, '') || '/';
    this.passwdPath = options.passwdPath ?? defaultPasswdPath(this.procRoot);
    this.sharedDetection = options.sharedDetection ?? 'auto';
    this.once = options.once ?? false;
    const { secondThread = false } = options;
    this.secondThread = this.once && secondThread ? { ...SECOND_THREAD, ...(secondThread === true ? {} : secondThread) } : null;
    this.checkpoint = options.checkpoint ?? (() => undefined);
    this.fdinfoFiles = this.procRoot === '/proc' ? new FdinfoFiles(this.checkpoint) : null;
    this.fdDirs = this.fdinfoFiles && !this.once ? new FdDirs() : null;
    this.sysctlFiles = this.fdinfoFiles && !this.once ? new FdinfoFiles() : null;
    this.holderFiles = this.fdinfoFiles && !this.once ? new KeptHolderFiles() : null;
    this.readQueues = this.once && this.fdinfoFiles !== null && (options.readQueues ?? false);
    this.userNamespaces = new UserNamespaces(this.procRoot);
    // Started now on a node that holds many open files: its start overlaps what comes before the scan.
    if (this.secondThread && this.fdinfoFiles) this.earlyThread = ScanThread.early(this.secondThread);
  }

  /** Closes the fdinfo files kept for the next scan and forgets the parses; a second thread not used is ended. */
  close(): void {
    this.earlyThread?.stop();
    this.earlyThread = null;
    this.fdinfoFiles?.closeAll();
    this.fdDirs?.closeAll();
    this.sysctlFiles?.closeAll();
    this.holderFiles?.closeAll();
    this.userNamespaces.close();
    this.parsed = new Map();
    this.parsedGroups = new Map();
    this.previous = null;
  }

  /**
   * A user namespace and its ancestors, known from the last scan or looked up now through `pid`
   * (a process in it that the scan did not list: it holds nothing); null when it cannot be told.
   */
  namespaceOf(userns: string, pid: number): UserNamespace | null {
    return this.userNamespaces.get(userns) ?? this.userNamespaces.lookUpOne(userns, pid, this.lastHost.userns, this.lastHost.names);
  }

  /** Whether scan() can be given `changed`: a complete scan of the live /proc came before. */
  canScanChanged(): boolean {
    return this.previous !== null;
  }

  /**
   * `deadline` (uptimeMs() time): past it no further process is read, and `incomplete`
   * says so. `changed` (after canScanChanged()): read again only these processes and those new
   * since the previous scan; every other one keeps what the previous scan read, once its identity
   * (procIdentity) shows it is the same process. Changes made without a syscall of the holder's (see
   * Tracer.takeChanged) wait for the next scan without `changed`. `progress` is told how far the
   * scan has got as it goes (ScanProgressMeter). A once-only scan holds V8's optimizing compiler
   * back while it is small (src/sys/optimizer.ts); not one whose second thread was started with the
   * scanner: it is big, and that thread's script is compiled with V8's code from the build, which
   * V8 takes only under the flags it was made with (the optimizer held back is another flag).
   */
  scan(deadline: number | null = null, changed: ReadonlySet<number> | null = null, progress: ScanProgressListener | null = null): ScanResult {
    const holdsOptimizer = this.once && !this.earlyThread;
    if (holdsOptimizer) holdOptimizer();
    // A one-shot that duplicates each holder's fds for their queues adds them to a FileSet on the
    // way, which tells shared ones apart at the end (readAll).
    const files = this.readQueues && this.sharedDetection !== 'heuristic' && kcmpComparator().ok && queueCallsOrNull() ? fileSetOrNull() : null;
    try {
      return this.readAll(deadline, changed, progress, files);
    } finally {
      if (holdsOptimizer) releaseOptimizer();
      files?.close();
    }
  }

  private readAll(deadline: number | null, changed: ReadonlySet<number> | null, progress: ScanProgressListener | null, files: FileSet | null): ScanResult {
    const started = uptimeMs();
    const procRoot = this.procRoot;
    let pids: number[];
    /** The identity of each process listed (a live /proc's, with koffi), for a next scan: see procIdentity. */
    const listed = new Map<number, number>();
    try {
      pids = listPids(procRoot, this.fdinfoFiles && !this.once ? listed : null);
    } catch (error) {
      throw new ScanError(`cannot read ${procRoot}: ${errnoText(error)}`);
    }
    const users = loadUserNames(this.passwdPath);
    const kcmp = this.sharedDetection !== 'heuristic' && procRoot === '/proc' ? kcmpComparator() : null;
    const exact = kcmp?.ok ? kcmp.value : null;
    /** Long lists keyed by their length: kcmp tells the instances of one length apart, and nothing is kept for a next scan. */
    const keyByLength = this.once && exact !== null;
    const previous = changed && this.previous ? this.previous : null;
    // A once-only scan of every process without a FileSet orders instances by kcmp as it reads them: on two threads, each its own share.
    const pass = new ScanPass(users, keyByLength, {
      kcmp: this.once && !previous && !files ? exact : null,
      deferrableBytes: this.once ? DEFERRED_LINES_BYTES : 0,
      queueCalls: this.readQueues ? queueCallsOrNull() : null,
      files,
      listed,
      beat: this.checkpoint,
    });
    const { processes, denied, identities } = pass;

    const keptPids: number[] = [];
    let skippedForTime = 0;
    const meter = progress ? new ScanProgressMeter(pids.length, progress) : null;
    // A one-shot of the live /proc that turns out big is read by a second thread too (second-thread.ts).
    const shares =
      this.secondThread && this.fdinfoFiles && deadline === null && !previous && !meter
        ? new PidShares(
            pids,
            this.secondThread,
            { procRoot, users, keyByLength, orderShared: exact !== null && !files, readQueues: pass.queued !== null, fileSet: files?.share ?? null },
            this.earlyThread,
          )
        : null;
    // Taken by this scan, or not needed by it (its worker would wait on): its first scan is the one that could use it.
    if (!shares) this.earlyThread?.stop();
    this.earlyThread = null;
    /** The second thread's instances in the kernel's order, beside this thread's (pass.fileOrder). */
    let theirOrder: SharedOrder | null = null;
    /** The second thread's side of the FileSet where it read a part (null: it could not join the set). */
    let theirFiles: ScanPart['files'] | undefined;
    if (shares) {
      for (let range = shares.claim(); range; range = shares.claim()) {
        for (let at = range.start; at < range.end; at++) this.readProcess(pids[at]!, pass);
      }
      const { part, notRead } = shares.finish(() => pass.fileOrder?.order() ?? null);
      for (const pid of notRead) this.readProcess(pid, pass);
      if (part && exact && !files) theirOrder = part.sharedOrder ?? new FileOrder(exact, part.processes).order();
      theirFiles = part ? part.files : undefined;
      pass.join(part);
    }
    this.lastThreads = shares?.use() ?? null;
    for (const pid of shares ? [] : pids) {
      this.checkpoint();
      meter?.reading(processes);
      if (deadline !== null && uptimeMs() > deadline) {
        skippedForTime++;
        continue;
      }
      if (previous?.pids.has(pid) && !changed!.has(pid)) {
        const deniedBefore = previous.denied.get(pid);
        if (deniedBefore) {
          denied.set(pid, deniedBefore);
          pass.misses.add(deniedBefore, pid);
        }
        const kept = previous.holders.get(pid);
        if (!kept) continue;
        const identity = listed.get(pid) ?? procIdentity(`${procRoot}/${pid}`);
        if (identity !== null && identity === previous.identities.get(pid)) {
          processes.push(this.keep(kept, pass.parsedNow, pass.parsedGroupsNow));
          keptPids.push(pid);
          identities.set(pid, identity);
          continue;
        }
        // Gone, or its pid taken by a new process: read as new.
      }
      this.readProcess(pid, pass);
    }
    const { misses, outOfFds, parsedNow, parsedGroupsNow, parsedInstances } = pass;

    meter?.done(processes);
    // The fdinfo files of processes not read this time are still wanted (by a next scan: a
    // once-only scan keeps nothing for one).
    if (!previous && !this.once) {
      this.fdinfoFiles?.endScan();
      this.fdDirs?.endScan();
      this.holderFiles?.endScan();
    }
    this.parsed = parsedNow;
    this.parsedGroups = parsedGroupsNow;

    // pid 1's namespace is the host's; where pid 1 is off limits (some sandboxes), ours stands in.
    const hostUserns = parseNamespaceLink(readlinkOrNull(`${procRoot}/1/ns/user`) ?? readlinkOrNull(`${procRoot}/self/ns/user`) ?? '');
    const notes: ScanNote[] = [];
    const namespaced = this.userNamespaces.update(processes, hostUserns, users, deadline);
    this.lastHost = { userns: hostUserns, names: users };
    notes.push(...namespaced.notes);
    // Without CAP_SYS_PTRACE, other users' fds are off limits: running as root shows them. With it,
    // what is still denied is protected by the host itself (a sandbox's init): root cannot help.
    const hostProtected = denied.size > 0 && procRoot === '/proc' && holdsCapability(CAP_SYS_PTRACE);
    const needsPrivilege = hostProtected ? 0 : denied.size;
    if (needsPrivilege > 0) notes.push({ kind: 'unreadable', processes: needsPrivilege });
    notes.push(...misses.notes(needsPrivilege > 0 ? new Set(denied.keys()) : NO_PIDS, hostProtected));
    // Only a scan that read all it could of the live /proc can be built on (one of only the changed
    // processes too), and only by a next scan.
    const onlyDenied = misses.causes().every(([cause]) => PERMISSION_CAUSES.has(cause));
    this.previous =
      this.fdinfoFiles && !this.once && skippedForTime === 0 && !outOfFds && onlyDenied
        ? { pids: new Set(pids), denied, holders: new Map(processes.map((proc) => [proc.pid, proc])), identities }
        : null;
    const hostname = this.sysctlText('kernel/hostname')?.trim() || osHostname();
    const kernel = this.sysctlText('kernel/osrelease')?.trim() || osRelease();
    const limits = readLimits((path) => this.sysctlText(path));

    // Last, so that a second thread merges the two threads' orders meanwhile (SharedRuns). With
    // kcmp: the runs it merged, or those the FileSet tells where each thread that read added
    // every holder's fds to it, else each thread's order (made as it read: a once-only scan; else
    // made now) merged here.
    const byFiles = files !== null && files.whole && theirFiles !== null && (theirFiles?.whole ?? true);
    this.lastSharedBy = byFiles ? 'file-set' : exact ? 'kcmp' : null;
    const runs =
      shares?.sharedRuns() ??
      (byFiles
        ? runsOfFiles(files.sameFiles())
        : exact
          ? mergeOrders(exact, pass.fileOrder ? [pass.fileOrder.order(), theirOrder] : [new FileOrder(exact, processes).order()])
          : null);
    markShared(processes, (proc) => proc.instances, runs?.instances ?? null);
    markShared(processes, (proc) => proc.fanotifyGroups, runs?.groups ?? null);
    return {
      time: new Date().toISOString(),
      hostname,
      kernel,
      procRoot,
      hostUserns,
      limits,
      processes,
      needsPrivilege,
      coverage: misses.coverage(pids.length, skippedForTime),
      userNamespaces: namespaced.namespaces,
      sharedDetection: exact ? 'kcmp' : 'heuristic',
      notes,
      parsedInstances,
      scope: previous ? 'changed' : 'all',
      keptPids,
      queued: pass.queued,
      incomplete: skippedForTime > 0 ? { notRead: skippedForTime, processes: pids.length } : null,
      durationMs: uptimeMs() - started,
    };
  }

  /**
   * A second thread's share of a one-shot scan (second-thread.ts): the processes of the ranges of
   * `pids` that `claim` hands out, read as scan() reads them, with `beat` called at every process
   * and fd read; with `orderShared`, their instances in the kernel's order too (SharedOrder); with
   * `readQueues`, their queues (ScanOptions.readQueues).
   */
  readShare(
    pids: ArrayLike<number>,
    claim: () => PidRange | null,
    users: ReadonlyMap<number, string>,
    { keyByLength, orderShared, readQueues, fileSet }: Pick<ShareInit, 'keyByLength' | 'orderShared' | 'readQueues' | 'fileSet'>,
    beat: () => void,
  ): ScanPart {
    const kcmp = orderShared ? kcmpComparator() : null;
    const queueCalls = readQueues ? queueCallsOrNull() : null;
    const joined = fileSet !== null && queueCalls ? FileSet.join(fileSet) : null;
    const files = typeof joined === 'string' ? null : joined;
    // No list of a second thread's is deferred: its lists are moved to the main thread as arrays (listBuffers).
    const pass = new ScanPass(users, keyByLength, { kcmp: kcmp?.ok ? kcmp.value : null, deferrableBytes: 0, queueCalls, files, listed: new Map(), beat });
    for (let range = claim(); range; range = claim()) {
      for (let at = range.start; at < range.end; at++) {
        this.readProcess(pids[at]!, pass);
        beat();
      }
    }
    // Where it could not join the set (files null), the main thread cannot tell shared instances by it.
    return pass.part();
  }

  /** Reads one process into `pass`: its instances and groups, and what could not be read of it. */
  private readProcess(pid: number, pass: ScanPass): void {
    const base = `${this.procRoot}/${pid}`;
    const live = this.fdinfoFiles !== null;
    let dir: FdLinks;
    /** Where its fd and fdinfo directories are: base, or a live thread's directory where its main thread has exited (threadFds). */
    let fdsAt = base;
    let fdThread: number | null = null;
    try {
      dir = this.withFds(() =>
        FdLinks.read(`${base}/fd`, WATCHED, this.fdDirs && { dirs: this.fdDirs, pid }, pid === ownPid && live ? this.ownKeptFds() : null),
      );
      optimizerWork(dir.count);
      const thread = dir.count === 0 ? this.threadFds(base, pid) : null;
      if (thread) {
        ({ dir, tid: fdThread } = thread);
        fdsAt = `${base}/task/${fdThread}`;
      }
    } catch (error) {
      // Gone only when its /proc/PID is gone too: a process whose fd directory cannot be found
      // while it is there holds what it holds, unread (a zombie's lists nothing, and is no error).
      if (isVanished(error) && processGone(base)) return;
      if (isPermissionDenied(error)) pass.denied.set(pid, causeOf(error));
      if (isOutOfFds(error)) pass.outOfFds = true;
      pass.misses.add(causeOf(error), pid);
      return;
    }
    const instances: InotifyInstance[] = [];
    const groups: FanotifyGroup[] = [];
    /** Out of fds: the rest of this process is not read. */
    let skipped: unknown = null;
    for (const { fd, link } of dir.found) {
      const path = `${fdsAt}/fdinfo/${fd}`;
      // Chunks in order: one, but for a big instance (a line may span two); or, for a long
      // list in a once-only scan with kcmp, its watches parsed as it was read (null: none).
      let read: Buffer[] | ReadList | null;
      const long = pass.keyByLength && link !== FANOTIFY;
      try {
        read = long ? this.readLongList(path) : this.readFdinfo(path);
      } catch (first) {
        try {
          // Closed since it was listed (ENOENT, as the kernel means it) if the directory listed
          // afresh says so too (stillListed); still listed as this, it is read once more, and a
          // second "gone" is a figure not read.
          if (!isVanished(first) || !stillListed(fdsAt, fd, link)) throw first;
          read = long ? this.readLongList(path) : this.readFdinfo(path);
        } catch (error) {
          // Asked to stop between a big file's reads: the scan ends, not this fd alone.
          if (error instanceof Stopped) throw error;
          if (error === first && isVanished(error)) continue;
          if (isOutOfFds(error)) {
            skipped = error;
            break;
          }
          // This fd's watches are not counted; the process's other fds are.
          pass.misses.add(causeOf(error), pid, `fdinfo ${fd}`);
          continue;
        }
      }
      pass.beat();
      const key = `${pid}/${fd}`;
      if (link === FANOTIFY) {
        const chunks = read as Buffer[];
        // Groups hold few marks: a big one is put together.
        const fdinfo = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const marksAt = firstFanotifyLine(fdinfo);
        const digest = marksAt < 0 ? '' : listDigest(fdinfo.subarray(marksAt));
        let parse = this.parsedGroups.get(key);
        if (parse?.digest !== digest) {
          parse = { digest, fdinfo: marksAt < 0 ? NO_MARKS : parseFanotifyFdinfo(fdinfo.subarray(marksAt)) };
          pass.parsedInstances.push(`${pid}:${fd}`);
        }
        pass.parsedGroupsNow.set(key, parse);
        const { inodeMarks, mountMarks, filesystemMarks } = parse.fdinfo;
        // As for instances, '' for a group without marks: the heuristic leaves those alone.
        const listKey = inodeMarks.length + mountMarks.length + filesystemMarks.length === 0 ? '' : digest;
        groups.push({ fd, ...parse.fdinfo, listKey, instanceId: `${pid}:${fd}`, shared: false });
        continue;
      }
      // A long list read as it came (readLongList, null: it had no watch line) is parsed already.
      const readList = Array.isArray(read) ? undefined : read;
      const chunks = Array.isArray(read) ? read : [];
      // The header is a few short lines: the first watch line begins in the first chunk.
      const watchesAt = readList !== undefined ? (readList ? 0 : -1) : firstWatchLine(chunks[0]!);
      const lines = watchesAt < 0 || readList ? [] : [chunks[0]!.subarray(watchesAt), ...chunks.slice(1)];
      const bytes = readList ? readList.bytes : byteLength(lines);
      // A list read as it came is longer than LENGTH_KEYED_BYTES.
      const byLength = pass.keyByLength && (bytes >= LENGTH_KEYED_BYTES || Boolean(readList));
      // Shorter ones, in one chunk, by their length and a sample of their bytes (SampledLists).
      const sampled = pass.keyByLength && !byLength && lines.length === 1;
      const listKey = watchesAt < 0 ? '' : byLength ? `${LENGTH_KEY}${bytes}` : sampled ? sampledKey(lines[0]!) : listDigest(lines);
      // A key by length (or sample) names no one list: its parse is never shared by key nor kept.
      let parse = byLength || sampled ? undefined : this.parsed.get(key);
      if (parse?.listKey !== listKey) {
        parse = byLength ? undefined : sampled ? pass.sampledLists.parseOf(listKey, lines[0]!) : pass.parsedByList.get(listKey);
        if (!parse) {
          const watches = readList?.watches ?? (watchesAt < 0 ? NO_WATCHES : pass.parseWatches(lines));
          parse = { listKey, watches };
          pass.parsedInstances.push(`${pid}:${fd}`);
          if (sampled) pass.sampledLists.remember(lines[0]!, parse);
        }
      }
      pass.parsedNow.set(key, parse);
      if (!byLength && !sampled) pass.parsedByList.set(listKey, parse);
      instances.push({ fd, watches: parse.watches, listKey, instanceId: `${pid}:${fd}`, shared: false });
    }
    if (skipped) {
      pass.outOfFds = true;
      pass.misses.add(causeOf(skipped), pid);
      return;
    }
    if (dir.missed) {
      if (dir.missed.permission) pass.denied.set(pid, dir.missed.cause);
      pass.misses.add(dir.missed.cause, pid, dir.missed.permission ? undefined : `link ${dir.missed.fd}`);
    }
    if (instances.length === 0 && groups.length === 0) return;
    try {
      // As listed, before its stat: a pid taken by a new process meanwhile is read again next time (none follows a once-only scan).
      const identity = live && !this.once ? (pass.listed.get(pid) ?? procIdentity(base)) : null;
      const proc = readHolder(base, pid, pass.users, instances, groups, this.holderFiles, fdThread === null ? null : fdsAt);
      if (proc && fdThread !== null) proc.fdThread = fdThread;
      if (proc) pass.addHolder(proc);
      // Its stat or status read as gone while its /proc/PID is there: its instances are not counted, and it is said.
      else if (!processGone(base)) pass.misses.add('ENOENT', pid, 'status');
      if (proc && identity !== null) pass.identities.set(pid, identity);
    } catch (error) {
      pass.misses.add(causeOf(error), pid, 'status');
    }
  }

  /**
   * The fds of a process whose fd directory lists nothing, read through another of its threads
   * where its main thread has exited while they run (pthread_exit): the main thread's fd table is
   * gone with it (/proc/PID/fd and fdinfo list nothing), and the fds are the others' table,
   * /proc/PID/task/TID/fd of a live one. Null where the process has only one thread (nlink of
   * its task directory is 2 and one a thread: a kernel thread, most of those whose directory
   * lists nothing, costs one statx), or where no other thread's directory can be listed (gone).
   * Throws as FdLinks.read does where one is there but cannot be listed (permission).
   */
  private threadFds(base: string, pid: number): { tid: number; dir: FdLinks } | null {
    const tasks = `${base}/task`;
    let threads: number;
    try {
      threads = (statSync(tasks, { throwIfNoEntry: false })?.nlink ?? 2) - 2;
    } catch {
      return null;
    }
    if (threads < 2) return null;
    let tids: number[];
    try {
      tids = listNumericEntries(tasks);
    } catch {
      return null;
    }
    for (const tid of tids) {
      if (tid === pid) continue;
      try {
        return { tid, dir: this.withFds(() => FdLinks.read(`${tasks}/${tid}/fd`, WATCHED)) };
      } catch (error) {
        // Exited since the listing: the next one.
        if (!isVanished(error)) throw error;
      }
    }
    return null;
  }

  /**
   * A process the previous scan read, as it was, for a scan of only the changed ones. Its
   * instances and groups are copied (markShared marks them afresh); their watches are not.
   */
  private keep(proc: ScannedProcess, parsedNow: Map<string, ParsedInstance>, parsedGroupsNow: Map<string, ParsedGroup>): ScannedProcess {
    for (const { fd } of proc.instances) parsedNow.set(`${proc.pid}/${fd}`, this.parsed.get(`${proc.pid}/${fd}`)!);
    for (const { fd } of proc.fanotifyGroups) parsedGroupsNow.set(`${proc.pid}/${fd}`, this.parsedGroups.get(`${proc.pid}/${fd}`)!);
    const instanceId = (fd: number) => `${proc.pid}:${fd}`;
    return {
      ...proc,
      instances: proc.instances.map((instance) => ({ ...instance, instanceId: instanceId(instance.fd), shared: false })),
      fanotifyGroups: proc.fanotifyGroups.map((group) => ({ ...group, instanceId: instanceId(group.fd), shared: false })),
    };
  }

  /**
   * A file below the procfs root's sys/ (a sysctl: the limits, the hostname, the kernel's release)
   * as text, null when it cannot be read. Those of the live /proc are kept open from one scan to
   * the next (sysctlFiles): read again from offset 0, a sysctl prints its value now, in one call
   * where opening, reading and closing it took three (eight files, some 30 µs of each refresh).
   */
  private sysctlText(path: string): string | null {
    const full = `${this.procRoot}/sys/${path}`;
    if (!this.sysctlFiles) return readProcTextOrNull(full);
    try {
      const chunks = this.sysctlFiles.read(full);
      return (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
    } catch {
      return null;
    }
  }

  /**
   * The fds this scanner keeps open between scans (fdinfo files, fd directories, holders' and
   * sysctl files): procfs files and directories, never an instance or a group, whose links the
   * scan of our own process does not read. Each costs that process's listing a readlinkat
   * otherwise, as much as the open and close its keeping saves (2.2 µs on this project's
   * machine): some 280 at tiny, a tenth of the refresh.
   */
  private ownKeptFds(): ReadonlySet<number> {
    const fds = new Set<number>();
    this.fdinfoFiles?.addFds(fds);
    this.fdDirs?.addFds(fds);
    this.holderFiles?.addFds(fds);
    this.sysctlFiles?.addFds(fds);
    return fds;
  }

  /** An fdinfo file's bytes, as chunks in order (one but for a big instance); a read interrupted (EINTR) is tried once more. */
  private readFdinfo(path: string): Buffer[] {
    const chunks = onceMoreIfInterrupted(() => this.withFds(() => (this.fdinfoFiles ? this.fdinfoFiles.read(path) : [readProcBytes(path)])));
    optimizerWork(byteLength(chunks) / WATCH_LINE_BYTES);
    return chunks;
  }

  /**
   * An instance's fdinfo in a once-only scan with kcmp: as readFdinfo, but a file that fills the
   * first read (FIRST_READ_BYTES) is parsed as it is read, never held whole nor kept for a next
   * scan (WatchListReader): its list, null when it has no watch line.
   */
  private readLongList(path: string): Buffer[] | ReadList | null {
    return onceMoreIfInterrupted(() => {
      const reader = new WatchListReader();
      const bytes = this.withFds(() =>
        readProcBytesOrStream(path, (chunk) => {
          optimizerWork(chunk.length / WATCH_LINE_BYTES);
          reader.add(chunk);
        }),
      );
      if (bytes) optimizerWork(bytes.length / WATCH_LINE_BYTES);
      return bytes ? [bytes] : reader.end();
    });
  }

  /**
   * Runs an open; when we are out of fds, gives back the fdinfo files, fd directories and holders'
   * files kept for the next scan and tries once more (the kept files are what this process holds most of).
   */
  private withFds<T>(open: () => T): T {
    try {
      return open();
    } catch (error) {
      if (!isOutOfFds(error) || !(this.fdinfoFiles?.heldCount() || this.fdDirs?.heldCount() || this.holderFiles?.heldCount())) throw error;
      this.fdinfoFiles?.closeAll();
      this.fdDirs?.closeAll();
      this.holderFiles?.closeAll();
      return open();
    }
  }
}

/** How a ScanPass reads, beyond its users and keys. */
interface ScanPassOptions {
  /** kcmp, to order the instances as they are read: a once-only scan's (fileOrder). */
  kcmp: FileComparator | null;
  /** Bytes of watch lines this pass may keep in lists parsed when first read (parseWatches). */
  deferrableBytes: number;
  /** The queue calls, to read each holder's queues as it is read (queued). */
  queueCalls: QueueCalls | null;
  /** With the queue calls: the FileSet each holder's fds are added to as its queues are read, which tells shared ones apart. */
  files: FileSet | null;
  /** The identities of the processes listed, where the listing gave them (listPids). */
  listed: ReadonlyMap<number, number>;
  /** Called at every fd read and megabyte of a big list's parse: a second thread's sign of life, or a collector thread's (ScanOptions.checkpoint). */
  beat?: () => void;
}

/**
 * What reading processes collects: a scan's, or in a two-thread one-shot each thread's, the second
 * thread's joined to the main thread's at the end (join).
 */
class ScanPass {
  readonly processes = objectArray<ScannedProcess>();
  /** What could not be read, by cause. */
  misses = new Misses();
  /** Processes whose fds were off limits (permission), and why. */
  readonly denied = new Map<number, string>();
  /** Some process was not scanned for lack of file descriptors (ours or the system's). */
  outOfFds = false;
  readonly parsedNow = new Map<string, ParsedInstance>();
  readonly parsedGroupsNow = new Map<string, ParsedGroup>();
  readonly parsedInstances = objectArray<string>();
  /**
   * This scan's parses by their lines' digest: instances with the same lines (many watchers of
   * the same directories, added in the same order) share one immutable list, parsed once.
   */
  readonly parsedByList = new Map<string, ParsedInstance>();
  /** In a once-only scan with kcmp, the same for lists keyed by a sample of their bytes (sampledKey). */
  readonly sampledLists = new SampledLists();
  /** The identities of the holders read or kept; only a live /proc's scan is built on. */
  readonly identities = new Map<number, number>();
  /** The holders' instances in the kernel's order as they are read (kcmp given), for markShared. */
  readonly fileOrder: FileOrder | null;
  /** Their queues as they are read (queue calls given: ScanOptions.readQueues), by "pid:fd"; null where not read, or not by every thread. */
  queued: Map<string, number> | null;
  /** Bytes of watch lines this pass may still keep in lists parsed when first read (parseWatches). */
  private deferrableBytes: number;
  private readonly queueCalls: QueueCalls | null;
  /** The FileSet the holders' fds are added to (ScanPassOptions.files). */
  readonly files: FileSet | null;
  /** The identities of the processes listed, where the listing gave them (listPids). */
  readonly listed: ReadonlyMap<number, number>;
  /** Called at every fd read and megabyte of a big list's parse: a second thread's sign of life, or a collector thread's checkpoint. */
  readonly beat: () => void;

  constructor(
    readonly users: ReadonlyMap<number, string>,
    /** Long lists keyed by their length: kcmp tells the instances of one length apart, and nothing is kept for a next scan. */
    readonly keyByLength: boolean,
    { kcmp, deferrableBytes, queueCalls, files, listed, beat = () => undefined }: ScanPassOptions,
  ) {
    this.fileOrder = kcmp ? new FileOrder(kcmp) : null;
    this.deferrableBytes = deferrableBytes;
    this.queueCalls = queueCalls;
    this.queued = queueCalls ? new Map() : null;
    this.files = queueCalls ? files : null;
    this.listed = listed;
    this.beat = beat;
  }

  /** A holder read: listed, its instances put in order, its queues read. */
  addHolder(proc: ScannedProcess): void {
    this.processes.push(proc);
    this.fileOrder?.add(proc);
    if (this.queueCalls) readQueuesOf(this.queueCalls, proc, this.queued!, this.files);
  }

  /**
   * An instance's watch lines (chunks in order) as a list: in a once-only scan, a list in one
   * chunk, while the lines kept so stay within the pass's room, with only its devices parsed now
   * (parseWatchDevices): a one-shot without targets reads nothing else of a watch.
   */
  parseWatches(lines: readonly Buffer[]): WatchList {
    if (lines.length === 1 && lines[0]!.length <= this.deferrableBytes) {
      this.deferrableBytes -= lines[0]!.length;
      return parseWatchDevices(lines[0]!);
    }
    // A big list's parse is hundreds of ms: the checkpoint comes at each megabyte of it too.
    return parseInotifyFdinfo(lines.length === 1 ? lines[0]! : lines, this.beat);
  }

  /** What this pass found, as plain data for the thread that joins it. */
  part(): ScanPart {
    const { processes, denied, outOfFds, parsedInstances } = this;
    const queued = this.queued && [...this.queued];
    const files = this.files && { whole: this.files.whole };
    return {
      processes,
      misses: this.misses.list(),
      denied: [...denied],
      outOfFds,
      parsedInstances,
      sharedOrder: this.fileOrder?.order() ?? null,
      queued,
      files,
    };
  }

  /**
   * Joins a second thread's part (null: none came) to this pass: processes and misses in order
   * of pid, as one thread reading every pid in order lists them. Its lists' parses are its own:
   * a list both threads met was parsed by each (parsedInstances names both).
   */
  join(part: ScanPart | null): void {
    if (part) {
      this.processes.push(...part.processes);
      for (const [pid, cause] of part.denied) this.denied.set(pid, cause);
      this.outOfFds ||= part.outOfFds;
      this.parsedInstances.push(...part.parsedInstances);
      // Read by this thread only: the reader reads them all itself.
      if (part.queued === null) this.queued = null;
      else for (const [key, answer] of part.queued) this.queued?.set(key, answer);
    }
    this.processes.sort((a, b) => a.pid - b.pid);
    this.misses = Misses.ofParts(part ? [this.misses.list(), part.misses] : [this.misses.list()]);
  }
}

/** A list parsed as its file was read: its watches and the bytes of their lines. */
interface ReadList {
  watches: WatchList;
  bytes: number;
}

/** Runs a read, once more when it is interrupted (EINTR). */
function onceMoreIfInterrupted<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (errorCode(error) !== 'EINTR') throw error;
    return read();
  }
}

/** A one-off scan (tests, tools): nothing kept for a next one. */
export function scan(options: ScanOptions = {}): ScanResult {
  const scanner = new Scanner(options);
  try {
    return scanner.scan();
  } finally {
    scanner.close();
  }
}

const PERMISSION_CAUSES: ReadonlySet<string> = new Set(['EACCES', 'EPERM']);
/** Our own pid, whose listing passes over the scanner's own kept files (Scanner.ownKeptFds). */
const ownPid = process.pid;
const NO_PIDS: ReadonlySet<number> = new Set();

/**
 * Watch lines of at least this many bytes (some 300 watches) are keyed by their length in a
 * once-only scan with kcmp. Half the first read: a file that fills it (read as it comes, never
 * whole: readLongList) has more bytes of watch lines than this, as every other fd of its instance
 * has (their fdinfo differs only in the header's few short lines), so all are keyed alike. Only
 * lists of one length can be equal, and kcmp tells exactly which of those are one instance, so
 * the digest (its SHA-1 costs some 5% of reading and parsing the list) is not needed to find
 * shared instances; it serves to parse equal lists once and to keep a parse for the next scan.
 * Long lists are seldom equal but in one instance's holders; a scan with no next one keeps
 * nothing. Such equal lists are then parsed once per holder.
 */
const LENGTH_KEYED_BYTES = FIRST_READ_BYTES / 2;
/** Begins a key by length (or by a sample: sampledKey): a digest (base64) never does. */
const LENGTH_KEY = '#';

/**
 * The most bytes of watch lines a once-only scan keeps in lists whose fields other than the devices
 * are parsed when first read (ScanPass.parseWatches): some 10,000 watches, a node whose scan runs
 * in V8's interpreter (see OPTIMIZER_HELD_WORK). Past it, lists are parsed whole as they are read.
 */
const DEFERRED_LINES_BYTES = 1 << 20;

/** Bytes of each end of a list in its sampled key. */
const SAMPLE_BYTES = 64;

/**
 * A shorter list's key in a once-only scan with kcmp: its length, its first bytes (the first
 * watch's descriptor and inode number) and its last (the last watch's file handle), where lists
 * that are not one instance's differ. As with keys by length, kcmp tells which fds with one key are one
 * instance, and no digest is made (node:crypto is not even loaded: some 4 ms, and a SHA-1 of
 * every list, 12 MB at 1,000 instances of 100 watches: 7 ms). Lists that differ only in their
 * middle share a key and cost kcmp calls, never a wrong answer.
 */
function sampledKey(lines: Buffer): string {
  const head = lines.toString('latin1', 0, SAMPLE_BYTES);
  const tail = lines.length > 2 * SAMPLE_BYTES ? lines.toString('latin1', lines.length - SAMPLE_BYTES) : '';
  return `${LENGTH_KEY}${lines.length}:${head}${tail}`;
}

/** The most bytes of lists SampledLists keeps in one scan. */
const SAMPLED_LISTS_BYTES = 1 << 20;

/**
 * The parses of a once-only scan's lists keyed by a sample (sampledKey), shared only by lists of
 * equal bytes: the first list of each key is kept (up to SAMPLED_LISTS_BYTES in all) and a
 * later one compared with it. The many holders of watches on the same directories parse them
 * once, as a digest would let them.
 */
class SampledLists {
  private readonly byKey = new Map<string, { lines: Uint8Array; parse: ParsedInstance }>();
  private kept = 0;

  /** The parse of a list with these bytes, if one was remembered. */
  parseOf(key: string, lines: Buffer): ParsedInstance | undefined {
    const known = this.byKey.get(key);
    return known && lines.equals(known.lines) ? known.parse : undefined;
  }

  /**
   * Remembers a list's parse (its key is parse.listKey), while there is room and its key is not
   * taken. A list whose fields are parsed when first read (parseWatchDevices) keeps a copy of its
   * lines already: that one serves (a copy each cost fresh pages, some 2 ms of an idle node's 40 lists).
   */
  remember(lines: Buffer, parse: ParsedInstance): void {
    if (this.byKey.has(parse.listKey) || this.kept + lines.length > SAMPLED_LISTS_BYTES) return;
    this.byKey.set(parse.listKey, { lines: unparsedLines(parse.watches) ?? Buffer.from(lines), parse });
    this.kept += lines.length;
  }
}

function byteLength(chunks: readonly Buffer[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
}

/** Whether the process at `base` (/proc/PID) is gone: its directory is not there (ENOENT, ESRCH); false when it is, or cannot be told. */
function processGone(base: string): boolean {
  try {
    statSync(base);
    return false;
  } catch (error) {
    return isVanished(error);
  }
}

/**
 * Whether fd `fd` of the process at `base`, whose fdinfo read as gone, is listed still as `link`
 * (fdsNow): false when closed, or another file's now; throws, as fs does, when it is listed and
 * its link cannot be read.
 */
function stillListed(base: string, fd: number, link: number): boolean {
  const now = fdsNow(`${base}/fd`, [fd], WATCHED);
  const missed = now.missed[0];
  if (missed) throw Object.assign(new Error(`${missed.cause}: fd ${fd} listed, its link not read`), { code: missed.cause });
  return now.found[0]?.link === link;
}

/**
 * Which process a pid names, for as long as it lives: the inode number of its /proc/PID. procfs
 * gives a pid's directory a new inode number (get_next_ino) each time it makes the inode, and the
 * inode holds the process's struct pid: once the process exits its dentry is dropped, and a new
 * process with the same pid gets another inode. One stat, several times cheaper than reading and
 * parsing /proc/PID/stat for the start time; an inode made again while the process lives (its
 * dentry evicted) only has it read again. Null when the directory cannot be stat'ed (gone). A
 * scan of the live /proc takes it from its listing instead (listPids: no stat at all).
 */
function procIdentity(base: string): number | null {
  try {
    return statSync(base, { throwIfNoEntry: false })?.ino ?? null;
  } catch {
    return null;
  }
}

let crypto: typeof import('node:crypto') | undefined;

/**
 * The digest of an instance's watch lines (or a group's mark lines), in one buffer or a big
 * file's chunks: the same bytes parse the same, and only fds with the same lines can be one shared
 * instance. node:crypto loads at the first: some 7 ms of start-up that a node without inotify
 * never pays.
 */
function listDigest(lines: Buffer | readonly Buffer[]): string {
  crypto ??= process.getBuiltinModule('node:crypto');
  if (!Array.isArray(lines)) return crypto.hash('sha1', lines as Buffer, 'base64');
  if (lines.length === 1) return crypto.hash('sha1', lines[0]!, 'base64');
  const hash = crypto.createHash('sha1');
  for (const chunk of lines) hash.update(chunk);
  return hash.digest('base64');
}

/** What markShared compares and marks: an inotify instance or a fanotify group. */
type Shareable = Pick<InotifyInstance, 'fd' | 'listKey' | 'instanceId' | 'shared'>;

/** An instance or a group as FileOrder holds it: where kcmp finds its file (the pid, or the thread that names its fds: fdThread), and its id. */
interface HeldFile {
  pid: number;
  fd: number;
  id: string;
}

/**
 * Instances and fanotify groups in the kernel's order of their files, by list key (only fds with
 * identical lists can be one instance), those that are one file together: each put in its place
 * as its holder is read (EqualGroups: about log2(n) kcmp calls each, n log n in all, even for many
 * empty instances). A scan's two threads each order their own as they read, so that kcmp's calls
 * are shared as the reading is, and markShared merges the two orders (SharedOrder). A one-shot
 * that reads its holders' queues tells them by a FileSet instead (no kcmp call at all where no
 * file is held twice), and orders them so only where that set cannot tell (ScanPassOptions.files).
 */
class FileOrder {
  private readonly instances = new Map<string, EqualGroups<HeldFile>>();
  private readonly groups = new Map<string, EqualGroups<HeldFile>>();
  /** The processes whose fds kcmp names by another thread (ScannedProcess.fdThread): pid → that thread. */
  private readonly threads = new Map<number, number>();
  private readonly compare: (a: HeldFile, b: HeldFile) => number;

  constructor(kcmp: FileComparator, processes: readonly ScannedProcess[] = []) {
    this.compare = (a, b) => compareFiles(kcmp, a, b);
    for (const proc of processes) this.add(proc);
  }

  add(proc: ScannedProcess): void {
    for (const [items, byKey] of [
      [proc.instances, this.instances],
      [proc.fanotifyGroups, this.groups],
    ] as const) {
      for (const { fd, listKey, instanceId } of items) {
        let order = byKey.get(listKey);
        if (!order) byKey.set(listKey, (order = new EqualGroups(this.compare)));
        order.add({ pid: proc.fdThread ?? proc.pid, fd, id: instanceId });
      }
    }
    if (proc.fdThread !== undefined && proc.instances.length + proc.fanotifyGroups.length > 0) this.threads.set(proc.pid, proc.fdThread);
  }

  order(): SharedOrder {
    const ids = (byKey: Map<string, EqualGroups<HeldFile>>) =>
      new Map([...byKey].map(([key, { groups }]) => [key, groups.map((group) => group.map((held) => held.id))]));
    return { instances: ids(this.instances), groups: ids(this.groups), ...(this.threads.size > 0 ? { threads: this.threads } : {}) };
  }
}

/** The file an id ("pid:fd", as FileOrder holds it) names; `threads`: the processes whose fds another thread names (SharedOrder.threads). */
function heldFile(id: string, threads: ReadonlyMap<number, number> | null): HeldFile {
  const colon = id.indexOf(':');
  const pid = Number(id.slice(0, colon));
  return { pid: threads?.get(pid) ?? pid, fd: Number(id.slice(colon + 1)), id };
}

/**
 * Threads' orders (SharedOrder: one, or each thread's of a scan on two) merged by kcmp, key by
 * key: the runs of ids that are one file, two or more each. A scan's second thread merges its
 * order with the main thread's (SharedRuns) while the main thread takes its processes in.
 */
export function mergeOrders(kcmp: FileComparator, orders: readonly (SharedOrder | null)[]): SharedRuns {
  const compare = (a: HeldFile, b: HeldFile) => compareFiles(kcmp, a, b);
  const present = orders.filter((order) => order !== null);
  const withThreads = present.filter((order) => order.threads);
  const threads = withThreads.length === 0 ? null : new Map(withThreads.flatMap((order) => [...order.threads!]));
  const runsOf = (byKey: readonly ReadonlyMap<string, string[][]>[]): string[][] => {
    const runs: string[][] = [];
    for (const key of new Set(byKey.flatMap((order) => [...order.keys()]))) {
      const lists = byKey.flatMap((order) => {
        const groups = order.get(key);
        return groups ? [groups.map((group) => group.map((id) => heldFile(id, threads)))] : [];
      });
      for (const run of mergeGrouped(lists, compare)) if (run.length > 1) runs.push(run.map((held) => held.id));
    }
    return runs;
  };
  return { instances: runsOf(present.map((order) => order.instances)), groups: runsOf(present.map((order) => order.groups)) };
}

/**
 * The runs of ids ("pid:fd") that are one file, as a FileSet tells them (sameFiles). An fd added
 * twice (a holder read by the main thread after a second thread that stalled had added it) is one.
 */
function runsOfFiles(sameFiles: readonly HeldFd[][]): SharedRuns {
  const runs: SharedRuns = { instances: [], groups: [] };
  for (const run of sameFiles) {
    const ids = [...new Set(run.map(({ pid, fd }) => `${pid}:${fd}`))];
    if (ids.length > 1) (run[0]!.group ? runs.groups : runs.instances).push(ids);
  }
  return runs;
}

/** A FileSet for this scan, or null where there can be none (the scan then orders instances by kcmp). */
function fileSetOrNull(): FileSet | null {
  const set = FileSet.create();
  return typeof set === 'string' ? null : set;
}

/** Each item of these processes, and the pid of the process holding it. */
function holdersOf<T>(processes: readonly ScannedProcess[], itemsOf: (proc: ScannedProcess) => readonly T[]): Map<T, number> {
  const pidOf = new Map<T, number>();
  for (const proc of processes) {
    for (const item of itemsOf(proc)) pidOf.set(item, proc.pid);
  }
  return pidOf;
}

/** kcmp's order of two held files; a holder that vanished meanwhile makes its file distinct (ordered by id). */
function compareFiles(kcmp: FileComparator, a: HeldFile, b: HeldFile): number {
  try {
    return kcmp(a.pid, a.fd, b.pid, b.fd);
  } catch (error) {
    if (!(error instanceof KcmpError)) throw error;
    return a.id < b.id ? -1 : 1;
  }
}

/**
 * Finds instances (or fanotify groups: `itemsOf` says which) held by several fds (usually several
 * processes, after fork or SCM_RIGHTS) and gives them one instanceId. Then:
 * - with kcmp (exact): `runs`, the ids that are one file by the kernel's order of their files
 *   (mergeOrders); the id is the first holder's (by pid, then fd), whichever thread read it;
 * - without (heuristic, `runs` null): identical non-empty watch lists (the same digest) in a
 *   process and one of its ancestors are taken as inherited across fork. Instances passed over a
 *   socket, or shared with no watches, are not detected this way.
 */
function markShared<T extends Shareable>(processes: ScannedProcess[], itemsOf: (proc: ScannedProcess) => readonly T[], runs: readonly string[][] | null): void {
  // No file held twice: nothing to look up (1–2 ms of maps at 1,000 instances, in a cold one-shot).
  if (runs?.length === 0) return;
  const pidOf = holdersOf(processes, itemsOf);
  // Nothing to mark (fanotify groups on most nodes). Run on none, this code saw arrays of another
  // kind than the instances' at every scan, and V8 threw its optimized code away every few scans.
  if (pidOf.size === 0) return;
  /** One instance, named by `first`'s id. */
  const merge = (members: T[], first = members[0]!): void => {
    if (members.length < 2) return;
    for (const member of members) {
      member.instanceId = first.instanceId;
      member.shared = true;
    }
  };
  /** The first in the order one thread reads them. */
  const firstHeld = (a: T, b: T): T => (pidOf.get(b)! < pidOf.get(a)! || (pidOf.get(b) === pidOf.get(a) && b.fd < a.fd) ? b : a);
  if (runs) {
    const byId = new Map([...pidOf.keys()].map((item) => [item.instanceId, item]));
    for (const ids of runs) {
      const run = ids.map((id) => byId.get(id)!);
      merge(run, run.reduce(firstHeld));
    }
    return;
  }
  for (const [key, group] of groupBy(pidOf.keys(), (instance) => instance.listKey)) {
    if (group.length > 1 && key !== '') mergeByAncestry(group, pidOf, processes, merge);
  }
}

function mergeByAncestry<T extends Shareable>(group: T[], pidOf: Map<T, number>, processes: ScannedProcess[], merge: (members: T[]) => void): void {
  const parentOf = new Map(processes.map((p) => [p.pid, p.ppid]));
  const inGroup = new Map<number, T>();
  for (const instance of group) {
    const pid = pidOf.get(instance)!;
    if (!inGroup.has(pid)) inGroup.set(pid, instance);
  }
  // Each member joins the nearest ancestor that holds the same watch list.
  const root = new Map<T, T>();
  const findRoot = (instance: T): T => {
    const known = root.get(instance);
    if (known) return known;
    let found = instance;
    const seen = new Set<number>();
    for (let pid = parentOf.get(pidOf.get(instance)!); pid !== undefined && pid > 0 && !seen.has(pid); pid = parentOf.get(pid)) {
      seen.add(pid);
      const ancestor = inGroup.get(pid);
      if (ancestor) {
        found = findRoot(ancestor);
        break;
      }
    }
    root.set(instance, found);
    return found;
  };
  for (const [top, family] of groupBy(group, findRoot)) {
    merge([top, ...family.filter((member) => member !== top)]);
  }
}

/**
 * The limits of the host's user namespace, which charges every user at its level too. fanotify's
 * (5.13+) are fs.fanotify.*, or, where only the per-namespace files are there,
 * /proc/sys/user/max_fanotify_* (which give the reading process's own user namespace's).
 */
function readLimits(sysctlText: (path: string) => string | null): Limits {
  const read = (path: string) => parseSysctlNumber(sysctlText(path));
  return {
    maxUserWatches: read('fs/inotify/max_user_watches'),
    maxUserInstances: read('fs/inotify/max_user_instances'),
    maxQueuedEvents: read('fs/inotify/max_queued_events'),
    maxUserFanotifyGroups: read('fs/fanotify/max_user_groups') ?? read('user/max_fanotify_groups'),
    maxUserFanotifyMarks: read('fs/fanotify/max_user_marks') ?? read('user/max_fanotify_marks'),
    maxFanotifyQueuedEvents: read('fs/fanotify/max_queued_events'),
  };
}

const CAP_SYS_PTRACE = 19;

/** Whether this process holds a capability (CapEff of /proc/self/status). */
function holdsCapability(capability: number): boolean {
  const match = /\nCapEff:\s*([0-9a-f]+)/.exec(readProcTextOrNull('/proc/self/status') ?? '');
  return match !== null && (BigInt(`0x${match[1]}`) >> BigInt(capability)) % 2n === 1n;
}

/** The node's /etc/passwd: a recorded tree's own (DIR/etc/passwd beside DIR/proc), never the live node's. */
export function defaultPasswdPath(procRoot: string): string {
  return nodePath(procRoot, '/etc/passwd');
}

function loadUserNames(passwdPath: string): Map<number, string> {
  const text = readProcTextOrNull(passwdPath);
  return text === null ? new Map() : parsePasswd(text);
}

/** The queue calls, or null where they cannot be made here (the reader then says why). */
function queueCallsOrNull(): QueueCalls | null {
  const calls = queueCalls();
  return calls.ok ? calls.value : null;
}
