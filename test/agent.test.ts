import { waitFor } from './support/wait.ts';
/**
 * The agent against the real API: both are real processes on 127.0.0.1 (the API on a temp libSQL
 * file), with a real Pushgateway. Tests are declared through the API, as the syncer would.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunView } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { type ProbeTarget, startProbeTarget } from './support/probe-target.ts';
import { type AgentProcess, type Api, startAgent, startApi } from './support/processes.ts';
import { type Pushgateway, startPushgateway } from './support/pushgateway.ts';

const CLUSTER = 'edge-1';
const dir = mkdtempSync(join(tmpdir(), 'synthfleet-agent-system-'));
let port = 0;
let admin = '';
let api: Api;
let token = '';
let agent: AgentProcess;
let gateway: Pushgateway;
const agents: AgentProcess[] = [];

let target: ProbeTarget;
let hits: Map<string, number>;
let targetUrl = '';

beforeAll(async () => {
  target = await startProbeTarget();
  ({ url: targetUrl, hits } = target);
  gateway = await startPushgateway();
  port = await freePort();
  api = await startApi({ dataDir: join(dir, 'api'), port });
  admin = api.admin;
  token = await api.clusterToken(CLUSTER);
  agent = await startAgent({
    apiUrl: api.url,
    token,
    node: 'node-a',
    spoolDir: join(dir, 'spool-a'),
    env: { PUSHGATEWAY_URL: gateway.url },
  });
  agents.push(agent);
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await api?.stop();
  await gateway?.stop();
  target?.close();
  rmSync(dir, { recursive: true, force: true });
});

function putTest(name: string, spec: Record<string, unknown>) {
  return api.putTest(CLUSTER, token, name, spec);
}

function runsOf(name: string): Promise<RunView[]> {
  return api.runs(CLUSTER, 'default', name, token);
}

const poll = { timeout: 20_000, interval: 200 };

/**
 * Awaits `check`; when it fails, the error carries what the agent logged about `test` and the
 * target's hit counts, so a failure on a loaded CI machine says where the runs went.
 */
async function explained<T>(test: string, check: Promise<T>): Promise<T> {
  try {
    return await check;
  } catch (err) {
    const about = agent.logs.filter((l) => l.test === `${CLUSTER}/default/${test}` || String(l.msg).includes('assign'));
    const tail = about.slice(-30).map((l) => JSON.stringify(l));
    (err as Error).message +=
      `\nagent log about ${test}:\n${tail.join('\n')}\ntarget hits: ${JSON.stringify([...hits])}`;
    throw err;
  }
}

describe('agent with the real API', () => {
  it('runs an assigned test and its results reach the API, /readyz and the Pushgateway', async () => {
    expect(
      (await putTest('web', { plugin: 'httpPing', repeat: '1s', node: '*', config: `address: ${targetUrl}/ok` }))
        .status,
    ).toBe(201);
    await waitFor(
      async () => (await (await runsOf('web')).filter((r) => r.status === 'pass').length) >= 2,
      poll.timeout,
      "(await runsOf('web')).filter((r) => r.status === 'pass').length toBeGreaterThanOrEqual(2)",
    );
    const [run] = await runsOf('web');
    expect(run?.details?._log).toContain(`GET http://${targetUrl}/ok: status 200`);
    expect((await fetch(`${agent.url}/readyz`)).status).toBe(200);
    await waitFor(
      async () =>
        /synthfleet_test_success\{cluster="edge-1",instance="node-a",job="synthfleet",namespace="default",plugin="httpPing",test="web"\} 1/.test(
          String(await gateway.metrics()),
        ),
      poll.timeout,
      'gateway.metrics() toMatch(/synthfleet_test_success{cluster="edge-1",instance="node-a",job="synthfleet",namespace="def',
    );
  });

  it('picks up a config change through the long-poll and the next run uses it', async () => {
    expect(
      (await putTest('web', { plugin: 'httpPing', repeat: '1s', node: '*', config: `address: ${targetUrl}/v2` }))
        .status,
    ).toBe(200);
    await waitFor(() => (hits.get('/v2') ?? 0) >= 1, poll.timeout, "hits.get('/v2') ?? 0 toBeGreaterThanOrEqual(1)");
    await waitFor(
      async () =>
        (await (async () =>
          (await runsOf('web')).some((r) => r.revision === 2 && r.details?._log?.includes('/v2')))()) === true,
      poll.timeout,
      'toBe(true)',
    );
  });

  it('stops a removed test', async () => {
    expect((await api.call(`/api/v1/clusters/${CLUSTER}/tests/default/web`, { method: 'DELETE', token })).status).toBe(
      204,
    );
    await agent.waitForLog((l) => l.msg === 'assignment applied' && l.stopped === 1);
    const settled = hits.get('/v2') ?? 0;
    // Proving an absence takes a wait: three periods of the removed test.
    await new Promise((r) => setTimeout(r, 3000));
    expect(hits.get('/v2') ?? 0).toBe(settled);
  });

  it('records a probe that hangs past timeouts.run as timeout while other tests keep their schedule', async () => {
    const hangs = await putTest('hangs', {
      plugin: 'httpPing',
      repeat: '2s',
      node: '*',
      timeouts: { run: '1s' },
      config: `address: ${targetUrl}/hang`,
    });
    expect(hangs.status).toBe(201);
    const steady = await putTest('steady', {
      plugin: 'httpPing',
      repeat: '1s',
      node: '*',
      config: `address: ${targetUrl}/ok`,
    });
    expect(steady.status).toBe(201);
    await explained(
      'hangs',
      waitFor(
        async () => (await (await runsOf('hangs')).filter((r) => r.status === 'timeout').length) >= 2,
        poll.timeout,
        "(await runsOf('hangs')).filter((r) => r.status === 'timeout').length toBeGreaterThanOrEqual(2)",
      ),
    );
    const timeouts = (await runsOf('hangs')).filter((r) => r.status === 'timeout');
    expect(timeouts[0]?.details?._error).toContain('run exceeded timeouts.run (1s)');
    const from = Math.min(...timeouts.map((r) => Date.parse(r.startTime)));
    const to = Math.max(...timeouts.map((r) => Date.parse(r.endTime)));
    const steadyMeanwhile = (await runsOf('steady')).filter((r) => {
      const t = Date.parse(r.startTime);
      return t >= from && t <= to && r.status === 'pass';
    });
    expect(steadyMeanwhile.length).toBeGreaterThanOrEqual(1);
    await api.call(`/api/v1/clusters/${CLUSTER}/tests/default/hangs`, { method: 'DELETE', token });
  });

  it('meshes: each agent fetches heartbeats from its peers', async () => {
    const b = await startAgent({ apiUrl: api.url, token, node: 'node-b', spoolDir: join(dir, 'spool-b') });
    agents.push(b);
    await putTest('mesh', {
      plugin: 'heartbeat',
      repeat: '1s',
      node: '*',
      config: { sizes: [1024, '64KiB'], peers: 3 },
    });
    await waitFor(
      async () =>
        (await (async () =>
          new Set((await runsOf('mesh')).filter((r) => r.status === 'pass').map((r) => r.agentId)).size)()) === 2,
      60_000,
      'toBe(2)',
    );
    const run = (await runsOf('mesh')).find((r) => r.status === 'pass');
    expect([run?.marks, run?.maxMarks]).toEqual([2, 2]);
    await api.call(`/api/v1/clusters/${CLUSTER}/tests/default/mesh`, { method: 'DELETE', token });
    await b.stop();
  });

  it('keeps testing while the API is down and delivers every run made meanwhile exactly once', async () => {
    await api.stop();
    await agent.waitForLog((l) => l.msg === 'results not delivered; spooled', 20_000);
    const madeWhileDown = () =>
      agent.logs.filter((l) => l.msg === 'run finished' && l.test === `${CLUSTER}/default/steady`).length;
    const before = madeWhileDown();
    await waitFor(() => madeWhileDown() >= before + 3, poll.timeout, 'toBeGreaterThanOrEqual(before + 3)');
    api = await startApi({ dataDir: join(dir, 'api'), port, admin });
    await agent.waitForLog((l) => l.msg === 'results delivered again after an outage', 60_000);
    // A graceful stop delivers what is left; then the agent's own record is complete.
    expect(await agent.stop('SIGTERM')).toBe(0);
    const made = agent.logs
      .filter((l) => l.msg === 'run finished' && l.test === `${CLUSTER}/default/steady`)
      .map((l) => l.runId as string);
    const agentId = (await agent.waitForLog((l) => l.msg === 'registered')).agentId;
    // node-b ran `steady` too while it lived; count only this agent's runs.
    const stored = (await runsOf('steady')).filter((r) => r.agentId === agentId).map((r) => r.runId);
    expect(stored.length).toBe(new Set(stored).size);
    expect(new Set(stored)).toEqual(new Set(made));
    expect(made.length).toBeGreaterThan(before);
  }, 120_000);
});
