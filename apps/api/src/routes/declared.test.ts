import { MaintenanceView, WhoAmI } from '@synthfleet/contracts';
/**
 * Tests generated from the route declarations (`createApp().routes`), so a new route cannot escape
 * them: every route's roles hold (a role it does not name is refused: 403 for a viewer, 404 for a
 * cluster token), and a cluster token gets a 404 for every route that names another cluster's
 * objects and sees nothing of them in any list. A route with a body needs a valid sample here
 * (the test says which is missing), so the check reaches the access rule, not the validator.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Route } from '../lib/route.ts';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
let own = '';
let agentId = '';
let tokenId = '';
let windowId = 0;
beforeEach(async () => {
  api = await createTestApi();
  own = await api.token('cluster', 'edge-1');
  agentId = await api.register(own, 'secret-node');
  await api.putTest(own, 'edge-1', syntheticTest('secret-test'));
  await api.request('POST', '/api/v1/runs', {
    token: own,
    body: { agentId, runs: [runResult('secret-test', 'fail', api.clock.now())] },
  });
  tokenId = WhoAmI.parse((await api.request('GET', '/api/v1/whoami', { token: own })).body).tokenId;
  windowId = MaintenanceView.parse(
    (await api.request('POST', '/api/v1/maintenance', { token: own, body: maintenanceSample() })).body,
  ).id as number;
});

const maintenanceSample = () => ({
  cluster: 'edge-1',
  name: 'secret-*',
  reason: 'sample',
  start: new Date(api.clock.now() + 3_600_000).toISOString(),
  end: new Date(api.clock.now() + 7_200_000).toISOString(),
});
afterEach(() => api.close());

/** A valid body for each route that takes one, naming edge-1's objects. */
function sampleBody(r: Route): unknown {
  const samples: Record<string, () => unknown> = {
    createToken: () => ({ role: 'viewer', name: 'sample' }),
    upsertTest: () => syntheticTest('secret-test', { displayName: 'changed' }),
    putSnapshot: () => ({ items: [] }),
    registerAgent: () => ({ cluster: 'edge-1', node: 'another-node', version: '1.0.0' }),
    sendRuns: () => ({ agentId, runs: [runResult('secret-test', 'pass', api.clock.now())] }),
    claimRemedy: () => ({ namespace: 'default', name: 'secret-test', revision: 1, runId: 'run-00000001', failures: 3 }),
    finishRemedy: () => ({ status: 'succeeded', message: 'done' }),
    putFleetTest: () => ({
      ...syntheticTest('secret-test'),
      spec: { ...syntheticTest('secret-test').spec, clusters: ['edge-*'] },
    }),
    setClusterLabels: () => ({ labels: { region: 'eu' } }),
    createMaintenance: maintenanceSample,
  };
  const make = samples[r.operationId];
  if (!make) throw new Error(`route ${r.operationId} takes a body: give it a valid sample in declared.test.ts`);
  return make();
}

/** The route's path with edge-1's objects filled in, and `?cluster=edge-1` where it takes one. */
function concrete(r: Route): string {
  const values: Record<string, string> = {
    cluster: 'edge-1',
    namespace: 'default',
    name: 'secret-test',
    agentId,
    remedyId: '00000000-0000-4000-8000-000000000000',
    id: /^\/api\/v1\/(testrun|plugin)\//.test(r.path)
      ? encodeURIComponent('secret-test/default/secret-node/default')
      : r.path.startsWith('/api/v1/maintenance/')
        ? String(windowId)
        : tokenId,
  };
  const path = r.path.replace(/\{(\w+)\}/g, (_, p: string) => {
    const v = values[p];
    if (v === undefined) throw new Error(`route ${r.operationId}: no sample for path parameter ${p}`);
    return v;
  });
  return r.query && 'cluster' in r.query.shape ? `${path}?cluster=edge-1` : path;
}

const call = (r: Route, token: string) =>
  api.request(r.method.toUpperCase(), concrete(r), { token, body: r.body ? sampleBody(r) : undefined });

describe('generated from the route declarations', () => {
  it('refuses every role a route does not name: 403 for a viewer, 404 for a cluster token, and lets the others through', async () => {
    const viewer = await api.token('viewer');
    const tokens = { admin: api.admin, viewer, cluster: own } as const;
    const declared = api.routes.filter((r) => r.roles !== 'public');
    expect(declared.length).toBeGreaterThan(30);
    // Reads first, then writes (a DELETE may remove what a later read names: that is a 404, fine).
    const ordered = [...declared].sort((a, b) => Number(a.method !== 'get') - Number(b.method !== 'get'));
    for (const r of ordered) {
      for (const role of ['viewer', 'cluster', 'admin'] as const) {
        const res = await call(r, tokens[role]);
        const what = `${role} ${r.method.toUpperCase()} ${r.path} (${res.status} ${res.text.slice(0, 200)})`;
        if (r.roles === 'public') continue;
        if (!r.roles.includes(role)) {
          expect(res.status, what).toBe(role === 'viewer' ? 403 : 404);
        } else {
          expect([401, 403, 500].includes(res.status), what).toBe(false);
        }
      }
    }
  });

  it("gives a cluster token a 404 on every route that names another cluster's objects, and no list shows them", async () => {
    const wrong = await api.token('cluster', 'edge-2');
    for (const r of api.routes.filter((x) => x.roles !== 'public')) {
      const res = await call(r, wrong);
      const what = `${r.method.toUpperCase()} ${concrete(r)} (${res.status})`;
      const namesObjects =
        /\{\w+\}/.test(r.path) || r.body !== undefined || (r.roles !== 'public' && !r.roles.includes('cluster'));
      if (namesObjects) {
        expect(res.status, what).toBe(404);
        if (r.plainTextErrors) expect(res.headers.get('content-type'), what).toMatch(/^text\/plain/);
        else expect(res.body, what).toMatchObject({ error: { code: 'NOT_FOUND' } });
      } else {
        expect([200, 404].includes(res.status), what).toBe(true);
      }
      expect(res.text, what).not.toMatch(/secret-node|went fail|httpPing/);
      if (res.status === 200) expect(res.text, what).not.toContain('secret');
    }
    // And nothing of edge-1 changed.
    const still = await api.request('GET', '/api/v1/tests/edge-1/default/secret-test', { token: own });
    expect(still.body).toMatchObject({ revision: 1, state: 'failing' });
  });
});
