import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KEEP_ALIVE_TIMEOUT_MS, SERVER_TIMEOUTS } from '@synthfleet/contracts/server-timeouts';

/**
 * synthetic-heart's pull mode: `/metrics` alone on its own port (its default 2112), for a
 * Prometheus that scrapes pods by their `prometheus.io/*` annotations. Beside the Pushgateway
 * push, not instead of it; the heartbeat port keeps its own `/metrics` too.
 */
export function createMetricsServer(opts: {
  host: string;
  port: number;
  exposition: () => Promise<{ contentType: string; body: string }>;
}) {
  const server = http.createServer({ ...SERVER_TIMEOUTS }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found; try /metrics\n');
      return;
    }
    opts.exposition().then(
      (m) => res.writeHead(200, { 'content-type': m.contentType }).end(req.method === 'HEAD' ? undefined : m.body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', (_err, socket) => socket.destroy());
  return {
    listen: () =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: opts.host, port: opts.port }, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
