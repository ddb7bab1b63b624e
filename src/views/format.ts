// Text helpers shared by the batch table and the screen.
import { grouped, percent } from '../common/format.js';
import { fromBelow, namespacesBelow } from '../model/charges.js';
import type { TargetRow, UserRow } from '../model/types.js';
import { unitColumns, visibleUnits } from '../common/text.js';

/** "1,234/8,192 15%", or the bare count when the limit is unknown. */
export function usage(used: number, limit: number | null): string {
  if (limit === null || limit <= 0) return grouped(used);
  return `${grouped(used)}/${grouped(limit)} ${percent(used, limit)}`;
}

/**
 * Where a user's charge comes from besides its own processes: " (30 instances, 1,200 watches from
 * 2 user namespaces)", or "" when from none.
 */
export function fromNamespacesText(user: Pick<UserRow, 'fromNamespaces'>): string {
  const below = namespacesBelow(user);
  if (below === 0) return '';
  return ` (${grouped(fromBelow(user, 'instances'))} instances, ${grouped(fromBelow(user, 'watches'))} watches from ${below} user namespace${below === 1 ? '' : 's'})`;
}

export function signed(n: number): string {
  const text = grouped(n);
  return n > 0 ? `+${text}` : text;
}

/** What a target's status means for an operator, with the holder when one pins it. */
export function statusText(target: TargetRow): string {
  switch (target.status) {
    case 'ok':
      return target.pod?.state === 'gone' ? 'gone pod' : 'ok';
    case 'unmounted':
      return 'unmounted';
    case 'deleted':
      return 'deleted';
    case 'unresolved':
      return 'unresolved';
  }
}

export function holdersText(target: TargetRow): string {
  if (target.holders.length === 0) return '';
  return 'held by ' + target.holders.map((h) => `pid ${h.pid} ${h.comm}`).join(', ');
}

/** Made visible (common/text.ts), then padded or cut to a width; cut text ends with "…", never inside an escape. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const units = visibleUnits(text);
  let columns = 0;
  for (const unit of units) columns += unitColumns(unit);
  if (columns > width) {
    let kept = 0;
    let used = 0;
    while (used + unitColumns(units[kept]!) <= width - 1) used += unitColumns(units[kept++]!);
    // An escape that does not fit whole leaves a column or few: pad them.
    return units.slice(0, kept).join('') + '…' + ' '.repeat(width - 1 - used);
  }
  const shown = units.join('');
  const pad = ' '.repeat(width - columns);
  return align === 'left' ? shown + pad : pad + shown;
}
