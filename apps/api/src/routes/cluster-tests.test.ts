import { ErrorEnvelope, RollupList, TestDetail, TestPage } from '@synthfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

let api: TestApi;
beforeEach(async () => {
  api = await createTestApi();
});
afterEach(() => api.close());

async function listNames(cluster: string) {
  const r = await api.request('GET', `/api/v1/tests?cluster=${cluster}`);
  return TestPage.parse(r.body)
    .tests.map((t) => t.name)
    .sort();
}

describe('syncer routes', () => {
  it('tells a token its role and cluster', async () => {
    const t = await api.token('cluster', 'edge-1');
    expect((await api.request('GET', '/api/v1/whoami', { token: t })).body).toMatchObject({
      role: 'cluster',
      cluster: 'edge-1',
    });
    expect((await api.request('GET', '/api/v1/whoami')).body).toMatchObject({ role: 'admin', cluster: null });
    expect((await api.request('GET', '/api/v1/whoami', { token: 'nope' })).status).toBe(401);
  });

  it("gives every test's roll-up with the nodes it runs on, and only to its cluster", async () => {
    const t = await api.token('cluster', 'edge-1');
    const a1 = await api.register(t, 'node-b');
    const a2 = await api.register(t, 'node-a');
    await api.putTest(t, 'edge-1', { ...syntheticTest('web'), metadata: { name: 'web', generation: 4 } });
    await api.putTest(t, 'edge-1', syntheticTest('dns', { plugin: 'dns', node: 'none-such*' }));
    const now = api.clock.now();
    const send = (agentId: string, status: 'pass' | 'fail') =>
      api.request('POST', '/api/v1/runs', {
        token: t,
        body: { agentId, runs: [runResult('web', status, now - 1000)] },
      });
    expect((await send(a1, 'pass')).status).toBe(200);
    expect((await send(a2, 'fail')).status).toBe(200);
    const r = await api.request('GET', '/api/v1/clusters/edge-1/rollups', { token: t });
    expect(r.status).toBe(200);
    const list = RollupList.parse(r.body);
    expect(list.tests.map((x) => x.name)).toEqual(['dns', 'web']);
    expect(list.tests[0]).toMatchObject({ state: 'pending', assignedAgents: 0, nodes: [], lastRunAt: null });
    expect(list.tests[1]).toMatchObject({
      state: 'failing',
      generation: 4,
      passingAgents: 1,
      failingAgents: 1,
      assignedAgents: 2,
      nodes: ['node-a', 'node-b'],
      lastFailureMessage: 'web went fail',
      lastRunAt: new Date(now - 1000 + 120).toISOString(),
    });
    const other = await api.token('cluster', 'edge-2');
    expect((await api.request('GET', '/api/v1/clusters/edge-1/rollups', { token: other })).status).toBe(404);
  });

  it('creates, updates (bumping the revision only on change) and deletes a test', async () => {
    const t = await api.token('cluster', 'edge-1');
    const created = await api.putTest(t, 'edge-1', syntheticTest('web'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: 'edge-1/default/web', revision: 1, created: true, changed: true });

    const same = await api.putTest(t, 'edge-1', syntheticTest('web'));
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ revision: 1, changed: false });

    const changed = await api.putTest(t, 'edge-1', syntheticTest('web', { repeat: '1m' }));
    expect(changed.body).toMatchObject({ revision: 2, changed: true, created: false });

    const detail = await api.request('GET', '/api/v1/tests/edge-1/default/web', { token: t });
    expect(detail.body).toMatchObject({ spec: { repeat: '1m', plugin: 'httpPing' }, revision: 2 });

    expect((await api.request('DELETE', '/api/v1/clusters/edge-1/tests/default/web', { token: t })).status).toBe(204);
    expect((await api.request('GET', '/api/v1/tests/edge-1/default/web', { token: t })).status).toBe(404);
    expect((await api.request('DELETE', '/api/v1/clusters/edge-1/tests/default/web', { token: t })).status).toBe(404);

    // Re-creating after a delete continues the revision so agents never confuse the two.
    const again = await api.putTest(t, 'edge-1', syntheticTest('web'));
    expect(again.body).toMatchObject({ revision: 3, created: true });
  });

  it('rejects invalid tests with a 400 that names the field, and keeps what was stored', async () => {
    const t = await api.token('cluster', 'edge-1');
    await api.putTest(t, 'edge-1', syntheticTest('web', { repeat: '45s' }));
    const cases: [unknown, RegExp][] = [
      [syntheticTest('web', { plugin: 'teleport' as never }), /spec\.plugin: unknown plugin "teleport"/],
      [syntheticTest('web', { repeat: '10' }), /spec\.repeat: duration "10" is missing a unit/],
      [syntheticTest('web', { node: 'a$b' }), /spec\.node/],
      [{ ...syntheticTest('web'), kind: 'Deployment' }, /kind/],
      [syntheticTest('other'), /metadata\.name "other" does not match/],
      [syntheticTest('web', {}, 'kube-system'), /metadata\.namespace/],
      ['just a string', /invalid SyntheticTest/],
    ];
    for (const [body, message] of cases) {
      const r = await api.request('PUT', '/api/v1/clusters/edge-1/tests/default/web', { token: t, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(ErrorEnvelope.parse(r.body).error.message).toMatch(message);
    }
    const raw = await api.request('PUT', '/api/v1/clusters/edge-1/tests/default/web', {
      token: t,
      raw: '{"apiVersion":',
    });
    expect(raw.status).toBe(400);
    expect(ErrorEnvelope.parse(raw.body).error.message).toMatch(/malformed JSON/);
    const detail = await api.request('GET', '/api/v1/tests/edge-1/default/web', { token: t });
    expect(detail.body).toMatchObject({ spec: { repeat: '45s' }, revision: 1 });
  });

  it('applies a full snapshot: upserts all items and removes the missing ones', async () => {
    const t = await api.token('cluster', 'edge-1');
    await api.putTest(t, 'edge-1', syntheticTest('a'), 'syncer');
    await api.putTest(t, 'edge-1', syntheticTest('b'), 'syncer');
    await api.putTest(t, 'edge-1', syntheticTest('c'), 'syncer');
    const r = await api.request('PUT', '/api/v1/clusters/edge-1/tests', {
      token: t,
      body: { items: [syntheticTest('a'), syntheticTest('b', { repeat: '2m' }), syntheticTest('d')] },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ created: 1, updated: 1, unchanged: 1, deleted: 1, kept: 0, rejected: 0 });
    expect(await listNames('edge-1')).toEqual(['a', 'b', 'd']);
  });

  it('rejects a snapshot with one bad item whole, naming the item, and changes nothing', async () => {
    const t = await api.token('cluster', 'edge-1');
    await api.putTest(t, 'edge-1', syntheticTest('a'));
    const r = await api.request('PUT', '/api/v1/clusters/edge-1/tests', {
      token: t,
      body: { items: [syntheticTest('b'), syntheticTest('c', { repeat: 'never' })] },
    });
    expect(r.status).toBe(400);
    expect(ErrorEnvelope.parse(r.body).error.message).toMatch(/items\.1\.spec\.repeat/);
    const dup = await api.request('PUT', '/api/v1/clusters/edge-1/tests', {
      token: t,
      body: { items: [syntheticTest('b'), syntheticTest('b')] },
    });
    expect(dup.status).toBe(400);
    expect(ErrorEnvelope.parse(dup.body).error.message).toMatch(/appears twice/);
    expect(await listNames('edge-1')).toEqual(['a']);
  });

  it('keeps a snapshot per cluster: another cluster is untouched', async () => {
    const t1 = await api.token('cluster', 'edge-1');
    const t2 = await api.token('cluster', 'edge-2');
    await api.putTest(t1, 'edge-1', syntheticTest('a'), 'syncer');
    await api.putTest(t2, 'edge-2', syntheticTest('a'), 'syncer');
    await api.request('PUT', '/api/v1/clusters/edge-1/tests', { token: t1, body: { items: [] } });
    expect(await listNames('edge-1')).toEqual([]);
    expect(await listNames('edge-2')).toEqual(['a']);
  });

  it('removes in a snapshot only what its source declared: API tests and other sources stay', async () => {
    const t = await api.token('cluster', 'edge-1');
    await api.putTest(t, 'edge-1', syntheticTest('my-check')); // declared through the API
    await api.putTest(t, 'edge-1', syntheticTest('from-kube'), 'kubernetes');
    await api.putTest(t, 'edge-1', syntheticTest('from-dir'), 'dir');
    // Stored before sources were recorded: any syncer's snapshot owns it.
    await api.putTest(t, 'edge-1', syntheticTest('legacy'), 'syncer');
    const r = await api.request('PUT', '/api/v1/clusters/edge-1/tests', {
      token: t,
      body: { items: [syntheticTest('other')], source: 'dir' },
    });
    expect(r.body).toEqual({ created: 1, updated: 0, unchanged: 0, deleted: 2, kept: 2, rejected: 0 });
    expect(await listNames('edge-1')).toEqual(['from-kube', 'my-check', 'other']);
    const detail = await api.request('GET', '/api/v1/tests/edge-1/default/my-check', { token: t });
    expect(detail.body).toMatchObject({ source: 'api' });
    // A source that declares a test of that name takes it over; its snapshot then owns it.
    await api.putTest(t, 'edge-1', syntheticTest('my-check'), 'dir');
    await api.request('PUT', '/api/v1/clusters/edge-1/tests', { token: t, body: { items: [], source: 'dir' } });
    expect(await listNames('edge-1')).toEqual(['from-kube']);
  });

  it('keeps the last valid revision of an invalid edit running, marked with the field at fault', async () => {
    const t = await api.token('cluster', 'edge-1');
    const agent = await api.register(t, 'node-a');
    await api.putTest(t, 'edge-1', syntheticTest('dns', { importance: 'high', node: '*' }), 'kubernetes');
    // Refused through the API itself (no source): the caller has the 400, and nothing is stored.
    const direct = await api.putTest(
      t,
      'edge-1',
      syntheticTest('dns', { importance: 'high', node: '*', repeat: '15 s' }),
    );
    expect(direct.status).toBe(400);
    expect((await api.request('GET', '/api/v1/tests/edge-1/default/dns', { token: t })).body).toMatchObject({
      rejectedEdit: null,
    });
    const bad = await api.putTest(
      t,
      'edge-1',
      syntheticTest('dns', { importance: 'high', node: '*', repeat: '15 s' }),
      'kubernetes',
    );
    expect(bad.status).toBe(400);
    expect(ErrorEnvelope.parse(bad.body).error.message).toMatch(
      /spec\.repeat.*revision 1, the last valid spec, keeps running/,
    );
    const detail = await api.request('GET', '/api/v1/tests/edge-1/default/dns', { token: t });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      revision: 1,
      spec: { repeat: '30s' },
      rejectedEdit: { reason: expect.stringMatching(/spec\.repeat/) },
    });
    const poll = await api.poll(t, agent);
    expect((poll.body as { tests: unknown[] }).tests).toHaveLength(1);
    // The snapshot names it as refused: kept, not deleted; a never-valid object is recorded.
    const snap = await api.request('PUT', '/api/v1/clusters/edge-1/tests', {
      token: t,
      body: {
        items: [],
        source: 'kubernetes',
        rejected: [
          { namespace: 'default', name: 'dns', reason: 'spec.repeat: duration "15 s" is not valid' },
          { namespace: 'default', name: 'never-valid', reason: 'spec.plugin: unknown plugin "nope"' },
        ],
      },
    });
    expect(snap.body).toMatchObject({ deleted: 0, rejected: 2 });
    expect(await listNames('edge-1')).toEqual(['dns']);
    const refused = await api.request('GET', '/api/v1/clusters/edge-1/rejected', { token: t });
    expect(
      (refused.body as { objects: Record<string, unknown>[] }).objects
        .map(({ since: _, ...o }) => o)
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    ).toEqual([
      {
        cluster: 'edge-1',
        namespace: 'default',
        name: 'dns',
        reason: expect.stringMatching(/spec\.repeat/),
        keptRevision: 1,
      },
      {
        cluster: 'edge-1',
        namespace: 'default',
        name: 'never-valid',
        reason: 'spec.plugin: unknown plugin "nope"',
        keptRevision: null,
      },
    ]);
    const fixed = await api.putTest(
      t,
      'edge-1',
      syntheticTest('dns', { importance: 'high', node: '*', repeat: '1m' }),
      'kubernetes',
    );
    expect(fixed.body).toMatchObject({ revision: 2, changed: true });
    const after = await api.request('GET', '/api/v1/tests/edge-1/default/dns', { token: t });
    expect(after.body).toMatchObject({ revision: 2, rejectedEdit: null });
  });

  it('accepts a synthetic-heart object unchanged', async () => {
    const t = await api.token('cluster', 'edge-1');
    const object = {
      apiVersion: 'synheart.infra.webex.com/v1',
      kind: 'SyntheticTest',
      metadata: { name: 'ping-test', namespace: 'synthetic-heart', generation: 3 },
      spec: { plugin: 'ping', node: '$', repeat: '1m', config: 'domain: 127.0.0.1\npings: 3\n' },
    };
    const r = await api.request('PUT', '/api/v1/clusters/edge-1/tests/synthetic-heart/ping-test', {
      token: t,
      body: object,
    });
    expect(r.status).toBe(201);
    const detail = await api.request('GET', '/api/v1/tests/edge-1/synthetic-heart/ping-test', { token: t });
    expect(detail.body).toMatchObject({ apiVersion: 'synheart.infra.webex.com/v1', generation: 3 });
  });

  it('refuses an exec spec that sets a loader, shell or interpreter variable, in object or YAML form, naming it', async () => {
    const t = await api.token('cluster', 'edge-1');
    const exec = (config: unknown) => syntheticTest('run-check', { plugin: 'exec', config } as never);
    expect((await api.putTest(t, 'edge-1', exec({ command: '/opt/probes/check.sh', env: { MODE: 'x' } }))).status).toBe(
      201,
    );
    const object = await api.putTest(
      t,
      'edge-1',
      exec({ command: '/opt/probes/check.sh', env: { BASH_ENV: '$(id>/tmp/x)' } }),
    );
    expect(object.status).toBe(400);
    expect(JSON.stringify(object.body)).toContain('spec.config.env.BASH_ENV');
    const yaml = await api.putTest(
      t,
      'edge-1',
      exec('command: /opt/probes/check.sh\nenv:\n  MODE: fast\n  LD_PRELOAD: /tmp/evil.so\n'),
    );
    expect(yaml.status).toBe(400);
    expect(ErrorEnvelope.parse(yaml.body).error.message).toContain(
      'spec.config.env.LD_PRELOAD: LD_PRELOAD (LD_*) changes how a program is loaded or interpreted and can never be set',
    );
    const flow = await api.putTest(t, 'edge-1', exec('{command: /opt/probes/check.sh, env: {PATH: /tmp}}'));
    expect(ErrorEnvelope.parse(flow.body).error.message).toContain('spec.config.env.PATH');
    // The valid revision stored first is untouched.
    const stored = await api.request('GET', '/api/v1/tests/edge-1/default/run-check', { token: t });
    expect(stored.body).toMatchObject({ revision: 1, spec: { config: { env: { MODE: 'x' } } } });
  });

  it("places a synthetic-heart object without a node on every agent, and takes its chart's empty timeouts", async () => {
    const t = await api.token('cluster', 'edge-1');
    await api.register(t, 'node-a');
    await api.register(t, 'node-b');
    const object = {
      apiVersion: 'synheart.infra.webex.com/v1',
      kind: 'SyntheticTest',
      metadata: { name: 'http-ping-google', namespace: 'synthetic-heart' },
      spec: { plugin: 'httpPing', repeat: '1m', timeouts: { init: '', finish: '' }, config: 'address: 127.0.0.1:9' },
    };
    const r = await api.request('PUT', '/api/v1/clusters/edge-1/tests/synthetic-heart/http-ping-google', {
      token: t,
      body: object,
    });
    expect(r.status).toBe(201);
    const detail = TestDetail.parse(
      (await api.request('GET', '/api/v1/tests/edge-1/synthetic-heart/http-ping-google', { token: t })).body,
    );
    expect(detail.assignedTo.map((a) => a.node).sort()).toEqual(['node-a', 'node-b']);
    expect(detail.spec).toMatchObject({ node: '*', timeouts: { init: '10s', run: '10s', finish: '10s' } });
  });
});
