// Drives test/helpers/inowatch.c: real child processes holding real inotify watches and fanotify marks.
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { eventually } from './eventually.js';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'inowatch.c');
const binary = join(here, '..', '..', 'node_modules', '.cache', 'inotop', 'inowatch');

/** Compiles the helper once (again when the source is newer) and returns its path; `static` links it statically (for an image with no libc). */
export function inowatchBinary({ static: linkStatically = false } = {}): string {
  const path = linkStatically ? `${binary}-static` : binary;
  if (!existsSync(path) || statSync(path).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(dirname(path), { recursive: true });
    execFileSync('gcc', ['-O2', '-Wall', '-pthread', ...(linkStatically ? ['-static'] : []), '-o', path, source], { stdio: 'inherit' });
  }
  return path;
}

export interface WatcherOptions {
  /** Command and arguments to run the helper under, e.g. ['unshare', '-m', '--propagation', 'private']. */
  wrapper?: string[];
  env?: NodeJS.ProcessEnv;
}

/** One inowatch process. Every command returns the helper's numeric answer or throws its error. */
export class Watcher {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly answers: string[] = [];
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly forked: number[] = [];

  constructor(options: WatcherOptions = {}) {
    const bin = inowatchBinary();
    const [cmd, ...args] = [...(options.wrapper ?? []), bin];
    this.child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const next = this.waiting.shift();
      if (next) next(line);
      else this.answers.push(line);
    });
    this.child.stderr.resume();
    // A helper killed under us (a test's cleanup, the OOM killer) must fail the command that
    // was waiting, not crash the test process with EPIPE.
    this.child.stdin.on('error', () => undefined);
    this.child.once('exit', (code, signal) => {
      for (const waiter of this.waiting.splice(0)) waiter(`err exited (${signal ?? code})`);
    });
  }

  /** The pid of the helper itself (not of a wrapper such as unshare, which execs it). */
  get pid(): number {
    return this.child.pid!;
  }

  async send(command: string): Promise<number> {
    const line = await new Promise<string>((resolve, reject) => {
      const queued = this.answers.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => reject(new Error(`inowatch: no answer to "${command}"`)), 10_000);
      this.waiting.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
      this.child.stdin.write(command + '\n');
    });
    if (!line.startsWith('ok ')) throw new Error(`inowatch ${command}: ${line}`);
    return Number(line.slice(3));
  }

  /** A new inotify instance, read as its events come (hold() stops that): its fd. */
  init(): Promise<number> {
    return this.send('init');
  }
  /** Stops reading an instance or group: its events stay queued, as a stuck reader leaves them. */
  hold(fd: number): Promise<number> {
    return this.send(`hold ${fd}`);
  }
  watch(fd: number, path: string): Promise<number> {
    return this.send(`watch ${fd} ${path}`);
  }
  watchDir(fd: number, dir: string): Promise<number> {
    return this.send(`watchdir ${fd} ${dir}`);
  }
  /** A new fanotify group (FAN_CLASS_NOTIF), read as its events come: its fd. */
  fanotifyInit(): Promise<number> {
    return this.send('faninit');
  }
  /** An inode mark (FAN_OPEN | FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD). */
  fanotifyMarkInode(fd: number, path: string): Promise<number> {
    return this.send(`fanmark ${fd} ${path}`);
  }
  /** A mount mark on the mount at path (needs root). */
  fanotifyMarkMount(fd: number, path: string): Promise<number> {
    return this.send(`fanmount ${fd} ${path}`);
  }
  /** A filesystem mark on path's filesystem (needs root). */
  fanotifyMarkFilesystem(fd: number, path: string): Promise<number> {
    return this.send(`fanfs ${fd} ${path}`);
  }
  comm(name: string): Promise<number> {
    return this.send(`comm ${name}`);
  }
  async fork(): Promise<number> {
    const pid = await this.send('fork');
    this.forked.push(pid);
    return pid;
  }

  /** Ends the helper and its forked children and waits until they are gone. */
  async stop(): Promise<void> {
    for (const pid of this.forked) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    for (const pid of this.forked) await waitGone(pid);
  }
}

/**
 * A watcher in a user namespace of its own, made by root as a container runtime makes one (the
 * runtime's root owns it): uid 0 inside is `hostUid` outside, 65,536 ids mapped, and the watcher
 * runs as it.
 */
export async function namespacedWatcher(hostUid: number): Promise<Watcher> {
  const watcher = new Watcher();
  // Unshared by the helper itself: an exec into a namespace whose maps are not written yet would drop its capabilities there.
  await watcher.send('userns');
  for (const map of ['uid_map', 'gid_map']) writeFileSync(`/proc/${watcher.pid}/${map}`, `0 ${hostUid} 65536\n`);
  await watcher.send('setuid 0');
  return watcher;
}

/** The id of a process's user namespace (the inode /proc/PID/ns/user names). */
export function usernsOf(pid: number): string {
  return /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/user`))![1]!;
}

async function waitGone(pid: number): Promise<void> {
  await eventually(
    () => {
      if (existsSync(`/proc/${pid}`)) throw new Error(`inowatch: its child ${pid} is still there`);
    },
    { intervalMs: 10 },
  );
}

export const isRoot = process.getuid?.() === 0;
export const rootSkip = isRoot ? false : 'needs root (real inotify watches of other processes, mounts, namespaces): run as root';
