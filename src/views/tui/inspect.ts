// Inspect: one target of one process, or one pod, everything inotop knows about it, nothing cut:
// where it is, what its status means, who keeps it alive and how they came to, the kernel rule
// that keeps the watch, and the safe next step. Pure: paragraphs of plain text, wrapped by the caller.
import { grouped } from '../../common/format.js';
import type { Holder, HolderDetail, PodRef, ProcessRow, Snapshot, TargetRow } from '../../model/types.js';
import { commandOf } from '../../model/query.js';
import { podLabel } from '../../model/target-text.js';
import { wrapColumns } from '../../common/width.js';
import type { PodRow } from './pod-rows.js';
import { podChargeParagraphs } from './charges.js';

/** A paragraph: a first line, and lines that wrap under it with this indent. */
export interface Paragraph {
  text: string;
  indent: string;
}

const KERNEL_RULE =
  'A watch lives until its inode is deleted (IN_DELETE_SELF, IN_IGNORED) or its superblock dies (IN_UNMOUNT, when the last mount of the filesystem goes). ' +
  'Unmounting in one mount namespace does not end it while the filesystem is mounted in another; a deleted file stays while a bind mount pins its inode; ' +
  'a removed cgroup dir (kernfs) sends no IN_IGNORED, so its watch stays until the watcher removes it.';

export function inspectParagraphs(row: ProcessRow, target: TargetRow, details: ReadonlyMap<number, HolderDetail>): Paragraph[] {
  const out: Paragraph[] = [];
  const line = (text: string, indent = '    ') => out.push({ text, indent });
  const watcher = `${row.comm} ${row.pid}`;
  line(`Target of pid ${row.pid} ${row.comm}  (${commandOf(row)})`, '  ');
  line('');
  line(`path, as ${watcher} sees it: ${target.path ?? `? (${target.reason ?? 'not resolved'})`}`);
  for (const holder of target.holders) line(`path, as ${holder.comm} ${holder.pid} sees it: ${holderPath(target, holder)}`);
  line(`device ${target.dev}  inode ${target.ino}  fstype ${target.fstype ?? '?'}`);
  line(`mount point: ${target.mountpoint ?? '?'}${target.mountpointRemembered ? ' (gone now; the last one seen)' : ''}`);
  line(`watches: ${target.watches} on fd ${target.fds.join(', ')}  (mask 0x${target.mask.toString(16)})`);
  line(`pod: ${podText(target.pod)}`);
  line('');
  line(`STATUS: ${statusLabel(target)}. ${meaning(target, row)}`, '  ');
  if (target.holders.length > 0) {
    line('');
    line(`KEPT BY ${target.holders.length === 1 ? 'one mount namespace' : `${target.holders.length} mount namespaces`}:`, '  ');
    for (const holder of target.holders) holderParagraphs(holder, details.get(holder.pid), target, line);
  }
  line('');
  line(`KERNEL RULE: ${KERNEL_RULE}`, '  ');
  line('');
  line(`NEXT STEP: ${nextStep(target, row)}`, '  ');
  return out;
}

function holderPath(target: TargetRow, holder: Holder): string {
  // An unmounted target's path is already the holder's; a bind-mounted file shows where it is bound.
  if (target.status === 'unmounted' && target.path !== null) return target.path;
  return holder.mountpoint;
}

function holderParagraphs(holder: Holder, detail: HolderDetail | undefined, target: TargetRow, line: (text: string, indent?: string) => void): void {
  line(`pid ${holder.pid} ${holder.comm}`, '      ');
  line(`  command: ${detail?.cmdline ?? '? (not readable: it exited, or this is a recording)'}`, '      ');
  line(`  cgroup: ${detail?.cgroup ?? '?'}`, '      ');
  line(`  own pod: ${detail?.pod ? podText(detail.pod) : detail ? 'none (not in a pod cgroup)' : '?'}`, '      ');
  line(`  mounted there at: ${holder.mountpoint}`, '      ');
  const how = howItGotThere(holder, detail, target);
  if (how) line(`  how it got there: ${how}`, '      ');
}

/** What inotop can tell of why this process's mount namespace has the pod's mounts. */
export function howItGotThere(holder: Holder, detail: HolderDetail | undefined, target: TargetRow): string | null {
  const pod = target.pod;
  if (pod && detail?.pod?.uid === pod.uid) {
    return pod.state === 'gone'
      ? "it is that pod's own container process (its cgroup is the pod's): its mount namespace is the deleted pod's"
      : "it is that pod's own container process (its cgroup is the pod's)";
  }
  // The pod's own files (etc-hosts, the termination log), not the cgroup dirs a runtime binds in too.
  const bound = holder.boundFrom.filter((path) => pod !== null && path.includes(`/pods/${pod.uid}/`));
  if (pod && bound.length > 0) {
    const files = bound.length > 2 ? `${bound.slice(0, 2).join(', ')} and ${bound.length - 2} more` : bound.join(', ');
    return (
      `its mount namespace has the pod's files bound in (${files}) but its cgroup is not the pod's: ` +
      `it entered a container's mount namespace of that pod (nsenter, kubectl debug, a monitoring agent) and stayed`
    );
  }
  if (detail?.pod && detail.pod.state === 'gone') return `its own pod ${podLabel(detail.pod)} is gone: its mount namespace is a deleted pod's`;
  return null;
}

function statusLabel(target: TargetRow): string {
  return target.status === 'ok' && target.pod?.state === 'gone' ? 'gone pod' : target.status;
}

function meaning(target: TargetRow, row: ProcessRow): string {
  switch (target.status) {
    case 'unmounted':
      return (
        `The filesystem is no longer mounted in ${row.comm}'s mount namespace, but it is still mounted in ` +
        `${target.holders.length > 0 ? 'the namespaces below' : 'some other namespace'}: the kernel keeps it, and the watch with it, until its last mount goes.`
      );
    case 'deleted':
      if (target.holders.length > 0)
        return 'The file or directory was deleted, but a bind mount in the namespaces below pins its inode: the watch lives while that mount does.';
      if (target.fstype?.startsWith('cgroup'))
        return 'The cgroup dir was removed; kernfs sends no IN_IGNORED for it, so the watch stays until the watcher removes it itself.';
      return 'The file or directory was deleted, yet the watch is still there: something still references the inode.';
    case 'unresolved':
      return `inotop could not find its path (${target.reason ?? 'no reason given'}).`;
    case 'ok':
      return target.pod?.state === 'gone'
        ? 'The path is still there, but its pod is gone: the watch stays until the files are removed or the watcher drops it.'
        : 'A live target: nothing leaks here.';
  }
}

function nextStep(target: TargetRow, row: ProcessRow): string {
  const restart = `only the watcher can drop this watch: restarting ${row.comm} (pid ${row.pid}) releases it.`;
  const [first, ...others] = target.holders;
  if ((target.status === 'unmounted' || target.status === 'deleted') && first) {
    const pids = [first, ...others].map((h) => `pid ${h.pid}`).join(', ');
    const what =
      target.status === 'unmounted' ? 'its mount namespace holds the last mount of this volume' : 'its mount namespace pins the deleted file with a bind mount';
    return (
      `the watch ends when ${pids} ${others.length > 0 ? 'exit: their mount namespaces keep it' : `exits: ${what}`}. ` +
      `Check what ${others.length > 0 ? 'they are' : 'it is'} (command and cgroup above), then stop ${others.length > 0 ? 'them' : 'it'}. ` +
      `Or: ${restart}`
    );
  }
  if (target.status === 'deleted' || target.status === 'unmounted') return restart;
  if (target.pod?.state === 'gone') return `the pod's files are still on the node: when kubelet removes them the watch ends; if they stay, ${restart}`;
  if (target.status === 'unresolved') return 'look again after the next refresh; run as root to resolve every path.';
  return 'nothing to do.';
}

/** Inspect of a pod: who watches inside it, who keeps its mounts, and what to do. */
export function podInspectParagraphs(row: PodRow, snapshot: Snapshot): Paragraph[] {
  const byPid = new Map(snapshot.processes.map((proc) => [proc.pid, proc]));
  const out: Paragraph[] = [];
  const line = (text: string, indent = '    ') => out.push({ text, indent });
  const pod = row.pod;
  line(`Pod ${podLabel(pod)}  uid ${pod.uid}${pod.nameSource ? `  (name from ${pod.nameSource})` : pod.name === null ? '  (name unknown)' : ''}`, '  ');
  line('');
  line(`${grouped(row.watches)} watches on it, ${grouped(row.leaked)} leaked`);
  line('');
  line('WATCHED BY:', '  ');
  for (const w of row.watchers)
    line(`pid ${w.pid} ${w.comm}: ${w.watches} watches, ${w.leaked} leaked  (${commandOf(byPid.get(w.pid) ?? { cmdline: '', comm: w.comm })})`, '      ');
  if (row.holders.length > 0) {
    line('');
    line('KEPT BY (their mount namespaces still have its mounts):', '  ');
    for (const pid of row.holders) {
      const proc = byPid.get(pid);
      line(`pid ${pid} ${proc ? `${proc.comm}  (${commandOf(proc)})` : '(holds no inotify instance: inspect a target for its command line)'}`, '      ');
    }
  }
  if (row.members.length > 0) {
    line('');
    line(`RUNS IN IT: ${row.members.map((pid) => `pid ${pid} ${byPid.get(pid)?.comm ?? '?'}`).join(', ')}`, '  ');
  }
  out.push(...podChargeParagraphs(pod.uid, snapshot));
  line('');
  const watchers = row.watchers.filter((w) => w.leaked > 0).map((w) => `${w.comm} (pid ${w.pid})`);
  const next =
    row.leaked === 0
      ? 'nothing to do: no watch on it leaked.'
      : row.holders.length > 0
        ? `its mounts live on while pid ${row.holders.join(', pid ')} ${row.holders.length === 1 ? 'exits' : 'exit'}: check what ${row.holders.length === 1 ? 'it is' : 'they are'}, then stop ${row.holders.length === 1 ? 'it' : 'them'}. What no namespace keeps (a removed cgroup dir) only the watcher drops: restarting ${watchers.join(', ')} releases it.`
        : `only the watchers can drop these watches: restarting ${watchers.join(', ')} releases them.`;
  line(`NEXT STEP: ${next}`, '  ');
  return out;
}

function podText(pod: PodRef | null): string {
  if (!pod) return 'none';
  const source = pod.nameSource ? `, name from ${pod.nameSource}` : pod.name === null ? ', name unknown' : '';
  return `${podLabel(pod)}  (uid ${pod.uid}${source})`;
}

/** The view's lines at `width` columns, wrapped under their indents. */
export function inspectLines(paragraphs: readonly Paragraph[], width: number): string[] {
  return paragraphs.flatMap((p) => (p.text === '' ? [''] : wrapColumns(p.text, width, p.indent)));
}

/** The whole view as plain text, for copying. */
export function inspectText(paragraphs: readonly Paragraph[]): string {
  return paragraphs.map((p) => p.text).join('\n');
}

/** OSC 52: sets the terminal's clipboard to `text` (xterm, tmux with set-clipboard, most terminals today). */
export function osc52(text: string): string {
  return `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;
}
