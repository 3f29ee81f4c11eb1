import type { TLSSocket } from 'node:tls';
import type { Gauge } from '@synthfleet/contracts';
import { z } from 'zod';
import { Span } from './config.ts';
import type { Probe, ProbeContext, ProbeOutcome } from './types.ts';
import { errorMessage, httpFor, isTimeout, seconds, sleep, timeoutSignal } from './util.ts';

/** What a body regex is matched against: the first MiB of the body. */
const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Without a body regex nothing of the body is kept: it is read (and timed) up to this much, then
 * the request is cancelled, so an endless or huge body holds neither memory nor the run slot.
 */
const DRAIN_BYTES = 64 * 1024;

const Endpoint = z.object({
  address: z.string().min(1, 'address is required'),
  expectedCodeRegex: z.string().default('^2\\d\\d$'),
  retries: z.number().int().min(0).max(20).default(0),
  timeoutRetries: z.number().int().min(0).max(20).default(0),
  repeatsWithoutFail: z.number().int().min(0).max(100).default(0),
  waitBetweenRepeats: Span.default(5000),
  method: z
    .string()
    .regex(/^[A-Z]+$/, 'method must be an upper-case HTTP method')
    .default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  bodyRegex: z.string().optional(),
  timeout: Span.optional(),
  tlsExpiryWarning: Span.optional(),
  insecureSkipVerify: z.boolean().default(false),
});
type Endpoint = z.infer<typeof Endpoint>;

/** synthetic-heart accepts one endpoint or a list of them (run in parallel). */
export const HttpPingConfig = z
  .preprocess(
    (c) => (Array.isArray(c) ? c : c && typeof c === 'object' && 'endpoints' in c ? c.endpoints : [c]),
    z.array(Endpoint).min(1, 'give at least one endpoint'),
  )
  .superRefine((endpoints, ctx) => {
    endpoints.forEach((e, i) => {
      for (const key of ['expectedCodeRegex', 'bodyRegex'] as const) {
        const source = e[key];
        if (source === undefined) continue;
        try {
          new RegExp(source);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            path: [i, key],
            message: `is not a valid regular expression: ${(err as Error).message}`,
          });
        }
      }
      try {
        toUrl(e.address);
      } catch {
        ctx.addIssue({ code: 'custom', path: [i, 'address'], message: `"${e.address}" is not a URL or host:port` });
      }
    });
  });
export type HttpPingConfig = z.infer<typeof HttpPingConfig>;

function toUrl(address: string): URL {
  return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`);
}

type Attempt = {
  ok: boolean;
  timedOut: boolean;
  message: string;
  code?: number;
  totalMs: number;
  connectMs?: number;
  firstByteMs?: number;
  certExpiresAt?: number;
};

function requestOnce(endpoint: Endpoint, url: URL, signal: AbortSignal): Promise<Attempt> {
  const started = performance.now();
  return new Promise((resolve) => {
    let connectMs: number | undefined;
    let firstByteMs: number | undefined;
    let certExpiresAt: number | undefined;
    let settled = false;
    const finish = (a: Omit<Attempt, 'totalMs' | 'connectMs' | 'firstByteMs' | 'certExpiresAt'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...a, totalMs: performance.now() - started, connectMs, firstByteMs, certExpiresAt });
    };
    const lib = httpFor(url);
    const req = lib.request(url, {
      method: endpoint.method,
      headers: { 'user-agent': 'synthfleet-agent', ...endpoint.headers },
      signal,
      agent: false,
      rejectUnauthorized: !endpoint.insecureSkipVerify,
    });
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        connectMs = performance.now() - started;
      });
      socket.once('secureConnect', () => {
        const cert = (socket as TLSSocket).getPeerCertificate?.();
        if (cert?.valid_to) certExpiresAt = Date.parse(cert.valid_to);
      });
    });
    req.on('response', (res) => {
      firstByteMs = performance.now() - started;
      const keep = endpoint.bodyRegex === undefined ? 0 : MAX_BODY_BYTES;
      const readAtMost = Math.max(keep, DRAIN_BYTES);
      const chunks: Buffer[] = [];
      let kept = 0;
      let read = 0;
      const judge = (cutAt?: number) => {
        const code = res.statusCode ?? 0;
        const cut = cutAt === undefined ? '' : ` (stopped reading the body after ${cutAt} bytes)`;
        if (!new RegExp(endpoint.expectedCodeRegex).test(String(code))) {
          finish({
            ok: false,
            timedOut: false,
            code,
            message: `status ${code} does not match ${endpoint.expectedCodeRegex}${cut}`,
          });
          return;
        }
        if (endpoint.bodyRegex !== undefined) {
          const text = Buffer.concat(chunks).toString('utf8');
          if (!new RegExp(endpoint.bodyRegex).test(text)) {
            finish({ ok: false, timedOut: false, code, message: `body does not match ${endpoint.bodyRegex}${cut}` });
            return;
          }
        }
        finish({ ok: true, timedOut: false, code, message: `status ${code}${cut}` });
      };
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (kept < keep) {
          const part = chunk.subarray(0, keep - kept);
          chunks.push(part);
          kept += part.length;
        }
        read += chunk.length;
        if (read >= readAtMost) {
          judge(read);
          req.destroy();
        }
      });
      res.on('error', (err) => finish({ ok: false, timedOut: isTimeout(signal.reason), message: errorMessage(err) }));
      res.on('end', () => judge());
    });
    req.on('error', (err) => {
      const timedOut = signal.aborted && isTimeout(signal.reason);
      finish({ ok: false, timedOut, message: timedOut ? 'timed out' : errorMessage(err) });
    });
    req.end(endpoint.body);
  });
}

type EndpointResult = { pass: boolean; log: string[]; gauges: Gauge[]; error?: string };

async function pingEndpoint(endpoint: Endpoint, ctx: ProbeContext): Promise<EndpointResult> {
  const url = toUrl(endpoint.address);
  const log: string[] = [];
  const gauges: Gauge[] = [];
  const label = { endpoint: endpoint.address };
  const perRequest = endpoint.timeout ?? Math.max(1000, ctx.timeoutMs);
  const repeats = Math.max(1, endpoint.repeatsWithoutFail);
  let last: Attempt | undefined;
  for (let repeat = 0; repeat < repeats; repeat++) {
    if (repeat > 0) await sleep(endpoint.waitBetweenRepeats, ctx.signal);
    let failures = 0;
    let timeouts = 0;
    for (;;) {
      last = await requestOnce(endpoint, url, timeoutSignal(ctx.signal, perRequest));
      log.push(`${endpoint.method} ${url.href}: ${last.message} in ${last.totalMs.toFixed(1)} ms`);
      if (last.ok || ctx.signal.aborted) break;
      if (last.timedOut ? timeouts++ >= endpoint.timeoutRetries : failures++ >= endpoint.retries) break;
    }
    if (!last.ok) {
      return { pass: false, log, gauges, error: `${endpoint.address}: ${last.message}` };
    }
  }
  if (last) {
    gauges.push({ name: 'http_ping_latency_seconds', value: seconds(last.totalMs), labels: label });
    // synthetic-heart's own: whole milliseconds, no labels (one series per test, the last endpoint's).
    gauges.push({ name: 'http_ping_latency', help: 'show httpPing request latency', value: Math.round(last.totalMs) });
    if (last.firstByteMs !== undefined)
      gauges.push({ name: 'http_ping_first_byte_seconds', value: seconds(last.firstByteMs), labels: label });
    if (last.code !== undefined) gauges.push({ name: 'http_ping_status_code', value: last.code, labels: label });
    if (last.certExpiresAt !== undefined) {
      const left = (last.certExpiresAt - Date.now()) / 1000;
      gauges.push({ name: 'http_ping_cert_expiry_seconds', value: Math.round(left), labels: label });
      if (endpoint.tlsExpiryWarning !== undefined && left * 1000 < endpoint.tlsExpiryWarning) {
        const msg = `${endpoint.address}: certificate expires in ${Math.floor(left / 3600)} h, within the warning window`;
        log.push(msg);
        return { pass: false, log, gauges, error: msg };
      }
    }
  }
  return { pass: true, log, gauges };
}

export const httpPing: Probe<HttpPingConfig> = {
  plugin: 'httpPing',
  config: HttpPingConfig,
  async run(endpoints, ctx): Promise<ProbeOutcome> {
    const results = await Promise.all(endpoints.map((e) => pingEndpoint(e, ctx)));
    const errors = results.flatMap((r) => (r.error ? [r.error] : []));
    return {
      marks: results.filter((r) => r.pass).length,
      maxMarks: endpoints.length,
      log: results.flatMap((r) => r.log),
      error: errors.length ? errors.join('; ') : undefined,
      gauges: results.flatMap((r) => r.gauges),
    };
  },
};
