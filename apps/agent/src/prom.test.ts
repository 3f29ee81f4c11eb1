import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, pushToGateway, Registry } from './prom.ts';

describe('agent Prometheus registry', () => {
  it('writes the text format: HELP and TYPE, labels in declared order and escaped, 0 for an unset family without labels', async () => {
    const r = new Registry();
    const g = new Gauge({ name: 'a_gauge', help: 'line one\nline two', labelNames: ['b', 'a'], registers: [r] });
    new Gauge({ name: 'plain', help: 'p', registers: [r] });
    const c = new Counter({ name: 'hits_total', help: 'h', labelNames: ['k'], registers: [r] });
    g.set({ a: 'say "hi"\\', b: 'x\ny' }, 1.5);
    g.set({ a: 'z', b: 'w' }, Number.NaN);
    c.inc({ k: 'v' });
    c.inc({ k: 'v' }, 2);
    const text = await r.metrics();
    expect(text).toContain('# HELP a_gauge line one\\nline two\n# TYPE a_gauge gauge\n');
    expect(text).toContain('a_gauge{b="x\\ny",a="say \\"hi\\"\\\\"} 1.5\n');
    expect(text).toContain('a_gauge{b="w",a="z"} NaN\n');
    expect(text).toContain('# TYPE plain gauge\nplain 0\n');
    expect(text).toContain('hits_total{k="v"} 3\n');
    g.remove({ a: 'z', b: 'w' });
    expect(await r.metrics()).not.toContain('a="z"');
  });

  it('refuses bad names, undeclared labels, a second family of one name and a counter going down', () => {
    const r = new Registry();
    expect(() => new Gauge({ name: 'bad-name', help: 'x', registers: [r] })).toThrow(/invalid metric name "bad-name"/);
    expect(() => new Gauge({ name: 'ok', help: 'x', labelNames: ['__x'], registers: [r] })).toThrow(/invalid label/);
    const g = new Gauge<'a'>({ name: 'ok2', help: 'x', labelNames: ['a'], registers: [r] });
    expect(() => g.set({ a: '1', b: '2' } as never, 1)).toThrow(/label "b" was not declared/);
    expect(() => new Gauge({ name: 'ok2', help: 'x', registers: [r] })).toThrow(/already registered/);
    const c = new Counter({ name: 'c_total', help: 'x', registers: [r] });
    expect(() => c.inc(-1)).toThrow(/cannot go down/);
  });

  it('PUTs to the group path, base64-encoding a value with a slash, and says what a refusal was', async () => {
    const seen: { method?: string; url?: string; body: string; type?: string }[] = [];
    let status = 200;
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, body, type: req.headers['content-type'] });
        res.writeHead(status).end(status === 200 ? '' : 'bad labels');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const r = new Registry();
      new Gauge({ name: 'up_now', help: 'x', registers: [r] }).set(1);
      await pushToGateway(url, r, 'synthfleet', { cluster: 'edge/7', instance: 'node a' }, 5000);
      expect(seen[0]).toMatchObject({
        method: 'PUT',
        url: `/metrics/job/synthfleet/cluster@base64/${Buffer.from('edge/7').toString('base64url')}/instance/node%20a`,
        type: 'text/plain; version=0.0.4; charset=utf-8',
      });
      expect(seen[0]?.body).toContain('up_now 1\n');
      status = 400;
      await expect(pushToGateway(url, r, 'synthfleet', {}, 5000)).rejects.toThrow(/status 400, bad labels/);
    } finally {
      server.close();
    }
  });
});
