/**
 * `npm run dev:worker` as an operator runs it: the Worker under wrangler dev (workerd) on the
 * libSQL server double, migrated by `npm run db:migrate`, with the Cron Trigger's sweep fired on
 * its period (shortened here with DEV_SWEEP_SECONDS). Under it, a stopped agent goes stale and its
 * `$` test moves to a live agent, which wrangler dev alone never does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentList, CreateTokenResponse, RunPage } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { type AgentProcess, type NodeProcess, startAgent, startNode } from './support/processes.ts';
import { waitFor } from './support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'synthfleet-worker-dev-'));
const admin = `dev-admin-${crypto.randomUUID()}`;
let dev: NodeProcess;
let url = '';
const agents: AgentProcess[] = [];

beforeAll(async () => {
  const port = await freePort();
  dev = startNode(
    'scripts/dev-worker.ts',
    {
      PORT: String(port),
      DEV_INSPECTOR_PORT: String(await freePort()),
      SYNTHFLEET_DEV_DIR: dir,
      SYNTHFLEET_ADMIN_TOKEN: admin,
      DEV_SWEEP_SECONDS: '2',
      AGENT_DEADLINE_SECONDS: '6',
      POLL_WAIT_MAX_SECONDS: '2',
      LOG_LEVEL: 'info',
    },
    'dev:worker',
  );
  const ready = await dev.waitForLog((l) => l.msg === 'dev:worker ready', 180_000);
  url = ready.url as string;
}, 200_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await dev?.stop('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function call(path: string, token: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

describe('npm run dev:worker', () => {
  it('fires the sweep on its period, so a stopped agent goes stale and its $ test moves to a live one', async () => {
    expect((await call('/healthz', admin)).status).toBe(200);
    const tok = await call('/api/v1/tokens', admin, { method: 'POST', body: { role: 'cluster', cluster: 'dev' } });
    expect(tok.status).toBe(201);
    const token = CreateTokenResponse.parse(tok.json).token;
    for (const node of ['node-a', 'node-b']) {
      agents.push(await startAgent({ apiUrl: url, token, node, spoolDir: join(dir, `spool-${node}`) }));
    }
    await waitFor(
      async () =>
        (await (async () =>
          AgentList.parse((await call('/api/v1/clusters/dev/agents', token)).json).agents.length)()) === 2,
      60_000,
      'toBe(2)',
    );
    const put = await call('/api/v1/clusters/dev/tests/default/one-node', token, {
      method: 'PUT',
      body: {
        apiVersion: 'synthfleet.dev/v1',
        kind: 'SyntheticTest',
        metadata: { name: 'one-node', namespace: 'default' },
        spec: {
          plugin: 'netDial',
          repeat: '1s',
          node: '$',
          config: { addresses: [{ addr: url.replace('http://', ''), net: 'tcp' }] },
        },
      },
    });
    expect(put.status).toBe(201);
    const runs = async () =>
      RunPage.parse((await call('/api/v1/tests/dev/default/one-node/runs?limit=500', token)).json).runs;
    await waitFor(
      async () => (await (await runs()).length) >= 1,
      60_000,
      '(await runs()).length toBeGreaterThanOrEqual(1)',
    );
    const first = (await runs())[0]?.agentId as string;
    const ids = await Promise.all(agents.map((a) => a.waitForLog((l) => l.msg === 'registered')));
    const holder = agents[ids.findIndex((l) => l.agentId === first)] as AgentProcess;
    const other = ids.find((l) => l.agentId !== first)?.agentId as string;
    await holder.stop('SIGKILL');
    // Only the sweep marks the stopped agent stale and moves its `$` test: wrangler dev fires no cron.
    await dev.waitForLog((l) => l.msg === 'sweep' && Number(l.staleAgents) >= 1, 90_000);
    await waitFor(
      async () => (await (await runs()).some((r) => r.agentId === other)) === true,
      90_000,
      '(await runs()).some((r) => r.agentId === other) toBe(true)',
    );
  }, 240_000);
});
