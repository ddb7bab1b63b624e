// The fake runtime (fake-runtime.ts) as a process of its own, for a test that runs inotop while
// its own event loop must stay free: serves one ready pod with one running container, prints its
// endpoint, and removes its socket's directory at SIGTERM.
import { startFakeRuntime } from './fake-runtime.js';

const uid = '5d0c8f7e-2a41-4b7c-9e3f-6a1b2c3d4e5f';
const runtime = await startFakeRuntime({
  ListPodSandbox: (_request, answer) =>
    answer(null, {
      items: [{ id: 'sandbox-1', metadata: { name: 'web-0', uid, namespace: 'shop', attempt: 0 }, state: 'SANDBOX_READY', createdAt: '1764980000123456789' }],
    }),
  ListContainers: (_request, answer) =>
    answer(null, {
      containers: [
        {
          id: 'c'.repeat(64),
          podSandboxId: 'sandbox-1',
          metadata: { name: 'app', attempt: 0 },
          state: 'CONTAINER_RUNNING',
          createdAt: '1764980000123456789',
          labels: { 'io.kubernetes.container.name': 'app', 'io.kubernetes.pod.uid': uid },
        },
      ],
    }),
});
process.once('SIGTERM', () => void runtime.close().then(() => process.exit(0)));
process.stdout.write(`${runtime.endpoint}\n`);
