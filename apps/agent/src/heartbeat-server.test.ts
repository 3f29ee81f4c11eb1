import { isHeartbeatBody } from '@synthfleet/probes';
import { slowHeaders } from '@synthfleet/test-support/slow-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeartbeatServer } from './heartbeat-server.ts';

let ready = false;
const server = createHeartbeatServer({
  host: '127.0.0.1',
  port: 0,
  min: 1,
  max: 8 * 1024 * 1024,
  version: '9.9.9',
  ready: () => ready,
  metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'synthfleet_agent_registered 1\n' }),
});
let base = '';
beforeAll(async () => {
  base = `http://127.0.0.1:${await server.listen()}`;
});
afterAll(() => server.close());

describe('heartbeat server', () => {
  it('serves exactly N bytes of the pattern, from the buffer and streamed past it', async () => {
    for (const n of [1, 16, 1000, 65_536, 1_048_576, 5 * 1024 * 1024 + 3]) {
      const res = await fetch(`${base}/heartbeat/${n}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(n));
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.length).toBe(n);
      expect(isHeartbeatBody(body)).toBe(true);
    }
  });

  it('answers sizes outside [min, max] and nonsense with a 400 that says why', async () => {
    const zero = await fetch(`${base}/heartbeat/0`);
    expect(zero.status).toBe(400);
    expect(await zero.text()).toContain('size 0 is outside [1, 8388608] bytes');
    expect((await fetch(`${base}/heartbeat/${8 * 1024 * 1024 + 1}`)).status).toBe(400);
    const junk = await fetch(`${base}/heartbeat/12abc`);
    expect(junk.status).toBe(400);
    expect(await junk.text()).toContain('not a whole number');
  });

  it('reads and discards an upload, reporting the bytes read', async () => {
    const res = await fetch(`${base}/heartbeat/100000`, { method: 'POST', body: Buffer.alloc(100_000, 'a') });
    expect(await res.json()).toEqual({ bytes: 100_000 });
  });

  it('applies the size rules of a download to an upload: its path names a size within [min, max], and no more is read', async () => {
    for (const path of [
      '/heartbeat/-5',
      '/heartbeat/0',
      '/heartbeat/12abc',
      '/heartbeat',
      `/heartbeat/${8 * 1024 * 1024 + 1}`,
    ]) {
      const res = await fetch(`${base}${path}`, { method: 'POST', body: 'x' });
      expect(res.status, path).toBe(400);
      expect(await res.text(), path).toMatch(/outside \[1, 8388608\] bytes|not a whole number/);
    }
    const over = await fetch(`${base}/heartbeat/10`, { method: 'POST', body: Buffer.alloc(100_000, 'a') });
    expect(over.status).toBe(413);
    expect(await over.text()).toContain('upload is larger than 10 bytes');
  });

  it('closes a connection whose header block never ends (slowloris) instead of holding it', async () => {
    const port = Number(new URL(base).port);
    const clients = await Promise.all(Array.from({ length: 20 }, () => slowHeaders(port)));
    // Closed by the server (this one drops a client error without an answer), not by our give-up.
    for (const c of clients) expect(c.closed).toBe(true);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 60_000);

  it('reports health, readiness and version, and never the environment', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${base}/version`)).json()).toEqual({ name: 'synthfleet-agent', version: '9.9.9' });
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('synthfleet_agent_registered 1');
    process.env.SYNTHFLEET_TEST_SECRET = 'hunter2-secret';
    for (const path of ['/', '/env', '/version', '/healthz', '/heartbeat/10', '/heartbeat/x']) {
      expect(await (await fetch(`${base}${path}`)).text()).not.toContain('hunter2-secret');
    }
  });
});
