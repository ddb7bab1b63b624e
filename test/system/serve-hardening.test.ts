// inotop serve under attack (second reliability review): every request gets a status whatever
// its target (the targets that crashed it, and 10,000 fuzzed request lines); client certificates
// enforced mode by mode as exporter-toolkit does; web configs that would crash at the first
// request refused at start, in one line; signals end serve with 128 + their number in every
// state; a replay without one good snapshot exits 1. Replays need no root.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test, type TestContext } from 'node:test';
import { requestPath } from '../../src/serve/serve.js';
import { ensureBuilt, inotopBin } from '../helpers/build.js';
import { tempDir } from '../helpers/cleanup.js';
import { missingBinaries, servedPort, start } from '../helpers/prometheus.js';

const recording = fileURLToPath(new URL('../../fixtures/healthy-node.jsonl', import.meta.url));
const skip = missingBinaries(['/usr/bin/openssl']);

before(() => ensureBuilt());

async function serveReplay(t: TestContext, ...args: string[]): Promise<number> {
  const served = start(t, process.execPath, [inotopBin, 'serve', '--replay', recording, '--web.listen-address', '127.0.0.1:0', ...args]);
  return servedPort(served);
}

/** The status line of the answer to `raw`, sent as it is on a connection of its own; '' when the connection closed without one. */
async function rawStatus(port: number, raw: string | Buffer): Promise<string> {
  return (await rawAnswer(port, raw)).split('\r\n', 1)[0] ?? '';
}

/** The whole answer to `raw` (status line, headers, body), sent as it is on a connection of its own. */
function rawAnswer(port: number, raw: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = () => resolve(answer);
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', done);
    socket.on('close', done);
    socket.end(raw);
  });
}

test('request targets: origin and absolute forms have a path; anything else has none', () => {
  assert.equal(requestPath('/metrics?x=1#y'), '/metrics');
  assert.equal(requestPath('http://node:19742/metrics'), '/metrics');
  assert.equal(requestPath('http://node:19742'), '/');
  for (const target of ['//', '//a:b@', '//[::1', '//x:99999/', '*', 'node:19742', '', 'metrics']) assert.equal(requestPath(target), null, target);
});

test('a method other than GET and HEAD: 405 with Allow: GET, HEAD (RFC 9110 15.5.6), CONNECT too', async (t) => {
  const port = await serveReplay(t);
  for (const request of ['POST /metrics HTTP/1.1', 'DELETE / HTTP/1.1', 'OPTIONS /metrics HTTP/1.1', 'CONNECT node:443 HTTP/1.1']) {
    const answer = await rawAnswer(port, `${request}\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 405 /, request);
    assert.match(answer, /\r\nAllow: GET, HEAD\r\n/i, `${request}: the methods it takes`);
  }
});

test('every request gets a status, whatever its target: the review list and 10,000 fuzzed request lines; serve stays up', { timeout: 120_000 }, async (t) => {
  const port = await serveReplay(t);
  const review = ['//', '//a:b@', '//[::1', '//x:99999/', '*', 'x:80', 'http://[::1', 'http://x:99999/metrics', '/%zz', '/metrics?%', '/..%2f..', '/\\'];
  for (const target of review) {
    const status = await rawStatus(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(status, /^HTTP\/1\.1 (200|400|404) /, target);
  }
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const methods = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'CONNECT', 'DELETE', 'G\x00T', 'get', ''];
  const pieces = ['/', '//', 'metrics', '-/healthy', '-/ready', '?', '#', '%', '%zz', '%00', '@', ':', '[', ']', '::1', '99999', 'http://', 'https://'];
  const more = ['*', '..', '\\', '\t', '\x7f', 'é', '\u{1F600}', 'a', '\x1b[2J', '%2e%2e', ';', '&', '=', 'x'.repeat(300)];
  const versions = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1', ''];
  const lines: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    let target = '';
    for (let n = 1 + Math.floor(random() * 6); n > 0; n--) target += pick(random() < 0.8 ? pieces : more);
    const headers = random() < 0.1 ? `Authorization: Basic ${pick(['', '!!', 'Og==', 'YTpi', 'x'.repeat(2000)])}\r\n` : '';
    lines.push(`${pick(methods)} ${target} ${pick(versions)}\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`);
  }
  const answers = new Map<string, number>();
  const silent: string[] = [];
  for (let at = 0; at < lines.length; at += 50) {
    const statuses = await Promise.all(lines.slice(at, at + 50).map((line) => rawStatus(port, line)));
    statuses.forEach((status, i) => {
      const code = /^HTTP\/1\.[01] (\d{3}) /.exec(status)?.[1];
      if (code) answers.set(code, (answers.get(code) ?? 0) + 1);
      else silent.push(JSON.stringify(lines[at + i]!.split('\r\n', 1)[0]));
    });
  }
  t.diagnostic(`statuses: ${[...answers].map(([code, n]) => `${code} ×${n}`).join(', ')}`);
  assert.deepEqual(silent.slice(0, 10), [], `${silent.length} requests got no status`);
  assert.ok((answers.get('200') ?? 0) > 0 && (answers.get('404') ?? 0) > 0 && (answers.get('400') ?? 0) > 0);
  assert.match(await rawStatus(port, 'GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /, 'still up');
});

/** A CA, a server certificate for 127.0.0.1, and client certificates: trusted, self-signed, trusted but for servers only. */
function certificates(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => openssl('genrsa', '-out', `${name}.key`, '2048');
  key('ca');
  openssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=inotop-test-ca');
  const signed = (name: string, subject: string, extensions: string) => {
    key(name);
    openssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  };
  signed('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  signed('client', '/CN=prometheus', 'extendedKeyUsage=clientAuth\n');
  signed('serveronly', '/CN=not-a-client', 'extendedKeyUsage=serverAuth\n');
  key('stranger');
  openssl('req', '-x509', '-new', '-key', 'stranger.key', '-out', 'stranger.pem', '-days', '1', '-subj', '/CN=stranger');
  return (name: string) => join(dir, name);
}

/** The status of GET /metrics over TLS as a client with `identity` (null: no certificate), or the error's code. */
function scrapeAs(port: number, ca: string, identity: { key: string; cert: string } | null): Promise<string> {
  return new Promise((resolve) => {
    const request = httpsRequest({ host: '127.0.0.1', port, path: '/metrics', ca, ...(identity ?? {}), agent: false, timeout: 5_000 }, (response) => {
      response.resume();
      resolve(String(response.statusCode));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    request.end();
  });
}

test(
  'client certificates, mode by mode as exporter-toolkit: required where it says, verified (against client_ca, for client use) where it says',
  { skip, timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t, 'inotop-serve-');
    const file = certificates(dir);
    const { readFileSync } = await import('node:fs');
    const read = (name: string) => readFileSync(file(name), 'utf8');
    const clients = {
      none: null,
      trusted: { key: read('client.key'), cert: read('client.pem') },
      stranger: { key: read('stranger.key'), cert: read('stranger.pem') },
      'server-only': { key: read('serveronly.key'), cert: read('serveronly.pem') },
    };
    const expected: Record<string, Record<keyof typeof clients, boolean>> = {
      NoClientCert: { none: true, trusted: true, stranger: true, 'server-only': true },
      RequestClientCert: { none: true, trusted: true, stranger: true, 'server-only': true },
      RequireAnyClientCert: { none: false, trusted: true, stranger: true, 'server-only': true },
      VerifyClientCertIfGiven: { none: true, trusted: true, stranger: false, 'server-only': false },
      RequireAndVerifyClientCert: { none: false, trusted: true, stranger: false, 'server-only': false },
    };
    const wrong: string[] = [];
    for (const [mode, outcomes] of Object.entries(expected)) {
      const config = join(dir, `${mode}.yml`);
      writeFileSync(config, `tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: ${mode}\n  client_ca_file: ca.pem\n`);
      const port = await serveReplay(t, '--web.config.file', config);
      for (const [client, allowed] of Object.entries(outcomes)) {
        const answer = await scrapeAs(port, read('ca.pem'), clients[client as keyof typeof clients]);
        if ((answer === '200') !== allowed) wrong.push(`${mode}, ${client} certificate: ${answer}, expected ${allowed ? '200' : 'refused'}`);
      }
    }
    assert.deepEqual(wrong, []);
  },
);

test('web configs that would fail at the first request, or at the first connection, are refused at start in one line', { skip }, (t) => {
  const dir = tempDir(t, 'inotop-serve-');
  certificates(dir);
  const cases: [string, RegExp][] = [
    ['http_server_config:\n  headers:\n    "Bad Header": x\n', /http_server_config\.headers: "Bad Header": not a valid HTTP header/],
    ['http_server_config:\n  headers:\n    X-Frame-Options: "DENY\\r\\nSet-Cookie: a=b"\n', /"X-Frame-Options": not a valid HTTP header/],
    ['http_server_config:\n  headers:\n    Content-Length: "0"\n', /Content-Length is inotop's own to set/],
    ['tls_server_config:\n  cert_file: server.pem\n  key_file: client.key\n', /tls_server_config: .*key values mismatch/],
    ['tls_server_config:\n  cert_file: server.pem\n  key_file: ca.pem\n', /tls_server_config: /],
  ];
  for (const [yaml, message] of cases) {
    writeFileSync(join(dir, 'web.yml'), yaml);
    const result = spawnSync(
      process.execPath,
      [inotopBin, 'serve', '--replay', recording, '--web.config.file', join(dir, 'web.yml'), '--listen', '127.0.0.1:0'],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    assert.equal(result.status, 1, yaml);
    assert.match(result.stderr, message, yaml);
    assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
  }
});

test('serve ends with 128 + the signal in every state: starting, serving; a replay without a good snapshot exits 1', { timeout: 60_000 }, async (t) => {
  const run = (...args: string[]) =>
    spawn(process.execPath, [inotopBin, 'serve', '--web.listen-address', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exit = async (child: ReturnType<typeof run>) => {
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    return code ?? signal;
  };
  // As soon as it runs: before its handlers are in, Node's own ending on SIGTERM is the same to a shell or kubelet.
  const early = run('--replay', recording);
  await new Promise((resolve) => setTimeout(resolve, 150));
  early.kill('SIGTERM');
  assert.ok([143, 'SIGTERM'].includes((await exit(early))!));
  // Live, its first scan under way in the collector's thread.
  const live = run('--pods', 'none', '--interval', '60');
  let liveErr = '';
  live.stderr.on('data', (chunk: Buffer) => (liveErr += chunk.toString()));
  for (let i = 0; i < 100 && !/serving http/.test(liveErr); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  live.kill('SIGTERM');
  assert.equal(await exit(live), 143, liveErr);
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const) {
    const child = run('--replay', recording);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    for (let i = 0; i < 100 && !/serving http/.test(stderr); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(stderr, /serving http/);
    child.kill(signal);
    assert.equal(await exit(child), code, signal);
  }
  const dir = tempDir(t, 'inotop-serve-');
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, readHeader() + '{"schema":1,"time":"x"}\n');
  const result = spawnSync(process.execPath, [inotopBin, 'serve', '--replay', bad, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /holds no snapshot/);
});

function readHeader(): string {
  return execFileSync('head', ['-1', recording], { encoding: 'utf8' });
}
