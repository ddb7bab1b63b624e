// The scan's notes in words: the scan says what it could not read as data (model ScanNote), every
// view says it the same way through here.
import type { ScanNote, ScanShortfall, Snapshot } from '../model/types.js';

export function scanNoteText(note: ScanNote): string {
  switch (note.kind) {
    case 'unreadable':
      return `${note.processes} process${note.processes === 1 ? '' : 'es'} not readable: run as root to see all`;
    case 'protected':
      return `not readable even with CAP_SYS_PTRACE, not counted: pid ${pidList(note)}`;
    case 'out-of-fds':
      return `out of file descriptors (EMFILE/ENFILE), not counted: pid ${pidList(note)}`;
    case 'userns-uncharged':
      return `users in user namespaces not charged to the namespaces' owners (${note.reason})`;
    case 'userns-owners-unread':
      return `user namespace owners not read, their users not charged above them: ${note.reasons.join('; ')}${note.count > note.reasons.length ? '; …' : ''}`;
    case 'userns-limits-unread':
      return `own limits of ${note.namespaces} user namespace${note.namespaces === 1 ? '' : 's'} not read (${note.reason}): no meters for their users`;
  }
}

export function shortfallText(shortfall: ScanShortfall): string {
  return `${shortfall.notRead} of ${shortfall.processes} processes not read by the deadline`;
}

/** Every note of a snapshot in words: the scan's, then the other stages'. */
export function snapshotNotes(snapshot: Snapshot): string[] {
  return [...(snapshot.scanNotes ?? []).map(scanNoteText), ...snapshot.notes];
}

function pidList({ pids, count }: { pids: readonly number[]; count: number }): string {
  return pids.join(', ') + (count > pids.length ? ', …' : '');
}
