// The scan stage: every process under a procfs root, its inotify instances and their watches, its
// fanotify groups and their marks.
export { Scanner, ScanError, scan, defaultPasswdPath, type ScanOptions } from './scanner.js';
export type { ScanProgress, ScanProgressListener } from './progress.js';
// What the later stages read of /proc themselves, the way the scan reads it.
export { parseNamespaceLink } from './parse.js';
export { listNumericEntries, readProcTextOrNull } from './procfs.js';
