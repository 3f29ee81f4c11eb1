import { AgentList, Assignment, ErrorEnvelope, TestDetail } from '@synthfleet/contracts';
import { waitFor } from '@synthfleet/test-support/wait.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sweep } from '../services/scheduler.ts';
import { createTestApi, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
afterEach(() => api?.close());

const assignment = (r: { body: unknown }) => Assignment.parse(r.body);
const testNames = (r: { body: unknown }) =>
  assignment(r)
    .tests.map((t) => t.name)
    .sort();

describe('agent registration and long-poll', () => {
  it('registers (cluster from the token) and answers at once with the assignment', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    await api.putTest(t, 'edge-1', syntheticTest('web'));
    const agentId = await api.register(t, 'node-a', { pod: 'agent-x', heartbeatUrl: 'http://127.0.0.1:9100' });
    const r = await api.poll(t, agentId);
    expect(r.status).toBe(200);
    const a = assignment(r);
    expect(a.agentId).toBe(agentId);
    expect(a.version).toBeGreaterThan(0);
    expect(a.tests).toHaveLength(1);
    expect(a.tests[0]).toMatchObject({ key: 'edge-1/default/web', revision: 1, spec: { plugin: 'httpPing' } });
    // Registering the same node again keeps the agent id.
    expect(await api.register(t, 'node-a')).toBe(agentId);
  });

  it('keeps what an agent reports on its polls (undelivered and dropped results), and rejects nonsense', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    const agentId = await api.register(t, 'node-a');
    const view = async () => (await api.request('GET', `/api/v1/agents/${agentId}`, { token: t })).body;
    expect(await view()).toMatchObject({ spoolDepth: null, resultsDropped: null });
    expect(
      (await api.request('GET', `/api/v1/agents/${agentId}/assignments?spool=7&dropped=2`, { token: t })).status,
    ).toBe(200);
    expect(await view()).toMatchObject({ spoolDepth: 7, resultsDropped: 2 });
    // A change is written at once, even within the interval that spares idle polls a write.
    await api.request('GET', `/api/v1/agents/${agentId}/assignments?spool=0&dropped=2`, { token: t });
    expect(await view()).toMatchObject({ spoolDepth: 0, resultsDropped: 2 });
    const bad = await api.request('GET', `/api/v1/agents/${agentId}/assignments?spool=-1`, { token: t });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('spool');
    expect(await view()).toMatchObject({ spoolDepth: 0, resultsDropped: 2 });
  });

  it('answers 304 after the wait when nothing changed, and wakes a held poll on a change', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    const agentId = await api.register(t, 'node-a');
    const first = assignment(await api.poll(t, agentId));
    const idle = await api.poll(t, agentId, first.version, 1);
    expect(idle.status).toBe(304);
    expect(idle.headers.get('x-assignment-version')).toBe(String(first.version));

    const held = api.poll(t, agentId, first.version, 30);
    // The poll reads the database before it waits: over HTTP on a loaded machine that takes a while.
    await waitFor(() => api.hub.held() === 1, 20_000, 'the poll to be held');
    await api.putTest(t, 'edge-1', syntheticTest('web'));
    const woken = await held;
    expect(woken.status).toBe(200);
    expect(assignment(woken).version).toBeGreaterThan(first.version);
    expect(testNames(woken)).toEqual(['web']);
    expect(api.hub.held()).toBe(0);
  });

  it('agents woken together by one change share one read of their assignment', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    await api.putTest(t, 'edge-1', syntheticTest('web', { node: '*' }));
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => api.register(t, `node-${i}`)));
    const firsts = await Promise.all(ids.map(async (id) => assignment(await api.poll(t, id))));
    const held = ids.map((id, i) => api.poll(t, id, firsts[i]?.version, 30));
    await waitFor(() => api.hub.held() === ids.length, 20_000, 'every poll to be held');
    const reads = vi.spyOn(api.ctx.assignments.bodies, 'set');
    await api.putTest(t, 'edge-1', syntheticTest('web', { node: '*', repeat: '5s' }));
    const woken = await Promise.all(held);
    expect(woken.map((w) => w.status)).toEqual(ids.map(() => 200));
    expect(new Set(woken.map((w) => JSON.stringify(assignment(w).tests)))).toHaveProperty('size', 1);
    expect(assignment(woken[0] as { body: unknown }).tests[0]?.spec.repeat).toBe('5s');
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('a config change reaches the agent with a new revision; a removed test disappears', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    const agentId = await api.register(t, 'node-a');
    await api.putTest(t, 'edge-1', syntheticTest('web'));
    const v1 = assignment(await api.poll(t, agentId));
    await api.putTest(t, 'edge-1', syntheticTest('web', { repeat: '5s' }));
    const v2 = assignment(await api.poll(t, agentId, v1.version));
    expect(v2.version).toBeGreaterThan(v1.version);
    expect(v2.tests[0]).toMatchObject({ revision: 2, spec: { repeat: '5s' } });
    await api.request('DELETE', '/api/v1/clusters/edge-1/tests/default/web', { token: t });
    const v3 = assignment(await api.poll(t, agentId, v2.version));
    expect(v3.tests).toEqual([]);
  });

  it('a change bumps only the versions of the agents it affects', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    const a = await api.register(t, 'worker-1');
    const b = await api.register(t, 'infra-1');
    const va = assignment(await api.poll(t, a)).version;
    const vb = assignment(await api.poll(t, b)).version;
    await api.putTest(t, 'edge-1', syntheticTest('workers-only', { node: 'worker*' }));
    expect(assignment(await api.poll(t, a)).version).toBe(va + 1);
    expect((await api.poll(t, b, vb)).status).toBe(304);
  });

  it('`*` and prefix selectors place a test on every matching live agent', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    const ids: Record<string, string> = {};
    for (const node of ['worker-1', 'worker-2', 'infra-1']) ids[node] = await api.register(t, node);
    await api.putTest(t, 'edge-1', syntheticTest('everywhere', { node: '*' }));
    await api.putTest(t, 'edge-1', syntheticTest('workers', { node: 'worker*' }));
    await api.putTest(t, 'edge-1', syntheticTest('exact', { node: 'infra-1' }));
    expect(testNames(await api.poll(t, ids['worker-1'] as string))).toEqual(['everywhere', 'workers']);
    expect(testNames(await api.poll(t, ids['worker-2'] as string))).toEqual(['everywhere', 'workers']);
    expect(testNames(await api.poll(t, ids['infra-1'] as string))).toEqual(['everywhere', 'exact']);
    const detail = await api.request('GET', '/api/v1/tests/edge-1/default/workers');
    expect(TestDetail.parse(detail.body).assignedTo.map((x) => x.node)).toEqual(['worker-1', 'worker-2']);
  });

  it('`$` picks exactly one agent, uniformly: every one of 10 agents is reached over repeated picks', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    const nodes = Array.from({ length: 10 }, (_, i) => `node-${i}`);
    for (const n of nodes) await api.register(t, n);
    const holders = new Map<string, number>();
    for (let i = 0; i < 120; i++) {
      const name = `one-${i}`;
      await api.putTest(t, 'edge-1', syntheticTest(name, { node: '$' }));
      const d = TestDetail.parse((await api.request('GET', `/api/v1/tests/edge-1/default/${name}`)).body);
      expect(d.assignedTo).toHaveLength(1);
      const node = d.assignedTo[0]?.node as string;
      holders.set(node, (holders.get(node) ?? 0) + 1);
    }
    expect([...holders.keys()].sort()).toEqual([...nodes].sort());
    // A pinned `$` test stays where it is while its agent lives: re-registering others moves nothing.
    const before = TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/one-0')).body);
    await api.register(t, 'node-new');
    const after = TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/one-0')).body);
    expect(after.assignedTo).toEqual(before.assignedTo);
  }, 120_000);

  it('`prefix$` picks among the prefix only', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    for (const n of ['gpu-1', 'gpu-2', 'cpu-1']) await api.register(t, n);
    for (let i = 0; i < 20; i++) {
      await api.putTest(t, 'edge-1', syntheticTest(`g-${i}`, { node: 'gpu$' }));
      const d = TestDetail.parse((await api.request('GET', `/api/v1/tests/edge-1/default/g-${i}`)).body);
      expect(d.assignedTo).toHaveLength(1);
      expect(d.assignedTo[0]?.node).toMatch(/^gpu-/);
    }
  });

  it("a stale agent loses its `$` test within one sweep and the new holder's pending poll wakes", async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    const a = await api.register(t, 'node-a');
    const b = await api.register(t, 'node-b');
    await api.putTest(t, 'edge-1', syntheticTest('single', { node: '$' }));
    const detail = async () =>
      TestDetail.parse((await api.request('GET', '/api/v1/tests/edge-1/default/single')).body).assignedTo;
    const holder = (await detail())[0]?.agentId as string;
    const other = holder === a ? b : a;
    const otherVersion = assignment(await api.poll(t, other)).version;
    // Only the other agent keeps polling; its poll is held when the holder goes stale.
    api.clock.advance(40_000);
    await api.poll(t, other, otherVersion, 0);
    api.clock.advance(25_000);
    const pending = api.poll(t, other, otherVersion, 30);
    // The sweep must find the poll held (subscribed to the hub), not on its way there.
    await waitFor(() => api.hub.held() === 1, undefined, 'api.hub.held() toBe(1)');
    const result = await sweep(api.ctx);
    expect(result.staleAgents).toBe(1);
    const woken = await pending;
    expect(woken.status).toBe(200);
    expect(testNames(woken)).toEqual(['single']);
    expect((await detail()).map((x) => x.agentId)).toEqual([other]);
    const agents = AgentList.parse((await api.request('GET', '/api/v1/clusters/edge-1/agents')).body);
    expect(agents.agents.find((x) => x.agentId === holder)?.state).toBe('stale');
    // The stale agent polls again: it is live again, but the test stays with its new holder.
    await api.poll(t, holder);
    expect((await detail()).map((x) => x.agentId)).toEqual([other]);
  });

  it('scopes agents to their cluster: 404 for another cluster, 403 for viewers registering', async () => {
    api = await createTestApi();
    const t1 = await api.token('cluster', 'edge-1');
    const t2 = await api.token('cluster', 'edge-2');
    const viewer = await api.token('viewer');
    const a = await api.register(t1, 'node-a');
    expect((await api.poll(t2, a)).status).toBe(404);
    expect((await api.request('GET', `/api/v1/agents/${a}`, { token: t2 })).status).toBe(404);
    expect((await api.request('GET', '/api/v1/clusters/edge-1/agents', { token: t2 })).status).toBe(404);
    const reg = await api.request('POST', '/api/v1/agents', {
      token: viewer,
      body: { cluster: 'edge-1', node: 'x', version: '1' },
    });
    expect(reg.status).toBe(403);
    const cross = await api.request('POST', '/api/v1/agents', {
      token: t2,
      body: { cluster: 'edge-1', node: 'x', version: '1' },
    });
    expect(cross.status).toBe(404);
    const noCluster = await api.request('POST', '/api/v1/agents', { body: { node: 'x', version: '1' } });
    expect(noCluster.status).toBe(400);
    const badNode = await api.request('POST', '/api/v1/agents', {
      token: t1,
      body: { node: 'Not A Node', version: '1' },
    });
    expect(badNode.status).toBe(400);
    expect(ErrorEnvelope.parse(badNode.body).error.message).toMatch(/node/);
  });

  it('gives mesh tests the live peers of the same cluster', async () => {
    api = await createTestApi();
    const t = await api.token('cluster', 'edge-1');
    const t2 = await api.token('cluster', 'edge-2');
    const a = await api.register(t, 'node-a', { heartbeatUrl: 'http://127.0.0.1:9001' });
    await api.register(t, 'node-b', { heartbeatUrl: 'http://127.0.0.1:9002' });
    await api.register(t2, 'node-z', { heartbeatUrl: 'http://127.0.0.1:9009' });
    await api.putTest(t, 'edge-1', syntheticTest('mesh', { plugin: 'heartbeat', node: '*' }));
    const v1 = assignment(await api.poll(t, a));
    expect(v1.peers.map((p) => p.node)).toEqual(['node-a', 'node-b']);
    // A new peer changes the mesh: the agent's version moves.
    await api.register(t, 'node-c', { heartbeatUrl: 'http://127.0.0.1:9003' });
    const v2 = assignment(await api.poll(t, a, v1.version));
    expect(v2.peers.map((p) => p.node)).toEqual(['node-a', 'node-b', 'node-c']);
  });
});
