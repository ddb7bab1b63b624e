// npm run soak [-- --minutes N] [--rate PODS_PER_SECOND] [--out FILE]
// A soak on a simulated node (test/helpers/fake-node.ts: real tmpfs volumes, mount namespaces,
// cgroups and watches, a kubelet watching them, crictl answering with the live pods): pods are
// created and deleted the whole time while the screen (in tmux), `serve` and `--json` run against
// it. Reported at the end: pods made and deleted, umounts that failed busy (EBUSY: inotop must
// never hold a pod's volume), RSS and open fds of the screen and serve over time, /metrics
// latencies, and whether every view's count of kubelet's watches equals /proc's exactly once the
// churn stops. Needs root; everything it makes is removed at the end.
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ensureBuilt, inotopBin } from '../test/helpers/build.js';
import { buildFakeNode, type FakeNode } from '../test/helpers/fake-node.js';
import { isRoot } from '../test/helpers/inowatch.js';
import { TmuxPane } from '../test/helpers/tmux.js';
import { spread, type Spread } from './measure.js';

const execFileAsync = promisify(execFile);
const LIVE_PODS = 20;
const SAMPLE_EVERY_MS = 10_000;
const SCRAPE_EVERY_MS = 500;
const JSON_EVERY_MS = 10_000;

interface Sample {
  atSeconds: number;
  screen: { rssMb: number; fds: number };
  serve: { rssMb: number; fds: number };
}

function rssMb(pid: number): number {
  const match = /\nVmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** kubelet's watches as /proc counts them: inotify lines of its fdinfo files. */
function watchesInProc(pid: number): number {
  let watches = 0;
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    const text = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    watches += text.split('\n').filter((line) => line.startsWith('inotify wd:')).length;
  }
  return watches;
}

function get(port: number, path: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? NaN;
}

async function soak(node: FakeNode, minutes: number, rate: number) {
  const flags = ['--pods', 'crictl', '--crictl', `${node.crictlDir}/crictl`, '--kubelet-root', node.kubeletRoot];
  const kubeletPid = node.kubelet.pid;
  const pane = new TmuxPane([process.execPath, inotopBin, ...flags, '-d', '1'], { width: 180, height: 45 });
  const port = 21_000 + Math.floor(Math.random() * 1000);
  const serve = spawn(process.execPath, [inotopBin, 'serve', '--listen', `127.0.0.1:${port}`, '--interval', '2', ...flags], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let serveErrors = '';
  serve.stderr.on('data', (chunk: Buffer) => (serveErrors += chunk.toString()));
  try {
    await pane.waitFor(/PID USER/, 'the screen');
    for (let waited = 0; (await get(port, '/metrics').catch(() => null))?.status !== 200; waited += 200) {
      if (serve.exitCode !== null || waited > 60_000) throw new Error(`serve is not up: ${serveErrors}`);
      await sleep(200);
    }
    const screenPid = pane.commandPid();
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const until = started + minutes * 60_000;
    const samples: Sample[] = [];
    const scrapes: number[] = [];
    const jsonRuns: { ms: number; ok: boolean }[] = [];
    let created = 0;
    let deleted = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        samples.push({
          atSeconds: elapsed(),
          screen: { rssMb: rssMb(screenPid), fds: fdCount(screenPid) },
          serve: { rssMb: rssMb(serve.pid!), fds: fdCount(serve.pid!) },
        });
        await sleep(SAMPLE_EVERY_MS);
      }
    })();
    const scraper = (async () => {
      while (running) {
        const { status, ms } = await get(port, '/metrics');
        if (status !== 200) throw new Error(`/metrics answered ${status}`);
        scrapes.push(ms);
        await sleep(SCRAPE_EVERY_MS);
      }
    })();
    const jsons = (async () => {
      while (running) {
        const at = performance.now();
        const run = await execFileAsync(process.execPath, [inotopBin, '--json', ...flags], { maxBuffer: 64 << 20 }).then(
          () => true,
          () => false,
        );
        jsonRuns.push({ ms: performance.now() - at, ok: run });
        await sleep(JSON_EVERY_MS);
      }
    })();
    // Churn: a pod made and the oldest live one deleted, at `rate` a second (as fast as the node allows).
    while (performance.now() < until) {
      const at = performance.now();
      await node.addPods(1);
      created++;
      const live = node.pods.filter((pod) => pod.state === 'live');
      if (live.length > LIVE_PODS) {
        await node.deletePodClean(live[0]!.uid);
        deleted++;
      }
      const wait = 1000 / rate - (performance.now() - at);
      if (wait > 0) await sleep(wait);
    }
    running = false;
    await Promise.all([sampler, scraper, jsons]);
    // Settled: the pod list refreshes every 5 s, serve scans every 2 s, the screen every 1 s.
    await sleep(8_000);
    const truth = watchesInProc(kubeletPid);
    const json = JSON.parse((await execFileAsync(process.execPath, [inotopBin, '--json', ...flags], { maxBuffer: 64 << 20 })).stdout) as {
      processes: { pid: number; watches: number; leaked: number }[];
    };
    const jsonRow = json.processes.find((row) => row.pid === kubeletPid);
    const metrics = (await get(port, '/metrics')).body;
    const served = new RegExp(`^inotop_process_watches\\{pid="${kubeletPid}"[^}]*\\} (\\d+)$`, 'm').exec(metrics)?.[1];
    const screenLine = pane
      .screen()
      .split('\n')
      .find((line) => line.trim().startsWith(`${kubeletPid} `));
    const shown = screenLine?.trim().split(/\s+/)[3]?.replaceAll(',', '');
    return {
      minutes,
      rate,
      created,
      deleted,
      ebusy: node.busyUnmounts(),
      samples,
      screenRssMb: spread(samples.map((s) => s.screen.rssMb)),
      serveRssMb: spread(samples.map((s) => s.serve.rssMb)),
      screenFds: spread(samples.map((s) => s.screen.fds)),
      serveFds: spread(samples.map((s) => s.serve.fds)),
      scrapes: scrapes.length,
      scrapeMs: { ...spread(scrapes), p99: percentile(scrapes, 0.99) },
      jsonRuns: jsonRuns.length,
      jsonFailures: jsonRuns.filter((run) => !run.ok).length,
      jsonMs: spread(jsonRuns.map((run) => run.ms)),
      counts: {
        proc: truth,
        json: jsonRow?.watches ?? null,
        serve: served === undefined ? null : Number(served),
        screen: shown === undefined ? null : Number(shown),
      },
      leakedAtEnd: jsonRow?.leaked ?? null,
      serveStillUp: serve.exitCode === null,
    };
  } finally {
    pane.kill();
    if (serve.exitCode === null) {
      serve.kill('SIGTERM');
      await new Promise((resolve) => serve.once('exit', resolve));
    }
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      rate: { type: 'string', default: '5' },
      out: { type: 'string', default: fileURLToPath(new URL('results-soak.json', import.meta.url)) },
    },
  });
  if (!isRoot) {
    console.error('soak: needs root (tmpfs volumes, mount namespaces, cgroups)');
    return 2;
  }
  ensureBuilt();
  const node = await buildFakeNode({ pods: LIVE_PODS });
  try {
    const result = await soak(node, Number(values.minutes), Number(values.rate));
    writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
    const { counts } = result;
    const exact = counts.json === counts.proc && counts.serve === counts.proc && counts.screen === counts.proc;
    const mb = (s: Spread) => `${s.min.toFixed(0)}–${s.max.toFixed(0)} MB`;
    console.log(
      `soak: ${result.minutes} min at ${result.rate} pods/s asked: ${result.created} pods created, ${result.deleted} deleted, ${result.ebusy} EBUSY umounts`,
    );
    console.log(
      `  screen RSS ${mb(result.screenRssMb)}, fds ${result.screenFds.min}–${result.screenFds.max}; serve RSS ${mb(result.serveRssMb)}, fds ${result.serveFds.min}–${result.serveFds.max}`,
    );
    console.log(
      `  ${result.scrapes} scrapes: median ${result.scrapeMs.median.toFixed(1)} ms, p99 ${result.scrapeMs.p99.toFixed(1)} ms, max ${result.scrapeMs.max.toFixed(1)} ms; ` +
        `${result.jsonRuns} --json runs (${result.jsonFailures} failed), median ${result.jsonMs.median.toFixed(0)} ms`,
    );
    console.log(
      `  kubelet's watches at the end: /proc ${counts.proc}, --json ${counts.json}, serve ${counts.serve}, screen ${counts.screen}: ${exact ? 'exact' : 'DIFFER'}; ` +
        `leaked ${result.leakedAtEnd}; serve ${result.serveStillUp ? 'up' : 'DOWN'}. Written to ${values.out}`,
    );
    return exact && result.ebusy === 0 && result.serveStillUp && result.jsonFailures === 0 ? 0 : 1;
  } finally {
    await node.cleanup();
  }
}

process.exitCode = await main();
