// Charging as the kernel charges (kernel/ucount.c inc_ucount; inotify's instances and watches and
// fanotify's groups and marks all go through it): what a key (user namespace, euid) holds is
// charged to it, and to (parent namespace, the namespace's owner), and so on up to the host's
// namespace; each key is held against its own namespace's limit. Pure.
//
// The maker's key is the euid and user namespace of the process at inotify_init (or
// fanotify_init), which /proc does not keep: the holder's euid and namespace now stand in for it,
// and a shared instance goes to its first holder (lowest pid). A process that changed its euid
// after making an instance is counted under its new one.
import type { ChargeCounts, ChargeLimits, Limits, NamespaceCharge, UserNamespace, UserRow } from './types.js';
import { NO_TREND } from './projection.js';

/** A charge key: a uid (as the host sees it) in a user namespace (null: the host's). */
export interface ChargeKey {
  userns: string | null;
  uid: number;
}

export function keyText(key: ChargeKey): string {
  return `${key.userns ?? ''}/${key.uid}`;
}

export const NO_CHARGE: Readonly<ChargeCounts> = { instances: 0, watches: 0, fanotifyGroups: 0, fanotifyMarks: 0 };

/** What a key's own processes hold, and their pods. */
export interface OwnCharge {
  key: ChargeKey;
  name: string;
  own: ChargeCounts;
  pods: ReadonlySet<string>;
}

/**
 * The host's limits as a host user's: the sysctls, null where fanotify has none (before 5.13);
 * null when inotify's could not be read.
 */
export function hostChargeLimits(limits: Limits): ChargeLimits | null {
  if (limits.maxUserInstances === null || limits.maxUserWatches === null) return null;
  return {
    instances: limits.maxUserInstances,
    watches: limits.maxUserWatches,
    fanotifyGroups: limits.maxUserFanotifyGroups,
    fanotifyMarks: limits.maxUserFanotifyMarks,
  };
}

/** The keys a key's holdings are charged to: itself first, then each ancestor as far as the namespaces are known. */
export function chargeChain(key: ChargeKey, namespaces: ReadonlyMap<string, UserNamespace>): ChargeKey[] {
  const chain = [key];
  for (let ns = key.userns === null ? undefined : namespaces.get(key.userns); ns; ns = ns.parent === null ? undefined : namespaces.get(ns.parent)) {
    chain.push({ userns: ns.parent, uid: ns.ownerUid });
  }
  return chain;
}

/** The limits in force for a key: the host's for a host user, its namespace's own otherwise (null: not read). */
export function keyLimits(key: ChargeKey, namespaces: ReadonlyMap<string, UserNamespace>, host: ChargeLimits | null): ChargeLimits | null {
  return key.userns === null ? host : (namespaces.get(key.userns)?.limits ?? null);
}

/**
 * One row per key that is charged anything: its own holdings, and each namespace key's below it
 * (fromNamespaces) added to its charge. A key that holds nothing itself but is charged (root, for
 * the namespaces a runtime made) has its row too.
 */
export function chargedUsers(owns: readonly OwnCharge[], namespaces: readonly UserNamespace[], limits: Limits): UserRow[] {
  const byId = new Map(namespaces.map((ns) => [ns.id, ns]));
  const owners = new Map(namespaces.map((ns) => [keyText({ userns: ns.parent, uid: ns.ownerUid }), ns.ownerName]));
  const host = hostChargeLimits(limits);
  const rows = new Map<string, UserRow>();
  const rowOf = (key: ChargeKey, name: string): UserRow => {
    const text = keyText(key);
    let row = rows.get(text);
    if (!row) {
      row = {
        uid: key.uid,
        name,
        userns: key.userns,
        instances: 0,
        watches: 0,
        fanotifyGroups: 0,
        fanotifyMarks: 0,
        charged: { ...NO_CHARGE },
        limits: keyLimits(key, byId, host),
        fromNamespaces: [],
        trend: NO_TREND,
      };
      rows.set(text, row);
    }
    return row;
  };
  for (const { key, name, own, pods } of owns) {
    const row = rowOf(key, name);
    row.instances += own.instances;
    row.watches += own.watches;
    row.fanotifyGroups += own.fanotifyGroups;
    row.fanotifyMarks += own.fanotifyMarks;
    addTo(row.charged, own);
    if (key.userns === null) continue;
    const from: NamespaceCharge = { userns: key.userns, uid: key.uid, ...own, pods: [...pods].sort() };
    for (const above of chargeChain(key, byId).slice(1)) {
      const charged = rowOf(above, owners.get(keyText(above)) ?? String(above.uid));
      addTo(charged.charged, own);
      charged.fromNamespaces.push(from);
    }
  }
  for (const row of rows.values()) row.fromNamespaces.sort((a, b) => b.watches - a.watches || b.instances - a.instances || a.uid - b.uid);
  return [...rows.values()]
    .filter((row) => row.charged.instances > 0 || row.charged.fanotifyGroups > 0)
    .sort((a, b) => b.charged.watches - a.charged.watches || b.charged.instances - a.charged.instances || a.uid - b.uid);
}

function addTo(sum: ChargeCounts, counts: ChargeCounts): void {
  sum.instances += counts.instances;
  sum.watches += counts.watches;
  sum.fanotifyGroups += counts.fanotifyGroups;
  sum.fanotifyMarks += counts.fanotifyMarks;
}

/** The user namespaces a row's charge comes from ("30 from 2 user namespaces"). */
export function namespacesBelow(user: Pick<UserRow, 'fromNamespaces'>): number {
  return new Set(user.fromNamespaces.map((entry) => entry.userns)).size;
}

/** What the user namespaces below a row add to its charge, of one count. */
export function fromBelow(user: Pick<UserRow, 'fromNamespaces'>, field: keyof ChargeCounts): number {
  return user.fromNamespaces.reduce((sum, entry) => sum + entry[field], 0);
}
