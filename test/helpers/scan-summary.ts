// What a scan says of some processes, every figure the views use, as plain data that compares
// with deepEqual and crosses JSON (a watch list as its inode numbers).
import type { ScanResult } from '../../src/model/types.js';

export function scanSummary(result: ScanResult, pids: ReadonlySet<number>) {
  return {
    sharedDetection: result.sharedDetection,
    processes: result.processes
      .filter((proc) => pids.has(proc.pid))
      .map((proc) => ({
        ...proc,
        instances: proc.instances.map((instance) => ({ ...instance, watches: [...instance.watches.ino].join(',') })),
        fanotifyGroups: proc.fanotifyGroups.map((group) => ({ ...group, inodeMarks: [...group.inodeMarks.ino].join(',') })),
      })),
    // Misses of these processes (none, but for one that exits mid-scan): where the threads' parts meet.
    notes: result.notes.filter((note) => note.kind !== 'missed' || note.pids.some(({ pid }) => pids.has(pid))),
  };
}
