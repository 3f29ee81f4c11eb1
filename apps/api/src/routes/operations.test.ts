/**
 * What operators do around their tests: availability and SLOs from the aggregates, maintenance
 * windows (selection, recurrence, exclusion from verdicts and availability) and Run now waking
 * every assigned agent through its long-poll. Runs on Node, over libSQL's HTTP protocol and in
 * workerd (the route suite), so the wake is checked through the Durable Object hub too.
 */
import {
  Assignment,
  AvailabilityReport,
  ErrorEnvelope,
  MaintenanceList,
  MaintenanceView,
  RunNowResponse,
  RunPage,
  TestDetail,
} from '@synthfleet/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;

let api: TestApi;
afterEach(() => api?.close());

async function setup(spec: Record<string, unknown> = {}) {
  api = await createTestApi();
  const token = await api.token('cluster', 'edge-1');
  const a = await api.register(token, 'node-a');
  const b = await api.register(token, 'node-b');
  await api.putTest(token, 'edge-1', syntheticTest('web', spec));
  const send = (agentId: string, runs: unknown[]) =>
    api.request('POST', '/api/v1/runs', { token, body: { agentId, runs } });
  return { token, a, b, send };
}

const detail = async (token: string, name = 'web') =>
  TestDetail.parse((await api.request('GET', `/api/v1/tests/edge-1/default/${name}`, { token })).body);

const many = (n: number, status: 'pass' | 'fail', at: number) =>
  Array.from({ length: n }, (_, i) => runResult('web', status, at + i * 1000));

describe('availability and SLOs', () => {
  it('sums each window from the aggregates, per test, node and cluster; the SLO says budget and burn', async () => {
    const { token, a, b, send } = await setup({ slo: { objective: 99, window: '7d' } });
    const now = api.clock.now();
    await send(a, many(10, 'pass', now - 20 * D)); // 30 d only
    await send(a, [...many(8, 'pass', now - 3 * D), ...many(2, 'fail', now - 3 * D + 60_000)]); // 7 d and 30 d
    await send(b, many(5, 'pass', now - 2 * H)); // 24 h (and 6 h)
    await send(b, [...many(3, 'fail', now - 10 * MIN), runResult('web', 'pass', now - 5 * MIN)]); // 1 h
    // Skipped runs say nothing of the target: not counted.
    await send(b, [runResult('web', 'skipped', now - MIN)]);
    const t = await detail(token);
    expect(t.availability).toEqual({
      '1h': { percent: 25, total: 4, passed: 1 },
      '24h': { percent: (6 / 9) * 100, total: 9, passed: 6 },
      '7d': { percent: (14 / 19) * 100, total: 19, passed: 14 },
      '30d': { percent: (24 / 29) * 100, total: 29, passed: 24 },
    });
    // 99 % over 7 d: 5 of 19 failed against a budget of 1 %.
    expect(t.slo?.objective).toBe(99);
    expect(t.slo?.budget.remaining).toBeCloseTo(1 - 5 / 19 / 0.01, 9);
    expect(t.slo?.budget.totalMs).toBeCloseTo(7 * D * 0.01, 3);
    expect(t.slo?.burnRate['1h']).toBeCloseTo(0.75 / 0.01, 9);
    expect(t.slo?.burnRate['6h']).toBeCloseTo(3 / 9 / 0.01, 9);

    const node = AvailabilityReport.parse(
      (await api.request('GET', '/api/v1/availability?cluster=edge-1&node=node-b', { token })).body,
    );
    expect(node.windows['24h']).toEqual({ percent: (6 / 9) * 100, total: 9, passed: 6 });
    const cluster = AvailabilityReport.parse(
      (await api.request('GET', '/api/v1/availability?cluster=edge-1', { token })).body,
    );
    expect(cluster.windows['30d']?.total).toBe(29);
    const other = await api.request('GET', '/api/v1/availability?cluster=edge-2', { token });
    expect(other.status).toBe(404);

    // /metrics exports the same figures, the counters and the SLO.
    const m = await api.request('GET', '/api/v1/metrics', { token: await api.token('metrics') });
    const id = 'cluster="edge-1",namespace="default",test="web"';
    expect(m.text).toContain(`synthfleet_test_availability{${id},window="1h"} 0.25\n`);
    expect(m.text).toContain(`synthfleet_test_runs_total{${id}} 29\n`);
    expect(m.text).toContain(`synthfleet_test_runs_failed_total{${id}} 5\n`);
    expect(m.text).toContain(`synthfleet_test_slo_objective{${id}} 0.99\n`);
    expect(m.text).toMatch(new RegExp(`synthfleet_test_error_budget_remaining\\{${id}\\} -25\\.31`));
  });

  it('refuses an SLO that leaves no budget, naming the field', async () => {
    api = await createTestApi();
    const token = await api.token('cluster', 'edge-1');
    const r = await api.putTest(token, 'edge-1', syntheticTest('web', { slo: { objective: 100 } }));
    expect(r.status).toBe(400);
    expect(ErrorEnvelope.parse(r.body).error.message).toMatch(/spec\.slo\.objective/);
  });
});

describe('maintenance windows', () => {
  it('marks runs inside a window, leaves them out of the verdict and availability, and lists the window', async () => {
    const { token, a, send } = await setup({ labels: { tier: 'db' } });
    await api.putTest(token, 'edge-1', syntheticTest('other'));
    const now = api.clock.now();
    await send(a, many(4, 'pass', now - 30 * MIN));
    const created = await api.request('POST', '/api/v1/maintenance', {
      token,
      body: {
        labels: { tier: 'db' },
        reason: 'database upgrade',
        start: new Date(now - MIN).toISOString(),
        end: new Date(now + H).toISOString(),
      },
    });
    expect(created.status).toBe(201);
    const w = MaintenanceView.parse(created.body);
    expect(w).toMatchObject({ active: true, selector: { cluster: 'edge-1', labels: { tier: 'db' } } });
    await send(a, many(3, 'fail', now));

    const t = await detail(token);
    expect(t.state).toBe('maintenance');
    expect(t.stateReason).toMatch(/^in maintenance until .*: database upgrade$/);
    expect(t.maintenance).toMatchObject({ active: true, reason: 'database upgrade' });
    expect(t.availability['1h']).toEqual({ percent: 100, total: 4, passed: 4 });
    const runs = RunPage.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web/runs', { token })).body);
    expect(runs.runs.filter((r) => r.maintenance).map((r) => r.status)).toEqual(['fail', 'fail', 'fail']);
    // The window selects by label: the other test is untouched.
    expect((await detail(token, 'other')).state).not.toBe('maintenance');

    const list = MaintenanceList.parse((await api.request('GET', '/api/v1/maintenance', { token })).body);
    expect(list.windows.map((x) => x.reason)).toEqual(['database upgrade']);
    // Closing it: the results speak again (the failures from inside it are the latest ones).
    expect((await api.request('DELETE', `/api/v1/maintenance/${w.id}`, { token })).status).toBe(204);
    expect((await detail(token)).state).toBe('failing');
  });

  it('recurs on a cron in a time zone, and a test may carry its own in spec.maintenance', async () => {
    const { token } = await setup({
      maintenance: [{ schedule: '0 3 * * *', duration: '30m', timezone: 'Europe/Berlin', reason: 'nightly backup' }],
    });
    const t0 = api.clock.now();
    // 02:00 UTC is 03:00 in Berlin in December: move to the next 02:10 UTC.
    const day = Math.floor(t0 / D) * D;
    const at = day + 2 * H + 10 * MIN + (t0 - day > 2 * H + 10 * MIN ? D : 0);
    api.clock.advance(at - t0);
    const { sweep } = await import('../services/scheduler.ts');
    await sweep(api.ctx);
    const t = await detail(token);
    expect(t.state).toBe('maintenance');
    expect(t.maintenance).toMatchObject({
      active: true,
      start: new Date(at - 10 * MIN).toISOString(),
      end: new Date(at + 20 * MIN).toISOString(),
      reason: 'nightly backup',
    });
    const list = MaintenanceList.parse((await api.request('GET', '/api/v1/maintenance', { token })).body);
    expect(list.windows[0]).toMatchObject({
      id: null,
      test: 'edge-1/default/web',
      active: true,
      next: { start: new Date(at - 10 * MIN + D).toISOString() },
    });
    // 30 minutes later it has closed; the sweep moves the test on to the next night.
    api.clock.advance(25 * MIN);
    await sweep(api.ctx);
    const after = await detail(token);
    expect(after.state).not.toBe('maintenance');
    expect(after.maintenance).toMatchObject({ active: false, start: new Date(at - 10 * MIN + D).toISOString() });
  });

  it('lets a cluster token open windows in its own cluster only, and names what is wrong', async () => {
    const { token } = await setup();
    const now = api.clock.now();
    const span = { start: new Date(now).toISOString(), end: new Date(now + H).toISOString() };
    const elsewhere = await api.request('POST', '/api/v1/maintenance', {
      token,
      body: { cluster: 'edge-2', reason: 'x', ...span },
    });
    expect(elsewhere.status).toBe(404);
    const viewer = await api.token('viewer');
    expect(
      (await api.request('POST', '/api/v1/maintenance', { token: viewer, body: { reason: 'x', ...span } })).status,
    ).toBe(403);
    const everywhere = await api.request('POST', '/api/v1/maintenance', {
      token: api.admin,
      body: { reason: 'fleet-wide change', ...span },
    });
    expect(MaintenanceView.parse(everywhere.body).selector.cluster).toBeNull();
    const both = await api.request('POST', '/api/v1/maintenance', {
      token,
      body: { reason: 'x', ...span, schedule: '0 3 * * *', duration: '1h' },
    });
    expect(both.status).toBe(400);
    expect(ErrorEnvelope.parse(both.body).error.message).toMatch(
      /schedule: give either start\/end or schedule\/duration/,
    );
    const backwards = await api.request('POST', '/api/v1/maintenance', {
      token,
      body: { reason: 'x', start: span.end, end: span.start },
    });
    expect(ErrorEnvelope.parse(backwards.body).error.message).toMatch(/end: end must be after start/);
    const badCron = await api.request('POST', '/api/v1/maintenance', {
      token,
      body: { reason: 'x', schedule: '0 25 * * *', duration: '1h' },
    });
    expect(badCron.status).toBe(400);
    expect(ErrorEnvelope.parse(badCron.body).error.message).toMatch(/schedule/);
    // The fleet-wide window is in force here too.
    expect((await detail(token)).state).toBe('maintenance');
  });
});

describe('Run now', () => {
  it('wakes every assigned agent through its long-poll with the request, and is bounded per test', async () => {
    const { token, a, b } = await setup({ repeat: '1h' });
    const first = await api.poll(token, a);
    const version = Assignment.parse(first.body).version;
    await api.poll(token, b);
    // Both agents hold a long-poll; the request wakes them.
    const held = [a, b].map((id) => api.poll(token, id, version, 20));
    const asked = await api.request('POST', '/api/v1/tests/edge-1/default/web/run', { token });
    expect(asked.status).toBe(202);
    const r = RunNowResponse.parse(asked.body);
    expect(r.agents.map((x) => x.node)).toEqual(['node-a', 'node-b']);
    for (const woken of await Promise.all(held)) {
      const body = Assignment.parse(woken.body);
      expect(body.version).toBeGreaterThan(version);
      expect(body.tests[0]?.runRequest?.id).toBe(r.requestId);
    }
    const again = await api.request('POST', '/api/v1/tests/edge-1/default/web/run', { token });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(ErrorEnvelope.parse(again.body).error.message).toMatch(/ask again in \d+ s/);
    api.clock.advance(11_000);
    const later = await api.request('POST', '/api/v1/tests/edge-1/default/web/run', { token });
    expect(later.status).toBe(202);
    expect((await detail(token)).runRequest?.id).toBe(RunNowResponse.parse(later.body).requestId);
    // The manual run's result says so.
    await api.request('POST', '/api/v1/runs', {
      token,
      body: { agentId: a, runs: [runResult('web', 'pass', api.clock.now(), { trigger: { type: 'manual' } })] },
    });
    const runs = RunPage.parse((await api.request('GET', '/api/v1/tests/edge-1/default/web/runs', { token })).body);
    expect(runs.runs[0]?.trigger).toEqual({ type: 'manual' });
  });
});
