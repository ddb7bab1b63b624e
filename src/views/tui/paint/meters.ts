// The header's meters: htop's `label[|||||     used/limit pct]` per user, of what the kernel charges
// it, against the inotify (and, where groups exist, fanotify) limits in force for it; how much of
// it comes from user namespaces below it; and when a user will run out at its pace.
import { durationText } from '../../../model/projection.js';
import type { Snapshot, UserRow } from '../../../model/types.js';
import { fit, signed, usage } from '../../format.js';
import { grouped, percent } from '../../../common/format.js';
import { displayWidth } from '../../../common/width.js';
import { screenText as esc } from '../../../common/text.js';
import type { Painter } from '../../painter.js';
import { fromNamespacesShort } from '../charges.js';

/**
 * When a user reaches a limit at its pace: "full in ~2 h 10 min at +47/min" (watches first, the
 * sooner of the two), or '' when neither grows.
 */
export function exhaustionText(user: UserRow): string {
  const trend = user.trend;
  const candidates = [
    { seconds: trend.watchesFullInSeconds, rate: trend.watchesPerMinute, what: '' },
    { seconds: trend.instancesFullInSeconds, rate: trend.instancesPerMinute, what: ' instances' },
  ].filter((c): c is { seconds: number; rate: number | null; what: string } => c.seconds !== null);
  const soonest = candidates.sort((a, b) => a.seconds - b.seconds)[0];
  if (!soonest) return '';
  if (soonest.seconds === 0) return `FULL${soonest.what}`;
  const rate = soonest.rate === null ? '' : ` at ${signed(Math.round(soonest.rate))}/min`;
  return `full${soonest.what} in ${durationText(soonest.seconds)}${rate}`;
}

export function userMeters(user: UserRow, snapshot: Snapshot, lineWidth: number, painter: Painter): string {
  const name = user.userns ? `${user.name}@${user.userns}` : user.name;
  const nameWidth = 16;
  // Where the charge comes from, and the projection, after the meters when there is room for meters still.
  const from = fromNamespacesShort(user);
  const exhaustion = exhaustionText(user);
  const after = [from && `(${from})`, exhaustion].filter(Boolean).join(' ');
  const suffix = after && lineWidth - after.length - 2 >= 50 ? ` ${after} ` : '';
  const width = lineWidth - suffix.length;
  const meterSpace = width - nameWidth - 1;
  // What the kernel charges the user (its own and its user namespaces'), against the limits in force for it.
  const { charged } = user;
  const limits = user.limits;
  // fanotify's meters (groups, marks) only where some user holds a group: most nodes have none.
  const fanotify = snapshot.totals.fanotifyGroups > 0;
  const inotifySpace = fanotify ? Math.ceil(meterSpace * 0.55) : meterSpace;
  const watchesWidth = Math.ceil(inotifySpace * 0.6);
  const inotify =
    painter.paint('title', esc(fit(name, nameWidth))) +
    ' ' +
    meter('watches', charged.watches, limits?.watches ?? null, watchesWidth - 1, painter) +
    ' ' +
    meter('inst', charged.instances, limits?.instances ?? null, inotifySpace - watchesWidth - (fanotify ? 1 : 0), painter);
  const fanotifySpace = meterSpace - inotifySpace;
  const groupsWidth = Math.floor(fanotifySpace * 0.45);
  const fanotifyMeters = fanotify
    ? ' ' +
      meter('fanotify', charged.fanotifyGroups, limits?.fanotifyGroups ?? null, groupsWidth - 1, painter) +
      ' ' +
      meter('marks', charged.fanotifyMarks, limits?.fanotifyMarks ?? null, fanotifySpace - groupsWidth, painter)
    : '';
  return inotify + fanotifyMeters + (suffix ? painter.paint(exhaustion ? 'warn' : 'title', esc(suffix)) : '');
}

/**
 * htop-style `label[|||||     used/limit pct]`: yellow above 75%, red above 90%. Without room for
 * the bar, the figures alone in the same colors, the limit, then the count left out before any
 * figure is cut: `label used/limit pct`, `label used pct`, `label pct`.
 */
export function meter(label: string, used: number, limit: number | null, width: number, painter: Painter): string {
  const inner = width - label.length - 2;
  const text = usage(used, limit);
  if (limit === null || limit <= 0) return esc(fit(`${label} ${text}`, width));
  const fraction = Math.min(1, used / limit);
  const style = fraction > 0.9 ? 'crit' : fraction > 0.75 ? 'warn' : 'ok';
  if (inner < text.length) {
    const pct = percent(used, limit);
    const forms = [`${label} ${text}`, `${label} ${grouped(used)} ${pct}`, `${label} ${pct}`];
    const shown = esc(fit(forms.find((form) => displayWidth(form) <= width) ?? forms.at(-1)!, width));
    return style === 'ok' ? shown : painter.paint(style, shown);
  }
  const bars = Math.round(fraction * inner);
  const cells = [...('|'.repeat(bars) + ' '.repeat(inner - bars))];
  cells.splice(inner - text.length, text.length, ...text);
  const filled = cells.slice(0, bars).join('');
  const rest = cells.slice(bars).join('');
  return `${esc(label)}[${painter.paint(style, esc(filled))}${esc(rest)}]`;
}
