// The scan's notes in words: the scan says what it could not read as data (model ScanNote), every
// view says it the same way through here.
import type { ScanNote, ScanShortfall, Snapshot } from '../model/types.js';

export function scanNoteText(note: ScanNote): string {
  switch (note.kind) {
    case 'unreadable':
      return `${note.processes} process${note.processes === 1 ? '' : 'es'} not readable: run as root to see all`;
    case 'missed': {
      const named = note.pids.map(({ pid, what }) => (what.length > 0 ? `${pid} (${what.join(', ')})` : String(pid)));
      const more = note.count > named.length ? `, +${note.count - named.length} more` : '';
      const why = causeMeaning(note.cause, note.hostProtected);
      const processes = `${note.count} process${note.count === 1 ? '' : 'es'}`;
      return `${processes} not read whole (${note.cause}${why ? `: ${why}` : ''}), their counts missing or short: pid ${named.join(', ')}${more}`;
    }
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

/** What an errno that stopped a read means for the operator, where it says more than its name. */
function causeMeaning(cause: string, hostProtected: boolean): string | null {
  if (cause === 'EMFILE' || cause === 'ENFILE') return 'out of file descriptors';
  if (hostProtected && (cause === 'EACCES' || cause === 'EPERM')) return 'not readable even with CAP_SYS_PTRACE';
  return null;
}
