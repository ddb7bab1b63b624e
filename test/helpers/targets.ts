// Finding a process and its targets in a real snapshot, with messages that show what was there.
import assert from 'node:assert/strict';
import type { ProcessRow, Snapshot, TargetRow } from '../../src/model/types.js';

export function rowOf(snapshot: Snapshot, pid: number): ProcessRow {
  const row = snapshot.processes.find((p) => p.pid === pid);
  assert.ok(row, `pid ${pid} is in the snapshot`);
  return row;
}

export function targetAt(row: ProcessRow, path: string): TargetRow {
  const target = row.targets.find((t) => t.path === path);
  assert.ok(target, `a target at ${path} among:\n${row.targets.map(describeTarget).join('\n')}`);
  return target;
}

export function describeTarget(target: TargetRow): string {
  const pod = target.pod ? `${target.pod.namespace}/${target.pod.name} ${target.pod.uid} ${target.pod.state}` : 'no pod';
  return `${target.status} ${target.path ?? '?'} (${target.reason ?? ''}) held by [${target.heldBy.join(',')}] ${pod} leak=${target.leak}`;
}

/** What both views must agree on, per process: counts, pods, and every target's identity and state. */
export function essentials(snapshot: Snapshot): unknown[] {
  return snapshot.processes
    .map((row) => ({
      pid: row.pid,
      comm: row.comm,
      instances: row.instances,
      watches: row.watches,
      leaked: row.leaked,
      pod: row.pod && { uid: row.pod.uid, name: row.pod.name, state: row.pod.state },
      leakHolders: row.leakHolders,
      targets: row.targets
        .map((t) => ({
          dev: t.dev,
          ino: t.ino,
          path: t.path,
          mountpoint: t.mountpoint,
          status: t.status,
          leak: t.leak,
          heldBy: t.heldBy,
          pod: t.pod && { uid: t.pod.uid, name: t.pod.name, state: t.pod.state },
        }))
        .sort((a, b) => `${a.dev}:${a.ino}`.localeCompare(`${b.dev}:${b.ino}`)),
    }))
    .sort((a, b) => a.pid - b.pid);
}
