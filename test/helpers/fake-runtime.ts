// A CRI runtime stand-in for unit tests: @grpc/grpc-js serving runtime.v1.RuntimeService from the
// vendored api.proto on a unix socket, with handlers the test writes. Another gRPC implementation
// than containerd's (grpc-go), so inotop's own client is held to both.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_API_PROTO } from './containerd.js';

type Callback = (error: Partial<grpc.StatusObject> | null, response?: object) => void;
/** A unary handler: the request (proto-loader's camelCase fields), and the callback to answer with. */
export type FakeHandler = (request: object, answer: Callback) => void;

export interface FakeRuntime {
  /** unix:///... */
  endpoint: string;
  socket: string;
  /** Stops serving (open connections are closed), keeping the socket's directory. */
  stop(): Promise<void>;
  /** Serves again on the same socket. */
  restart(): Promise<void>;
  /** Stops and removes the directory. */
  close(): Promise<void>;
}

let service: grpc.ServiceDefinition | null = null;

function runtimeService(): grpc.ServiceDefinition {
  if (!service) {
    grpc.setLogVerbosity(grpc.logVerbosity.NONE);
    const definition = protoLoader.loadSync(RUNTIME_API_PROTO, { longs: String, enums: String, defaults: true });
    const runtime = grpc.loadPackageDefinition(definition)['runtime'] as grpc.GrpcObject;
    service = ((runtime['v1'] as grpc.GrpcObject)['RuntimeService'] as grpc.ServiceClientConstructor).service;
  }
  return service;
}

/** Encodes a response message of `method` as protobufjs does from api.proto (what a runtime sends). */
export function encodeResponse(method: string, message: object): Buffer {
  return runtimeService()[method]!.responseSerialize(message);
}

export async function startFakeRuntime(handlers: Record<string, FakeHandler>): Promise<FakeRuntime> {
  const dir = mkdtempSync(join(tmpdir(), 'inotop-fake-cri-'));
  const socket = join(dir, 'cri.sock');
  let server: grpc.Server | null = null;
  const serve = async (): Promise<void> => {
    server = new grpc.Server();
    const implementation = Object.fromEntries(
      Object.entries(handlers).map(([method, handler]) => [
        method,
        (call: grpc.ServerUnaryCall<object, object>, callback: Callback) => handler(call.request, callback),
      ]),
    );
    server.addService(runtimeService(), implementation);
    await new Promise<void>((resolve, reject) =>
      server!.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
    );
  };
  const stop = async (): Promise<void> => {
    server?.forceShutdown();
    server = null;
    rmSync(socket, { force: true });
  };
  await serve();
  return {
    endpoint: `unix://${socket}`,
    socket,
    stop,
    restart: serve,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
