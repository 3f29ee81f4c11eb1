/**
 * The curl plugin against a local server, to synthetic-heart's curl plugin config and gauges
 * (agent/plugins/syntests/curl/{README.md,curl.go} at cisco-open/synthetic-heart 500284980fd7).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbeSet } from './probe-set.ts';
import { runProbe } from './registry.ts';
import { probeContext } from './testing/context.ts';

const BODY = 'x'.repeat(5000);
let server: http.Server;
let base: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    // Headers first, the body a little later: the first byte comes before the end.
    res.writeHead(req.url === '/missing' ? 404 : 201, { 'content-type': 'text/plain' });
    res.write(BODY.slice(0, 1000));
    setTimeout(() => res.end(BODY.slice(1000)), 30);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const probes = createProbeSet({ canPing: false });

describe('curl', () => {
  it("is offered by every agent, and reports curl's phases in order with synthetic-heart's gauges", async () => {
    expect(probes.has('curl')).toBe(true);
    const config = `url: ${base}/ok
outputOptions:
  - name: time_namelookup
    metric: true
  - name: time_connect
    metric: true
  - name: time_appconnect
    metric: true
  - name: time_starttransfer
    metric: true
  - name: time_total
    metric: true
  - name: http_code
    metric: true
  - name: size_download
    metric: true
  - name: remote_ip
    label: true
`;
    const r = await runProbe(probes, 'curl', config, probeContext());
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([1, 1]);
    const g = Object.fromEntries(r.gauges.map((x) => [x.name, x]));
    expect(Object.keys(g).sort()).toEqual(
      [
        'curl_http_code',
        'curl_size_download',
        'curl_time_appconnect',
        'curl_time_connect',
        'curl_time_namelookup',
        'curl_time_starttransfer',
        'curl_time_total',
      ].sort(),
    );
    expect(g.curl_http_code?.value).toBe(201);
    expect(g.curl_size_download?.value).toBe(BODY.length);
    expect(g.curl_time_appconnect?.value).toBe(0); // plain http: no TLS, as curl says
    const t = (n: string) => g[n]?.value ?? Number.NaN;
    expect(t('curl_time_namelookup')).toBeLessThanOrEqual(t('curl_time_connect'));
    expect(t('curl_time_connect')).toBeLessThanOrEqual(t('curl_time_starttransfer'));
    expect(t('curl_time_starttransfer')).toBeLessThan(t('curl_time_total'));
    // The body arrived ≥ 30 ms after the first byte: seconds, as curl reports them.
    expect(t('curl_time_total') - t('curl_time_starttransfer')).toBeGreaterThanOrEqual(0.02);
    expect(t('curl_time_total')).toBeLessThan(10);
    // A label option labels every gauge, and adds the url (as synthetic-heart does).
    for (const x of r.gauges) expect(x.labels).toEqual({ remote_ip: '127.0.0.1', url: `${base}/ok` });
    expect(r.details['curl.http_code']).toBe('201');
    expect(r.details._log).toMatch(/write-out: [\d.]+ [\d.]+ /);
  });

  it('passes on any HTTP answer, like curl without -f, and fails without one', async () => {
    const notFound = await runProbe(
      probes,
      'curl',
      { url: `${base}/missing`, outputOptions: [{ name: 'http_code', metric: true }] },
      probeContext(),
    );
    expect(notFound.status).toBe('pass');
    expect(notFound.gauges[0]?.value).toBe(404);
    const closed = await runProbe(probes, 'curl', { url: 'http://127.0.0.1:9/' }, probeContext());
    expect(closed.status).toBe('fail');
    expect(closed.marks).toBe(0);
    expect(closed.details._error).toMatch(/ECONNREFUSED/);
  });

  it("accepts the README's prometheusMetric/prometheusLabel spelling too", async () => {
    const r = await runProbe(
      probes,
      'curl',
      {
        url: `${base}/ok`,
        outputOptions: [
          { name: 'time_total', prometheusMetric: true },
          { name: 'http_code', prometheusLabel: true },
        ],
      },
      probeContext(),
    );
    expect(r.gauges).toHaveLength(1);
    expect(r.gauges[0]?.labels).toEqual({ http_code: '201', url: `${base}/ok` });
  });

  it('names a bad config: an unknown variable, a text variable as a metric, a missing url', async () => {
    const unknown = await runProbe(
      probes,
      'curl',
      { url: `${base}/ok`, outputOptions: [{ name: 'time_warp' }] },
      probeContext(),
    );
    expect(unknown.status).toBe('error');
    expect(unknown.details._error).toMatch(/"time_warp" is not a curl --write-out variable/);
    const text = await runProbe(
      probes,
      'curl',
      { url: `${base}/ok`, outputOptions: [{ name: 'remote_ip', metric: true }] },
      probeContext(),
    );
    expect(text.status).toBe('error');
    expect(text.details._error).toMatch(/remote_ip is "127\.0\.0\.1", not a number/);
    const none = await runProbe(probes, 'curl', {}, probeContext());
    expect(none.status).toBe('error');
    expect(none.details._error).toMatch(/url/);
  });
});
