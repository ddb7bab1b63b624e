// `--record FILE` (with `--append`: added to what FILE holds): each snapshot as one line. Synchronous writes, so that the line is in
// the file when the refresh ends: the node may crash right after. With .gz each line is its own
// gzip member (concatenated members are one valid gzip file), so a truncated file still
// decompresses up to its last whole snapshot.
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Snapshot } from '../model/types.js';
import { jsonText } from '../common/text.js';
import { isGzipPath, RECORDING_MAGIC, RecordingError, type RecordingHeader } from './format.js';
import { errnoText } from '../common/error-text.js';
import { openRecording } from './reader.js';

export class RecordingWriter {
  private readonly fd: number;
  private readonly gzip: boolean;
  private headerWritten = false;

  constructor(
    readonly path: string,
    private readonly header: Pick<RecordingHeader, 'intervalSeconds' | 'inotopVersion'>,
    append = false,
  ) {
    this.fd = openForRecording(path, append ? 'a' : 'w');
    this.gzip = isGzipPath(path);
    // Appended to, a recording keeps its header (and must be one: its header is checked).
    if (append && fstatSync(this.fd).size > 0) {
      try {
        openRecording(path, () => undefined);
      } catch (error) {
        closeSync(this.fd);
        throw error;
      }
      this.headerWritten = true;
    }
  }

  /** Fails now, with one clear line, when `path` cannot be recorded to (the screen records from another thread). */
  static probe(path: string): void {
    closeSync(openForRecording(path, 'a'));
  }

  append(snapshot: Snapshot): void {
    if (!this.headerWritten) {
      const header: RecordingHeader = {
        format: RECORDING_MAGIC,
        version: 1,
        hostname: snapshot.hostname,
        kernel: snapshot.kernel,
        started: snapshot.time,
        ...this.header,
      };
      this.write(jsonText(header) + '\n');
      this.headerWritten = true;
    }
    this.write(jsonText(snapshot) + '\n');
  }

  /** Throws a RecordingError when the file takes no more (ENOSPC, EDQUOT, EIO): the recording ends there. */
  private write(text: string): void {
    try {
      writeSync(this.fd, this.gzip ? gzipSync(text) : Buffer.from(text));
    } catch (error) {
      throw new RecordingError(`recording to ${this.path} stopped: ${errnoText(error)}`);
    }
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // What was written is in the file; a failed close (a full NFS) cannot take it back.
    }
  }
}

function openForRecording(path: string, flags: 'w' | 'a'): number {
  try {
    return openSync(path, flags);
  } catch (error) {
    throw new RecordingError(`cannot record to ${path}: ${errnoText(error)}`);
  }
}
