import { Assignment, ErrorEnvelope, FleetTestList, FleetTestView, TestDetail } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../services/scheduler.ts';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
const tokens: Record<string, string> = {};
const agentIds: Record<string, string[]> = {};
const CLUSTERS = { 'edge-eu-1': 'eu', 'edge-eu-2': 'eu', 'edge-us-1': 'us' } as const;

const fleetTest = (name: string, clusters: string[], quorum?: number | string) => ({
  ...syntheticTest(name),
  spec: { ...syntheticTest(name).spec, clusters, ...(quorum === undefined ? {} : { quorum }) },
});

beforeAll(async () => {
  api = await createTestApi();
  for (const [cluster, region] of Object.entries(CLUSTERS)) {
    tokens[cluster] = await api.token('cluster', cluster);
    agentIds[cluster] = [
      await api.register(tokens[cluster] as string, `${cluster}-a`),
      await api.register(tokens[cluster] as string, `${cluster}-b`),
    ];
    const r = await api.request('PUT', `/api/v1/clusters/${cluster}/labels`, { body: { labels: { region } } });
    expect(r.status).toBe(200);
  }
});
afterAll(() => api.close());

async function report(cluster: string, name: string, status: 'pass' | 'fail') {
  const at = api.clock.now();
  for (const agentId of agentIds[cluster] ?? []) {
    const r = await api.request('POST', '/api/v1/runs', {
      token: tokens[cluster],
      body: { agentId, runs: [runResult(name, status, at)] },
    });
    expect(r.status).toBe(200);
  }
}
const view = async (name: string) =>
  FleetTestView.parse((await api.request('GET', `/api/v1/fleet-tests/default/${name}`)).body);

describe('fleet tests', () => {
  it('are placed in every selected cluster (by name glob or label), its node selector inside each', async () => {
    const r = await api.request('PUT', '/api/v1/fleet-tests/default/reach', {
      body: fleetTest('reach', ['region=eu', 'edge-us-*'], 2),
    });
    expect(r.status).toBe(201);
    const v = FleetTestView.parse(r.body);
    expect(v.selected.map((s) => s.cluster).sort()).toEqual(['edge-eu-1', 'edge-eu-2', 'edge-us-1']);
    for (const [cluster, ids] of Object.entries(agentIds)) {
      for (const agentId of ids) {
        const a = Assignment.parse((await api.poll(tokens[cluster] as string, agentId)).body);
        expect(
          a.tests.map((t) => t.name),
          `${cluster} ${agentId}`,
        ).toContain('reach');
      }
    }
    expect(v.state).toBe('pending');
  });

  it('fail with the quorum of clusters, and are degraded below it', async () => {
    await report('edge-eu-1', 'reach', 'fail');
    await report('edge-eu-2', 'reach', 'fail');
    await report('edge-us-1', 'reach', 'pass');
    const failing = await view('reach');
    expect(failing.state).toBe('failing');
    expect(failing.selected.map((s) => [s.cluster, s.state])).toEqual([
      ['edge-eu-1', 'failing'],
      ['edge-eu-2', 'failing'],
      ['edge-us-1', 'passing'],
    ]);
    expect(failing.selected[0]?.failingSince).not.toBeNull();
    // The dashboard's fleet tests section: the verdict, each cluster's state and since when, linked.
    const cookie = await api.cookie();
    const html = await (await api.app.request('/', { headers: { cookie } })).text();
    expect(html).toContain('data-fleet-test="default/reach" data-status="failing"');
    expect(html).toMatch(
      /<a class="chip s-failing" data-cluster="edge-eu-1" data-status="failing" href="\/tests\/edge-eu-1\/default\/reach"[^>]*>edge-eu-1 <span class="small">since /,
    );
    expect(html).toContain('data-cluster="edge-us-1" data-status="passing"');
    expect(html).toContain('2 of 3');
    // One region recovers: one cluster of three fails, under the quorum of 2.
    await report('edge-eu-2', 'reach', 'pass');
    expect((await view('reach')).state).toBe('degraded');
    // Default quorum: every selected cluster must fail.
    await api.request('PUT', '/api/v1/fleet-tests/default/reach-all', { body: fleetTest('reach-all', ['edge-*']) });
    await report('edge-eu-1', 'reach-all', 'fail');
    await report('edge-eu-2', 'reach-all', 'fail');
    await report('edge-us-1', 'reach-all', 'pass');
    expect((await view('reach-all')).state).toBe('degraded');
    await report('edge-us-1', 'reach-all', 'fail');
    expect((await view('reach-all')).state).toBe('failing');
    const list = FleetTestList.parse((await api.request('GET', '/api/v1/fleet-tests')).body);
    expect(list.fleetTests.map((f) => [f.name, f.state])).toEqual([
      ['reach', 'degraded'],
      ['reach-all', 'failing'],
    ]);
    // The control plane's series.
    const metrics = (await api.request('GET', '/metrics')).text;
    expect(metrics).toContain('synthfleet_fleet_test_state{namespace="default",test="reach",state="degraded"} 1');
    expect(metrics).toContain('synthfleet_fleet_test_state{namespace="default",test="reach-all",state="failing"} 1');
  });

  it("give a cluster token its own cluster's share and nothing else", async () => {
    const us = tokens['edge-us-1'] as string;
    expect(
      TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-us-1/default/reach', { token: us })).body).state,
    ).toBe('passing');
    expect((await api.request('GET', '/api/v1/tests/edge-eu-1/default/reach', { token: us })).status).toBe(404);
    expect((await api.request('GET', '/api/v1/fleet-tests', { token: us })).status).toBe(404);
    expect((await api.request('GET', '/api/v1/fleet-tests/default/reach', { token: us })).status).toBe(404);
    expect(
      (await api.request('PUT', '/api/v1/fleet-tests/default/x', { token: us, body: fleetTest('x', ['*']) })).status,
    ).toBe(404);
    // Its syncer cannot overwrite the share, and its snapshots leave it alone.
    const put = await api.putTest(us, 'edge-us-1', syntheticTest('reach'));
    expect(put.status).toBe(409);
    expect(ErrorEnvelope.parse(put.body).error.message).toMatch(/fleet test default\/reach/);
    expect(
      (await api.request('PUT', '/api/v1/clusters/edge-us-1/tests', { token: us, body: { items: [] } })).status,
    ).toBe(200);
    expect((await api.request('GET', '/api/v1/tests/edge-us-1/default/reach', { token: us })).status).toBe(200);
  });

  it('follow the selection: a new matching cluster picks them up within one sweep, a cluster leaving drops them', async () => {
    const token = await api.token('cluster', 'edge-us-2');
    const agent = await api.register(token, 'edge-us-2-a');
    await sweep(api.ctx);
    const a = Assignment.parse((await api.poll(token, agent)).body);
    expect(a.tests.map((t) => t.name).sort()).toEqual(['reach', 'reach-all']);
    // edge-eu-2 moves region: `region=eu` no longer selects it.
    await api.request('PUT', '/api/v1/clusters/edge-eu-2/labels', { body: { labels: { region: 'apac' } } });
    expect((await view('reach')).selected.map((s) => s.cluster).sort()).toEqual([
      'edge-eu-1',
      'edge-us-1',
      'edge-us-2',
    ]);
    expect((await api.request('GET', '/api/v1/tests/edge-eu-2/default/reach')).status).toBe(404);
    // Deleting the fleet test removes every share.
    expect((await api.request('DELETE', '/api/v1/fleet-tests/default/reach-all')).status).toBe(204);
    expect((await api.request('GET', '/api/v1/tests/edge-us-1/default/reach-all')).status).toBe(404);
    expect((await api.request('GET', '/api/v1/fleet-tests/default/reach-all')).status).toBe(404);
  });

  it('name what is wrong in a bad body and store nothing', async () => {
    const none = await api.request('PUT', '/api/v1/fleet-tests/default/bad', { body: syntheticTest('bad') });
    expect(none.status).toBe(400);
    expect(ErrorEnvelope.parse(none.body).error.message).toMatch(/spec\.clusters/);
    const quorum = await api.request('PUT', '/api/v1/fleet-tests/default/bad', {
      body: fleetTest('bad', ['*'], 0),
    });
    expect(ErrorEnvelope.parse(quorum.body).error.message).toMatch(/spec\.quorum/);
    const plugin = await api.request('PUT', '/api/v1/fleet-tests/default/bad', {
      body: { ...fleetTest('bad', ['*']), spec: { ...fleetTest('bad', ['*']).spec, plugin: 'nope' } },
    });
    expect(ErrorEnvelope.parse(plugin.body).error.message).toMatch(/spec\.plugin/);
    expect((await api.request('GET', '/api/v1/fleet-tests/default/bad')).status).toBe(404);
    const labels = await api.request('PUT', '/api/v1/clusters/edge-eu-1/labels', {
      body: { labels: { 'bad key!': 'x' } },
    });
    expect(labels.status).toBe(400);
  });
});
