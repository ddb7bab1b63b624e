// Mount tables per mount namespace: read once per namespace per refresh (mounts change), parsed
// again only when the text changed. Every namespace on the host is listed only when a target needs
// it (a watch whose filesystem is not mounted where its watcher lives, or a deleted inode).
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { listNumericEntries, parseNamespaceLink } from '../scan/index.js';
import { groupByDev, parseMountinfo, type MountEntry } from './mountinfo.js';
import { decodePathBytes } from '../model/path-bytes.js';
import { fail, type Result } from '../common/result.js';

export interface MountTable {
  /** Mount namespace inode (or "pid:N" when the namespace link was unreadable). */
  ns: string;
  /** The process read for it; its mount points are as this process sees them. */
  pid: number;
  byDev: Map<string, MountEntry[]>;
}

/** A table that could not be read: why, and whether because its process is gone. */
export type MountTableResult = Result<MountTable> & { vanished?: boolean };

export class MountNamespaces {
  /** Across refreshes: namespace -> last text read and its parse. */
  private readonly parsed = new Map<string, { text: string; byDev: Map<string, MountEntry[]> }>();
  /** This refresh: namespace -> table. */
  private tables = new Map<string, MountTableResult>();
  private everyNamespace: Map<string, number> | null = null;

  constructor(private readonly procRoot: string) {}

  beginRefresh(): void {
    this.tables = new Map();
    this.everyNamespace = null;
  }

  /** Forgets parses of namespaces not read this refresh (their processes are gone). */
  endRefresh(): void {
    for (const ns of this.parsed.keys()) if (!this.tables.has(ns)) this.parsed.delete(ns);
  }

  /** The mount table of namespace `ns`, read through `pid` the first time it is asked for this refresh. */
  table(ns: string, pid: number): MountTableResult {
    let table = this.tables.get(ns);
    if (!table) {
      table = this.read(ns, pid);
      this.tables.set(ns, table);
    }
    return table;
  }

  /**
   * The readable mount table of every mount namespace of the host, each with the lowest pid in it
   * (the one to name as its holder; the table may have been read through another of its processes).
   */
  allTables(): { table: MountTable; firstPid: number }[] {
    if (!this.everyNamespace) this.everyNamespace = this.listNamespaces();
    const tables: { table: MountTable; firstPid: number }[] = [];
    for (const [ns, firstPid] of this.everyNamespace) {
      const table = this.table(ns, firstPid);
      if (table.ok) tables.push({ table: table.value, firstPid });
    }
    return tables;
  }

  private read(ns: string, pid: number): MountTableResult {
    let text: string;
    try {
      text = decodePathBytes(readFileSync(`${this.procRoot}/${pid}/mountinfo`));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A recorded tree has no mountinfo: only a process whose directory went away has exited.
      const vanished = (code === 'ENOENT' || code === 'ESRCH') && !existsSync(`${this.procRoot}/${pid}`);
      return { ...fail(`cannot read ${this.procRoot}/${pid}/mountinfo: ${code ?? (error as Error).message}`), vanished };
    }
    let cached = this.parsed.get(ns);
    if (!cached || cached.text !== text) {
      cached = { text, byDev: groupByDev(parseMountinfo(text)) };
      this.parsed.set(ns, cached);
    }
    return { ok: true, value: { ns, pid, byDev: cached.byDev } };
  }

  private listNamespaces(): Map<string, number> {
    const namespaces = new Map<string, number>();
    let pids: number[];
    try {
      pids = listNumericEntries(this.procRoot);
    } catch {
      return namespaces;
    }
    for (const pid of pids) {
      let ns: string | null;
      try {
        ns = parseNamespaceLink(readlinkSync(`${this.procRoot}/${pid}/ns/mnt`));
      } catch {
        continue; // gone, or not ours to read
      }
      if (ns !== null && !namespaces.has(ns)) namespaces.set(ns, pid);
    }
    return namespaces;
  }
}
