import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Gauge } from '@synthfleet/contracts';
import { z } from 'zod';
import { Span } from './config.ts';
import type { Probe, ProbeOutcome } from './types.ts';
import { errorMessage, httpFor, isTimeout, timeoutSignal } from './util.ts';

/**
 * synthetic-heart's `curl` plugin (agent/plugins/syntests/curl at cisco-open/synthetic-heart
 * 500284980fd7) on node:http(s), without the curl binary: one request to `url`, the phases curl
 * reports through `--write-out`, and for each output option a `curl_<name>` gauge (`metric: true`)
 * or a label on every gauge (`label: true`, which also adds `url`). Like curl without `-f`, any
 * HTTP answer passes; no answer (DNS, connect, TLS, timeout) fails.
 */

/** The body is read (and counted in size_download) up to this much, then the request is cancelled. */
const MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024;

/** The `--write-out` variables this plugin measures, with curl's meaning. */
export const CURL_VARIABLES = [
  'time_namelookup',
  'time_connect',
  'time_appconnect',
  'time_pretransfer',
  'time_redirect',
  'time_starttransfer',
  'time_total',
  'http_code',
  'response_code',
  'http_version',
  'size_download',
  'size_header',
  'size_request',
  'speed_download',
  'num_connects',
  'num_redirects',
  'remote_ip',
  'remote_port',
  'local_ip',
  'local_port',
  'content_type',
  'url_effective',
  'scheme',
  'ssl_verify_result',
] as const;
type CurlVariable = (typeof CURL_VARIABLES)[number];
const KNOWN = new Set<string>(CURL_VARIABLES);

const OutputOption = z
  .object({
    name: z.string().refine((n) => KNOWN.has(n), {
      error: (i) =>
        `"${String(i.input)}" is not a curl --write-out variable this plugin measures (${CURL_VARIABLES.join(', ')})`,
    }),
    // synthetic-heart's code reads `metric`/`label`; its README shows `prometheusMetric`/`prometheusLabel`.
    metric: z.boolean().optional(),
    label: z.boolean().optional(),
    prometheusMetric: z.boolean().optional(),
    prometheusLabel: z.boolean().optional(),
  })
  .transform((o) => ({
    name: o.name as CurlVariable,
    metric: o.metric ?? o.prometheusMetric ?? false,
    label: o.label ?? o.prometheusLabel ?? false,
  }));

export const CurlConfig = z.object({
  url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }),
  outputOptions: z.array(OutputOption).max(50).default([]),
  /** Extra to synthetic-heart: a per-request limit (the run's timeout by default). */
  timeout: Span.optional(),
});
export type CurlConfig = z.infer<typeof CurlConfig>;

type Measured = Partial<Record<CurlVariable, string>>;

const secs = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(6);

function measure(url: URL, signal: AbortSignal): Promise<{ ok: boolean; values: Measured; message: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let lookup: number | undefined;
    let connect: number | undefined;
    let appconnect: number | undefined;
    let firstByte: number | undefined;
    let socket: Socket | undefined;
    let settled = false;
    const lib = httpFor(url);
    const req = lib.request(url, { method: 'GET', headers: { 'user-agent': 'synthfleet-curl' }, signal, agent: false });
    const base = (): Measured => ({
      time_namelookup: secs(lookup),
      time_connect: secs(connect),
      time_appconnect: secs(appconnect),
      time_pretransfer: secs(appconnect ?? connect),
      time_redirect: secs(0),
      num_connects: connect === undefined ? '0' : '1',
      num_redirects: '0',
      url_effective: url.href,
      scheme: url.protocol.replace(':', '').toUpperCase(),
      remote_ip: socket?.remoteAddress ?? '',
      remote_port: socket?.remotePort === undefined ? '' : String(socket.remotePort),
      local_ip: socket?.localAddress ?? '',
      local_port: socket?.localPort === undefined ? '' : String(socket.localPort),
      size_request: '0',
      // curl's 0 is "verified"; a TLS connection that failed or was not verified is 1.
      ssl_verify_result:
        url.protocol === 'https:' ? (((socket as TLSSocket | undefined)?.authorized ?? false) ? '0' : '1') : '0',
    });
    const done = (ok: boolean, values: Measured, message: string) => {
      if (settled) return;
      settled = true;
      resolve({ ok, values, message });
    };
    req.on('socket', (s) => {
      socket = s;
      s.once('lookup', () => {
        lookup = performance.now() - started;
      });
      s.once('connect', () => {
        connect = performance.now() - started;
        // An address needs no lookup: curl reports the name lookup as done at once.
        lookup ??= connect;
      });
      s.once('secureConnect', () => {
        appconnect = performance.now() - started;
      });
    });
    // curl's size_request: the bytes of the request it sent (here: the request head).
    let sizeRequest = 0;
    req.on('finish', () => {
      const head = (req as unknown as { _header?: string })._header;
      sizeRequest = head ? Buffer.byteLength(head) : 0;
    });
    req.on('response', (res) => {
      firstByte = performance.now() - started;
      let size = 0;
      const headerBytes =
        Buffer.byteLength(`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage ?? ''}\r\n`) +
        // each "Name: value\r\n": the name, ": ", the value, CRLF; then the blank line.
        res.rawHeaders.reduce((n, v) => n + Buffer.byteLength(v) + 2, 0) +
        2;
      const finish = (cut: boolean) => {
        const total = performance.now() - started;
        const values: Measured = {
          ...base(),
          size_request: String(sizeRequest),
          time_starttransfer: secs(firstByte),
          time_total: secs(total),
          http_code: String(res.statusCode ?? 0),
          response_code: String(res.statusCode ?? 0),
          http_version: res.httpVersion,
          size_download: String(size),
          size_header: String(headerBytes),
          speed_download: String(total > 0 ? Math.round(size / (total / 1000)) : 0),
          content_type: String(res.headers['content-type'] ?? ''),
        };
        done(true, values, `HTTP ${res.statusCode} from ${url.href}${cut ? ` (stopped after ${size} bytes)` : ''}`);
      };
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size >= MAX_DOWNLOAD_BYTES) {
          finish(true);
          req.destroy();
        }
      });
      res.on('end', () => finish(false));
      res.on('error', (err) => done(false, base(), errorMessage(err)));
    });
    req.on('error', (err) => {
      const timedOut = signal.aborted && isTimeout(signal.reason);
      done(
        false,
        { ...base(), time_total: secs(performance.now() - started), http_code: '000' },
        timedOut ? 'timed out' : errorMessage(err),
      );
    });
    req.end();
  });
}

export const curl: Probe<CurlConfig> = {
  plugin: 'curl',
  config: CurlConfig,
  async run(config, ctx): Promise<ProbeOutcome> {
    const url = new URL(config.url);
    const r = await measure(url, timeoutSignal(ctx.signal, config.timeout ?? Math.max(1000, ctx.timeoutMs)));
    const line = config.outputOptions.map((o) => r.values[o.name] ?? '').join(' ');
    const log = [`GET ${url.href}: ${r.message}`, ...(config.outputOptions.length ? [`write-out: ${line}`] : [])];
    const details = Object.fromEntries(Object.entries(r.values).map(([k, v]) => [`curl.${k}`, v]));
    if (!r.ok) return { marks: 0, maxMarks: 1, log, error: `${url.href}: ${r.message}`, details };
    const labels: Record<string, string> = {};
    for (const o of config.outputOptions) {
      if (!o.label) continue;
      labels[o.name] = r.values[o.name] ?? '';
      labels.url = config.url;
    }
    const gauges: Gauge[] = [];
    for (const o of config.outputOptions) {
      if (!o.metric) continue;
      const text = r.values[o.name] ?? '';
      const value = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isFinite(value)) {
        return {
          marks: 0,
          maxMarks: 1,
          status: 'error',
          log,
          error: `output option ${o.name} is "${r.values[o.name] ?? ''}", not a number: it cannot be a metric`,
          details,
        };
      }
      gauges.push({
        name: `curl_${o.name}`,
        help: `Curl metric for ${o.name}`,
        value,
        ...(Object.keys(labels).length ? { labels: { ...labels } } : {}),
      });
    }
    return { marks: 1, maxMarks: 1, log, details, gauges };
  },
};
