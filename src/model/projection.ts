// Time to exhaustion: from what a user is charged over the last refreshes, when the limits in
// force for it (max_user_watches and max_user_instances for a host user) would be reached at the
// current pace. Pure.
import type { UserRow, UserTrend } from './types.js';

/** A user's trend after one refresh only: no pace yet (UsageTrends follow it over refreshes). */
export const NO_TREND: UserTrend = { watchesPerMinute: null, instancesPerMinute: null, watchesFullInSeconds: null, instancesFullInSeconds: null };

export interface UsageSample {
  /** Epoch milliseconds. */
  time: number;
  watches: number;
  instances: number;
}

/** The samples a trend is taken over: enough to smooth a refresh's noise, recent enough to follow a change of pace. */
export const TREND_SAMPLES = 10;

/** Change per minute over the samples (least squares), null with fewer than two samples or no time between them. */
export function perMinute(samples: readonly UsageSample[], pick: (s: UsageSample) => number): number | null {
  if (samples.length < 2) return null;
  const t0 = samples[0]!.time;
  const xs = samples.map((s) => (s.time - t0) / 60_000);
  const ys = samples.map(pick);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  return sxx === 0 ? null : sxy / sxx;
}

/** Seconds until `used` reaches `limit` at `rate` per minute; 0 when there already, null when not growing or no limit. */
export function secondsToLimit(used: number, limit: number | null, rate: number | null): number | null {
  if (limit === null || limit <= 0) return null;
  if (used >= limit) return 0;
  if (rate === null || rate <= 0) return null;
  return Math.round(((limit - used) / rate) * 60);
}

/** A key's pace: of what it is charged (its own and its namespaces'), against the limits in force for it. */
export function userTrend(samples: readonly UsageSample[], user: Pick<UserRow, 'charged' | 'limits'>): UserTrend {
  const watchesPerMinute = perMinute(samples, (s) => s.watches);
  const instancesPerMinute = perMinute(samples, (s) => s.instances);
  return {
    watchesPerMinute: watchesPerMinute === null ? null : Math.round(watchesPerMinute * 10) / 10,
    instancesPerMinute: instancesPerMinute === null ? null : Math.round(instancesPerMinute * 10) / 10,
    watchesFullInSeconds: secondsToLimit(user.charged.watches, user.limits?.watches ?? null, watchesPerMinute),
    instancesFullInSeconds: secondsToLimit(user.charged.instances, user.limits?.instances ?? null, instancesPerMinute),
  };
}

/** "~2 h 10 min", "~45 s", "now". */
export function durationText(seconds: number): string {
  if (seconds <= 0) return 'now';
  if (seconds < 90) return `~${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `~${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `~${hours} h ${minutes % 60} min`;
  return `~${Math.round(hours / 24)} d`;
}

/** Per user (by userns and uid), the last samples: kept across refreshes by whoever collects. */
export class UsageTrends {
  private readonly samples = new Map<string, UsageSample[]>();

  /** Adds this snapshot's counts and returns the users with their trends. */
  add(time: string, users: readonly UserRow[]): UserRow[] {
    const at = Date.parse(time);
    const seen = new Set<string>();
    const rows = users.map((user) => {
      const key = `${user.userns ?? ''}/${user.uid}`;
      seen.add(key);
      const list = this.samples.get(key) ?? [];
      list.push({ time: at, watches: user.charged.watches, instances: user.charged.instances });
      if (list.length > TREND_SAMPLES) list.splice(0, list.length - TREND_SAMPLES);
      this.samples.set(key, list);
      return { ...user, trend: userTrend(list, user) };
    });
    for (const key of this.samples.keys()) if (!seen.has(key)) this.samples.delete(key);
    return rows;
  }
}
