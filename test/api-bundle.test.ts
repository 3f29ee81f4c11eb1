/**
 * The Node API as it ships (the esbuild bundle of scripts/build-api.ts, with the migrations beside
 * it) starts on an empty database, migrates it, serves the dashboard and the agents' API, and an
 * agent's results reach it; a bad configuration stops it with a message; its image runs it with
 * the settings the benchmarks use.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DIR } from '../scripts/build-agent.ts';
import { API_RUNTIME_ENV, buildApi } from '../scripts/build-api.ts';
import { type ProbeTarget, startProbeTarget } from './support/probe-target.ts';
import { type AgentProcess, type Api, startAgent, startApi } from './support/processes.ts';
import { waitFor } from './support/wait.ts';

// Inside the repository (dist/ is ignored): the bundle `require`s libSQL's native engine from node_modules.
const out = join(ROOT_DIR, `apps/api/dist/test-${process.pid}`);
const dir = mkdtempSync(join(tmpdir(), 'synthfleet-api-bundle-'));
let bundle = '';
let api: Api | undefined;
let agent: AgentProcess | undefined;
let target: ProbeTarget | undefined;

beforeAll(async () => {
  bundle = await buildApi(join(out, 'api.cjs'));
});
afterAll(async () => {
  await agent?.stop('SIGKILL');
  await api?.stop();
  target?.close();
  rmSync(out, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('API bundle', () => {
  it('carries its dependencies inside but libSQL, and its image runs it with the benchmarks’ settings', () => {
    const code = readFileSync(bundle, 'utf8');
    expect(code).toMatch(/require\(["']libsql["']\)/);
    expect(code).not.toMatch(/require\(["'](hono|drizzle-orm|zod|pino|@libsql\/client)["']\)/);
    const dockerfile = readFileSync(join(ROOT_DIR, 'infra/docker/api.Dockerfile'), 'utf8');
    expect(dockerfile).toContain('npm run build:api');
    expect(dockerfile).toContain('apps/api/dist/api.cjs');
    for (const [k, v] of Object.entries(API_RUNTIME_ENV)) expect(dockerfile).toContain(`${k}=${v}`);
  });

  it('stops at start-up with a message that names the bad variable', () => {
    const r = spawnSync(process.execPath, [bundle], {
      env: { PATH: process.env.PATH ?? '', PORT: 'x', SYNTHFLEET_DATA_DIR: join(dir, 'bad') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/synthfleet api: invalid API configuration:\s+PORT: /);
  });

  it('migrates an empty database, serves the dashboard, and takes an agent’s results', async () => {
    target = await startProbeTarget();
    api = await startApi({ dataDir: join(dir, 'api'), script: bundle, env: { ...API_RUNTIME_ENV } });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    const login = await fetch(`${api.url}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('<form');
    const token = await api.clusterToken('edge-1');
    expect(
      (
        await api.putTest('edge-1', token, 'web', {
          plugin: 'httpPing',
          repeat: '1s',
          config: `address: ${target.url}/ok`,
        })
      ).status,
    ).toBe(201);
    agent = await startAgent({ apiUrl: api.url, token, node: 'node-a', spoolDir: join(dir, 'spool') });
    const started = api;
    await waitFor(
      async () => (await started.runs('edge-1', 'default', 'web', token)).some((r) => r.status === 'pass'),
      30_000,
      'a passing run of edge-1/default/web recorded through the bundled API',
    );
  });
});
