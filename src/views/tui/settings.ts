// What the screen keeps between runs, as htop keeps its htoprc: the sort, the shown columns, the
// interval and the view, in $XDG_CONFIG_HOME/inotop/config.json. Parsing is pure; the file's I/O
// is at the edge (loadSettings, saveSettings). A broken file is said once, and left alone.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SortField } from '../../model/query.js';
import { SORT_FIELDS, viewColumns, type ColumnId } from '../columns.js';
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
    return { settings: {}, note: `${path} is not valid JSON (${(error as Error).message}): using the defaults, and leaving the file as it is` };
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

/** The file's settings; a missing file is no note, an unreadable or broken one is. `writable` is false for a broken one. */
export function loadSettings(path: string): { settings: Settings; note: string | null; writable: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { settings: {}, note: null, writable: true };
    return { settings: {}, note: `${path}: ${(error as Error).message}: using the defaults`, writable: false };
  }
  const parsed = parseSettings(text, path);
  return { ...parsed, writable: parsed.note === null || !parsed.note.includes('leaving the file') };
}

/** Writes the settings whole (a temp file renamed over it); throws on failure. */
export function saveSettings(path: string, settings: Settings): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(settings, null, 2) + '\n');
  renameSync(temp, path);
}
