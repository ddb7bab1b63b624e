// Where a user's charge comes from, for the screen: the meters line's "(30 inst from 2 userns)",
// and in a pod's inspect, whom its user namespace charges and every namespace charging them too,
// with their pods. Pure.
import { grouped } from '../../common/format.js';
import { fromBelow, namespacesBelow } from '../../model/charges.js';
import type { PodRef, Snapshot, UserRow } from '../../model/types.js';
import { userRowLabel } from '../failures.js';
import { usage } from '../format.js';
import { podLabel } from '../../model/target-text.js';
import type { Paragraph } from './inspect.js';

/** "30 inst from 2 userns" for a user charged from user namespaces below it, else "". */
export function fromNamespacesShort(user: UserRow): string {
  const below = namespacesBelow(user);
  if (below === 0) return '';
  return `${grouped(fromBelow(user, 'instances'))} inst from ${below} userns`;
}

/**
 * For a pod whose processes run in a user namespace: the users above it that its holdings are
 * charged to, each with its charge against its limits and every namespace charging it, with their pods.
 */
export function podChargeParagraphs(podUid: string, snapshot: Snapshot): Paragraph[] {
  // Nearest first: a charge only grows on its way up.
  const above = snapshot.users
    .filter((user) => user.fromNamespaces.some((entry) => entry.pods.includes(podUid)))
    .sort(
      (a, b) => a.charged.instances + a.charged.watches - (b.charged.instances + b.charged.watches) || Number(a.userns === null) - Number(b.userns === null),
    );
  if (above.length === 0) return [];
  const pods = new Map<string, PodRef>();
  for (const row of snapshot.processes) if (row.pod) pods.set(row.pod.uid, row.pod);
  const out: Paragraph[] = [{ text: '', indent: '' }];
  const line = (text: string, indent = '      ') => out.push({ text, indent });
  const own = above[0]!.fromNamespaces.find((entry) => entry.pods.includes(podUid))!;
  line(
    `CHARGED TO ${above.map(userRowLabel).join(', then ')}: its processes run in user namespace ${own.userns} as uid ${own.uid} (on the host), ` +
      `and the kernel charges what they hold to the namespace's owner too, up to the host's namespace.`,
    '  ',
  );
  for (const user of above) {
    const limits = user.limits;
    line(
      `${userRowLabel(user)}: charged ${usage(user.charged.instances, limits?.instances ?? null)} instances, ` +
        `${usage(user.charged.watches, limits?.watches ?? null)} watches (its own processes: ${grouped(user.instances)} and ${grouped(user.watches)}; ` +
        `the rest from ${namespacesBelow(user)} user namespace${namespacesBelow(user) === 1 ? '' : 's'}):`,
      '    ',
    );
    for (const entry of user.fromNamespaces) {
      const names = entry.pods.map((uid) => podLabel(pods.get(uid) ?? { uid, namespace: null, name: null, container: null, state: 'live', nameSource: null }));
      line(
        `userns ${entry.userns} uid ${entry.uid}: ${grouped(entry.instances)} instances, ${grouped(entry.watches)} watches; ` +
          `pods ${names.length > 0 ? names.join(', ') : 'none'}${entry.userns === own.userns ? '  (this one)' : ''}`,
      );
    }
  }
  return out;
}
