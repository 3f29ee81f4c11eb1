import { slowHeaders } from '@synthfleet/test-support/slow-client.ts';
import { describe, expect, it } from 'vitest';
import { startHealthServer } from './health-server.ts';

describe('syncer health server', () => {
  it('answers /healthz and closes connections whose headers never finish (408)', async () => {
    const server = await startHealthServer('127.0.0.1', 0, () => ({ sourceReady: true, snapshots: 1 }) as never);
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
      const clients = await Promise.all(Array.from({ length: 20 }, () => slowHeaders(server.port)));
      for (const c of clients) {
        expect(c.closed).toBe(true);
        expect(c.answer).toContain('408');
      }
    } finally {
      await server.close();
    }
  }, 60_000);
});
