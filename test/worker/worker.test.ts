/**
 * The Worker entry inside workerd (the Workers Vitest integration runs this file in the runtime):
 * the real bundle's routes over the libSQL server double (its URL comes from global-setup.ts), and
 * the long-poll through the cluster's Durable Object.
 */
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker, { type WorkerEnv } from '../../apps/api/src/entry/worker.ts';

const ADMIN = 'worker-test-admin-token-0123456789';
const base = 'https://api.synthfleet.test';

async function call(method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await SELF.fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json as Record<string, unknown> };
}

function syntheticTest(name: string) {
  return {
    apiVersion: 'synthfleet.dev/v1',
    kind: 'SyntheticTest',
    metadata: { name, namespace: 'default' },
    spec: { plugin: 'httpPing', node: '*', repeat: '30s', config: { address: 'http://127.0.0.1:9/' } },
  };
}

let clusterCount = 0;
async function clusterWithAgent() {
  const cluster = `wk-${Date.now().toString(36)}-${clusterCount++}`;
  const tok = await call('POST', '/api/v1/tokens', ADMIN, { role: 'cluster', cluster });
  expect(tok.status).toBe(201);
  const token = tok.body.token as string;
  const reg = await call('POST', '/api/v1/agents', token, {
    node: 'node-a',
    version: '1.0.0',
    capabilities: ['httpPing'],
  });
  expect(reg.status).toBe(201);
  const agentId = reg.body.agentId as string;
  const first = await call('GET', `/api/v1/agents/${agentId}/assignments`, token);
  expect(first.status).toBe(200);
  return { cluster, token, agentId, version: first.body.version as number };
}

describe('Worker entry in workerd', () => {
  it('serves health and refuses a request without a token', async () => {
    expect((await call('GET', '/healthz', null)).status).toBe(200);
    const anon = await call('GET', '/api/v1/clusters', null);
    expect(anon.status).toBe(401);
  });

  it('holds a poll in the cluster Durable Object until a test change made in another request wakes it', async () => {
    const { cluster, token, agentId, version } = await clusterWithAgent();
    const pending = call('GET', `/api/v1/agents/${agentId}/assignments?version=${version}&wait=20`, token);
    await new Promise((r) => setTimeout(r, 300));
    const put = await call('PUT', `/api/v1/clusters/${cluster}/tests/default/web`, token, syntheticTest('web'));
    expect(put.status).toBe(201);
    const woken = await pending;
    expect(woken.status).toBe(200);
    expect(woken.body.version as number).toBeGreaterThan(version);
    expect((woken.body.tests as { name: string }[]).map((t) => t.name)).toEqual(['web']);
  });

  it('ends a poll with 304 when nothing changes within its wait', async () => {
    const { token, agentId, version } = await clusterWithAgent();
    const idle = await call('GET', `/api/v1/agents/${agentId}/assignments?version=${version}&wait=1`, token);
    expect(idle.status).toBe(304);
  });

  it('serves many requests at once, each doing its I/O in its own request', async () => {
    // Sixty requests in flight: registrations of one cluster (each reconciling it) and polls, more
    // than @libsql/client's default queue of 20 statements. Work started on behalf of
    // one request from inside another is cancelled when that other request ends, and the Worker
    // then hangs: every request here must finish.
    const { cluster, token, agentId } = await clusterWithAgent();
    const calls = Array.from({ length: 60 }, (_, i) =>
      i % 2 === 0
        ? call('POST', '/api/v1/agents', token, { node: `node-${i}`, version: '1.0.0', capabilities: ['httpPing'] })
        : call('GET', `/api/v1/agents/${agentId}/assignments`, token),
    );
    const replies = await Promise.all(calls);
    expect(replies.map((r) => r.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);
    const agents = await call('GET', `/api/v1/clusters/${cluster}/agents`, token);
    expect(agents.status).toBe(200);
    expect((agents.body.agents as unknown[]).length).toBe(31);
  });

  it('runs the sweep on its Cron Trigger', async () => {
    const exec = createExecutionContext();
    await expect(
      worker.scheduled(createScheduledController({ cron: '* * * * *' }), env as WorkerEnv, exec),
    ).resolves.toBeUndefined();
    await waitOnExecutionContext(exec);
  });

  it('answers 500 naming the missing setting when DATABASE_URL is not set', async () => {
    const exec = createExecutionContext();
    const { DATABASE_URL: _omit, ...rest } = env as WorkerEnv;
    const res = await worker.fetch(new Request(`${base}/healthz`), rest as WorkerEnv, exec);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/DATABASE_URL is required/);
  });
});
