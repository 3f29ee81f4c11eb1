import { ErrorEnvelope } from '@synthfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';

/** synthetic-heart's answers have no schema of ours yet: any JSON object. */
const ShJson = z.record(z.string(), z.any());

let api: TestApi;
let token: string;
let agentId: string;
beforeEach(async () => {
  api = await createTestApi();
  token = await api.token('cluster', 'edge-1');
  agentId = await api.register(token, 'node-a', { pod: 'agent-abc', podNamespace: 'synthfleet' });
  await api.putTest(token, 'edge-1', syntheticTest('web', { displayName: 'Web check', description: 'the site' }));
  await api.putTest(token, 'edge-1', syntheticTest('dns', { plugin: 'dns' }));
  const now = api.clock.now();
  await api.request('POST', '/api/v1/runs', {
    token,
    body: {
      agentId,
      runs: [
        runResult('web', 'fail', now - 2000, { details: { _log: 'first log', _error: 'boom' } }),
        runResult('web', 'pass', now - 1000, { details: { _log: 'all good' } }),
        runResult('dns', 'fail', now - 500, { marks: 1, maxMarks: 4, details: { _log: 'dns log' } }),
      ],
    },
  });
});
afterEach(() => api.close());

describe('synthetic-heart compatible reads', () => {
  it('/ping reports unhealthy with its failed tests, in its shape', async () => {
    const r = await api.request('GET', '/api/v1/ping?cluster=edge-1');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      message: 'UnHealthy',
      details: '1 failed test: dns',
      status: 2,
      failedTests: { dns: { name: 'dns', namespace: 'default', testId: 'dns/default', status: 0 } },
    });
  });

  it('/agents, /testconfigs/summary and /testconfig use its ids and shapes', async () => {
    const agents = ShJson.parse((await api.request('GET', '/api/v1/agents', { token })).body);
    expect(Object.keys(agents)).toEqual(['agent-abc/synthfleet']);
    expect(agents['agent-abc/synthfleet']?.syntests.sort()).toEqual(['dns/default', 'web/default']);
    expect(agents['agent-abc/synthfleet']?.agentConfig.runTimeInfo.nodeName).toBe('node-a');

    const summary = ShJson.parse((await api.request('GET', '/api/v1/testconfigs/summary', { token })).body);
    expect(summary['web/default']).toEqual({
      name: 'web',
      namespace: 'default',
      configId: 'web/default',
      version: '1',
      displayName: 'Web check',
      description: 'the site',
      plugin: 'httpPing',
      repeat: '30s',
    });
    const config = ShJson.parse((await api.request('GET', '/api/v1/testconfig/web/default', { token })).body);
    expect(config).toMatchObject({ testConfig: { name: 'web', plugin: 'httpPing' }, configStatus: { deployed: true } });
    expect(JSON.parse(config.rawConfig as string)).toMatchObject({ metadata: { name: 'web' } });
    expect((await api.request('GET', '/api/v1/testconfig/nope/default', { token })).status).toBe(404);
  });

  it('/testruns/status gives a %.5f pass ratio per plugin instance', async () => {
    const r = (await api.request('GET', '/api/v1/testruns/status', { token })).body;
    expect(r).toEqual({ 'web/default/agent-abc/synthfleet': '1.00000', 'dns/default/agent-abc/synthfleet': '0.25000' });
  });

  it('/testrun/{id}/latest, lastFailed and their logs, with the id encoded or as segments', async () => {
    const encoded = encodeURIComponent('web/default/agent-abc/synthfleet');
    const latest = ShJson.parse((await api.request('GET', `/api/v1/testrun/${encoded}/latest`, { token })).body);
    expect(latest).toMatchObject({
      agentId: 'agent-abc/synthfleet',
      testResult: { marks: 1, maxMarks: 1 },
      trigger: { triggerType: 'timer' },
    });
    expect(latest.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const failed = ShJson.parse(
      (await api.request('GET', '/api/v1/testrun/web/default/agent-abc/synthfleet/lastFailed', { token })).body,
    );
    expect(failed.details._error).toBe('boom');
    const logs = await api.request('GET', `/api/v1/testrun/${encoded}/lastFailed/logs`, { token });
    expect(logs.text).toBe('first log');
    expect(logs.headers.get('content-type')).toMatch(/text\/plain/);
    expect(
      (await api.request('GET', '/api/v1/testrun/web/default/agent-abc/synthfleet/latest/logs', { token })).text,
    ).toBe('all good');
    expect(
      (await api.request('GET', `/api/v1/testrun/${encodeURIComponent('dns/default/other/x')}/latest`, { token }))
        .status,
    ).toBe(404);
    expect(
      (await api.request('GET', `/api/v1/testrun/${encodeURIComponent('dns/default')}/latest`, { token })).status,
    ).toBe(400);
  });

  it('per-cluster reads ask for ?cluster= when several clusters exist, and cluster tokens are scoped', async () => {
    const other = await api.token('cluster', 'edge-2');
    await api.register(other, 'node-z');
    const ambiguous = await api.request('GET', '/api/v1/agents');
    expect(ambiguous.status).toBe(400);
    expect(ErrorEnvelope.parse(ambiguous.body).error.message).toMatch(/\?cluster=/);
    expect(Object.keys(ShJson.parse((await api.request('GET', '/api/v1/agents?cluster=edge-2')).body))).toEqual([
      'node-z/default',
    ]);
    expect((await api.request('GET', '/api/v1/agents?cluster=edge-1', { token: other })).status).toBe(404);
    expect((await api.request('GET', '/api/v1/testconfig/web/default', { token: other })).status).toBe(404);
    const ping = ShJson.parse((await api.request('GET', '/api/v1/ping', { token: other })).body);
    expect(ping.message).toBe('Healthy');
  });
});
