// What the screen keeps between runs, as htop keeps its htoprc: the sort, the shown columns, the
// interval and the view, in $XDG_CONFIG_HOME/inotop/config.json. Parsing is pure; the file's I/O
// is at the edge (loadSettings, saveSettings). A broken file is said once, and left alone. inotop
// runs as root: config.json is read and written only as a regular file of its own, never through a
// symbolic link (a link to /etc/passwd is neither quoted in a note nor replaced).
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SortField } from '../../model/query.js';
import { SORT_FIELDS, viewColumns, type ColumnId } from '../columns.js';
import { errnoText } from '../../common/error-text.js';
import { VIEW_IDS, type ViewId } from './view-state.js';

export interface Settings {
  sort?: { field: SortField; descending: boolean };
  intervalMs?: number;
  view?: ViewId;
  /** Table columns hidden with the column chooser (F2), and those it showed that show only when asked for. */
  hiddenColumns?: ColumnId[];
  shownColumns?: ColumnId[];
}

export function settingsPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'inotop', 'config.json');
}

const FIELDS = new Set<string>(SORT_FIELDS);
const COLUMN_IDS = new Set<string>(viewColumns('screen').map((spec) => spec.id));

/** The settings in a file's text; what is not understood is said, and left at its default. */
export function parseSettings(text: string, path: string): { settings: Settings; note: string | null } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Where, never what: JSON.parse's message quotes the text.
    const at = /at position (\d+)/.exec((error as Error).message);
    return { settings: {}, note: `${path} is not valid JSON${at ? ` (at byte ${at[1]})` : ''}: using the defaults, and leaving the file as it is` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { settings: {}, note: `${path} is not a JSON object: using the defaults, and leaving the file as it is` };
  const raw = value as Record<string, unknown>;
  const settings: Settings = {};
  const wrong: string[] = [];
  if (raw.sort !== undefined) {
    const sort = raw.sort as { field?: unknown; descending?: unknown } | null;
    if (sort && typeof sort.field === 'string' && FIELDS.has(sort.field) && typeof sort.descending === 'boolean')
      settings.sort = { field: sort.field as SortField, descending: sort.descending };
    else wrong.push('sort');
  }
  if (raw.intervalMs !== undefined) {
    if (typeof raw.intervalMs === 'number' && Number.isFinite(raw.intervalMs) && raw.intervalMs >= 100) settings.intervalMs = raw.intervalMs;
    else wrong.push('intervalMs');
  }
  if (raw.view !== undefined) {
    const view = VIEW_IDS.find((id) => id === raw.view);
    if (view) settings.view = view;
    else wrong.push('view');
  }
  for (const key of ['hiddenColumns', 'shownColumns'] as const) {
    const ids = raw[key];
    if (ids === undefined) continue;
    if (Array.isArray(ids) && ids.every((id) => typeof id === 'string' && COLUMN_IDS.has(id))) settings[key] = ids as ColumnId[];
    else wrong.push(key);
  }
  return {
    settings,
    note:
      wrong.length > 0
        ? `${path}: ${wrong.join(', ')} not understood: using the default${wrong.length > 1 ? 's' : ''} for ${wrong.length > 1 ? 'them' : 'it'}`
        : null,
  };
}

/** The most of a settings file read: it holds a few short fields. */
const MAX_SETTINGS_BYTES = 64 * 1024;

/** The file's settings; a missing file is no note, an unreadable, odd or broken one is. `writable` is false but for a missing or good one. */
export function loadSettings(path: string): { settings: Settings; note: string | null; writable: boolean } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { settings: {}, note: null, writable: true };
    if (code === 'ELOOP') return { settings: {}, note: `${path} is a symbolic link: not read, and not written: using the defaults`, writable: false };
    return { settings: {}, note: `${path}: ${errnoText(error)}: using the defaults`, writable: false };
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { settings: {}, note: `${path} is not a regular file: not read, and not written: using the defaults`, writable: false };
    if (stat.size > MAX_SETTINGS_BYTES)
      return { settings: {}, note: `${path} is larger than a settings file: using the defaults, and leaving it as it is`, writable: false };
    const bytes = Buffer.alloc(MAX_SETTINGS_BYTES);
    text = bytes.subarray(0, readSync(fd, bytes, 0, MAX_SETTINGS_BYTES, 0)).toString('utf8');
  } catch (error) {
    return { settings: {}, note: `${path}: ${errnoText(error)}: using the defaults`, writable: false };
  } finally {
    closeSync(fd);
  }
  const parsed = parseSettings(text, path);
  return { ...parsed, writable: parsed.note === null || !parsed.note.includes('leaving the file') };
}

/** Makes `dir` and its missing parents one by one: a recursive mkdir says ENOENT where the real reason is EROFS or EACCES. */
function makeDirs(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw error;
    makeDirs(dirname(dir));
    mkdirSync(dir);
  }
}

/** Thrown by saveSettings: why the settings could not be saved, in a line that can be shown. */
export class SettingsError extends Error {}

/**
 * Writes the settings whole: into a new temp file (O_EXCL, O_NOFOLLOW: nothing planted there is
 * written through), renamed over config.json only while that is a regular file or missing.
 */
export function saveSettings(path: string, settings: Settings): void {
  const temp = `${path}.${process.pid}.tmp`;
  let made = false;
  try {
    makeDirs(dirname(path));
    try {
      if (!lstatSync(path).isFile()) throw new SettingsError(`${path} is not a regular file: left as it is`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    made = true;
    try {
      writeFileSync(fd, JSON.stringify(settings, null, 2) + '\n');
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    if (made) {
      try {
        unlinkSync(temp);
      } catch {
        // renamed already
      }
    }
    if (error instanceof SettingsError) throw error;
    throw new SettingsError(`${path}: ${errnoText(error)}`);
  }
}
