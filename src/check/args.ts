// Flags of `inotop check`, through the one flag parser (src/options); the node and pod source
// flags are the very same table as plain inotop's.
import { seconds, UsageError, type FlagSpec, type SubcommandFlags } from '../options/flags.js';
import { nodeOptions, type NodeOptions } from '../options/node.js';

export interface CheckOptions {
  shared: NodeOptions;
  /** Fractions of the limits; null: not checked. */
  instancesThreshold: number | null;
  watchesThreshold: number | null;
  fanotifyGroupsThreshold: number | null;
  fanotifyMarksThreshold: number | null;
  failOnLeaked: boolean;
  /** An event queue that may be full or is not draining is a problem. */
  failOnQueues: boolean;
  podsTimeoutMs: number;
  /** The verdict is out, and every child stopped, by then (node-problem-detector kills a plugin at 5 s). */
  deadlineMs: number;
}

const FLAGS: readonly FlagSpec[] = [
  { long: 'instances-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of max_user_instances or more (default 90%)' },
  { long: 'watches-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of max_user_watches or more (default 90%)' },
  { long: 'fanotify-groups-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of fs.fanotify.max_user_groups or more (default 90%)' },
  { long: 'fanotify-marks-threshold', value: 'PCT|off', help: 'a problem when a user holds PCT of fs.fanotify.max_user_marks or more (default 90%)' },
  { long: 'fail-on-leaked', help: 'leaked watches are a problem (default; =false skips path and pod work)' },
  { long: 'fail-on-queues', help: 'an event queue that may be full or is not draining over 1 s is a problem (default; =false: not judged)' },
  { long: 'pods-timeout', value: 'SECS', help: 'wait this long for the live pod list (default 2)' },
  { long: 'deadline', value: 'SECS', help: 'the verdict by then, else exit 2 "cannot tell in time"; nothing runs on after it (default 4)' },
];

export const CHECK_FLAGS: SubcommandFlags<CheckOptions> = {
  intro: [
    'Usage: inotop check [options]   one verdict, for node-problem-detector (custom plugin)',
    '',
    'Exit 0: fine; 1: a problem (processes blocked on fanotify permission answers, failed inotify calls,',
    'a user near a limit, an event queue falling behind, leaked watches); 2: cannot tell.',
    'One line on stdout, at most 80 characters, names the problem.',
  ],
  flags: FLAGS,
  scansNode: true,
  options(flags) {
    const value = (name: string): string | null => flags.string(name);
    return {
      shared: nodeOptions(flags),
      instancesThreshold: threshold('--instances-threshold', value('instances-threshold') ?? '90%'),
      watchesThreshold: threshold('--watches-threshold', value('watches-threshold') ?? '90%'),
      fanotifyGroupsThreshold: threshold('--fanotify-groups-threshold', value('fanotify-groups-threshold') ?? '90%'),
      fanotifyMarksThreshold: threshold('--fanotify-marks-threshold', value('fanotify-marks-threshold') ?? '90%'),
      failOnLeaked: flags.boolean('fail-on-leaked') ?? true,
      failOnQueues: flags.boolean('fail-on-queues') ?? true,
      podsTimeoutMs: seconds('--pods-timeout', value('pods-timeout') ?? '2') * 1000,
      deadlineMs: seconds('--deadline', value('deadline') ?? '4') * 1000,
    };
  },
};

/** "90%", "90" or "off"; a fraction of the limit. */
function threshold(flag: string, text: string): number | null {
  if (text === 'off') return null;
  const percent = Number(text.replace(/%$/, ''));
  if (text.trim() === '' || !Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new UsageError(`${flag}: expected a percentage in (0, 100] or 'off', got '${text}'`);
  }
  return percent / 100;
}
