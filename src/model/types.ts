// The data contract between the pipeline stages:
// scan (/proc) -> resolve (paths, mounts) -> attribute (pods) -> model (Snapshot) -> views.
// Snapshot is also the JSON schema printed by `--json` and written by `--record`.

/** A file handle as the kernel prints it in fdinfo (fhandle-bytes, fhandle-type, f_handle). */
export interface FileHandle {
  type: number;
  /** f_handle's bytes (fhandle-bytes of them). */
  bytes: Uint8Array;
}

/**
 * One `inotify wd:... ino:... sdev:...` line of /proc/PID/fdinfo/FD, as an object: made only for
 * the few watches that are looked at one by one (tests, a target's handle). Scans keep WatchLists.
 */
export interface Watch {
  wd: number;
  ino: number;
  /** Kernel-internal dev_t as printed (major << 20 | minor). */
  sdev: number;
  mask: number;
  /** Missing when the filesystem cannot encode a handle. */
  handle: FileHandle | null;
}

/**
 * The watches of one instance, a few numbers each in typed arrays: a node that breaks has a
 * million watches, and an object per watch would cost hundreds of bytes and the garbage
 * collector's time. Immutable once made: a refresh that reads the same fdinfo bytes reuses it.
 */
export interface WatchList {
  readonly length: number;
  readonly wd: Int32Array;
  /** Inode numbers (doubles: exact up to 2^53). */
  readonly ino: Float64Array;
  /** Kernel-internal dev_t as printed (major << 20 | minor): compare with kernelDev(), never st_dev. */
  readonly sdev: Uint32Array;
  readonly mask: Uint32Array;
  /** fhandle-type per watch, -1 when the filesystem encodes none. */
  readonly handleType: Int32Array;
  /** Watch i's handle is handleBytes[handleStart[i], handleStart[i + 1]). */
  readonly handleStart: Uint32Array;
  readonly handleBytes: Uint8Array;
}

export interface InotifyInstance {
  fd: number;
  watches: WatchList;
  /**
   * Equal for identical watch lists (a digest of their fdinfo lines; in a once-only scan with kcmp,
   * their length and a sample of their bytes: see scanner.ts), '' for an instance without watches:
   * every holder of one instance reads the same list.
   */
  listKey: string;
  /** Same value for every fd (in any process) that is the same kernel object. */
  instanceId: string;
  /** Held by more than one process (or more than one fd). */
  shared: boolean;
}

/** A fanotify mount mark: every file of one mount (FAN_MARK_MOUNT). */
export interface FanotifyMountMark {
  /** The mount's id, as mountinfo's first field names it (fdinfo prints it in hex). */
  mntId: number;
  mask: number;
}

/** A fanotify filesystem mark: every file of one superblock (FAN_MARK_FILESYSTEM). */
export interface FanotifyFilesystemMark {
  /** Kernel-internal dev_t as printed (major << 20 | minor). */
  sdev: number;
  mask: number;
}

/**
 * A fanotify group (an fd whose link is anon_inode:[fanotify]) and its marks. It runs on the same
 * fsnotify machinery as inotify but is charged to its own limits (fs.fanotify.max_user_*), so it
 * is counted apart from inotify instances.
 */
export interface FanotifyGroup {
  fd: number;
  /** fanotify_init's flags as fdinfo prints them (FAN_UNLIMITED_MARKS: its marks are not charged). */
  flags: number;
  /** Inode marks, with wd -1: found and resolved as inotify watches are. */
  inodeMarks: WatchList;
  mountMarks: FanotifyMountMark[];
  filesystemMarks: FanotifyFilesystemMark[];
  /** As InotifyInstance.listKey: a digest of the group's fanotify lines, '' for a group without marks. */
  listKey: string;
  /** As InotifyInstance.instanceId. */
  instanceId: string;
  shared: boolean;
}

export interface ScannedProcess {
  pid: number;
  ppid: number;
  /** Start time (clock ticks after boot, /proc/PID/stat): with the pid, names one process for good. */
  startTime: number;
  /** Effective uid. */
  uid: number;
  user: string;
  comm: string;
  cmdline: string;
  /** Inode number of /proc/PID/ns/user, null when unreadable. */
  userns: string | null;
  /** Inode number of /proc/PID/ns/mnt, null when unreadable. */
  mntns: string | null;
  /** Lines of /proc/PID/cgroup ("hierarchy-id:controllers:path"), [] when unreadable. */
  cgroups: string[];
  instances: InotifyInstance[];
  fanotifyGroups: FanotifyGroup[];
  /**
   * The thread whose fd table the fds were read through (/proc/PID/task/TID), where the process's
   * main thread has exited while others run (pthread_exit): the main thread's table is gone, and
   * kcmp and pidfd_getfd name the fds by this thread. Absent otherwise.
   */
  fdThread?: number;
}

export interface Limits {
  maxUserWatches: number | null;
  maxUserInstances: number | null;
  maxQueuedEvents: number | null;
  /** fs.fanotify.max_user_groups (Linux 5.13+); null in recordings made before it was added. */
  maxUserFanotifyGroups: number | null;
  /** fs.fanotify.max_user_marks (Linux 5.13+); null in recordings made before it was added. */
  maxUserFanotifyMarks: number | null;
  /**
   * fs.fanotify.max_queued_events (Linux 5.13+; 16,384 fixed before): events a group queues before
   * it drops them. Null in recordings made before it was added.
   */
  maxFanotifyQueuedEvents: number | null;
}

/**
 * What the kernel counts against one charge key (user namespace, effective uid): its ucounts for
 * inotify instances and watches, fanotify groups and marks.
 */
export interface ChargeCounts {
  instances: number;
  watches: number;
  fanotifyGroups: number;
  /** Marks of groups made without FAN_UNLIMITED_MARKS (those are not charged). */
  fanotifyMarks: number;
}

/** The limits in force for one charge key; null where unlimited. */
export interface ChargeLimits {
  instances: number | null;
  watches: number | null;
  fanotifyGroups: number | null;
  fanotifyMarks: number | null;
}

/**
 * A user namespace as the kernel links it for charging (nsfs ioctls on /proc/PID/ns/user): every
 * instance, watch, group and mark charged to a key in it is charged to (parent, ownerUid) too, and
 * so on up to the host's namespace (kernel/ucount.c inc_ucount).
 */
export interface UserNamespace {
  /** Its inode number, as ScannedProcess.userns. */
  id: string;
  /** Its parent's id; null when the parent is the host's (initial) namespace. */
  parent: string | null;
  /** The uid (as the host sees it) of the process that made it. */
  ownerUid: number;
  ownerName: string;
  /**
   * Its own /proc/sys/user/max_inotify_* and max_fanotify_* (null where unlimited: a new
   * namespace's start at INT_MAX); null when they could not be read.
   */
  limits: ChargeLimits | null;
}

/** What a scan could not read, as data (the views say it: views/notes.ts). */
export type ScanNote =
  /** Other users' fds are off limits without CAP_SYS_PTRACE: running as root shows them. */
  | { kind: 'unreadable'; processes: number }
  /**
   * Processes not read whole for one cause (an errno name: scan/coverage.ts), their counts missing
   * or short: the first five, each with what of it was missed ("fdinfo 7"), of `count`.
   * `hostProtected`: permission denied that CAP_SYS_PTRACE does not lift (a sandbox's init).
   */
  | { kind: 'missed'; cause: string; pids: { pid: number; what: string[] }[]; count: number; hostProtected: boolean }
  /** No nsfs ioctls here (`reason`): users in user namespaces are not charged to their owners. */
  | { kind: 'userns-uncharged'; reason: string }
  /** User namespaces whose owner or parent could not be read (the first few reasons of `count`): their users are not charged above them. */
  | { kind: 'userns-owners-unread'; reasons: string[]; count: number }
  /** User namespaces whose own limits could not be read (`reason`): no meters for their users. */
  | { kind: 'userns-limits-unread'; namespaces: number; reason: string };

/** A scan that stopped at its deadline: `notRead` of `processes` were not read. */
export interface ScanShortfall {
  notRead: number;
  processes: number;
}

export interface ScanResult {
  time: string;
  hostname: string;
  kernel: string;
  procRoot: string;
  /** userns inode of the host (of pid 1), for telling container users apart. */
  hostUserns: string | null;
  limits: Limits;
  processes: ScannedProcess[];
  /** Processes whose fds were denied to us for want of CAP_SYS_PTRACE (not root): root would see them. */
  needsPrivilege: number;
  /** What could not be read, and whether the figures still mean something. */
  coverage: ScanCoverage;
  /**
   * The user namespaces of the processes and their ancestors, the host's left out; [] for a
   * recorded tree (nothing to ask the kernel about).
   */
  userNamespaces: UserNamespace[];
  /** How shared instances were detected: exact (kcmp) or the documented heuristic. */
  sharedDetection: 'kcmp' | 'heuristic';
  /** What the scan could not read. */
  notes: ScanNote[];
  /**
   * Instances ("pid:fd") whose watch lines were parsed in this scan; the others' were unchanged, or
   * the same as an instance's parsed before them in the scan, and their parse reused.
   */
  parsedInstances: string[];
  /**
   * Which processes were read: all, or only those the trace saw change and new ones (the others
   * as the previous scan read them).
   */
  scope: 'all' | 'changed';
  /** With scope 'changed': the processes not read again, as the previous scan read them. */
  keptPids: number[];
  /**
   * The bytes queued on each instance and group (or -errno, as src/sys/queues.ts's queuedBytes
   * answers), by "pid:fd", read as the scan read its holder (ScanOptions.readQueues); null where
   * the scan did not read them.
   */
  queued: ReadonlyMap<string, number> | null;
  /** How short the scan stopped (its deadline passed), null when it read every process. */
  incomplete: ScanShortfall | null;
  durationMs: number;
}

/**
 * What a scan could read. A process that could not be read, in whole (its fd directory) or in
 * part (a link, an fdinfo, its status), is counted by cause; its counts are missing or short.
 */
export interface ScanCoverage {
  /**
   * False when the figures mean little: /proc could not be listed, the deadline passed, or more
   * than a twentieth of the processes could not be read (scan/coverage.ts says why a twentieth).
   */
  complete: boolean;
  /** Why not complete ("40 of 120 processes not read: EIO 40"); null when complete. */
  reason: string | null;
  /** Processes not read, whole or in part, by cause: an errno name ("EACCES", "EIO"), or "deadline". */
  unreadable: Record<string, number>;
}

// ---- resolve stage ----

export type TargetStatus = 'ok' | 'deleted' | 'unmounted' | 'unresolved';

/** A process whose mount namespace still has the watched filesystem (or inode) mounted. */
export interface Holder {
  pid: number;
  comm: string;
  /** Where the filesystem is mounted in the holder's namespace. */
  mountpoint: string;
  /**
   * Host paths of the files and directories bind-mounted into the holder's namespace, a deleted
   * one by its last path: a container's /etc/hosts comes from its pod's
   * <kubelet-root>/pods/<uid>/etc-hosts. Says whose namespace it is when nothing else does.
   * Empty in recordings made before it was added.
   */
  boundFrom: string[];
}

/** What a view shows of a holder beyond its Holder entry (inspect): looked up for the selected process only. */
export interface HolderDetail {
  pid: number;
  /** Null when unreadable (it exited, or a recording). */
  cmdline: string | null;
  /** Its cgroup path (the unified one, else the first), null when unreadable. */
  cgroup: string | null;
  pod: PodRef | null;
}

export interface Resolution {
  /** Path as seen by the watching process (or, for unmounted targets, in the holder's namespace). */
  path: string | null;
  mountpoint: string | null;
  /** The mount is gone; mountpoint is the last one seen this session. */
  mountpointRemembered: boolean;
  fstype: string | null;
  status: TargetStatus;
  /** Why, when status is unresolved (or deleted with a known cause). */
  reason: string | null;
  heldBy: Holder[];
}

// ---- attribute stage ----

export type PodState = 'live' | 'gone' | 'unknown';

/**
 * Where a pod's name came from: the pod source's list, the session's memory of an earlier list,
 * a path that spells it (a log path), the pod's etc-hosts as a holder of its mount namespace
 * sees it, or its /var/log/pods dir still on the node.
 */
export type PodNameSource = 'list' | 'memory' | 'path' | 'etc-hosts' | 'pod-logs';

export interface PodRef {
  uid: string;
  namespace: string | null;
  name: string | null;
  container: string | null;
  state: PodState;
  /** Null when nothing names the pod (and in recordings made before it was added). */
  nameSource: PodNameSource | null;
}

export interface PodsStatus {
  /** The source in use: cri, crictl, kubectl, kubelet, none. */
  source: string;
  /** Number of live pods in the last good list, null when no list. */
  live: number | null;
  stale: boolean;
  error: string | null;
}

/** Why a target counts as leaked. */
export type LeakForm = 'gone' | 'unmounted' | 'deleted';

// ---- model ----

/** A fanotify mark's reach: one inode, one mount, or a whole filesystem. */
export type FanotifyMarkType = 'inode' | 'mount' | 'filesystem';

export interface TargetRow {
  /** What holds it: inotify watches or fanotify marks (recordings made before it was added hold only inotify targets). */
  kind: 'inotify' | 'fanotify';
  /** For fanotify targets. */
  markType?: FanotifyMarkType;
  /** For mount marks, the mount's id; the target's dev and mountpoint are that mount's. */
  mntId?: number;
  dev: string;
  /** 0 for mount and filesystem marks. */
  ino: number;
  /** How many watches (or marks) of this process point at this inode. */
  watches: number;
  fds: number[];
  /** OR of the masks of those watches. */
  mask: number;
  path: string | null;
  mountpoint: string | null;
  mountpointRemembered: boolean;
  fstype: string | null;
  status: TargetStatus;
  reason: string | null;
  /** Pids of the holders, one per mount namespace. */
  heldBy: number[];
  holders: Holder[];
  pod: PodRef | null;
  leak: LeakForm | null;
}

/**
 * How an instance's (or group's) event queue stands, from its queued bytes over the last refreshes
 * (model/queues.ts):
 * - empty: nothing unread;
 * - pending: events unread, not yet judged (fewer than three readings);
 * - draining: events unread, but the queue shrank over the last three readings: its reader reads;
 * - not draining: events unread and the queue has not shrunk over the last three readings: its
 *   reader is stuck, busy elsewhere, or gone;
 * - may be full: at or past the bytes of a full queue: events are being dropped (IN_Q_OVERFLOW);
 * - unknown: the bytes could not be read (queuedBytes null).
 */
export type QueueState = 'empty' | 'pending' | 'draining' | 'not draining' | 'may be full' | 'unknown';

/** An fd's event queue: the bytes its reader has not read yet. */
export interface QueueFields {
  /**
   * ioctl(FIONREAD) on the instance: null when it could not be read (see the notes). Missing when
   * the snapshot was made without reading queues (ProcessRow.queuedBytes) and in recordings made
   * before it was added.
   */
  queuedBytes?: number | null;
  /** Missing exactly when queuedBytes is. */
  queueState?: QueueState;
}

export interface FdRow extends QueueFields {
  fd: number;
  watches: number;
  shared: boolean;
  /**
   * The kernel object (InotifyInstance.instanceId): equal in every process holding it. In
   * recordings made before it was added, "PID:FD": not known to be shared with anyone.
   */
  instance: string;
}

export interface FanotifyFdRow extends QueueFields {
  fd: number;
  /** Its inode, mount and filesystem marks. */
  marks: number;
  shared: boolean;
  /** As FdRow.instance ("PID:FD" in recordings made before it was added). */
  instance: string;
}

/** A pod whose files a process watches, and how many of those watches leaked. */
export interface WatchedPod {
  pod: PodRef;
  watches: number;
  leaked: number;
  /** Pids whose mount namespaces keep its leaked targets. */
  holders: number[];
}

/** A process that keeps a leaked target alive (Holder without where). */
export interface LeakHolder {
  pid: number;
  comm: string;
}

export interface ProcessRow {
  pid: number;
  ppid: number;
  /** As ScannedProcess.startTime; 0 in recordings made before it was added. */
  startTime: number;
  uid: number;
  user: string;
  /** Set when the process is not in the host's user namespace. */
  userns: string | null;
  comm: string;
  cmdline: string;
  instances: number;
  watches: number;
  fds: FdRow[];
  /** fanotify groups and marks (never in instances and watches); 0 in recordings made before they were added. */
  fanotifyGroups: number;
  fanotifyMarks: number;
  fanotifyFds: FanotifyFdRow[];
  /**
   * The bytes queued unread on its instances and groups (a shared one in each holder), null when
   * none could be read; missing when the snapshot was made without reading queues (check's
   * counts, a recorded /proc tree) and in recordings made before it was added.
   */
  queuedBytes?: number | null;
  /** Watches whose target is leaked (gone pod, unmounted, deleted), each counted once. */
  leaked: number;
  /** Watches on unmounted or deleted targets. */
  stranded: number;
  pod: PodRef | null;
  /** The pods of its targets, most watched first (recordings made before it was added get it from their targets). */
  watchedPods: WatchedPod[];
  /** The processes whose mount namespaces keep its leaked targets alive, one per namespace, by pid. */
  leakHolders: LeakHolder[];
  /** Every target, or only the leaked ones, or none: as the snapshot was asked for (SnapshotTargets). */
  targets: TargetRow[];
}

/** A user's pace over the last refreshes, and when it reaches the limits at that pace. */
export interface UserTrend {
  watchesPerMinute: number | null;
  instancesPerMinute: number | null;
  /** Seconds until max_user_watches is reached: 0 when reached, null when not growing (or one refresh only). */
  watchesFullInSeconds: number | null;
  instancesFullInSeconds: number | null;
}

/** What the processes of one key in a user namespace below a row hold, charged to that row too. */
export interface NamespaceCharge extends ChargeCounts {
  userns: string;
  /** The key's uid as the host sees it. */
  uid: number;
  /** The pods (uids) of the processes holding them. */
  pods: string[];
}

/**
 * One charge key (user namespace, uid): what its own processes hold, and what the kernel charges
 * it with, its own plus every user namespace below it, against the limits in force for it.
 */
export interface UserRow {
  uid: number;
  name: string;
  /** Null for the host's user namespace. */
  userns: string | null;
  /** Its own processes' instances and watches. */
  instances: number;
  watches: number;
  /** Its own fanotify groups, and the marks of them charged against max_user_marks; 0 in recordings made before they were added. */
  fanotifyGroups: number;
  fanotifyMarks: number;
  /** Own plus every user namespace below it (fromNamespaces). Recordings made before it was added: its own. */
  charged: ChargeCounts;
  /**
   * The host's sysctls for a host user; a namespace's own max_inotify_* and max_fanotify_* for
   * a user in it (null where unlimited). Null when they could not be read.
   */
  limits: ChargeLimits | null;
  /** The keys in user namespaces below it whose holdings are charged to it too, most watches first. */
  fromNamespaces: NamespaceCharge[];
  /** Every figure null after one refresh only (and in recordings made before it was added). */
  trend: UserTrend;
}

export interface Totals {
  processes: number;
  instances: number;
  watches: number;
  /** 0 in recordings made before they were added. */
  fanotifyGroups: number;
  fanotifyMarks: number;
}

export interface Snapshot {
  schema: 1;
  time: string;
  hostname: string;
  kernel: string;
  limits: Limits;
  totals: Totals;
  users: UserRow[];
  processes: ProcessRow[];
  pods: PodsStatus;
  /** The other stages' notes, in words (resolve, pods, trace). */
  notes: string[];
  /** What the scan could not read; missing in older recordings, whose notes said it in words. */
  scanNotes?: ScanNote[];
  scanMs: number;
  /** Which processes the scan read (ScanResult.scope); "all" in older recordings. */
  scanScope: 'all' | 'changed';
  /** Failed inotify calls the kernel reported since start (src/trace); empty in older recordings. */
  failures: SyscallFailure[];
  /** Watches added and removed per process since the previous snapshot (src/trace). */
  churn: WatchChurn[];
  /** Off in older recordings. */
  trace: TraceStatus;
  /** What the scan could not read (complete, and nothing unreadable, in older recordings). */
  scan: ScanCoverage;
  /**
   * Processes waiting for a fanotify permission answer, and the groups that can hold them;
   * missing when not searched (a recorded /proc tree) and in older recordings.
   */
  permissionWaits?: PermissionWaits;
}

// ---- fanotify permission waits ----

/**
 * A process waiting for a fanotify permission answer: in state D inside fanotify's handler (an
 * open, read or exec that a permission mark covers), until the group's holder answers or closes.
 */
export interface PermissionWaiter {
  pid: number;
  comm: string;
  /**
   * How long inotop has seen it in this one wait (the same thread, not woken since): at least
   * this long. 0 when first seen at this refresh.
   */
  waitingSeconds: number;
  pod: PodRef | null;
  /** The call it waits in ("openat", "read", "execve"), null when it cannot be told. */
  syscall: string | null;
  /** The file it waits on, where its fd arguments tell (a read's fd; an openat's directory ends in "/…"), else null. */
  path: string | null;
  /** Its threads in such a wait (a multi-threaded process can have several). */
  threads: number;
  /** Pids of the holders of the permission groups that can hold it (groups[].pid), most likely first. */
  heldBy: number[];
}

/** One mark of a permission group that has permission bits. */
export interface PermissionMark {
  markType: FanotifyMarkType;
  /** Its mount point or path as the holder sees it, null when unresolved. */
  path: string | null;
  /** Its permission bits (FAN_OPEN_PERM, FAN_ACCESS_PERM, FAN_OPEN_EXEC_PERM, FAN_PRE_ACCESS). */
  mask: number;
}

/** A fanotify group with permission bits in a mark: every matching open, read or exec waits for its holder's answer. */
export interface PermissionGroup {
  pid: number;
  comm: string;
  fd: number;
  /** Its marks with permission bits. */
  marks: PermissionMark[];
  /** The OR of their permission bits. */
  mask: number;
  /** The processes waiting now that this group can hold (see PermissionWaiter.heldBy). */
  waiters: number;
}

export interface PermissionWaits {
  /** Waiting processes, longest wait first. */
  processes: PermissionWaiter[];
  /** Groups with permission marks (a shared group once, at its lowest pid), most waiters first. */
  groups: PermissionGroup[];
  /** Why the search for waiters was cut short or could not be made (a budget, no permission), null when complete. */
  incomplete: string | null;
}

// ---- trace (failed inotify calls, from syscall tracepoints) ----

/**
 * The limit a failed call ran into: the host's fs.inotify.max_user_*, a user namespace's own
 * user.max_inotify_* (set below unlimited inside it), or the process's fd limit.
 */
export type FailureLimit = 'max_user_watches' | 'max_user_instances' | 'max_inotify_watches' | 'max_inotify_instances' | 'RLIMIT_NOFILE';

/** Failures of one syscall with one errno in one process. */
export interface SyscallFailure {
  pid: number;
  comm: string;
  /** Effective uid; null when the process was gone before it could be read. */
  uid: number | null;
  user: string | null;
  pod: PodRef | null;
  /** "inotify_add_watch", "inotify_init1", "inotify_init". */
  syscall: string;
  /** Its name, e.g. "ENOSPC". */
  errno: string;
  /** Since inotop started. */
  count: number;
  /** Since the previous snapshot. */
  new: number;
  /** null when it cannot be told. */
  limit: FailureLimit | null;
  /**
   * The key whose limit ran out (a namespace's process may fail on its owner's, in the namespace
   * above): its uid and user namespace (null: the host's). Null for RLIMIT_NOFILE or when it cannot
   * be told (and in recordings made before they were added).
   */
  limitUid: number | null;
  limitUserns: string | null;
  /** The soft RLIMIT_NOFILE (/proc/PID/limits "Max open files") when limit is RLIMIT_NOFILE. */
  fdLimit: number | null;
  firstAt: string;
  lastAt: string;
}

/** Successful inotify_add_watch and inotify_rm_watch calls of one process since the previous snapshot. */
export interface WatchChurn {
  pid: number;
  comm: string;
  /** inotify_add_watch calls (one on an inode already watched changes that watch's mask). */
  adds: number;
  removes: number;
  addsPerSecond: number;
  removesPerSecond: number;
}

/** trace.reason when tracing was not asked for (--no-trace): off by choice, not for want of something. */
export const NO_TRACE_REASON = '--no-trace';

export interface TraceStatus {
  state: 'on' | 'off';
  /** Why it is off (NO_TRACE_REASON when not asked for); null when on. */
  reason: string | null;
}

// ---- stage interfaces ----

/**
 * How a watch's filesystem stands in its watcher's mount namespace, which is all that counts need:
 * - plain: mounted there, and holding no pod paths: its targets need paths only to be shown;
 * - pod-paths: mounted there and holding pod paths: every target is resolved;
 * - unmounted: gone from there (another namespace may still have it: a leak);
 * - unknown: the watcher's mount table could not be read.
 */
export type DeviceStanding = 'plain' | 'pod-paths' | 'unmounted' | 'unknown';

/**
 * What the resolve stage hands on. Counts need only a watch's device; paths are found for the
 * filesystems that hold pod paths, and for the processes whose targets are shown (prepare).
 */
export interface Resolutions {
  standing(proc: ScannedProcess, sdev: number): DeviceStanding;
  /** Resolves every target of these processes, so that get() gives their paths. */
  prepare(procs: readonly ScannedProcess[], which: 'all'): void;
  get(proc: ScannedProcess, sdev: number, ino: number): Resolution;
  /** The mount a fanotify mount mark names (its id in the process's mountinfo), with its device. */
  mountById(proc: ScannedProcess, mntId: number): { dev: string | null; resolution: Resolution };
  /** A fanotify filesystem mark's device: a mount point of it in the process's namespace. */
  filesystem(proc: ScannedProcess, sdev: number): Resolution;
  /** An unmounted device as a whole: who still holds it, and where. */
  unmountedDevice(proc: ScannedProcess, sdev: number): Resolution;
  /** Said once per refresh, e.g. "walk budget ran out on 0:45 (312 targets unresolved)". */
  notes: string[];
}

/** What the attribute stage hands on: pods of processes and of targets. */
export interface Attribution {
  status: PodsStatus;
  processPod(proc: Pick<ScannedProcess, 'pid' | 'cgroups'>): PodRef | null;
  /** The pod of a target, from its resolution (or of its whole device, without one). */
  targetPod(dev: string, resolution: Resolution | null): PodRef | null;
  notes: string[];
}
