import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@synthfleet/test-support/wait.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbeSet } from './probe-set.ts';
import { runProbe, toReport } from './registry.ts';
import { probeContext } from './testing/context.ts';
import { type HostileTarget, startHostileTarget } from './testing/hostile-target.ts';

let server: http.Server;
let base: string;
let hostile: HostileTarget;
const hits = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/ok') return void res.end('hello world');
    if (path === '/teapot') {
      res.statusCode = 418;
      return void res.end('short and stout');
    }
    if (path === '/flaky' && (hits.get(path) ?? 0) <= 2) {
      res.statusCode = 503;
      return void res.end();
    }
    if (path === '/flaky') return void res.end('finally');
    if (path === '/echo-method') return void res.end(`${req.method} ${req.headers['x-probe'] ?? ''}`);
    if (path === '/slow') return; // never answers
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hostile = await startHostileTarget();
});
afterAll(async () => {
  await hostile.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const probes = createProbeSet({ canPing: false });
const run = (config: unknown, timeoutMs = 5000) =>
  runProbe(probes, 'httpPing', config as Record<string, unknown>, probeContext({ timeoutMs }));

describe('httpPing', () => {
  it('passes on a matching status and reports latency', async () => {
    const r = await run({ address: `${base}/ok` });
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([1, 1]);
    expect(r.details._log).toContain('status 200');
    expect(r.gauges.find((g) => g.name === 'http_ping_latency_seconds')?.value).toBeGreaterThan(0);
  });

  it('fails on a status outside expectedCodeRegex and says which', async () => {
    const r = await run({ address: `${base}/teapot`, expectedCodeRegex: '^200$' });
    expect(r.status).toBe('fail');
    expect(r.marks).toBe(0);
    expect(r.details._error).toContain('status 418 does not match ^200$');
  });

  it('takes synthetic-heart YAML: a list of endpoints run in parallel, one mark each', async () => {
    const yaml = `- address: "${base.slice(7)}/ok"\n  expectedCodeRegex: ^(200|202){1}\n  retries: 1\n- address: "${base}/teapot"\n`;
    const r = await run(yaml);
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([1, 2]);
  });

  it('reports a refused connection', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await run({ address: `127.0.0.1:${port}` });
    expect(r.status).toBe('fail');
    expect(r.details._error).toContain('ECONNREFUSED');
  });

  it('retries failures up to `retries` and passes once the endpoint answers', async () => {
    const r = await run({ address: `${base}/flaky`, retries: 2 });
    expect(r.status).toBe('pass');
    expect(hits.get('/flaky')).toBe(3);
  });

  it('cuts a request off at its timeout and retries timeouts only timeoutRetries times', async () => {
    hits.delete('/slow');
    const r = await run({ address: `${base}/slow`, timeout: '200ms', retries: 5, timeoutRetries: 1 });
    expect(r.status).toBe('fail');
    expect(r.details._error).toContain('timed out');
    // Count the attempts the probe made from its own log: the server shares this event loop, so
    // on a loaded machine a 200 ms attempt can be cut off before the server has read it.
    const attempts = String(r.details._log).match(/GET \S+\/slow: timed out/g) ?? [];
    expect(attempts).toHaveLength(2);
    expect(hits.get('/slow') ?? 0).toBeLessThanOrEqual(2);
  });

  it('checks the body against bodyRegex and sends the configured method and headers', async () => {
    const ok = await run({
      address: `${base}/echo-method`,
      method: 'POST',
      headers: { 'x-probe': 'yes' },
      bodyRegex: '^POST yes$',
    });
    expect(ok.status).toBe('pass');
    const bad = await run({ address: `${base}/ok`, bodyRegex: 'goodbye' });
    expect(bad.status).toBe('fail');
    expect(bad.details._error).toContain('body does not match goodbye');
  });

  it('turns a bad config into an error that names the field', async () => {
    const r = await run({ address: `${base}/ok`, expectedCodeRegex: '(' });
    expect(r.status).toBe('error');
    expect(r.details._error).toMatch(/expectedCodeRegex.*not a valid regular expression/);
    const missing = await run({ retries: 2 });
    expect(missing.status).toBe('error');
    expect(missing.details._error).toContain('address');
  });
});

describe('runProbe', () => {
  it("keeps a run's details within 64 KiB in all, the error first, so the API never refuses it as too large", () => {
    const r = toReport({
      marks: 0,
      maxMarks: 1,
      log: ['l'.repeat(50_000)],
      error: 'e'.repeat(100_000),
      details: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 'v'.repeat(60_000)])),
    });
    const size = Object.entries(r.details).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(size).toBeLessThanOrEqual(64 * 1024 + 100);
    expect(r.details._error?.startsWith('eeee')).toBe(true);
    expect(r.details._error).toContain('(truncated)');
    expect(r.details._truncated).toBeDefined();
    const small = toReport({ marks: 1, maxMarks: 1, log: ['ok'], details: { a: 'b' } });
    expect(small.details).toEqual({ _log: 'ok', a: 'b' });
  });

  it('answers a plugin the agent lacks as unsupported (never a failure), saying so', async () => {
    const r = await runProbe(probes, 'k8sPod', undefined, probeContext());
    expect(r.status).toBe('unsupported');
    expect(r.details._error).toContain('plugin "k8sPod" is not offered by this agent');
  });

  it('rejects YAML that does not parse', async () => {
    const r = await runProbe(probes, 'httpPing', 'address: [unclosed', probeContext());
    expect(r.status).toBe('error');
    expect(r.details._error).toContain('not valid YAML');
  });

  it('stops reading an endless body once what it keeps or matches is in, and cancels the request', async () => {
    const plain = await run({ address: `${hostile.url}/endless` }, 20_000);
    expect(plain.status).toBe('pass');
    expect(plain.details._log).toContain('status 200 (stopped reading the body after');
    const matched = await run({ address: `${hostile.url}/endless/match`, bodyRegex: '^x+$' }, 20_000);
    expect(matched.status).toBe('pass');
    const missed = await run({ address: `${hostile.url}/endless/miss`, bodyRegex: 'never-there' }, 20_000);
    expect(missed.status).toBe('fail');
    expect(missed.details._error).toContain('body does not match never-there (stopped reading the body after');
    // Each answer ended when the probe went away, having written about what the probe keeps plus
    // what socket buffers hold: never gigabytes, and nothing is still being written.
    await waitFor(() => hostile.open() === 0, 10_000, 'hostile.open() toBe(0)');
    expect(hostile.sent).toHaveLength(3);
    for (const bytes of hostile.sent) expect(bytes).toBeLessThan(16 * 1024 * 1024);
  });

  it('gives up on a header block that never ends at the request timeout', async () => {
    const r = await run({ address: `${hostile.url}/slow-headers`, timeout: '500ms' }, 20_000);
    expect(r.status).toBe('fail');
    expect(r.details._error).toContain('timed out');
    await waitFor(() => hostile.open() === 0, 10_000, 'hostile.open() toBe(0)');
  });
});
