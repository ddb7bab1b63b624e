// `-b`: plain text tables like `top -b`, for scripts and logs.
import { commandOf } from '../model/query.js';
import type { ProcessRow, Snapshot } from '../model/types.js';
import { fit, holdersText, podLabel, statusText, targetPathText, usage } from './format.js';
import { visible } from './text.js';

export interface BatchOptions {
  withTargets: boolean;
  color: boolean;
  /** Terminal width to cut the COMMAND column at; null: never cut (a pipe). */
  width: number | null;
}

const BOLD = '\x1b[1m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

// Every line is made visible (text.ts) before it is painted: a command, path, note or pod name
// from the node never reaches the terminal as a control, and never splits a row.
export function batchText(snapshot: Snapshot, rows: ProcessRow[], options: BatchOptions): string {
  const paint = (code: string, text: string) => (options.color ? code + visible(text) + RESET : visible(text));
  const out: string[] = [];
  const add = (text: string) => out.push(visible(text));
  const { limits, totals, pods } = snapshot;
  add(`inotop - ${snapshot.hostname} - kernel ${snapshot.kernel} - ${snapshot.time}`);
  add(
    `limits: max_user_watches ${limits.maxUserWatches ?? '?'}, max_user_instances ${limits.maxUserInstances ?? '?'}, max_queued_events ${limits.maxQueuedEvents ?? '?'}`,
  );
  // fanotify is said only where some user holds a group: most nodes have none.
  const fanotify = (totals.fanotifyGroups ?? 0) > 0;
  if (fanotify) {
    add(`limits: fanotify max_user_groups ${limits.maxUserFanotifyGroups ?? '?'}, max_user_marks ${limits.maxUserFanotifyMarks ?? '?'}`);
  }
  add(
    `total: ${totals.processes} processes, ${totals.instances} instances, ${totals.watches} watches` +
      (fanotify ? `, ${totals.fanotifyGroups} fanotify groups, ${totals.fanotifyMarks ?? 0} marks` : '') +
      ` - pods: ${pods.source}${pods.live !== null ? `, ${pods.live} live` : ''}${pods.stale ? ' (stale)' : ''}` +
      (pods.error && !snapshot.notes.some((note) => note.includes(pods.error!)) ? ` - ${pods.error}` : ''),
  );
  for (const user of snapshot.users) {
    const ns = user.userns ? ` (userns ${user.userns})` : '';
    add(`user ${user.name}${ns}: instances ${usage(user.instances, limits.maxUserInstances)}, watches ${usage(user.watches, limits.maxUserWatches)}`);
    if ((user.fanotifyGroups ?? 0) > 0) {
      add(
        `user ${user.name}${ns}: fanotify groups ${usage(user.fanotifyGroups!, limits.maxUserFanotifyGroups ?? null)}, ` +
          `marks ${usage(user.fanotifyMarks ?? 0, limits.maxUserFanotifyMarks ?? null)}`,
      );
    }
  }
  for (const note of snapshot.notes) add(`note: ${note}`);
  add('');
  // FANOTIFY: a process's groups/marks.
  const fanotifyTitle = fanotify ? ` ${fit('FANOTIFY', 9, 'right')}` : '';
  const header =
    `${fit('PID', 8, 'right')} ${fit('USER', 10)} ${fit('INST', 5, 'right')} ${fit('WATCHES', 8, 'right')}${fanotifyTitle} ` +
    `${fit('LEAKED', 7, 'right')} ${fit('POD', 28)} COMMAND`;
  out.push(paint(BOLD, header));
  for (const row of rows) {
    const command = options.width === null ? commandOf(row) : fit(commandOf(row), Math.max(10, options.width - header.length + 7));
    const line =
      `${fit(String(row.pid), 8, 'right')} ${fit(row.user, 10)} ${fit(String(row.instances), 5, 'right')} ` +
      `${fit(String(row.watches), 8, 'right')}${fanotify ? ` ${fit(`${row.fanotifyGroups ?? 0}/${row.fanotifyMarks ?? 0}`, 9, 'right')}` : ''} ${fit(String(row.leaked), 7, 'right')} ${fit(podLabel(row.pod) || '-', 28)} ${command}`;
    out.push(row.leaked > 0 ? paint(RED, line) : visible(line));
    if (options.withTargets) out.push(...targetLines(row, paint));
  }
  return out.join('\n') + '\n';
}

function targetLines(row: ProcessRow, paint: (code: string, text: string) => string): string[] {
  const lines = ['', visible(`  targets of pid ${row.pid} (${row.comm}):`)];
  lines.push(
    paint(BOLD, `  ${fit('WATCHES', 7, 'right')} ${fit('DEV', 7)} ${fit('INO', 10, 'right')} ${fit('FSTYPE', 9)} ${fit('STATUS', 10)} ${fit('POD', 30)} PATH`),
  );
  for (const target of row.targets) {
    const held = holdersText(target);
    // A mount or filesystem mark has no inode of its own.
    const ino = target.kind === 'fanotify' && target.markType !== 'inode' ? '-' : String(target.ino);
    const line =
      `  ${fit(String(target.watches), 7, 'right')} ${fit(target.dev, 7)} ${fit(ino, 10, 'right')} ` +
      `${fit(target.fstype ?? '?', 9)} ${fit(statusText(target), 10)} ${fit(podLabel(target.pod) || '-', 30)} ` +
      `${targetPathText(target)}${held ? `  [${held}]` : ''}`;
    lines.push(target.leak ? paint(RED, line) : visible(line));
  }
  lines.push('');
  return lines;
}
