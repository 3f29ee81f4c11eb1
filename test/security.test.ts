import { waitFor } from './support/wait.ts';
/**
 * What an outside security test found, re-run against the real API and real agent processes on
 * 127.0.0.1: exec's environment through a real bash script, a hostile target's endless body
 * against the agent's memory, and a writer quota whose 429s the agent rides out in its spool.
 */

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunView } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileTarget, startHostileTarget } from '../packages/probes/src/testing/hostile-target.ts';
import { freePort } from './support/free-port.ts';
import { type AgentProcess, type Api, startAgent, startApi } from './support/processes.ts';

const CLUSTER = 'edge-sec';
const dir = mkdtempSync(join(tmpdir(), 'synthfleet-security-'));
const allowDir = join(dir, 'allowed');
const marker = join(dir, 'pwned');
const seen = join(dir, 'seen-mode');
let api: Api;
let token = '';
let agent: AgentProcess;
let hostile: HostileTarget;
const processes: AgentProcess[] = [];

beforeAll(async () => {
  mkdirSync(allowDir);
  const check = join(allowDir, 'check.sh');
  // A real bash script, as an operator would allow: it records what MODE it saw and passes.
  writeFileSync(check, `#!/bin/bash\nprintf '%s' "$MODE" > ${seen}\necho '{"marks":1,"maxMarks":1}'\n`);
  chmodSync(check, 0o755);
  hostile = await startHostileTarget();
  api = await startApi({ dataDir: join(dir, 'api') });
  token = await api.clusterToken(CLUSTER);
  agent = await startAgent({
    apiUrl: api.url,
    token,
    node: 'node-a',
    spoolDir: join(dir, 'spool-a'),
    env: { EXEC_ALLOW: allowDir, EXEC_ENV_ALLOW: 'MODE' },
  });
  processes.push(agent);
});

afterAll(async () => {
  await Promise.all(processes.map((a) => a.stop('SIGKILL')));
  await api?.stop();
  await hostile?.close();
  rmSync(dir, { recursive: true, force: true });
});

const poll = { timeout: 30_000, interval: 200 };

function runsOf(name: string): Promise<RunView[]> {
  return api.runs(CLUSTER, 'default', name, token);
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}

describe('security, against the real API and agent', () => {
  it('never lets a spec make an allow-listed bash script run a command', async () => {
    const check = join(allowDir, 'check.sh');
    const refused = await api.putTest(CLUSTER, token, 'exec-bash-env', {
      plugin: 'exec',
      repeat: '1s',
      node: '*',
      config: { command: check, env: { BASH_ENV: `$(touch ${marker})` } },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain('spec.config.env.BASH_ENV');
    const yaml = await api.putTest(CLUSTER, token, 'exec-ld', {
      plugin: 'exec',
      repeat: '1s',
      node: '*',
      config: `command: ${check}\nenv:\n  LD_PRELOAD: ${dir}/evil.so\n`,
    });
    expect(yaml.status).toBe(400);

    // The API lets OTHER through (it is not a loader or interpreter variable); this agent, set
    // more strictly, refuses it with an error run that names it.
    expect(
      (
        await api.putTest(CLUSTER, token, 'exec-strict', {
          plugin: 'exec',
          repeat: '1s',
          node: '*',
          config: { command: check, env: { MODE: 'fast', OTHER: 'x' } },
        })
      ).status,
    ).toBe(201);
    await waitFor(
      async () => (await (await runsOf('exec-strict')).length) >= 1,
      poll.timeout,
      "(await runsOf('exec-strict')).length toBeGreaterThanOrEqual(1)",
    );
    const [strict] = await runsOf('exec-strict');
    expect(strict?.status).toBe('error');
    expect(strict?.details?._error).toContain(
      'config.env.OTHER is not a variable this agent lets a spec set (EXEC_ENV_ALLOW: MODE)',
    );
    expect(existsSync(seen)).toBe(false);

    // An allowed variable reaches the script as a plain value: bash does not evaluate it.
    expect(
      (
        await api.putTest(CLUSTER, token, 'exec-ok', {
          plugin: 'exec',
          repeat: '1s',
          node: '*',
          config: { command: check, env: { MODE: `$(touch ${marker})` } },
        })
      ).status,
    ).toBe(201);
    await waitFor(
      async () => (await (await runsOf('exec-ok')).some((r) => r.status === 'pass')) === true,
      poll.timeout,
      "(await runsOf('exec-ok')).some((r) => r.status === 'pass') toBe(true)",
    );
    expect(readFileSync(seen, 'utf8')).toBe(`$(touch ${marker})`);
    expect(existsSync(marker)).toBe(false);
    for (const name of ['exec-strict', 'exec-ok']) {
      await api.call(`/api/v1/clusters/${CLUSTER}/tests/default/${name}`, { method: 'DELETE', token });
    }
  });

  it("does not let an endless target body grow the agent's memory or hold its runs", async () => {
    expect(
      (
        await api.putTest(CLUSTER, token, 'endless', {
          plugin: 'httpPing',
          repeat: '1s',
          node: '*',
          timeouts: { run: '20s' },
          config: { address: `${hostile.url}/endless` },
        })
      ).status,
    ).toBe(201);
    await waitFor(
      async () => (await (await runsOf('endless')).length) >= 1,
      poll.timeout,
      "(await runsOf('endless')).length toBeGreaterThanOrEqual(1)",
    );
    const before = rssOf(agent.child.pid as number);
    await waitFor(
      async () => (await (await runsOf('endless')).length) >= 8,
      60_000,
      "(await runsOf('endless')).length toBeGreaterThanOrEqual(8)",
    );
    const after = rssOf(agent.child.pid as number);
    const endless = await runsOf('endless');
    await api.call(`/api/v1/clusters/${CLUSTER}/tests/default/endless`, { method: 'DELETE', token });
    expect(endless.every((r) => r.status === 'pass')).toBe(true);
    expect(endless[0]?.details?._log).toContain('stopped reading the body after');
    // Every answer was cancelled after what the probe reads plus socket buffers, never gigabytes.
    expect(hostile.sent.length).toBeGreaterThanOrEqual(8);
    for (const bytes of hostile.sent) expect(bytes).toBeLessThan(16 * 1024 * 1024);
    // A bound, not a timing: the old code grew by over 100 MB in 30 s against such a target.
    expect(after - before).toBeLessThan(40 * 1024 * 1024);
  }, 120_000);

  it('keeps what a writer quota refused in the spool and delivers every run exactly once later', async () => {
    const port = await freePort();
    const quotaDir = join(dir, 'api-quota');
    let limited = await startApi({ dataDir: quotaDir, port, env: { RATE_AGENT_RUNS_PER_MINUTE: '6' } });
    const admin = limited.admin;
    const quotaToken = await limited.clusterToken('edge-quota');
    const b = await startAgent({
      apiUrl: limited.url,
      token: quotaToken,
      node: 'node-q',
      spoolDir: join(dir, 'spool-q'),
    });
    processes.push(b);
    try {
      for (const name of ['q1', 'q2', 'q3']) {
        await limited.putTest('edge-quota', quotaToken, name, {
          plugin: 'netDial',
          repeat: '1s',
          node: '*',
          config: { addresses: [{ addr: limited.url.replace('http://', ''), net: 'tcp' }] },
        });
      }
      await b.waitForLog((l) => l.msg === 'results refused for now by the API (rate limited); spooled', 60_000);
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      expect(Number(/synthfleet_agent_rate_limited_runs_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
      // The operator lifts the quota; everything the agent made reaches the API, once.
      await limited.stop();
      limited = await startApi({ dataDir: quotaDir, port, admin, env: { RATE_AGENT_RUNS_PER_MINUTE: '0' } });
      await b.waitForLog((l) => l.msg === 'results delivered again after an outage', 90_000);
      // A graceful stop delivers what is left; then the agent's own record is complete.
      expect(await b.stop('SIGTERM')).toBe(0);
      const made = b.logs.filter((l) => l.msg === 'run finished').map((l) => l.runId as string);
      const stored: string[] = [];
      for (const name of ['q1', 'q2', 'q3']) {
        stored.push(...(await limited.runs('edge-quota', 'default', name)).map((r) => r.runId));
      }
      expect(made.length).toBeGreaterThan(6);
      expect(stored.length).toBe(new Set(stored).size);
      expect(new Set(stored)).toEqual(new Set(made));
    } finally {
      await limited.stop();
    }
  }, 180_000);
});
