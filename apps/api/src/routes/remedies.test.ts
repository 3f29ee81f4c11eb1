import { ErrorEnvelope, RemedyGrant, RemedyRunList, RemedyRunView } from '@synthfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweep } from '../services/scheduler.ts';
import { createTestApi, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
let token: string;
let agentA: string;
let agentB: string;
const webhook = { url: 'http://127.0.0.1:9/remedy' };

beforeEach(async () => {
  api = await createTestApi();
  token = await api.token('cluster', 'edge-1');
  agentA = await api.register(token, 'node-a');
  agentB = await api.register(token, 'node-b');
});
afterEach(() => api.close());

const claim = (agent: string, extra: Record<string, unknown> = {}, t = token) =>
  api.request('POST', `/api/v1/agents/${agent}/remedies`, {
    token: t,
    body: {
      namespace: 'default',
      name: 'web',
      revision: 1,
      runId: `run-${crypto.randomUUID()}`,
      failures: 3,
      ...extra,
    },
  });
const list = (t = token) => api.request('GET', '/api/v1/tests/edge-1/default/web/remedies', { token: t });

describe('remedy runs', () => {
  it('grants at most runsLimit runs across agents, records each, and starts counting again resetInterval after the last', async () => {
    await api.putTest(
      token,
      'edge-1',
      syntheticTest('web', { remedy: { after: 3, runsLimit: 2, resetInterval: '10m', webhook } }),
    );
    const first = await claim(agentA);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ kind: 'webhook', attempt: 1, runsLimit: 2 });
    api.clock.advance(60_000);
    expect((await claim(agentB)).body).toMatchObject({ attempt: 2 });
    api.clock.advance(60_000);
    const third = await claim(agentA);
    expect(third.status).toBe(409);
    expect(ErrorEnvelope.parse(third.body).error.message).toBe(
      `test "edge-1/default/web" reached its remedy runsLimit (2); the count starts again 10m after the last remedy run (${new Date(api.clock.now() - 60_000 + 600_000).toISOString()})`,
    );
    api.clock.advance(9 * 60_000 - 1);
    expect((await claim(agentB)).status).toBe(409);
    api.clock.advance(1);
    expect((await claim(agentB)).body).toMatchObject({ attempt: 1 });
    const runs = RemedyRunList.parse((await list()).body);
    expect(runs.remedies.map((r) => [r.node, r.attempt, r.status])).toEqual([
      ['node-b', 1, 'running'],
      ['node-b', 2, 'running'],
      ['node-a', 1, 'running'],
    ]);
  });

  it('grants concurrent claims no more often than the limit', async () => {
    await api.putTest(token, 'edge-1', syntheticTest('web', { remedy: { runsLimit: 3, webhook } }));
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => claim(i % 2 ? agentA : agentB)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(9);
    expect(RemedyRunList.parse((await list()).body).remedies).toHaveLength(3);
  });

  it('records the outcome the agent reports, idempotently, and only from that agent', async () => {
    await api.putTest(token, 'edge-1', syntheticTest('web', { remedy: { webhook } }));
    const { remedyId } = RemedyGrant.parse((await claim(agentA, { failures: 4 })).body);
    const outcome = { status: 'succeeded', message: 'webhook answered 204', details: { status: '204' } };
    const wrongAgent = await api.request('PUT', `/api/v1/agents/${agentB}/remedies/${remedyId}`, {
      token,
      body: outcome,
    });
    expect(wrongAgent.status).toBe(404);
    const done = await api.request('PUT', `/api/v1/agents/${agentA}/remedies/${remedyId}`, { token, body: outcome });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      status: 'succeeded',
      message: 'webhook answered 204',
      failures: 4,
      details: { status: '204' },
    });
    expect(RemedyRunView.parse(done.body).endedAt).not.toBeNull();
    const again = await api.request('PUT', `/api/v1/agents/${agentA}/remedies/${remedyId}`, { token, body: outcome });
    expect(again.status).toBe(200);
    const other = await api.request('PUT', `/api/v1/agents/${agentA}/remedies/${remedyId}`, {
      token,
      body: { status: 'failed', message: 'no' },
    });
    expect(other.status).toBe(409);
    expect((await list()).body).toMatchObject({ remedies: [{ id: remedyId, status: 'succeeded' }] });
  });

  it('records a run whose agent never reports as unknown past its deadline, and a late report still lands', async () => {
    await api.putTest(token, 'edge-1', syntheticTest('web', { remedy: { webhook: { ...webhook, timeout: '30s' } } }));
    const granted = RemedyGrant.parse((await claim(agentA)).body);
    api.clock.advance(1000);
    const kept = RemedyGrant.parse((await claim(agentB)).body);
    const [run] = RemedyRunList.parse((await list()).body).remedies;
    // The webhook's 30 s plus five minutes for the agent to report.
    expect(Date.parse(run?.deadline ?? '') - Date.parse(run?.startedAt ?? '')).toBe(330_000);
    api.clock.advance(329_000);
    expect((await sweep(api.ctx)).remediesUnknown).toBe(0);
    await api.request('PUT', `/api/v1/agents/${agentB}/remedies/${kept.remedyId}`, {
      token,
      body: { status: 'failed', message: 'webhook answered 500' },
    });
    api.clock.advance(1);
    expect((await sweep(api.ctx)).remediesUnknown).toBe(1);
    expect((await sweep(api.ctx)).remediesUnknown).toBe(0);
    const after = RemedyRunList.parse((await list()).body);
    expect(after.remedies.map((r) => [r.id, r.status])).toEqual([
      [kept.remedyId, 'failed'],
      [granted.remedyId, 'unknown'],
    ]);
    expect(after.remedies[1]?.message).toMatch(/^node node-a reported no outcome by the deadline \(\d{4}-.+Z\)/);
    const late = await api.request('PUT', `/api/v1/agents/${agentA}/remedies/${granted.remedyId}`, {
      token,
      body: { status: 'succeeded', message: 'webhook answered 200' },
    });
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ status: 'succeeded', message: 'webhook answered 200' });
  });

  it('refuses claims for a test without a remedy, an old revision, an unknown test or another cluster', async () => {
    await api.putTest(token, 'edge-1', syntheticTest('web'));
    const none = await claim(agentA);
    expect(none.status).toBe(409);
    expect(ErrorEnvelope.parse(none.body).error.message).toBe('test "edge-1/default/web" has no remedy');
    await api.putTest(token, 'edge-1', syntheticTest('web', { remedy: { webhook }, repeat: '1m' }));
    const stale = await claim(agentA, { revision: 1 });
    expect(stale.status).toBe(409);
    expect(ErrorEnvelope.parse(stale.body).error.message).toContain('now at revision 2');
    expect((await claim(agentA, { revision: 2, name: 'nope' })).status).toBe(404);
    const other = await api.token('cluster', 'edge-2');
    expect((await claim(agentA, { revision: 2 }, other)).status).toBe(404);
    expect((await list(other)).status).toBe(404);
    const bad = await api.request('POST', `/api/v1/agents/${agentA}/remedies`, {
      token,
      body: { namespace: 'default' },
    });
    expect(bad.status).toBe(400);
    expect(ErrorEnvelope.parse(bad.body).error.message).toContain('name');
  });

  it('starts the count afresh when the test changes', async () => {
    await api.putTest(token, 'edge-1', syntheticTest('web', { remedy: { runsLimit: 1, webhook } }));
    expect((await claim(agentA)).status).toBe(201);
    expect((await claim(agentA)).status).toBe(409);
    await api.putTest(token, 'edge-1', syntheticTest('web', { remedy: { runsLimit: 1, after: 2, webhook } }));
    expect((await claim(agentA, { revision: 2 })).body).toMatchObject({ attempt: 1 });
  });

  it('rejects a remedy spec that is not exactly one of webhook or job, naming the field', async () => {
    const both = await api.putTest(
      token,
      'edge-1',
      syntheticTest('web', { remedy: { webhook, job: { spec: { template: {} } } } } as never),
    );
    expect(both.status).toBe(400);
    expect(both.text).toContain('give exactly one of webhook or job');
    const reset = await api.putTest(
      token,
      'edge-1',
      syntheticTest('web', { remedy: { resetInterval: '5m', webhook } }),
    );
    expect(reset.status).toBe(400);
    expect(reset.text).toContain('resetInterval');
  });
});
