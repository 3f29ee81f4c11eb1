/**
 * Run now, for real: the API (Node entry) and three agent processes on 127.0.0.1. A test that
 * runs once an hour is asked to run now; every assigned agent is woken through its long-poll,
 * runs it, and reports a result tagged `trigger: manual`. The time from the request to the last
 * result is printed (the target is 2 s; tests assert no wall-clock time, so the bound
 * here is only the loop's safety stop).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunNowResponse, TestDetail } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, type Api, startAgent, startApi } from './support/processes.ts';
import { waitFor } from './support/wait.ts';

const CLUSTER = 'edge-run-now';
const dir = mkdtempSync(join(tmpdir(), 'synthfleet-run-now-'));
let api: Api;
let token = '';
const agents: AgentProcess[] = [];

beforeAll(async () => {
  api = await startApi({ dataDir: join(dir, 'api') });
  token = await api.clusterToken(CLUSTER);
  for (const node of ['node-a', 'node-b', 'node-c']) {
    // A new test's first run comes anywhere within its hour, not within the usual 30 s.
    agents.push(
      await startAgent({
        apiUrl: api.url,
        token,
        node,
        spoolDir: join(dir, `spool-${node}`),
        env: { CHANGE_SPREAD_SECONDS: '86400' },
      }),
    );
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Run now through real agents', () => {
  it('gets a result from every assigned agent of an hourly test, tagged manual', async () => {
    const put = await api.putTest(CLUSTER, token, 'hourly', {
      plugin: 'dns',
      repeat: '1h',
      node: '*',
      config: { domains: ['localhost'] },
    });
    expect(put.status).toBe(201);
    // Every agent holds the test (its assignment came through the long-poll).
    await waitFor(async () => {
      const t = TestDetail.parse((await api.call(`/api/v1/tests/${CLUSTER}/default/hourly`, { token })).json);
      return t.assignedTo.length === 3;
    });
    // Give the agents a moment to apply the assignment and go back to their long-polls.
    await new Promise((r) => setTimeout(r, 1500));
    const started = Date.now();
    const asked = await api.call(`/api/v1/tests/${CLUSTER}/default/hourly/run`, { method: 'POST', token });
    expect(asked.status).toBe(202);
    const request = RunNowResponse.parse(asked.json);
    expect(request.agents.map((a) => a.node)).toEqual(['node-a', 'node-b', 'node-c']);
    const manualBy = async () =>
      new Set(
        (await api.runs(CLUSTER, 'default', 'hourly', token))
          .filter((r) => r.trigger?.type === 'manual')
          .map((r) => r.agentId),
      );
    await waitFor(async () => (await manualBy()).size === 3, 60_000, 'a manual run from each agent');
    const elapsed = Date.now() - started;
    process.stdout.write(`run-now: results from all 3 agents ${elapsed} ms after the request\n`);
    expect([...(await manualBy())].sort()).toEqual(request.agents.map((a) => a.agentId).sort());
    // Once each: asking again at once is refused, and the agents ran nothing more.
    const again = await api.call(`/api/v1/tests/${CLUSTER}/default/hourly/run`, { method: 'POST', token });
    expect(again.status).toBe(429);
    const manual = (await api.runs(CLUSTER, 'default', 'hourly', token)).filter((r) => r.trigger?.type === 'manual');
    expect(manual).toHaveLength(3);
  }, 120_000);
});
