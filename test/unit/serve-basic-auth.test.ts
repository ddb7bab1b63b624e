// Basic auth under a flood: results cached (failures too), one check per pair however many ask at
// once, a bound on the checks waiting, and unknown users checked against a dummy hash of the users'
// cost, as much work as a known one. The checker is a stand-in that counts; bcrypt itself runs in
// a thread of its own (serve-hardening and the bench measure it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BasicAuth, MAX_WAITING, type PasswordChecker } from '../../src/serve/basic-auth.js';

const HASH = `$2y$12$${'a'.repeat(53)}`;

class CountingChecker implements PasswordChecker {
  compares: [string, string][] = [];
  hashes: [string, number][] = [];
  held: (() => void)[] = [];
  hold = false;
  compare(password: string, hash: string): Promise<boolean> {
    this.compares.push([password, hash]);
    const answer = hash === HASH && password === 'right';
    if (!this.hold) return Promise.resolve(answer);
    return new Promise((resolve) => this.held.push(() => resolve(answer)));
  }
  hash(password: string, cost: number): Promise<string> {
    this.hashes.push([password, cost]);
    return Promise.resolve(`$2y$${cost}$dummy`);
  }
  close(): void {}
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('results are cached, failures too: a client that tries again costs no check', async () => {
  const checker = new CountingChecker();
  const auth = new BasicAuth(new Map([['prometheus', HASH]]), checker);
  assert.equal(await auth.allows(basic('prometheus', 'right')), true);
  assert.equal(await auth.allows(basic('prometheus', 'right')), true);
  assert.equal(await auth.allows(basic('prometheus', 'wrong')), false);
  assert.equal(await auth.allows(basic('prometheus', 'wrong')), false);
  assert.equal(checker.compares.length, 2);
  for (const header of [undefined, '', 'Bearer x', 'Basic !!', 'Basic Og', `Basic ${'A'.repeat(5000)}`, basic('', '')]) {
    assert.equal(await auth.allows(header), false, String(header));
  }
});

test('an unknown user is checked against a dummy hash at the users cost: the same work as a known one, never a match', async () => {
  const checker = new CountingChecker();
  const auth = new BasicAuth(new Map([['prometheus', HASH]]), checker);
  assert.equal(await auth.allows(basic('nobody', 'right')), false);
  assert.equal(await auth.allows(basic('someone', 'x')), false);
  assert.deepEqual(
    checker.hashes.map(([, cost]) => cost),
    [12],
    'one dummy, made once, at cost 12',
  );
  assert.deepEqual(
    checker.compares.map(([password, hash]) => [password, hash]),
    [
      ['right', '$2y$12$dummy'],
      ['x', '$2y$12$dummy'],
    ],
  );
});

test('a flood: the same pair asked at once is checked once; past MAX_WAITING checks waiting, more are refused unchecked', async () => {
  const checker = new CountingChecker();
  checker.hold = true;
  const auth = new BasicAuth(new Map([['prometheus', HASH]]), checker);
  const same = await Promise.all([0, 1, 2].map(() => Promise.race([auth.allows(basic('prometheus', 'same')), Promise.resolve('waiting')])));
  assert.deepEqual(same, ['waiting', 'waiting', 'waiting']);
  const flood = Array.from({ length: MAX_WAITING + 20 }, (_, i) => auth.allows(basic('prometheus', `wrong-${i}`)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(checker.compares.length, MAX_WAITING, 'one check for the three same, MAX_WAITING - 1 of the flood');
  for (const release of checker.held.splice(0)) release();
  const answers = await Promise.all(flood);
  assert.ok(answers.every((ok) => ok === false));
  // The queue is free again: a good client gets in.
  checker.hold = false;
  assert.equal(await auth.allows(basic('prometheus', 'right')), true);
});
