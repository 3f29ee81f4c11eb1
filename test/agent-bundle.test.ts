/** The agent as it ships (the esbuild bundle) starts, refuses bad config, and serves heartbeats. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS, AGENT_RUNTIME_ENV, buildAgent, ROOT_DIR } from '../scripts/build-agent.ts';
import { type AgentProcess, startNode } from './support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'synthfleet-bundle-'));
let bundle = '';
let agent: AgentProcess | undefined;

beforeAll(async () => {
  bundle = await buildAgent(join(dir, 'agent.cjs'));
});
afterAll(async () => {
  await agent?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('agent bundle', () => {
  it('carries every dependency inside, the YAML parser included, and ships with the settings the benchmark uses', () => {
    const code = readFileSync(bundle, 'utf8');
    expect(code).not.toMatch(/import\(["']yaml["']\)/);
    expect(code).not.toMatch(/from ?["'](zod|yaml|croner)["']/);
    const dockerfile = readFileSync(join(ROOT_DIR, 'infra/docker/agent.Dockerfile'), 'utf8');
    for (const flag of AGENT_NODE_FLAGS) expect(dockerfile).toContain(`"${flag}"`);
    for (const [k, v] of Object.entries(AGENT_RUNTIME_ENV)) expect(dockerfile).toContain(`${k}=${v}`);
  });

  it('stops at start-up with a message that names the bad variable', () => {
    const r = spawnSync(process.execPath, [bundle], {
      env: { PATH: process.env.PATH ?? '', SYNTHFLEET_API_URL: 'http://127.0.0.1:1', HEARTBEAT_PORT: 'x' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('SYNTHFLEET_TOKEN: is required');
    expect(r.stderr).toContain('HEARTBEAT_PORT: must be a whole number from 0 to 65535, not "x"');
  });

  it('serves heartbeats and health while the API is unreachable, and is not ready; idle on http:// it loads no TLS, crypto, worker threads, fs/promises or zod', async () => {
    // A preload that keeps writing the builtins the process has loaded and whether zod has been
    // evaluated (zod 4 sets a global config object when its core loads); the agent is killed, not stopped.
    const loaded = join(dir, 'loaded.json');
    const preload = join(dir, 'loaded.cjs');
    writeFileSync(
      preload,
      `const fs = require('node:fs'); setInterval(() => fs.writeFileSync(${JSON.stringify(loaded)}, JSON.stringify({ builtins: process.moduleLoadList, zod: '__zod_globalConfig' in globalThis })), 100).unref();`,
    );
    const proc = startNode(
      bundle,
      {
        SYNTHFLEET_API_URL: 'http://127.0.0.1:1',
        SYNTHFLEET_TOKEN: 'sfc_unused',
        NODE_NAME: 'bundle-node',
        HEARTBEAT_HOST: '127.0.0.1',
        HEARTBEAT_PORT: '0',
        SPOOL_DIR: join(dir, 'spool'),
        NODE_OPTIONS: `--require ${preload}`,
      },
      'agent bundle',
    );
    const line = await proc.waitForLog((l) => l.msg === 'agent listening');
    agent = { ...proc, url: line.url as string };
    expect(await (await fetch(`${agent.url}/heartbeat/20`)).text()).toBe('0123456789ABCDEF0123');
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${agent.url}/readyz`)).status).toBe(503);
    await proc.waitForLog((l) => l.msg === 'poll failed' && String(l.err).includes('ECONNREFUSED'));
    await new Promise((r) => setTimeout(r, 300));
    const seen = JSON.parse(readFileSync(loaded, 'utf8')) as { builtins: string[]; zod: boolean };
    expect(seen.zod, 'zod evaluated by an idle agent').toBe(false);
    const builtins = seen.builtins
      .filter((m) => m.startsWith('NativeModule '))
      .map((m) => m.slice('NativeModule '.length));
    expect(builtins).toContain('http');
    for (const heavy of ['https', 'tls', 'crypto', 'worker_threads', 'zlib', 'fs/promises'])
      expect(builtins, heavy).not.toContain(heavy);
  });
});
