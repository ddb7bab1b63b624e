// Instant queries on the HTTP API that Prometheus, Thanos Query and Mimir all serve
// (/api/v1/query), as an untrusted peer: the whole request (the body too) within --query-timeout,
// the body within --max-response-bytes, and the answer checked by shape before anything reads it.
// Text from the answer (Prometheus's `error`, label values) reaches no terminal raw: errors are
// made visible here, label values by the views.
import { grouped } from '../common/format.js';
import { visible } from '../common/text.js';

export class PrometheusError extends Error {}

export interface QueryLimits {
  timeoutMs: number;
  /** The largest body read for one query. */
  maxBytes: number;
}

/** A vector's element: the labels asked for (absent ones as ''), and the value (NaN: not a number). */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Prometheus's own text in a message: visible, and not a screenful. */
function remoteText(text: string, max = 300): string {
  const shown = visible(text);
  return shown.length > max ? `${shown.slice(0, max)}…` : shown;
}

/** One instant query's vector, with only `labels` of each element kept. */
export async function instantQuery(prometheus: string, promql: string, labels: readonly string[], limits: QueryLimits): Promise<Sample[]> {
  const url = `${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const tooBig = new AbortController();
  const timedOut = () => new PrometheusError(`Prometheus took longer than ${limits.timeoutMs / 1000} s (--query-timeout): ${prometheus}`);
  let response: Response;
  try {
    // Uncompressed: fetch asks for gzip by default, and at 100,000 nodes gzip made a read of 3,125
    // nodes (1.7 MB of JSON) cost Prometheus 0.090 s of CPU and 30 MB of garbage, 0.073 s and 24 MB
    // without: the bytes it saves are not worth that every refresh.
    response = await fetch(url, { headers: { 'accept-encoding': 'identity' }, signal: AbortSignal.any([timeout, tooBig.signal]) });
  } catch (error) {
    if (timeout.aborted) throw timedOut();
    throw new PrometheusError(`cannot reach ${prometheus}: ${remoteText((error as Error).message)}`);
  }
  const bigger = () => new PrometheusError(`${prometheus} answered more than ${grouped(limits.maxBytes)} bytes to one query (--max-response-bytes)`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  let body: string;
  try {
    if (declared > limits.maxBytes) {
      tooBig.abort();
      throw bigger();
    }
    body = await readBody(response, limits.maxBytes, () => {
      tooBig.abort();
      return bigger();
    });
  } catch (error) {
    if (error instanceof PrometheusError) throw error;
    if (timeout.aborted) throw timedOut();
    throw new PrometheusError(`${prometheus}: the answer broke off: ${remoteText((error as Error).message)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new PrometheusError(`${prometheus} answered ${response.status} without JSON: is it a Prometheus?`);
  }
  return vectorOf(parsed, labels, prometheus, response.status);
}

async function readBody(response: Response, maxBytes: number, tooBig: () => Error): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooBig();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The vector of a parsed answer, checked by shape: {status: "success", data: {resultType:
 * "vector", result: [{metric: {name: "value"}, value: [time, "number"]}]}}. Anything else is a
 * PrometheusError naming the first thing wrong, never a TypeError later.
 */
export function vectorOf(answer: unknown, labels: readonly string[], prometheus: string, status = 200): Sample[] {
  const wrong = (what: string) => new PrometheusError(`${prometheus} answered a vector of the wrong shape: ${what}`);
  if (!isObject(answer)) throw wrong('not an object');
  if (answer.status !== 'success') {
    const error = typeof answer.error === 'string' ? remoteText(answer.error) : `status ${status}`;
    throw new PrometheusError(`${prometheus}: ${error}`);
  }
  const data = answer.data;
  if (!isObject(data)) throw wrong('no data');
  if (data.resultType !== 'vector') throw wrong(`resultType ${remoteText(String(data.resultType), 40)}, not vector`);
  const result = data.result;
  if (!Array.isArray(result)) throw wrong('result is not a list');
  const samples: Sample[] = new Array<Sample>(result.length);
  for (let i = 0; i < result.length; i++) {
    const element: unknown = result[i];
    if (!isObject(element) || !isObject(element.metric)) throw wrong(`result[${i}] has no metric`);
    const metric = element.metric;
    const kept: Record<string, string> = {};
    for (const name of labels) {
      const value = metric[name] ?? '';
      if (typeof value !== 'string') throw wrong(`result[${i}].metric.${name} is not text`);
      kept[name] = value;
    }
    const pair = element.value;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'string') {
      throw wrong(`result[${i}].value is not [time, "number"]`);
    }
    const value = sampleValue(pair[1]);
    if (value === null) throw wrong(`result[${i}].value is not a number`);
    samples[i] = { labels: kept, value };
  }
  return samples;
}

const FLOAT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A sample's value as the API writes it: a float in a string, or NaN, +Inf, -Inf; null: none of them. */
function sampleValue(text: string): number | null {
  if (FLOAT.test(text)) return Number(text);
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return null;
}
