import { ErrorEnvelope } from '@synthfleet/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiConfig } from '../services/context.ts';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
afterEach(() => api?.close());

async function setUp(config: Partial<ApiConfig> = {}) {
  api = await createTestApi({ config });
  const token = await api.token('cluster', 'edge-1');
  const agentId = await api.register(token, 'node-a');
  await api.putTest(token, 'edge-1', syntheticTest('web'));
  return { token, agentId };
}

const runs = (n: number, at: number) => Array.from({ length: n }, (_, i) => runResult('web', 'pass', at - n + i));

describe('writer quotas', () => {
  it("answers 429 with Retry-After past an agent's runs per minute, stores nothing of that batch, and takes it later", async () => {
    const { token, agentId } = await setUp({ agentRunsPerMinute: 100 });
    const send = (body: unknown[]) => api.request('POST', '/api/v1/runs', { token, body: { agentId, runs: body } });
    expect((await send(runs(100, api.clock.now()))).status).toBe(200);
    const refused = await send(runs(30, api.clock.now()));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('18');
    expect(refused.body).toMatchObject({
      error: {
        code: 'RATE_LIMITED',
        message: expect.stringContaining('over its 100 runs per minute (RATE_AGENT_RUNS_PER_MINUTE)'),
      },
    });
    expect(await api.ctx.db.query.runs.findMany()).toHaveLength(100);
    api.clock.advance(18_000);
    expect((await send(runs(30, api.clock.now()))).body).toMatchObject({ accepted: 30 });
    // Another agent of the same token has its own bucket.
    const other = await api.register(token, 'node-b');
    const fromOther = await api.request('POST', '/api/v1/runs', {
      token,
      body: { agentId: other, runs: runs(50, api.clock.now()) },
    });
    expect(fromOther.status).toBe(200);
  });

  it('bounds all agents of one token together, and what one refusal cost is not taken', async () => {
    const { token, agentId } = await setUp({ agentRunsPerMinute: 1000, tokenRunsPerMinute: 150 });
    const b = await api.register(token, 'node-b');
    const send = (id: string, n: number) =>
      api.request('POST', '/api/v1/runs', { token, body: { agentId: id, runs: runs(n, api.clock.now()) } });
    expect((await send(agentId, 100)).status).toBe(200);
    const refused = await send(b, 100);
    expect(refused.status).toBe(429);
    expect(ErrorEnvelope.parse(refused.body).error.message).toContain('RATE_TOKEN_RUNS_PER_MINUTE');
    // b's own bucket paid nothing for the refused batch.
    expect((await send(b, 50)).status).toBe(200);
  });

  it('rejects a run larger than RUN_MAX_BYTES one by one, naming it, and stores the rest', async () => {
    const { token, agentId } = await setUp({ maxRunBytes: 8 * 1024 });
    const now = api.clock.now();
    const big = runResult('web', 'fail', now - 2000, {
      details: { _log: 'x'.repeat(60_000), more: 'y'.repeat(60_000) },
    });
    const small = runResult('web', 'pass', now - 1000);
    const r = await api.request('POST', '/api/v1/runs', { token, body: { agentId, runs: [big, small] } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      accepted: 1,
      rejected: [{ runId: big.runId, reason: expect.stringContaining('over the limit of 8192 (RUN_MAX_BYTES)') }],
    });
    const stored = await api.ctx.db.query.runs.findMany();
    expect(stored.map((x) => x.id)).toEqual([small.runId]);
  });

  it('limits write requests per second per token, never reads', async () => {
    const { token } = await setUp({ tokenWritesPerSecond: 5 });
    api.clock.advance(2000); // the set-up's own writes are paid back
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await api.request('PUT', `/api/v1/clusters/edge-1/tests/default/t${i}`, {
        token,
        body: syntheticTest(`t${i}`),
      });
      statuses.push(r.status);
    }
    // A burst of two seconds' worth, then refusals.
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
    for (let i = 0; i < 20; i++)
      expect((await api.request('GET', '/api/v1/tests?cluster=edge-1', { token })).status).toBe(200);
    const other = await api.token('cluster', 'edge-2');
    expect(
      (await api.request('PUT', '/api/v1/clusters/edge-2/tests/default/x', { token: other, body: syntheticTest('x') }))
        .status,
    ).toBe(201);
    api.clock.advance(1000);
    expect(
      (await api.request('PUT', '/api/v1/clusters/edge-1/tests/default/t10', { token, body: syntheticTest('t10') }))
        .status,
    ).toBe(201);
  });

  it('limits dashboard sign-in attempts per address with a 429 page and Retry-After', async () => {
    await setUp({ signInsPerMinute: 3 });
    const attempt = (token: string) =>
      api.app.request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, next: '/' }).toString(),
      });
    for (let i = 0; i < 3; i++) expect((await attempt(`guess-number-${i}-aaaa`)).status).toBe(401);
    const limited = await attempt(api.admin);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('20');
    expect(limited.headers.get('set-cookie')).toBeNull();
    expect(await limited.text()).toContain('Too many sign-in attempts');
    api.clock.advance(20_000);
    expect((await attempt(api.admin)).status).toBe(303);
  });
});
