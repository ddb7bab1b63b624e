// The recording format: JSON lines. The first line is a header, every other line one snapshot
// exactly as `--json --targets` prints it (schema 1). Gzip when the file name ends in .gz.

export const RECORDING_MAGIC = 'inotop-recording';

export interface RecordingHeader {
  format: typeof RECORDING_MAGIC;
  version: 1;
  hostname: string;
  kernel: string;
  /** When recording started (ISO 8601). */
  started: string;
  /** The refresh interval in seconds the recording was made with. */
  intervalSeconds: number;
  inotopVersion: string;
}

export function isGzipPath(path: string): boolean {
  return path.endsWith('.gz');
}

export class RecordingError extends Error {}

/** Validates the header line; a file that is not a recording fails here with a clear message. */
export function parseHeader(line: string, path: string): RecordingHeader {
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    throw new RecordingError(`${path} is not an inotop recording (its first line is not JSON)`);
  }
  const h = header as Partial<Record<keyof RecordingHeader, unknown>> | null;
  if (!h || typeof h !== 'object' || h.format !== RECORDING_MAGIC)
    throw new RecordingError(`${path} is not an inotop recording (no ${RECORDING_MAGIC} header)`);
  if (h.version !== 1) throw new RecordingError(`${path}: recording version ${String(h.version)} is not supported (this inotop reads version 1)`);
  const wrong = (['hostname', 'kernel', 'started', 'inotopVersion'] as const).find((key) => typeof h[key] !== 'string');
  if (wrong) throw new RecordingError(`${path}: the recording's header has no ${wrong}`);
  if (!Number.isFinite(Date.parse(h.started as string))) throw new RecordingError(`${path}: the recording's header has no start time`);
  if (typeof h.intervalSeconds !== 'number' || !(h.intervalSeconds > 0) || !Number.isFinite(h.intervalSeconds)) {
    throw new RecordingError(`${path}: the recording's header has no interval`);
  }
  return h as RecordingHeader;
}
