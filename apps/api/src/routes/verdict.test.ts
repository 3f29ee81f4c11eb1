/**
 * One verdict per test on every surface (contracts' verdict.ts): the JSON API (one test, the list
 * and its filter, the fleet), the dashboard, the roll-ups the syncer writes back as the resource's
 * phase, and synthetic-heart's /ping, for the same data.
 */
import { FleetView, RollupList, TestDetail, TestPage, type Verdict } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
let token = '';
const expected: Record<string, Verdict> = {
  'pass-t': 'passing',
  'fail-t': 'failing',
  'degr-t': 'degraded',
  'stale-t': 'stale',
  'pend-t': 'pending',
  'skip-t': 'skipped',
  'unsup-t': 'unsupported',
  'maint-t': 'maintenance',
};

beforeAll(async () => {
  api = await createTestApi();
  token = await api.token('cluster', 'edge-1');
  const a = await api.register(token, 'node-a');
  const b = await api.register(token, 'node-b');
  for (const name of ['pass-t', 'fail-t', 'stale-t', 'pend-t', 'skip-t', 'maint-t'])
    await api.putTest(token, 'edge-1', syntheticTest(name));
  await api.putTest(token, 'edge-1', syntheticTest('degr-t', { quorum: 2 }));
  // No agent here offers curl.
  await api.putTest(
    token,
    'edge-1',
    syntheticTest('unsup-t', { plugin: 'curl', config: { url: 'http://127.0.0.1:9/' } }),
  );
  const now = api.clock.now();
  // Failing, but inside an open maintenance window: `maintenance`, not a problem.
  await api.request('POST', '/api/v1/maintenance', {
    token,
    body: {
      name: 'maint-*',
      reason: 'router swap',
      start: new Date(now - 60_000).toISOString(),
      end: new Date(now + 3_600_000).toISOString(),
    },
  });
  const send = (agentId: string, runs: unknown[]) =>
    api.request('POST', '/api/v1/runs', { token, body: { agentId, runs } });
  await send(a, [
    runResult('pass-t', 'pass', now),
    runResult('fail-t', 'fail', now),
    runResult('degr-t', 'fail', now),
    runResult('skip-t', 'skipped', now),
    runResult('maint-t', 'fail', now),
    // Ten minutes without news (STALE_RESULT_SECONDS is 5 minutes).
    runResult('stale-t', 'pass', now - 10 * 60_000),
  ]);
  await send(b, [
    runResult('pass-t', 'pass', now),
    runResult('fail-t', 'pass', now),
    runResult('degr-t', 'pass', now),
    runResult('skip-t', 'skipped', now),
  ]);
});
afterAll(() => api.close());

describe('the verdict', () => {
  it('is the same in the JSON API, its list filter and the fleet counts', async () => {
    for (const [name, state] of Object.entries(expected)) {
      const t = TestDetail.parse((await api.request('GET', `/api/v1/tests/edge-1/default/${name}`)).body);
      expect(t.state, name).toBe(state);
      const page = TestPage.parse((await api.request('GET', `/api/v1/tests?cluster=edge-1&status=${state}`)).body);
      expect(
        page.tests.map((x) => x.name),
        state,
      ).toEqual([name]);
    }
    const stale = TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/stale-t')).body);
    expect(stale.stateReason).toMatch(/^no result for 9m 59s/); // the run ended 120 ms after it began
    const fleet = FleetView.parse((await api.request('GET', '/api/v1/fleet')).body);
    expect(fleet.clusters[0]?.tests).toEqual({
      failing: 1,
      degraded: 1,
      stale: 1,
      pending: 1,
      maintenance: 1,
      unsupported: 1,
      skipped: 1,
      passing: 1,
    });
  });

  it('is the same on the dashboard', async () => {
    const cookie = await api.cookie();
    const html = await (await api.app.request('/?cluster=edge-1', { headers: { cookie } })).text();
    for (const [name, state] of Object.entries(expected))
      expect(html, name).toContain(`data-status="${state}" data-test="edge-1/default/${name}"`);
    // Skipped and unsupported are counted apart from problems.
    expect(html).toMatch(/not problems: 1 in maintenance, 1 skipped, 1 unsupported/);
  });

  it('is what the syncer writes back (the roll-ups), with the reason for stale', async () => {
    const r = RollupList.parse((await api.request('GET', '/api/v1/clusters/edge-1/rollups', { token })).body);
    const by = Object.fromEntries(r.tests.map((t) => [t.name, t]));
    for (const [name, state] of Object.entries(expected)) expect(by[name]?.state, name).toBe(state);
    expect(by['stale-t']?.stateReason).toMatch(/^no result for/);
  });

  it("is what synthetic-heart's /ping reports: failing, degraded and stale tests are its failed tests", async () => {
    const ping = z
      .object({ status: z.number(), failedTests: z.record(z.string(), z.object({ status: z.number() })) })
      .parse((await api.request('GET', '/api/v1/ping?cluster=edge-1', { token })).body);
    expect(Object.keys(ping.failedTests).sort()).toEqual(['degr-t', 'fail-t', 'stale-t']);
    expect(ping.failedTests['degr-t']?.status).toBe(2);
    expect(ping.failedTests['stale-t']?.status).toBe(0);
    expect(ping.failedTests['fail-t']?.status).toBe(1);
    expect(ping.status).toBe(1);
  });

  it('is what /metrics exports: synthfleet_test_state is 1 for it and 0 for every other state', async () => {
    const r = await api.request('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const [name, state] of Object.entries(expected)) {
      const lines = r.text
        .split('\n')
        .filter((l) => l.startsWith(`synthfleet_test_state{cluster="edge-1",namespace="default",test="${name}",`));
      expect(lines, name).toHaveLength(8);
      expect(
        lines.filter((l) => l.endsWith(' 1')),
        name,
      ).toEqual([`synthfleet_test_state{cluster="edge-1",namespace="default",test="${name}",state="${state}"} 1`]);
    }
    expect(r.text).toContain('synthfleet_test_failing_agents{cluster="edge-1",namespace="default",test="degr-t"} 1');
    expect(r.text).toContain('synthfleet_test_assigned_agents{cluster="edge-1",namespace="default",test="degr-t"} 2');
    expect(r.text).toContain('synthfleet_cluster_agents{cluster="edge-1",state="live"} 2');
    expect(r.text).toMatch(/synthfleet_api_runs_total\{outcome="accepted"\} 10\n/);
    expect(r.text).toMatch(
      /synthfleet_test_last_result_age_seconds\{cluster="edge-1",namespace="default",test="stale-t"\} 599\.\d+/,
    );
    // The same at /api/v1/metrics.
    const v1 = await api.request('GET', '/api/v1/metrics');
    expect(v1.text.split('\n').filter((l) => l.startsWith('synthfleet_test_state'))).toEqual(
      r.text.split('\n').filter((l) => l.startsWith('synthfleet_test_state')),
    );
  });

  it('/metrics answers admin, viewer and metrics tokens; a metrics token reads nothing else', async () => {
    const metrics = await api.token('metrics');
    const viewer = await api.token('viewer');
    for (const t of [metrics, viewer]) {
      expect((await api.request('GET', '/metrics', { token: t })).status).toBe(200);
      expect((await api.request('GET', '/api/v1/metrics', { token: t })).status).toBe(200);
    }
    expect((await api.request('GET', '/metrics', { token })).status).toBe(404);
    expect((await api.request('GET', '/metrics', { token: null })).status).toBe(401);
    for (const path of ['/api/v1/tests', '/api/v1/fleet', '/api/v1/ping?cluster=edge-1', '/api/v1/tokens'])
      expect((await api.request('GET', path, { token: metrics })).status, path).toBe(403);
    const login = await api.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: metrics, next: '/' }).toString(),
    });
    expect(login.status).toBe(403);
    expect(login.headers.get('set-cookie')).toBeNull();
  });
});
