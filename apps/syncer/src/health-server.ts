import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SERVER_TIMEOUTS } from '@synthfleet/contracts';
import type { SyncerHealth } from './syncer.ts';

/** `/healthz` (the process answers) and `/readyz` (the source is listed and a snapshot landed). */
export async function startHealthServer(
  host: string,
  port: number,
  health: () => SyncerHealth,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer({ ...SERVER_TIMEOUTS }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const body = (code: number, value: unknown) => {
      const text = JSON.stringify(value);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (path === '/healthz') return body(200, { status: 'ok' });
    if (path === '/readyz') {
      const h = health();
      return body(h.sourceReady && h.snapshots > 0 ? 200 : 503, h);
    }
    body(404, { error: { code: 'not_found', message: `${path} is not served here` } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
