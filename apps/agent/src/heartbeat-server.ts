import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KEEP_ALIVE_TIMEOUT_MS, SERVER_TIMEOUTS } from '@synthfleet/contracts/server-timeouts';
import { heartbeatBytes } from '@synthfleet/probes/heartbeat-payload';

/** Payloads up to this size come from one precomputed buffer; larger ones stream in 64 KiB chunks. */
const PRECOMPUTED_MAX = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;

export type HeartbeatServerOptions = {
  host: string;
  port: number;
  min: number;
  max: number;
  version: string;
  ready: () => boolean;
  metrics: () => Promise<{ contentType: string; body: string }>;
};

function text(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/**
 * The agent's own HTTP surface on a bare node:http server (Hono costs a third of the throughput at
 * 1 KiB): `/heartbeat/N`, `/healthz`, `/readyz`, `/version`, `/metrics`. Nothing here reflects the
 * environment or a secret.
 */
export function createHeartbeatServer(options: HeartbeatServerOptions) {
  // Sized to what has been asked for (the next power of two, up to the precomputed ceiling), so an
  // agent whose peers ask for 1 KiB holds 1 KiB, not HEARTBEAT_MAX.
  const ceiling = Math.min(options.max, PRECOMPUTED_MAX);
  let payload = heartbeatBytes(Math.min(ceiling, 1024));
  const payloadFor = (n: number): Buffer => {
    if (n > payload.length) payload = heartbeatBytes(Math.min(ceiling, 2 ** Math.ceil(Math.log2(n))));
    return payload;
  };
  const versionBody = JSON.stringify({ name: 'synthfleet-agent', version: options.version });

  function sizeOf(path: string): number | string {
    const raw = path.slice('/heartbeat/'.length);
    if (!/^\d{1,10}$/.test(raw)) return `size "${raw}" is not a whole number of bytes`;
    const n = Number(raw);
    if (n < options.min || n > options.max) return `size ${n} is outside [${options.min}, ${options.max}] bytes`;
    return n;
  }

  function serveBytes(req: http.IncomingMessage, res: http.ServerResponse, n: number): void {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': n,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    if (n <= ceiling) return void res.end(payloadFor(n).subarray(0, n));
    // Past the precomputed size: stream the pattern (64 KiB is a multiple of its 16-byte period).
    let left = n;
    const chunk = payloadFor(CHUNK).subarray(0, CHUNK);
    const pump = () => {
      while (left > 0) {
        const part = left >= CHUNK ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => {
      left = 0;
    });
    pump();
  }

  /** Reads and discards an upload of at most `limit` bytes (the size its path names). */
  function drain(req: http.IncomingMessage, res: http.ServerResponse, limit: number): void {
    let bytes = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > limit && !over) {
        over = true;
        res.setHeader('connection', 'close');
        text(res, 413, `upload is larger than ${limit} bytes\n`);
        req.destroy();
      }
    });
    req.on('end', () => {
      if (!over) text(res, 200, JSON.stringify({ bytes }), 'application/json');
    });
    req.on('error', () => {});
  }

  const server = http.createServer({ ...SERVER_TIMEOUTS }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith('/heartbeat/') || path === '/heartbeat') {
      const upload = req.method === 'POST' || req.method === 'PUT';
      if (!upload && req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'use GET, HEAD or POST\n');
      // An upload names its size as a download does, under the same rules.
      const n = sizeOf(path);
      if (typeof n === 'string') {
        if (upload) res.setHeader('connection', 'close');
        return text(res, 400, `${n}\n`);
      }
      return upload ? drain(req, res, n) : serveBytes(req, res, n);
    }
    switch (path) {
      case '/healthz':
        return text(res, 200, 'ok\n');
      case '/readyz':
        return options.ready()
          ? text(res, 200, 'ready\n')
          : text(res, 503, 'not ready: not registered or no assignment yet\n');
      case '/version':
        return text(res, 200, versionBody, 'application/json');
      case '/metrics':
        options.metrics().then(
          (m) => text(res, 200, m.body, m.contentType),
          (err: Error) => text(res, 500, `metrics failed: ${err.message}\n`),
        );
        return;
      default:
        return text(res, 404, 'not found; try /heartbeat/1024, /healthz, /readyz, /version or /metrics\n');
    }
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', (_err, socket) => socket.destroy());

  return {
    server,
    listen(): Promise<number> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: options.host, port: options.port, backlog: 4096 }, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    },
  };
}
