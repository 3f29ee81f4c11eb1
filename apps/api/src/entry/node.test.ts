import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { slowHeaders } from '@synthfleet/test-support/slow-client.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseEnv } from '../env.ts';
import { startNodeServer } from './node.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe('the Node entry on the embedded default', () => {
  it('creates a file: database under the data dir, prints an admin token once, and serves the API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synthfleet-entry-'));
    dirs.push(dir);
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const env = { PORT: '0', HOST: '127.0.0.1', SYNTHFLEET_DATA_DIR: dir, LOG_LEVEL: 'silent' };
    const first = await startNodeServer(env);
    const printed = out.join('');
    const token = /(sfa_[A-Za-z0-9_-]+)/.exec(printed)?.[1];
    expect(token).toBeDefined();
    expect(existsSync(join(dir, 'synthfleet.db'))).toBe(true);
    const base = `http://127.0.0.1:${first.port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const fleet = await fetch(`${base}/api/v1/fleet`, { headers: { authorization: `Bearer ${token}` } });
    expect(fleet.status).toBe(200);
    await first.close();

    // Second start on the same database: nothing new is printed, the old token still works.
    out.length = 0;
    const second = await startNodeServer(env);
    expect(out.join('')).not.toMatch(/sfa_/);
    const again = await fetch(`http://127.0.0.1:${second.port}/api/v1/tokens`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(again.status).toBe(200);
    await second.close();
  });

  it('stops start-up with a message that names a bad variable', async () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => parseEnv({ SYNTHFLEET_ADMIN_TOKEN: 'short' })).toThrow(/SYNTHFLEET_ADMIN_TOKEN: must be at least 16/);
    expect(() => parseEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    const entry = fileURLToPath(new URL('./node.ts', import.meta.url));
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [entry], { env: { ...process.env, AGENT_DEADLINE_SECONDS: '1' } }, (err, _o, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/AGENT_DEADLINE_SECONDS/);
  });

  it('closes connections whose headers never finish (408), while a long-poll held meanwhile still ends with its answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synthfleet-entry-'));
    dirs.push(dir);
    const admin = `admin-${crypto.randomUUID()}`;
    const server = await startNodeServer({
      PORT: '0',
      HOST: '127.0.0.1',
      SYNTHFLEET_DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      SYNTHFLEET_ADMIN_TOKEN: admin,
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const call = (path: string, body?: unknown) =>
        fetch(`${base}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const { token } = (await (await call('/api/v1/tokens', { role: 'cluster', cluster: 'edge-1' })).json()) as {
        token: string;
      };
      const reg = await fetch(`${base}/api/v1/agents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ node: 'node-a', version: '1.0.0' }),
      });
      const { agentId } = (await reg.json()) as { agentId: string };
      const first = await fetch(`${base}/api/v1/agents/${agentId}/assignments`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const { version } = (await first.json()) as { version: number };
      // Held for 15 s: longer than the header timeout the slow clients are cut at. A cut poll would
      // reject; the 304 is the held poll ending by itself.
      const held = fetch(`${base}/api/v1/agents/${agentId}/assignments?version=${version}&wait=15`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const clients = await Promise.all(Array.from({ length: 50 }, () => slowHeaders(server.port)));
      for (const c of clients) {
        expect(c.closed).toBe(true);
        expect(c.answer).toContain('408');
      }
      const poll = await held;
      expect(poll.status).toBe(304);
    } finally {
      await server.close();
    }
  }, 90_000);
});
