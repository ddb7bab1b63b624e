// inotop's own CRI client (src/pods/cri: HPACK, gRPC over HTTP/2, the two answers' decoders)
// against another implementation: @grpc/grpc-js serving runtime.v1 from the vendored api.proto
// (test/helpers/fake-runtime.ts). test/system/cri.test.ts holds it to a real containerd.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CriClient, CriError } from '../../src/pods/cri/client.js';
import { decodeHuffman, encodeHeaders, HeaderDecoder, HpackError } from '../../src/pods/cri/hpack.js';
import { decodeListContainersResponse, decodeListPodSandboxResponse, MessageError } from '../../src/pods/cri/messages.js';
import { encodeResponse, startFakeRuntime, type FakeHandler } from '../helpers/fake-runtime.js';

/** What a containerd answered the one-shot's two calls, byte for byte (fixtures/cri/README.md). */
const RECORDED_ANSWER = new URL('../../fixtures/cri/containerd-answer.bin', import.meta.url);

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('HPACK (RFC 7541 Appendix C)', () => {
  test('Huffman strings', () => {
    assert.equal(decodeHuffman(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff')), 'www.example.com');
    assert.equal(decodeHuffman(hex('a8eb 1064 9cbf')), 'no-cache');
    assert.equal(decodeHuffman(hex('25a8 49e9 5ba9 7d7f')), 'custom-key');
    assert.equal(decodeHuffman(hex('25a8 49e9 5bb8 e8b4 bf')), 'custom-value');
    assert.equal(decodeHuffman(new Uint8Array(0)), '');
    // Padding must be the EOS code's first bits, and shorter than a byte.
    assert.throws(() => decodeHuffman(hex('f1e3 c2e5 f23a 6ba0 ab90 f4fe')), HpackError);
    assert.throws(() => decodeHuffman(hex('ffff ffff')), HpackError);
  });

  test('C.4: requests with Huffman coding, one dynamic table across them', () => {
    const decoder = new HeaderDecoder();
    assert.deepEqual(decoder.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')), [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ]);
    assert.deepEqual(decoder.decode(hex('8286 84be 5886 a8eb 1064 9cbf')), [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ]);
    assert.deepEqual(decoder.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf')), [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ]);
  });

  test('what the client encodes decodes to the same headers, lengths on either side of the 7-bit prefix included', () => {
    const headers: [string, string][] = [
      [':path', '/runtime.v1.RuntimeService/ListContainers'],
      ['x-126', 'a'.repeat(126)],
      ['x-127', 'b'.repeat(127)],
      ['x-128', 'c'.repeat(128)],
      ['x-'.padEnd(300, 'n'), 'd'.repeat(20_000)],
      ['empty', ''],
    ];
    assert.deepEqual(new HeaderDecoder().decode(encodeHeaders(headers)), headers);
    // 127 is the prefix's largest, then 0 more: 0x7f 0x00 (RFC 7541 5.1).
    assert.deepEqual([...encodeHeaders([['x', 'b'.repeat(127)]]).subarray(0, 5)], [0, 1, 0x78, 0x7f, 0]);
  });

  test('a truncated block, an index past the tables, and a table size above the one allowed are errors', () => {
    assert.throws(() => new HeaderDecoder().decode(hex('4088 25a8')), HpackError);
    assert.throws(() => new HeaderDecoder().decode(hex('be')), HpackError);
    assert.deepEqual(new HeaderDecoder(4096).decode(hex('3fe1 1f')), []);
    assert.throws(() => new HeaderDecoder(4096).decode(hex('3fe2 1f')), HpackError);
  });
});

const SANDBOX = {
  id: 'f3a1',
  metadata: { name: 'web-0', uid: '0f6d3a2e-5b1c-4d8e-9a7f-3c2b1e0d9f8a', namespace: 'shop', attempt: 3 },
  state: 'SANDBOX_NOTREADY',
  createdAt: '1764980000123456789',
  labels: { 'io.kubernetes.pod.uid': '0f6d3a2e-5b1c-4d8e-9a7f-3c2b1e0d9f8a' },
  annotations: { 'kubernetes.io/config.hash': 'b81c3f0e6a4d2957e0c1f8a3d6b42e71', ünïcode: 'välue' },
  runtimeHandler: 'runc',
};

function container(i: number) {
  return {
    id: `c${i}`.padEnd(64, '0'),
    podSandboxId: 'f3a1',
    metadata: { name: `app-${i}`, attempt: 1 },
    image: { image: 'registry.example/app:1' },
    imageRef: 'sha256:0123',
    state: 'CONTAINER_EXITED',
    createdAt: '1764980000123456789',
    labels: { 'io.kubernetes.container.name': `app-${i}`, 'io.kubernetes.pod.uid': SANDBOX.metadata.uid },
    annotations: { 'io.kubernetes.container.hash': 'abc' },
  };
}

describe('the two answers decoded from what protobufjs encodes from api.proto', () => {
  test('ListPodSandboxResponse: every field the pod list needs, the others (state, labels, int64 times...) skipped', () => {
    assert.deepEqual(decodeListPodSandboxResponse(encodeResponse('ListPodSandbox', { items: [SANDBOX] })), [
      { id: 'f3a1', uid: SANDBOX.metadata.uid, name: 'web-0', namespace: 'shop', annotations: SANDBOX.annotations },
    ]);
    assert.deepEqual(decodeListPodSandboxResponse(encodeResponse('ListPodSandbox', { items: [] })), []);
  });

  test('ListContainersResponse: every field the pod list needs, the others skipped', () => {
    assert.deepEqual(decodeListContainersResponse(encodeResponse('ListContainers', { containers: [container(7)] })), [
      { id: container(7).id, podSandboxId: 'f3a1', name: 'app-7', labels: container(7).labels },
    ]);
  });

  test('a message cut short is an error, not a partial list', () => {
    const bytes = encodeResponse('ListContainers', { containers: [container(1), container(2)] });
    assert.throws(() => decodeListContainersResponse(bytes.subarray(0, bytes.length - 3)), MessageError);
  });
});

// Each test over both transports: Node's net (the screen, the exporter) and system calls (a one-shot).
for (const oneShot of [false, true]) {
  describe(`the client against grpc-js on a unix socket, over ${oneShot ? 'system calls (a one-shot)' : "Node's net"}`, () => {
    const closers: (() => Promise<void>)[] = [];
    after(async () => {
      for (const close of closers) await close();
    });
    async function runtime(handlers: Record<string, FakeHandler>) {
      const fake = await startFakeRuntime(handlers);
      closers.push(fake.close);
      return fake;
    }

    test('lists sandboxes and containers, side by side on one connection, again and again', async () => {
      // 3,000 containers: answers of a few hundred KB, over many DATA frames; 60 of them pass the
      // connection's first receive window, which must be given back as answers are taken.
      const containers = Array.from({ length: 3000 }, (_, i) => container(i));
      const fake = await runtime({
        ListPodSandbox: (_request, answer) => answer(null, { items: [SANDBOX] }),
        ListContainers: (_request, answer) => answer(null, { containers }),
      });
      const client = new CriClient(fake.endpoint, { oneShot });
      try {
        for (let i = 0; i < 60; i++) {
          const [sandboxes, listed] = await Promise.all([client.listPodSandboxes(), client.listContainers()]);
          assert.equal(sandboxes.length, 1);
          assert.equal(listed.length, 3000);
          assert.equal(listed[2999]!.name, 'app-2999');
        }
      } finally {
        client.close();
      }
    });

    test("the runtime's error: its status and message (percent-encoded UTF-8), and UNIMPLEMENTED", async () => {
      const fake = await runtime({
        ListPodSandbox: (_request, answer) => answer({ code: 9, details: 'not ready: ünïcode 100% / ok' }),
      });
      const client = new CriClient(fake.endpoint, { oneShot });
      try {
        const sandboxes = await client.listPodSandboxes().catch((error: unknown) => error);
        assert.ok(sandboxes instanceof CriError);
        assert.equal(sandboxes.failure, 'FAILED_PRECONDITION');
        assert.equal(sandboxes.message, `CRI ${fake.endpoint}: ListPodSandbox: FAILED_PRECONDITION: not ready: ünïcode 100% / ok`);
        const containers = await client.listContainers().catch((error: unknown) => error);
        assert.ok(containers instanceof CriError);
        assert.equal(containers.failure, 'UNIMPLEMENTED');
        assert.match(containers.message, /ListContainers: the runtime does not serve CRI runtime\.v1/);
      } finally {
        client.close();
      }
    });

    test('a runtime that never answers: DEADLINE_EXCEEDED at the deadline, and the next call still works', async () => {
      let hang = true;
      const fake = await runtime({
        ListPodSandbox: (_request, answer) => {
          if (!hang) answer(null, { items: [SANDBOX] });
        },
      });
      const client = new CriClient(fake.endpoint, { timeoutMs: 200, oneShot });
      try {
        const error = await client.listPodSandboxes().catch((reason: unknown) => reason);
        assert.ok(error instanceof CriError);
        assert.equal(error.message, `CRI ${fake.endpoint}: ListPodSandbox: deadline exceeded after 0.2s`);
        hang = false;
        assert.equal((await client.listPodSandboxes()).length, 1);
      } finally {
        client.close();
      }
    });

    test('a runtime restarted between calls: the failure said, then a new connection', async () => {
      const fake = await runtime({ ListPodSandbox: (_request, answer) => answer(null, { items: [SANDBOX] }) });
      const client = new CriClient(fake.endpoint, { oneShot });
      try {
        assert.equal((await client.listPodSandboxes()).length, 1);
        await fake.stop();
        const error = await client.listPodSandboxes().catch((reason: unknown) => reason);
        assert.ok(error instanceof CriError);
        assert.match(error.failure, /^(ENOENT|UNAVAILABLE)$/);
        await fake.restart();
        assert.equal((await client.listPodSandboxes()).length, 1);
      } finally {
        client.close();
      }
    });

    test('an answer that is not HTTP/2 fails the call at once', async () => {
      const connections: Socket[] = [];
      const fake = await runtime({});
      await fake.stop();
      const server = createServer((connection) => {
        connections.push(connection);
        connection.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      });
      await new Promise<void>((resolve) => server.listen(fake.socket, resolve));
      const client = new CriClient(fake.endpoint, { oneShot });
      try {
        const error = await client.listContainers().catch((reason: unknown) => reason);
        assert.ok(error instanceof CriError);
        assert.notEqual(error.failure, 'deadline');
      } finally {
        client.close();
        for (const connection of connections) connection.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    test('close() cancels the calls still waiting', async () => {
      const fake = await runtime({ ListContainers: () => undefined });
      const client = new CriClient(fake.endpoint, { oneShot });
      const waiting = client.listContainers().catch((reason: unknown) => reason);
      await client.sent();
      client.close();
      const error = await waiting;
      assert.ok(error instanceof CriError);
      assert.equal(error.failure, 'CANCELLED');
    });

    // A runtime that misbehaves at the HTTP/2 level: each answers the first bytes it gets with
    // `reply`'s frames (the call asked is on stream 1), then does what `after` says.
    const misbehaving: [string, { reply: Buffer[]; after: 'end' | 'hold' }, { failure: string; message: string }][] = [
      [
        'closes in the middle of a frame',
        { reply: [rawFrame(0x4, 0, 0), Buffer.from([0, 0, 100, 0x0, 0, 0, 0, 0, 1, 0, 0])], after: 'end' },
        { failure: 'UNAVAILABLE', message: 'unavailable (the runtime closed the connection)' },
      ],
      [
        'says GOAWAY before answering',
        { reply: [rawFrame(0x7, 0, 0, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]))], after: 'hold' },
        { failure: 'UNAVAILABLE', message: 'unavailable (the runtime is closing the connection (GOAWAY))' },
      ],
      [
        'resets the stream',
        { reply: [rawFrame(0x3, 0, 1, Buffer.from([0, 0, 0, 2]))], after: 'hold' },
        { failure: 'INTERNAL', message: 'ListContainers: INTERNAL: stream reset by the runtime (HTTP/2 error 2)' },
      ],
      [
        'answers more than the 16 MiB taken',
        {
          // :status 200 (HPACK static index 8), then 1,025 full DATA frames of the stream.
          reply: [rawFrame(0x1, 0x4, 1, Buffer.from([0x88])), ...Array.from({ length: 1025 }, () => rawFrame(0x0, 0, 1, Buffer.alloc(16_384)))],
          after: 'hold',
        },
        { failure: 'RESOURCE_EXHAUSTED', message: 'ListContainers: RESOURCE_EXHAUSTED: an answer larger than 16777216 bytes' },
      ],
    ];
    for (const [what, behaviour, expected] of misbehaving) {
      test(`a runtime that ${what}: the call fails at once, saying so`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'inotop-raw-cri-'));
        const socket = join(dir, 'cri.sock');
        const connections: Socket[] = [];
        const server = createServer((connection) => {
          connections.push(connection);
          connection.on('error', () => undefined);
          connection.once('data', () => {
            for (const bytes of behaviour.reply) connection.write(bytes);
            if (behaviour.after === 'end') connection.end();
          });
        });
        await new Promise<void>((resolve) => server.listen(socket, resolve));
        const client = new CriClient(socket, { oneShot, timeoutMs: 5_000 });
        const started = Date.now();
        try {
          const error = await client.listContainers().catch((reason: unknown) => reason);
          assert.ok(error instanceof CriError, String(error));
          assert.deepEqual(
            { failure: error.failure, message: error.message },
            { failure: expected.failure, message: `CRI unix://${socket}: ${expected.message}` },
          );
          assert.ok(Date.now() - started < 4_000, `took ${Date.now() - started} ms: not the deadline`);
        } finally {
          client.close();
          for (const connection of connections) connection.destroy();
          await new Promise((resolve) => server.close(resolve));
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    test("a containerd's recorded answer (fixtures/cri, replayed by the build to warm V8's code of both calls) is the list of its three pods", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'inotop-replayed-cri-'));
      const socket = join(dir, 'cri.sock');
      const server = createServer((connection) => {
        connection.on('error', () => connection.destroy());
        connection.resume();
        connection.end(readFileSync(RECORDED_ANSWER));
      });
      await new Promise<void>((resolve) => server.listen(socket, resolve));
      const client = new CriClient(socket, { oneShot });
      try {
        const [sandboxes, containers] = await Promise.all([client.listPodSandboxes(), client.listContainers()]);
        assert.deepEqual(sandboxes.map((sandbox) => [sandbox.name, sandbox.namespace]).sort(), [
          ['bench-0', 'default'],
          ['bench-1', 'default'],
          ['bench-2', 'default'],
        ]);
        assert.equal(containers.length, 3);
        for (const container of containers)
          assert.ok(sandboxes.some((sandbox) => sandbox.id === container.podSandboxId && sandbox.uid === container.labels['io.kubernetes.pod.uid']));
      } finally {
        client.close();
        await new Promise((resolve) => server.close(resolve));
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** An HTTP/2 frame as a runtime would write it. */
function rawFrame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}
