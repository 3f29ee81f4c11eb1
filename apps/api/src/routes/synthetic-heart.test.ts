/**
 * synthetic-heart compatibility of the REST API, compared field by field with cisco-open/synthetic-heart
 * at commit 500284980fd7 (`restapi/main.go`, `common/models.go`, `common/proto/syntest.proto`,
 * `common/helpers.go`) and with its web UI bakshi41c/synthetic-heart-ui (`src/server.ts`,
 * `src/syntest/*.tsx`, `src/agent/agent-table.tsx`). The shapes are the strict schemas of
 * services/synthetic-heart-shapes.ts: a field missing, of the wrong type or extra fails.
 */
import { ErrorEnvelope, TestDetail } from '@synthfleet/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sweep } from '../services/scheduler.ts';
import {
  ShAgents,
  ShConfigSummaries,
  ShPing,
  ShPluginState,
  ShStatusMap,
  ShTestConfigResponse,
  ShTestRun,
} from '../services/synthetic-heart-shapes.ts';
import { createTestApi, runResult, type TestApi } from '../testing/harness.ts';
import { shFixtures } from '../testing/synthetic-heart-fixtures.ts';

const CLUSTER = 'edge-1';
const NS = 'synthetic-heart';
const caps = ['httpPing', 'dns', 'netDial', 'curl'];

let api: TestApi;
afterEach(() => api?.close());

/** Four agents with different labels, namespaces and filters, and every fixture. */
async function fleet(config: Parameters<typeof createTestApi>[0] = {}) {
  api = await createTestApi(config);
  const token = await api.token('cluster', CLUSTER);
  const ids = {
    a: await api.register(token, 'node-a', {
      pod: 'agent-a',
      podNamespace: NS,
      podLabels: { tier: 'edge-agents', app: 'synthetic-heart' },
      capabilities: caps,
    }),
    b: await api.register(token, 'node-b', {
      pod: 'agent-b',
      podNamespace: NS,
      podLabels: { tier: 'core' },
      capabilities: ['httpPing', 'dns', 'netDial'],
    }),
    c: await api.register(token, 'node-c', {
      pod: 'agent-c',
      podNamespace: 'some-other-namespace',
      capabilities: caps,
    }),
    d: await api.register(token, 'node-d', {
      pod: 'agent-d',
      podNamespace: NS,
      capabilities: caps,
      matchTestNamespaces: ['elsewhere'],
    }),
  };
  for (const object of Object.values(shFixtures)) {
    const r = await api.putTest(token, CLUSTER, object);
    expect(r.status, `${object.metadata.name}: ${r.text}`).toBeLessThan(300);
  }
  return { token, ids };
}

const shGet = async (path: string, token?: string | null) => api.request('GET', path, { token });

describe("synthetic-heart's manifests and placement", () => {
  it('accepts every example field and places as IsAgentValidForSynTest would', async () => {
    const { token } = await fleet();
    const agents = ShAgents.parse((await shGet('/api/v1/agents', token)).body);
    const on = (id: string) => agents[id]?.syntests ?? [];
    expect(Object.keys(agents).sort()).toEqual([
      'agent-a/synthetic-heart',
      'agent-b/synthetic-heart',
      'agent-c/some-other-namespace',
      'agent-d/synthetic-heart',
    ]);
    const httpPing = 'http-ping-local/synthetic-heart';
    for (const id of ['agent-a/synthetic-heart', 'agent-b/synthetic-heart', 'agent-c/some-other-namespace'])
      expect(on(id)).toContain(httpPing);
    // matchTestNamespaces: [elsewhere] keeps every test of other namespaces off agent-d.
    expect(on('agent-d/synthetic-heart')).toEqual([]);
    // podLabelSelector {tier: edge-*}: only the agent whose pod carries a matching label.
    expect(Object.keys(agents).filter((id) => on(id).includes('edge-only/synthetic-heart'))).toEqual([
      'agent-a/synthetic-heart',
    ]);
    // {$agentNamespace: some-other-namespace}: only the agent in that namespace.
    expect(Object.keys(agents).filter((id) => on(id).includes('other-namespace/synthetic-heart'))).toEqual([
      'agent-c/some-other-namespace',
    ]);
    // `$`: exactly one agent.
    expect(Object.keys(agents).filter((id) => on(id).includes('dns-check/synthetic-heart'))).toHaveLength(1);
    // An omitted node in synthetic-heart's group means every agent, but only the ones offering curl run it.
    expect(
      Object.keys(agents)
        .filter((id) => on(id).includes('curl-local/synthetic-heart'))
        .sort(),
    ).toEqual(['agent-a/synthetic-heart', 'agent-c/some-other-namespace']);
    // It says why agent-b does not run curl-local.
    const curl = TestDetail.parse((await shGet(`/api/v1/tests/${CLUSTER}/${NS}/curl-local`)).body);
    expect(curl.placementNote).toBe('1 selected agent lacks plugin "curl"; it runs on the 2 that offer it');
    const page = await api.request('GET', `/tests/${CLUSTER}/${NS}/curl-local`, {
      token: null,
      headers: { cookie: await api.cookie() },
    });
    expect(page.text).toContain('1 selected agent lacks plugin &quot;curl&quot;; it runs on the 2 that offer it');
    // Real pod labels and filters in the agent's config.
    expect(agents['agent-a/synthetic-heart']?.agentConfig.runTimeInfo.podLabels).toEqual({
      tier: 'edge-agents',
      app: 'synthetic-heart',
    });
    expect(agents['agent-d/synthetic-heart']?.agentConfig.matchNamespaceSet).toEqual({ elsewhere: true });
  });

  it('a plugin no agent offers is unsupported in the API, the dashboard and synthetic-heart routes, never failing', async () => {
    const { token } = await fleet();
    const detail = TestDetail.parse((await shGet(`/api/v1/tests/${CLUSTER}/${NS}/test-py`)).body);
    expect(detail.state).toBe('unsupported');
    expect(detail.assignedAgents).toBe(0);
    expect(detail.placementNote).toMatch(/no agent offers plugin "json-ping\.py"/);
    const config = ShTestConfigResponse.parse((await shGet(`/api/v1/testconfig/test-py/${NS}`, token)).body);
    expect(config.configStatus).toMatchObject({ deployed: false, message: 'no agent offers plugin "json-ping.py"' });
    const ping = ShPing.parse((await shGet('/api/v1/ping', token)).body);
    expect(ping.failedTests).not.toHaveProperty('test-py');
    const page = await api.request('GET', `/?cluster=${CLUSTER}`, {
      token: null,
      headers: { cookie: await api.cookie() },
    });
    expect(page.text).toMatch(/data-status="unsupported" data-test="edge-1\/synthetic-heart\/test-py"/);
    expect(page.text).toContain('no agent offers plugin json-ping.py');
    // Counted apart from problems.
    expect(page.text).toMatch(/1 unsupported/);
  });

  it('an agent that lacks a plugin it was handed reports unsupported, which is not a failure', async () => {
    const { token, ids } = await fleet();
    const at = api.clock.now();
    const r = await api.request('POST', '/api/v1/runs', {
      token,
      body: { agentId: ids.a, runs: [runResult('curl-local', 'unsupported', at, { namespace: NS })] },
    });
    expect(r.status).toBe(200);
    const detail = TestDetail.parse((await shGet(`/api/v1/tests/${CLUSTER}/${NS}/curl-local`)).body);
    expect(detail.state).toBe('unsupported');
    expect(detail.failingAgents).toBe(0);
    const health = ShPluginState.parse(
      (await shGet(`/api/v1/plugin/curl-local/${NS}/agent-a/${NS}/health`, token)).body,
    );
    expect(health.status).toBe('notRunning');
  });
});

describe("synthetic-heart's REST routes, field by field", () => {
  async function withRuns() {
    const f = await fleet();
    const at = api.clock.now();
    await api.request('POST', '/api/v1/runs', {
      token: f.token,
      body: {
        agentId: f.ids.a,
        runs: [
          runResult('http-ping-local', 'fail', at - 3000, {
            namespace: NS,
            details: { _log: 'first log', _error: 'boom' },
          }),
          runResult('http-ping-local', 'pass', at - 2000, {
            namespace: NS,
            details: { _log: 'all good' },
            gauges: [{ name: 'http_ping_latency', value: 12.5, labels: { endpoint: 'http://127.0.0.1:9/' } }],
          }),
          runResult('edge-only', 'error', at - 1000, { namespace: NS, details: { _error: 'plugin crashed' } }),
          runResult('edge-only', 'pass', at - 900, {
            namespace: NS,
            trigger: { type: 'test', test: 'http-ping-local' },
          }),
        ],
      },
    });
    return f;
  }

  it('/testconfigs/summary and /testconfig/{name}/{namespace}: SynTestConfig with every field', async () => {
    const { token } = await withRuns();
    const summary = ShConfigSummaries.parse((await shGet('/api/v1/testconfigs/summary', token)).body);
    expect(summary['dns-check/synthetic-heart']).toEqual({
      name: 'dns-check',
      namespace: NS,
      configId: 'dns-check/synthetic-heart',
      version: '1',
      displayName: 'DNS check',
      description: 'resolves names',
      plugin: 'dns',
      repeat: '30s',
    });
    const r = await shGet(`/api/v1/testconfig/http-ping-local/${NS}`, token);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const config = ShTestConfigResponse.parse(r.body);
    expect(config.testConfig).toEqual({
      name: 'http-ping-local',
      version: '1',
      labels: { infra: 'true' },
      pluginName: 'httpPing',
      displayName: 'HTTP ping (local)',
      description: 'pings a local endpoint',
      namespace: NS,
      importance: 'high',
      repeat: '1m',
      nodeSelector: '*',
      podLabelSelector: {},
      dependsOn: [],
      timeouts: { init: '10s', run: '30s', finish: '10s' },
      pluginRestartPolicy: 'always',
      logWaitTime: '15ms',
      config: 'address: http://127.0.0.1:9/\nexpectedCodeRegex: ^2\n',
      runtime: {},
    });
    expect(config.configStatus.deployed).toBe(true);
    expect(config.rawConfig).toContain('plugin: httpPing');
    expect(config.rawConfig).toContain('repeat: 1m');
    // synthetic-heart's text/plain error.
    const missing = await shGet(`/api/v1/testconfig/nope/${NS}`, token);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(missing.text).toBe('no test config found');
  });

  it('/testrun/{id}/latest and lastFailed: a TestRun as protojson writes it, uint64 marks as strings', async () => {
    const { token } = await withRuns();
    const latest = ShTestRun.parse(
      (await shGet(`/api/v1/testrun/${encodeURIComponent(`http-ping-local/${NS}/agent-a/${NS}`)}/latest`, token)).body,
    );
    expect(latest.agentId).toBe(`agent-a/${NS}`);
    expect(latest.testResult).toMatchObject({ marks: '1', maxMarks: '1' });
    expect(latest.trigger).toEqual({ triggerType: 'timer', triggeringTest: null, details: '' });
    expect(latest.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    expect(latest.testConfig?.runtime).toEqual({ $nodeName: 'node-a', $podName: 'agent-a', $agentId: `agent-a/${NS}` });
    expect(latest.details._log).toBe('all good');
    // The plugin's gauges, as synthetic-heart's agents put them, for the UI's Prometheus links.
    expect(latest.testResult?.details._prometheus).toMatch(/gauges:\n\s+- name: http_ping_latency/);
    const failed = ShTestRun.parse(
      (await shGet(`/api/v1/testrun/http-ping-local/${NS}/agent-a/${NS}/lastFailed`, token)).body,
    );
    expect(failed.details._error).toBe('boom');
    const logs = await shGet(`/api/v1/testrun/http-ping-local/${NS}/agent-a/${NS}/lastFailed/logs`, token);
    expect(logs.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(logs.text).toBe('first log');
    // Triggered by another test: that test's run rides along.
    const triggered = ShTestRun.parse(
      (await shGet(`/api/v1/testrun/edge-only/${NS}/agent-a/${NS}/latest`, token)).body,
    );
    expect(triggered.trigger?.triggerType).toBe('test');
    expect(triggered.trigger?.triggeringTest?.testConfig?.name).toBe('http-ping-local');
    expect(triggered.trigger?.details).toBe('triggered by test http-ping-local');
    const none = await shGet(`/api/v1/testrun/dns-check/${NS}/agent-x/${NS}/latest`, token);
    expect([none.status, none.text, none.headers.get('content-type')?.split(';')[0]]).toEqual([
      404,
      'no testrun found',
      'text/plain',
    ]);
    const bad = await shGet(`/api/v1/testrun/${encodeURIComponent('dns-check/x')}/latest`, token);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/testName\/testNamespace\/podName\/podNamespace/);
  });

  it('/plugins/status and /plugin/{id}/health, lastUnhealthy: routine states and PluginState', async () => {
    const { token } = await withRuns();
    const statuses = ShStatusMap.parse((await shGet('/api/v1/plugins/status', token)).body);
    expect(statuses[`http-ping-local/${NS}/agent-a/${NS}`]).toBe('running');
    expect(statuses[`edge-only/${NS}/agent-a/${NS}`]).toBe('running');
    for (const v of Object.values(statuses)) expect(['running', 'error', 'notRunning', 'unknown']).toContain(v);
    const health = ShPluginState.parse(
      (await shGet(`/api/v1/plugin/edge-only/${NS}/agent-a/${NS}/health`, token)).body,
    );
    expect(health).toMatchObject({ status: 'running', statusMsg: '', restarts: 0, totalRestarts: 0 });
    expect(health.config.pluginName).toBe('netDial');
    expect(health.config.runtime.$podName).toBe('agent-a');
    const unhealthy = ShPluginState.parse(
      (await shGet(`/api/v1/plugin/${encodeURIComponent(`edge-only/${NS}/agent-a/${NS}`)}/lastUnhealthy`, token)).body,
    );
    expect(unhealthy).toMatchObject({ status: 'error', statusMsg: 'plugin crashed' });
    const never = await shGet(`/api/v1/plugin/http-ping-local/${NS}/agent-b/${NS}/lastUnhealthy`, token);
    expect([never.status, never.text]).toEqual([404, 'no plugin health found']);
    // A stale agent's routine is unknown.
    api.clock.advance(10 * 60_000);
    await sweep(api.ctx);
    const stale = ShStatusMap.parse((await shGet('/api/v1/plugins/status', token)).body);
    expect(Object.values(stale).every((v) => v === 'unknown' || v === 'notRunning')).toBe(true);
  });

  it('/ping and /testruns/status keep their shapes', async () => {
    const { token } = await withRuns();
    const ping = ShPing.parse((await shGet('/api/v1/ping', token)).body);
    expect(ping.message).toBe('Healthy');
    expect(ping.status).toBe(3);
    const ratios = ShStatusMap.parse((await shGet('/api/v1/testruns/status', token)).body);
    expect(ratios[`http-ping-local/${NS}/agent-a/${NS}`]).toBe('1.00000');
  });

  it('folds repeated slashes as gorilla/mux does, on these routes only', async () => {
    const { token } = await withRuns();
    const r = await shGet('//api/v1/testconfigs/summary', token);
    expect(r.status).toBe(200);
    expect(Object.keys(ShConfigSummaries.parse(r.body))).toContain('dns-check/synthetic-heart');
    expect(
      (await shGet('/api/v1//testrun//http-ping-local/synthetic-heart/agent-a/synthetic-heart/latest', token)).status,
    ).toBe(200);
    // Elsewhere a double slash is not a route of ours.
    expect((await shGet('//healthz')).status).toBe(404);
  });
});

/** The calls the web UI makes (src/server.ts), in its order, and the fields its components read. */
async function replayUi(origin: string, headers: Record<string, string> = {}) {
  const get = (path: string) => api.request('GET', path, { token: null, headers: { origin, ...headers } });
  const agents = await get('/api/v1/agents');
  const summary = await get('//api/v1/testconfigs/summary');
  const ratios = await get('/api/v1/testruns/status');
  const plugins = await get('/api/v1/plugins/status');
  return { agents, summary, ratios, plugins, get };
}

describe('SH_ANONYMOUS_CLUSTER: the web UI and scripts without a token', () => {
  it('answers the UI token-less and cross-origin for that one cluster, every field it reads typed as it expects', async () => {
    await fleet({ config: { shAnonymousCluster: CLUSTER } });
    // Another cluster exists: the UI still needs no ?cluster=.
    const other = await api.token('cluster', 'edge-2');
    await api.register(other, 'node-z', { pod: 'secret-agent', podNamespace: 'x' });
    const ui = await replayUi('http://ui.example:3000');
    for (const r of [ui.agents, ui.summary, ui.ratios, ui.plugins]) {
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
      expect(r.headers.get('vary')).toMatch(/Origin/);
    }
    expect(ui.agents.text).not.toContain('secret-agent');
    // agent-table.tsx
    const agents = ShAgents.parse(ui.agents.body);
    for (const a of Object.values(agents)) {
      expect(typeof a.agentConfig.runTimeInfo.podName).toBe('string');
      expect(typeof a.agentConfig.runTimeInfo.agentNamespace).toBe('string');
      expect(typeof a.agentConfig.runTimeInfo.nodeName).toBe('string');
      expect(typeof a.agentConfig.matchNamespaceSet).toBe('object');
      expect(a.agentConfig.matchTestLabels).not.toBeNull();
      expect(Array.isArray(a.syntests)).toBe(true);
    }
    // server.ts FetchAll: every plugin id's config id (its first two parts) is a summary key.
    const summary = ShConfigSummaries.parse(ui.summary.body);
    const plugins = ShStatusMap.parse(ui.plugins.body);
    expect(Object.keys(plugins).length).toBeGreaterThan(0);
    for (const pluginId of Object.keys(plugins)) {
      const configId = pluginId.split('/').slice(0, 2).join('/');
      expect(summary[configId], pluginId).toBeDefined();
    }
    // syntest-table.tsx reads displayName, description, repeat, plugin, namespace.
    for (const s of Object.values(summary))
      for (const k of ['displayName', 'description', 'repeat', 'plugin', 'namespace'] as const)
        expect(typeof s[k]).toBe('string');
    // plugin-details.tsx: the test config, latest run, plugin health, logs.
    const pluginId = `http-ping-local/${NS}/agent-a/${NS}`;
    const cfg = await ui.get(`/api/v1/testconfig/http-ping-local/${NS}`);
    expect(ShTestConfigResponse.parse(cfg.body).testConfig.podLabelSelector).toEqual({});
    const health = ShPluginState.parse((await ui.get(`/api/v1/plugin/${pluginId}/health`)).body);
    expect(typeof health.config.config).toBe('string');
    expect(typeof health.status).toBe('string');
    const noRun = await ui.get(`/api/v1/testrun/${pluginId}/latest`);
    expect(noRun.status).toBe(404);
    expect(noRun.headers.get('access-control-allow-origin')).toBe('*');
    // A preflight, as rs/cors answers it.
    const pre = await api.request('OPTIONS', '/api/v1/plugins/status', {
      token: null,
      headers: { origin: 'http://ui.example:3000', 'access-control-request-method': 'GET' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET');
  });

  it('opens nothing else: other routes still need a token, and the token-less reader cannot write', async () => {
    await fleet({ config: { shAnonymousCluster: CLUSTER } });
    for (const path of [`/api/v1/tests/${CLUSTER}/${NS}/test-py`, '/api/v1/fleet', '/api/v1/tokens']) {
      const r = await api.request('GET', path, { token: null, headers: { origin: 'http://ui.example' } });
      expect(r.status, path).toBe(401);
      expect(r.headers.get('access-control-allow-origin'), path).toBeNull();
    }
    const post = await api.request('POST', '/api/v1/agents', {
      token: null,
      body: { node: 'evil', version: '1' },
    });
    expect(post.status).toBe(401);
    // A token is still honoured as itself.
    const viewer = await api.token('viewer');
    expect((await api.request('GET', '/api/v1/agents?cluster=edge-1', { token: viewer })).status).toBe(200);
    // The admin's dashboard says it is open.
    const page = await api.request('GET', '/', { token: null, headers: { cookie: await api.cookie() } });
    expect(page.text).toMatch(/data-notice="sh-anonymous"/);
  });

  it('without the variable the same calls get 401 in the error envelope, and no CORS', async () => {
    await fleet();
    const ui = await replayUi('http://ui.example:3000');
    for (const r of [ui.agents, ui.summary, ui.ratios, ui.plugins]) {
      expect(r.status).toBe(401);
      expect(ErrorEnvelope.parse(r.body).error.code).toBe('UNAUTHORIZED');
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    }
    const page = await api.request('GET', '/', { token: null, headers: { cookie: await api.cookie() } });
    expect(page.text).not.toMatch(/data-notice="sh-anonymous"/);
  });
});

describe('bad input', () => {
  it('names a bad podLabelSelector glob and a synthfleet object with an unknown plugin, and keeps what is stored', async () => {
    const { token } = await fleet();
    const bad = await api.putTest(token, CLUSTER, {
      ...shFixtures.edgeOnly,
      spec: { ...shFixtures.edgeOnly.spec, podLabelSelector: { tier: '[edge' } },
    });
    expect(bad.status).toBe(400);
    expect(ErrorEnvelope.parse(bad.body).error.message).toMatch(/podLabelSelector\.tier/);
    const ours = await api.putTest(token, CLUSTER, {
      apiVersion: 'synthfleet.dev/v1',
      kind: 'SyntheticTest',
      metadata: { name: 'py', namespace: NS },
      spec: { plugin: 'json-ping.py', repeat: '1m' },
    });
    expect(ours.status).toBe(400);
    expect(ErrorEnvelope.parse(ours.body).error.message).toMatch(/spec\.plugin: unknown plugin "json-ping\.py"/);
    const config = ShTestConfigResponse.parse((await shGet(`/api/v1/testconfig/edge-only/${NS}`, token)).body);
    expect(config.testConfig.podLabelSelector).toEqual({ tier: 'edge-*' });
    expect(z.string().parse(config.rawConfig)).toContain('edge-*');
  });
});
