// `-b`: plain text tables like `top -b`, for scripts and logs.
import type { ProcessRow, Snapshot } from '../model/types.js';
import {
  columnSpec,
  placeColumns,
  printedCellContext,
  rowCells,
  rowStyle,
  shownColumns,
  wideColumns,
  targetColumns,
  targetStyle,
  titleCells,
  type TargetContext,
} from './columns.js';
import { snapshotNotes } from './notes.js';
import type { OutputFormat, PrintOptions } from './output.js';
import { fromNamespacesText, usage } from './format.js';
import { blockedVerdict, freshWaitsNote, queueVerdict, someQueueTrouble, waitersAlert } from './traffic.js';
import { visible } from '../common/text.js';

/** Tables, a blank line between the snapshots of a series, a replay's titled. */
export const TEXT_OUTPUT: OutputFormat = {
  flag: { long: 'batch', short: 'b', help: 'print plain text tables instead of the screen (like top -b)' },
  takesColumns: true,
  render(snapshot, rows, options, place) {
    return (place.index > 0 ? '\n' : '') + (place.title !== null ? visible(place.title) + '\n' : '') + batchText(snapshot, rows, options);
  },
};

const BOLD = '\x1b[1m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

// Every line is made visible (common/text.ts) before it is painted: a command, path, note or pod name
// from the node never reaches the terminal as a control, and never splits a row.
export function batchText(snapshot: Snapshot, rows: ProcessRow[], options: PrintOptions): string {
  const paint = (code: string, text: string) => (options.color ? code + visible(text) + RESET : visible(text));
  const out: string[] = [];
  const add = (text: string) => out.push(visible(text));
  const { limits, totals, pods } = snapshot;
  add(`inotop - ${snapshot.hostname} - kernel ${snapshot.kernel} - ${snapshot.time}`);
  // Before any figure: the figures below are short, and by how much.
  if (!snapshot.scan.complete) out.push(paint(RED, `cannot tell: ${snapshot.scan.reason}: the counts below are too low`));
  add(
    `limits: max_user_watches ${limits.maxUserWatches ?? '?'}, max_user_instances ${limits.maxUserInstances ?? '?'}, max_queued_events ${limits.maxQueuedEvents ?? '?'}`,
  );
  // fanotify is said only where some user holds a group: most nodes have none.
  const fanotify = totals.fanotifyGroups > 0;
  if (fanotify) {
    add(`limits: fanotify max_user_groups ${limits.maxUserFanotifyGroups ?? '?'}, max_user_marks ${limits.maxUserFanotifyMarks ?? '?'}`);
  }
  add(
    `total: ${totals.processes} processes, ${totals.instances} instances, ${totals.watches} watches` +
      (fanotify ? `, ${totals.fanotifyGroups} fanotify groups, ${totals.fanotifyMarks} marks` : '') +
      ` - pods: ${pods.source}${pods.live !== null ? `, ${pods.live} live` : ''}${pods.stale ? ' (stale)' : ''}` +
      (pods.error && !snapshot.notes.some((note) => note.includes(pods.error!)) ? ` - ${pods.error}` : ''),
  );
  // Each user as the kernel charges it (its own and its user namespaces') against the limits in force for it.
  for (const user of snapshot.users) {
    const ns = user.userns ? ` (userns ${user.userns})` : '';
    const { charged } = user;
    add(
      `user ${user.name}${ns}: instances ${usage(charged.instances, user.limits?.instances ?? null)}, ` +
        `watches ${usage(charged.watches, user.limits?.watches ?? null)}${fromNamespacesText(user)}`,
    );
    if (charged.fanotifyGroups > 0) {
      add(
        `user ${user.name}${ns}: fanotify groups ${usage(charged.fanotifyGroups, user.limits?.fanotifyGroups ?? null)}, ` +
          `marks ${usage(charged.fanotifyMarks, user.limits?.fanotifyMarks ?? null)}`,
      );
    }
  }
  for (const note of snapshotNotes(snapshot)) add(`note: ${note}`);
  // The node's urgent news before the table, as the screen's header has it: processes blocked on
  // permission answers (and which), then a queue that falls behind.
  const blocked = blockedVerdict(snapshot.permissionWaits);
  if (blocked) {
    out.push(paint(RED, blocked));
    out.push(paint(RED, waitersAlert(snapshot.permissionWaits, options.width ?? Infinity) ?? ''));
  }
  const fresh = freshWaitsNote(snapshot.permissionWaits);
  if (fresh) add(`note: ${fresh}`);
  const queue = queueVerdict(snapshot);
  if (queue) out.push(paint(RED, queue));
  add('');
  const specs =
    options.columns === 'wide'
      ? wideColumns(fanotify)
      : options.columns
        ? options.columns.map(columnSpec)
        : shownColumns('batch', { fanotify, queues: someQueueTrouble(snapshot), hidden: [], shown: [] });
  const columns = placeColumns(specs, options.width);
  out.push(paint(BOLD, titleCells(columns).join(' ')));
  const context = printedCellContext(snapshot);
  for (const row of rows) {
    const line = rowCells(row, columns, context).join(' ');
    out.push(rowStyle(row, context) !== null ? paint(RED, line) : visible(line));
    if (options.withTargets) out.push(...targetLines(row, paint));
  }
  return out.join('\n') + '\n';
}

/** -b's target table (columns.ts): plain counts, the path whole with who holds it. */
const TARGET_TABLE = targetColumns(['watches', 'dev', 'ino', 'fstype', 'status', 'pod', 'path']);
const IN_BATCH: TargetContext = { markRepeats: false, holdersInPath: true };

function targetLines(row: ProcessRow, paint: (code: string, text: string) => string): string[] {
  const lines = ['', visible(`  targets of pid ${row.pid} (${row.comm}):`)];
  const columns = placeColumns(TARGET_TABLE, null);
  lines.push(paint(BOLD, `  ${titleCells(columns).join(' ')}`));
  for (const target of row.targets) {
    const line = `  ${rowCells(target, columns, IN_BATCH).join(' ')}`;
    lines.push(targetStyle(target, IN_BATCH) === 'leak' ? paint(RED, line) : visible(line));
  }
  lines.push('');
  return lines;
}
