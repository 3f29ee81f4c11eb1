import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
});
