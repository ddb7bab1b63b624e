// Tests of the tracer on the real kernel: whether they can run here, collectors of the live /proc (tracing or not),
// and the trace instances that exist (seen through a private tracefs mount: it may be mounted nowhere).
import { execFileSync, spawnSync } from 'node:child_process';
import { Collector } from '../../src/collect/collector.js';
import { podSourceOptions } from '../../src/pods/sources.js';
import { isRoot } from './inowatch.js';

/**
 * A shell command, for a mount namespace of its own (unshare --mount --propagation private): tracefs
 * at its usual place there. It may be mounted nowhere on this machine, or there already (perf
 * mounts it and leaves it): mounting it again on the same place fails with EBUSY, where the mount
 * that is there already is the one (tracefs has one superblock).
 */
export const TRACEFS_AT_ITS_PLACE = '{ mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing; }';

/** The names under tracefs's instances/, through a private mount of our own (tracefs may be mounted nowhere). */
export function traceInstances(): string[] {
  const list = `${TRACEFS_AT_ITS_PLACE} && ls /sys/kernel/tracing/instances`;
  return execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', list], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

export function traceSkip(): string | false {
  if (!isRoot) return 'needs root (trace instances, sysctls, processes of another uid): run as root';
  const probe = `${TRACEFS_AT_ITS_PLACE} && test -d /sys/kernel/tracing/events/syscalls/sys_exit_inotify_add_watch`;
  const probed = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', probe]);
  return probed.status === 0 ? false : 'this kernel has no tracefs with inotify syscall tracepoints (CONFIG_FTRACE_SYSCALLS)';
}

/** A collector of the live /proc that traces, with no pod source. */
export function tracingCollector(record: string | null = null): Collector {
  return liveCollector({ record, trace: true });
}

/** A collector of the live /proc with no pod source; it traces only when asked to. */
export function liveCollector({ record = null, trace = false }: { record?: string | null; trace?: boolean } = {}): Collector {
  return new Collector({
    procRoot: '/proc',
    pods: podSourceOptions({ kind: 'none' }),
    forceWalk: false,
    record,
    intervalSeconds: 1,
    trace,
  });
}
