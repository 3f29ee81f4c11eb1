import { ClusterList, ErrorEnvelope, FleetView, TestPage } from '@synthfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweep } from '../services/scheduler.ts';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
const tokens: Record<string, string> = {};
const agents: Record<string, string> = {};

beforeEach(async () => {
  api = await createTestApi();
  for (const cluster of ['alpha', 'beta', 'gamma']) {
    tokens[cluster] = await api.token('cluster', cluster);
    agents[cluster] = await api.register(tokens[cluster] as string, `${cluster}-node`);
  }
  const now = api.clock.now();
  await api.putTest(
    tokens.alpha as string,
    'alpha',
    syntheticTest('web', { importance: 'low', labels: { team: 'web' } }),
  );
  await api.putTest(
    tokens.alpha as string,
    'alpha',
    syntheticTest('dns', { plugin: 'dns', importance: 'critical', labels: { team: 'net' } }),
  );
  await api.putTest(tokens.beta as string, 'beta', syntheticTest('web', { labels: { team: 'web' } }));
  await api.putTest(tokens.gamma as string, 'gamma', syntheticTest('idle'));
  const send = (cluster: string, runs: unknown[]) =>
    api.request('POST', '/api/v1/runs', { token: tokens[cluster], body: { agentId: agents[cluster], runs } });
  await send('alpha', [runResult('web', 'fail', now - 5000), runResult('dns', 'fail', now - 1000)]);
  await send('beta', [runResult('web', 'pass', now - 1000)]);
});
afterEach(() => api.close());

describe('dashboard reads', () => {
  it('the fleet lists failing clusters first and failing tests by importance', async () => {
    const fleet = FleetView.parse((await api.request('GET', '/api/v1/fleet')).body);
    expect(fleet.clusters.map((c) => c.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(fleet.clusters[0]).toMatchObject({ agentsLive: 1, testsFailing: 2, testsTotal: 2 });
    expect(fleet.clusters[1]).toMatchObject({ testsPassing: 1, testsFailing: 0 });
    expect(fleet.clusters[2]).toMatchObject({ testsPending: 1, lastResultAt: null });
    expect(fleet.failingTests.map((t) => `${t.key}:${t.importance}`)).toEqual([
      'alpha/default/dns:critical',
      'alpha/default/web:low',
    ]);
    expect(fleet.staleAgents).toEqual([]);
  });

  it('the fleet calls out stale agents', async () => {
    api.clock.advance(61_000);
    await api.poll(tokens.beta as string, agents.beta as string);
    await sweep(api.ctx);
    const fleet = FleetView.parse((await api.request('GET', '/api/v1/fleet')).body);
    expect(fleet.staleAgents.map((a) => a.node).sort()).toEqual(['alpha-node', 'gamma-node']);
    expect(fleet.clusters.find((c) => c.name === 'beta')).toMatchObject({ agentsLive: 1, agentsStale: 0 });
  });

  it('filters tests by cluster, status, label, plugin and importance, with paging', async () => {
    const names = async (q: string) =>
      TestPage.parse((await api.request('GET', `/api/v1/tests?${q}`)).body)
        .tests.map((t) => t.key)
        .sort();
    expect(await names('status=failing')).toEqual(['alpha/default/dns', 'alpha/default/web']);
    expect(await names('label=team%3Dweb')).toEqual(['alpha/default/web', 'beta/default/web']);
    expect(await names('cluster=beta')).toEqual(['beta/default/web']);
    expect(await names('plugin=dns')).toEqual(['alpha/default/dns']);
    expect(await names('importance=critical')).toEqual(['alpha/default/dns']);
    const page1 = TestPage.parse((await api.request('GET', '/api/v1/tests?limit=2')).body);
    expect(page1.tests).toHaveLength(2);
    const page2 = TestPage.parse((await api.request('GET', `/api/v1/tests?limit=2&cursor=${page1.nextCursor}`)).body);
    expect(page2.tests).toHaveLength(2);
    expect(page2.nextCursor).toBeNull();
    expect((await api.request('GET', '/api/v1/tests?status=sad')).status).toBe(400);
    expect((await api.request('GET', '/api/v1/tests?label=novalue')).status).toBe(400);
    expect((await api.request('GET', '/api/v1/tests?limit=0')).status).toBe(400);
  });

  it('a cluster token sees only its own cluster in every list', async () => {
    const beta = tokens.beta as string;
    const fleet = FleetView.parse((await api.request('GET', '/api/v1/fleet', { token: beta })).body);
    expect(fleet.clusters.map((c) => c.name)).toEqual(['beta']);
    expect(fleet.failingTests).toEqual([]);
    const list = TestPage.parse((await api.request('GET', '/api/v1/tests', { token: beta })).body);
    expect(new Set(list.tests.map((t) => t.cluster))).toEqual(new Set(['beta']));
    const asked = TestPage.parse((await api.request('GET', '/api/v1/tests?cluster=alpha', { token: beta })).body);
    expect(asked.tests).toEqual([]);
    const clusters = ClusterList.parse((await api.request('GET', '/api/v1/clusters', { token: beta })).body);
    expect(clusters.clusters.map((c) => c.name)).toEqual(['beta']);
    expect((await api.request('GET', '/api/v1/clusters/alpha', { token: beta })).status).toBe(404);
    expect((await api.request('GET', '/api/v1/clusters/beta', { token: beta })).status).toBe(200);
  });

  it('a viewer sees everything and writes nothing', async () => {
    const viewer = await api.token('viewer');
    expect(
      ClusterList.parse((await api.request('GET', '/api/v1/clusters', { token: viewer })).body).clusters,
    ).toHaveLength(3);
    const put = await api.putTest(viewer, 'alpha', syntheticTest('sneaky'));
    expect(put.status).toBe(403);
    const del = await api.request('DELETE', '/api/v1/clusters/alpha/tests/default/web', { token: viewer });
    expect(del.status).toBe(403);
    const snap = await api.request('PUT', '/api/v1/clusters/alpha/tests', { token: viewer, body: { items: [] } });
    expect(snap.status).toBe(403);
    expect(TestPage.parse((await api.request('GET', '/api/v1/tests?cluster=alpha')).body).tests).toHaveLength(2);
  });

  it('takes query integers in decimal digits only', async () => {
    const runs = '/api/v1/tests/alpha/default/web/runs';
    expect((await api.request('GET', `${runs}?limit=16`)).status).toBe(200);
    for (const bad of ['0x10', '1e1', '+5', '%2016', '16.0', '0b1', '', '-1']) {
      const r = await api.request('GET', `${runs}?limit=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(ErrorEnvelope.parse(r.body).error.message, bad).toContain('limit');
    }
    const poll = await api.request('GET', `/api/v1/agents/${agents.alpha}/assignments?version=0x1&wait=0`, {
      token: tokens.alpha,
    });
    expect(poll.status).toBe(400);
    expect(ErrorEnvelope.parse(poll.body).error.message).toContain('version: must be a whole number in decimal digits');
  });
});
