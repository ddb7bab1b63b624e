// `inotop install --dest DIR`: this single executable copied to DIR/inotop, for a container that
// has no inotop and gets it from an init container of inotop's image, which holds nothing else to
// copy with (node-problem-detector's: deploy/node-problem-detector/daemonset-patch.yaml).
import { chmodSync, copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type FlagSpec, type SubcommandFlags } from '../options/flags.js';
import { isSingleExecutable } from '../package-files.js';

export interface InstallOptions {
  dest: string;
}

const FLAGS: readonly FlagSpec[] = [{ long: 'dest', value: 'DIR', help: 'the directory to put inotop in (made if missing)', complete: 'directory' }];

export const INSTALL_FLAGS: SubcommandFlags<InstallOptions> = {
  intro: ['Usage: inotop install --dest DIR   copies this single executable to DIR/inotop'],
  flags: FLAGS,
  scansNode: false,
  options(flags) {
    const dest = flags.string('dest');
    if (dest === null || dest === '') throw new UsageError('--dest DIR is required');
    return { dest: resolve(dest) };
  },
};

export function runInstall({ dest }: InstallOptions): number {
  if (!isSingleExecutable()) {
    process.stderr.write('inotop install: only the single executable copies itself (npm run build:exe); the npm package installs with npm\n');
    return 2;
  }
  const target = join(dest, 'inotop');
  const partial = `${target}.${process.pid}.tmp`;
  try {
    mkdirSync(dest, { recursive: true });
    copyFileSync(process.execPath, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  } catch (error) {
    process.stderr.write(`inotop install: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`inotop copied to ${target}\n`);
  return 0;
}
