// `--replay FILE`: reads a recording back. A damaged tail (the node crashed mid-write) replays up
// to the last good snapshot with a warning; a file that is not a recording is an error.
import { readFileSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import type { Snapshot } from '../model/types.js';
import { isGzipPath, parseHeader, parseSnapshotLine, RecordingError, type RecordingHeader } from './format.js';

export interface Recording {
  header: RecordingHeader;
  snapshots: Snapshot[];
  /** Set when the file ended in a damaged or truncated line. */
  warning: string | null;
}

export function readRecording(path: string): Recording {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (error) {
    throw new RecordingError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const text = decompress(raw, path);
  const lines = text.split('\n');
  const header = parseHeader(lines[0], path);
  const snapshots: Snapshot[] = [];
  let warning: string | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' && i === lines.length - 1) break;
    const snapshot = parseSnapshotLine(line);
    if (!snapshot) {
      warning = `${path}: line ${i + 1} is damaged (truncated recording?): replaying the ${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'} before it`;
      break;
    }
    snapshots.push(snapshot);
  }
  if (snapshots.length === 0) throw new RecordingError(`${path} holds no snapshot${warning ? ' (its first one is damaged)' : ''}`);
  return { header, snapshots, warning };
}

/** Gunzips what there is: finishFlush lets a truncated stream give up its whole blocks. */
function decompress(raw: Buffer, path: string): string {
  const gzipped = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  if (!gzipped) {
    if (isGzipPath(path) && raw.length > 0) throw new RecordingError(`${path} is not gzip data`);
    return raw.toString('utf8');
  }
  try {
    return gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  } catch (error) {
    throw new RecordingError(`${path}: cannot decompress: ${(error as Error).message}`);
  }
}
