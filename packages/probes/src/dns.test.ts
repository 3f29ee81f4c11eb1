import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbeSet } from './probe-set.ts';
import { runProbe } from './registry.ts';
import { probeContext } from './testing/context.ts';
import { startDnsServer } from './testing/dns-server.ts';

let dns: Awaited<ReturnType<typeof startDnsServer>>;
beforeAll(async () => {
  dns = await startDnsServer({
    a: { 'api.edge.test': ['10.0.0.7'], 'db.edge.test': ['10.0.0.8', '10.0.0.9'] },
    txt: { 'api.edge.test': ['v=ok'] },
    silent: ['slow.edge.test'],
  });
});
afterAll(() => dns.close());

const probes = createProbeSet({ canPing: false });
// The double answers in this process: on a loaded machine an answer can take longer than the
// probe's 2 s default, so tests that expect answers wait longer (the timeout test sets its own).
const run = (config: Record<string, unknown>) =>
  runProbe(
    probes,
    'dns',
    { server: dns.address, timeout: '8s', ...config },
    probeContext({ signal: AbortSignal.timeout(30_000), timeoutMs: 20_000 }),
  );

describe('dns', () => {
  it('resolves every domain `repeats` times: one mark each', async () => {
    const before = dns.queries;
    const r = await run({ domains: ['api.edge.test', 'db.edge.test'], repeats: 3, workers: 2 });
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([6, 6]);
    expect(dns.queries - before).toBe(6);
    expect(r.details._log).toContain('db.edge.test A: 10.0.0.8, 10.0.0.9');
  });

  it('fails a name that does not exist with NXDOMAIN', async () => {
    const r = await run({ domains: ['api.edge.test', 'nope.edge.test'] });
    expect(r.status).toBe('fail');
    expect(r.details._error).toContain('nope.edge.test A: NXDOMAIN');
    expect(r.details._error).not.toContain('api.edge.test');
    expect([r.marks, r.maxMarks]).toEqual([1, 2]);
  });

  it('checks expected records, per domain or for all', async () => {
    const ok = await run({ domains: [{ name: 'api.edge.test', type: 'TXT', expect: ['v=ok'] }] });
    expect(ok.status).toBe('pass');
    const wrong = await run({ domains: ['api.edge.test'], expect: ['10.9.9.9'] });
    expect(wrong.status).toBe('fail');
    expect(wrong.details._error).toContain('lack 10.9.9.9');
  });

  it('times out against a server that does not answer', async () => {
    const r = await run({ domains: ['slow.edge.test'], timeout: '300ms' });
    expect(r.status).toBe('fail');
    expect(r.details._error).toContain('slow.edge.test A: timed out');
  });

  it('uses the system resolver (with /etc/hosts) when no server is given', async () => {
    const r = await runProbe(probes, 'dns', 'domains: ["localhost"]', probeContext());
    expect(r.status).toBe('pass');
    expect(r.details._log).toContain('127.0.0.1');
  });
});
