import { ErrorEnvelope, RunPage, TestDetail } from '@synthfleet/contracts';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweep } from '../services/scheduler.ts';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
let token: string;
let agentId: string;
beforeEach(async () => {
  api = await createTestApi();
  token = await api.token('cluster', 'edge-1');
  agentId = await api.register(token, 'node-a');
  await api.putTest(token, 'edge-1', syntheticTest('web'));
});
afterEach(() => api.close());

const send = (runs: unknown[], t = token, id = agentId) =>
  api.request('POST', '/api/v1/runs', { token: t, body: { agentId: id, runs } });

async function countRuns() {
  return (await api.ctx.db.query.runs.findMany()).length;
}

describe('POST /api/v1/runs', () => {
  it('stores a batch all or nothing: a failure after the runs are written loses nothing on the retry', async () => {
    const now = api.clock.now();
    expect((await send([runResult('web', 'pass', now - 2000)])).body).toMatchObject({ accepted: 1 });
    // Make the step after the runs' insert fail (the latest state), as a crash there would.
    await api.ctx.db.run(
      sql`CREATE TRIGGER fail_latest BEFORE UPDATE ON latest BEGIN SELECT RAISE(ABORT, 'injected'); END`,
    );
    const batch = [runResult('web', 'fail', now - 1000), runResult('web', 'fail', now)];
    // (Straight to the app: an internal error is not part of the documented contract.)
    const failed = await api.app.request('/api/v1/runs', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agentId, runs: batch }),
    });
    expect(failed.status).toBe(500);
    // Nothing of the batch was stored…
    expect(await countRuns()).toBe(1);
    await api.ctx.db.run(sql`DROP TRIGGER fail_latest`);
    // …so the agent's retry stores it whole: not duplicates, and the latest state moves on.
    expect((await send(batch)).body).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    const t = TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web', { token })).body);
    expect(t.agents[0]).toMatchObject({ status: 'fail', consecutiveFailures: 2, runId: batch[1]?.runId });
    expect(t.state).toBe('failing');
    expect(t.availability['1h']).toEqual({ percent: (1 / 3) * 100, total: 3, passed: 1 });
    // A duplicate batch changes nothing: not the state, not the aggregates.
    expect((await send(batch)).body).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
    const again = TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web', { token })).body);
    expect(again.agents[0]?.consecutiveFailures).toBe(2);
    expect(again.availability['1h']?.total).toBe(3);
  });

  it('stores a batch once: the same batch twice is all duplicates', async () => {
    const now = api.clock.now();
    const batch = [
      runResult('web', 'pass', now - 3000),
      runResult('web', 'fail', now - 2000),
      runResult('web', 'pass', now - 1000),
    ];
    const first = await send(batch);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    const second = await send(batch);
    expect(second.body).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
    const mixed = await send([batch[0], runResult('web', 'pass', now)]);
    expect(mixed.body).toEqual({ accepted: 1, duplicates: 1, rejected: [] });
    expect(await countRuns()).toBe(4);
    const inBatchDup = await send([batch[0], batch[0]]);
    expect(inBatchDup.body).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
  });

  it('rolls results up per test and keeps the latest state per agent', async () => {
    const now = api.clock.now();
    await send([runResult('web', 'fail', now - 1000)]);
    let d = TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web')).body);
    expect(d).toMatchObject({
      state: 'failing',
      failingAgents: 1,
      passingAgents: 0,
      lastFailureMessage: 'web went fail',
    });
    expect(d.failingSince).toBe(new Date(now - 1000).toISOString());
    await send([runResult('web', 'pass', now)]);
    d = TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web')).body);
    expect(d).toMatchObject({ state: 'passing', failingAgents: 0, passingAgents: 1, failingSince: null });
    // A late, older run (from a spool) does not replace the newer latest state.
    await send([runResult('web', 'fail', now - 60_000)]);
    d = TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web')).body);
    expect(d).toMatchObject({ state: 'passing' });
    expect((d.agents as { status: string; consecutiveFailures: number }[])[0]).toMatchObject({
      status: 'pass',
      consecutiveFailures: 0,
    });
  });

  it('counts consecutive failures across and within batches', async () => {
    const now = api.clock.now();
    await send([runResult('web', 'fail', now - 5000), runResult('web', 'fail', now - 4000)]);
    await send([runResult('web', 'timeout', now - 3000)]);
    const agentsOf = async () =>
      TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web')).body).agents;
    expect((await agentsOf())[0]).toMatchObject({ status: 'timeout', consecutiveFailures: 3 });
    await send([runResult('web', 'pass', now - 2000), runResult('web', 'error', now - 1000)]);
    expect((await agentsOf())[0]).toMatchObject({ status: 'error', consecutiveFailures: 1 });
  });

  it('applies a quorum: failing fleet-wide only when enough agents fail', async () => {
    const agents = [agentId, await api.register(token, 'node-b'), await api.register(token, 'node-c')];
    await api.putTest(token, 'edge-1', syntheticTest('q', { node: '*', quorum: 2 }));
    await api.putTest(token, 'edge-1', syntheticTest('share', { node: '*', quorum: '50%' }));
    const now = api.clock.now();
    await send(
      [runResult('q', 'fail', now, { namespace: 'default' }), runResult('share', 'fail', now)],
      token,
      agents[0],
    );
    await send([runResult('q', 'pass', now), runResult('share', 'pass', now)], token, agents[1]);
    const state = async (n: string) =>
      TestDetail.parse((await api.request('GET', `/api/v1/tests/edge-1/default/${n}`)).body).state;
    // One vantage point fails, under the quorum: the target is up from the others.
    expect(await state('q')).toBe('degraded');
    expect(await state('share')).toBe('degraded');
    await send([runResult('q', 'timeout', now + 1), runResult('share', 'error', now + 1)], token, agents[2]);
    expect(await state('q')).toBe('failing');
    expect(await state('share')).toBe('failing');
  });

  it('rejects runs for unknown tests one by one and stores the rest', async () => {
    const now = api.clock.now();
    const good = runResult('web', 'pass', now);
    const unknown = runResult('nope', 'pass', now);
    const r = await send([good, unknown]);
    expect(r.body).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [{ runId: unknown.runId, reason: 'test "edge-1/default/nope" is not known' }],
    });
  });

  it('rejects malformed batches whole with a 400 naming the field, storing nothing', async () => {
    const now = api.clock.now();
    const cases: [unknown, RegExp][] = [
      [{ agentId, runs: [] }, /runs: a batch needs at least one run/],
      [{ agentId, runs: [{ ...runResult('web', 'pass', now), status: 'great' }] }, /runs\.0\.status/],
      [{ agentId, runs: [{ ...runResult('web', 'pass', now), marks: 5, maxMarks: 1 }] }, /runs\.0\.marks/],
      [{ agentId, runs: [{ ...runResult('web', 'pass', now), startTime: 'yesterday' }] }, /runs\.0\.startTime/],
      [{ agentId, runs: [{ ...runResult('web', 'pass', now), runId: 'x' }] }, /runs\.0\.runId/],
      [{ agentId, runs: [runResult('web', 'pass', now)], extra: 1 }, /extra/],
    ];
    for (const [body, message] of cases) {
      const r = await api.request('POST', '/api/v1/runs', { token, body });
      expect(r.status).toBe(400);
      expect(ErrorEnvelope.parse(r.body).error.message).toMatch(message);
    }
    const truncated = JSON.stringify({ agentId, runs: [runResult('web', 'pass', now)] }).slice(0, 80);
    const t = await api.request('POST', '/api/v1/runs', { token, raw: truncated });
    expect(t.status).toBe(400);
    expect(await countRuns()).toBe(0);
  });

  it('lets a cluster token report only for its own agents', async () => {
    const other = await api.token('cluster', 'edge-2');
    const viewer = await api.token('viewer');
    const now = api.clock.now();
    expect((await send([runResult('web', 'pass', now)], other)).status).toBe(404);
    expect((await send([runResult('web', 'pass', now)], viewer)).status).toBe(403);
    expect((await send([runResult('web', 'pass', now)], token, 'no-such-agent')).status).toBe(404);
    expect(await countRuns()).toBe(0);
  });

  it('the sweep deletes history past the retention period and keeps the rest', async () => {
    const now = api.clock.now();
    await send([runResult('web', 'pass', now - 1000)]);
    api.clock.advance(15 * 24 * 3_600_000);
    await send([runResult('web', 'fail', api.clock.now() - 1000)]);
    expect(await countRuns()).toBe(2);
    const result = await sweep(api.ctx);
    expect(result.runsDeleted).toBe(1);
    const left = RunPage.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web/runs')).body);
    expect(left.runs.map((r) => r.status)).toEqual(['fail']);
  });

  it('pages run history newest first with a cursor', async () => {
    const now = api.clock.now();
    const runs = Array.from({ length: 25 }, (_, i) => runResult('web', i % 3 === 0 ? 'fail' : 'pass', now - i * 1000));
    await send(runs);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = RunPage.parse((await api.request('GET', `/api/v1/tests/edge-1/default/web/runs?limit=10${q}`)).body);
      seen.push(...page.runs.map((r) => r.runId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(runs.map((r) => r.runId));
    const bad = await api.request('GET', '/api/v1/tests/edge-1/default/web/runs?cursor=%%%');
    expect(bad.status).toBe(400);
  });
});
