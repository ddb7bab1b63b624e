// Basic auth for `inotop serve`, as exporter-toolkit does it, made to stand a flood: bcrypt costs
// tens of milliseconds a check on purpose, so 200 wrong passwords at once must not take the CPU
// that good scrapes need, nor tell which user names exist.
// - Results are cached, failures too, keyed by a keyed hash of user and password (the password
//   itself is never kept): a client that tries again costs nothing.
// - One check at a time, in a thread of its own (password-worker.ts): the event loop answers good
//   clients while a flood waits its turn; past MAX_WAITING checks waiting, more are refused unchecked.
// - An unknown user costs a check against a dummy hash of the users' cost: the same work as a known one.
import { createHmac, randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../package-files.js';

export type PasswordRequest = { type: 'compare'; id: number; password: string; hash: string } | { type: 'hash'; id: number; password: string; cost: number };
export type PasswordReply = { id: number; ok: boolean } | { id: number; hash: string };

/** What checks passwords: the worker thread, or a stand-in in tests. */
export interface PasswordChecker {
  compare(password: string, hash: string): Promise<boolean>;
  hash(password: string, cost: number): Promise<string>;
  close(): void;
}

/** Checks waiting (or running) beyond which a new one is refused unchecked: a flood's queue is bounded. */
export const MAX_WAITING = 256;
/** Failed pairs remembered, the oldest forgotten first. */
const MAX_FAILURES_KEPT = 10_000;

export class BasicAuth {
  /** Pairs that passed: at most one per user (each has one password). */
  private readonly passed = new Set<string>();
  /** Pairs that failed, oldest first. */
  private readonly failed = new Set<string>();
  /** Pairs being checked: a second request with the same pair waits for the same check. */
  private readonly checking = new Map<string, Promise<boolean>>();
  private waiting = 0;
  private readonly key = randomBytes(32);
  private dummy: Promise<string> | null = null;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    private readonly checker: PasswordChecker | null = users.size > 0 ? new PasswordWorker() : null,
  ) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** Whether the Authorization header names a user and its password. */
  async allows(authorization: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(authorization ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const pair = createHmac('sha256', this.key).update(user).update('\0').update(password).digest('base64');
    if (this.passed.has(pair)) return true;
    if (this.failed.has(pair)) return false;
    const inFlight = this.checking.get(pair);
    if (inFlight) return inFlight;
    if (this.waiting >= MAX_WAITING) return false;
    const check = this.check(user, password).then((ok) => {
      this.remember(pair, ok);
      return ok;
    });
    this.checking.set(pair, check);
    this.waiting++;
    try {
      return await check;
    } finally {
      this.waiting--;
      this.checking.delete(pair);
    }
  }

  close(): void {
    this.checker?.close();
  }

  private async check(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (hash !== undefined) return this.checker!.compare(password, hash);
    // The same work as for a user who exists, and never a match.
    await this.checker!.compare(password, await this.dummyHash());
    return false;
  }

  /** A hash of a random password at the highest cost of the users' hashes ("$2y$10$...": 10). */
  private dummyHash(): Promise<string> {
    const cost = Math.max(...[...this.users.values()].map((hash) => Number(hash.slice(4, 6))));
    this.dummy ??= this.checker!.hash(randomBytes(16).toString('hex'), cost);
    return this.dummy;
  }

  private remember(pair: string, ok: boolean): void {
    if (ok) {
      this.passed.add(pair);
      return;
    }
    this.failed.add(pair);
    if (this.failed.size > MAX_FAILURES_KEPT) this.failed.delete(this.failed.values().next().value!);
  }
}

/** The password thread; started at the first check. */
class PasswordWorker implements PasswordChecker {
  private worker: Worker | null = null;
  private next = 0;
  private readonly replies = new Map<number, (reply: PasswordReply) => void>();

  compare(password: string, hash: string): Promise<boolean> {
    return this.ask({ type: 'compare', id: ++this.next, password, hash }).then((reply) => 'ok' in reply && reply.ok);
  }

  hash(password: string, cost: number): Promise<string> {
    return this.ask({ type: 'hash', id: ++this.next, password, cost }).then((reply) => ('hash' in reply ? reply.hash : ''));
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = null;
  }

  private ask(request: PasswordRequest): Promise<PasswordReply> {
    return new Promise((resolve) => {
      this.replies.set(request.id, resolve);
      this.start().postMessage(request);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker('serve/password-worker');
    // It must not keep serve alive, nor take it down: a thread that dies fails the checks waiting (401), and the next check starts another.
    worker.unref();
    worker.on('message', (reply: PasswordReply) => {
      const resolve = this.replies.get(reply.id);
      this.replies.delete(reply.id);
      resolve?.(reply);
    });
    const lost = () => {
      if (this.worker === worker) this.worker = null;
      for (const [id, resolve] of this.replies) resolve({ id, ok: false });
      this.replies.clear();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    this.worker = worker;
    return worker;
  }
}
