import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { startNode } from './support/processes.ts';
import { waitFor } from './support/wait.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'synthfleet-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

type TestSummary = { name: string; apiVersion: string; lastRunAt: string | null; state: string };

describe('npm start (scripts/start.ts)', () => {
  it('runs API, local agent and the file-source syncer over infra/examples, and results appear', async () => {
    const port = await freePort();
    const proc = startNode(
      'scripts/start.ts',
      { PORT: String(port), HEARTBEAT_PORT: String(await freePort()), SYNTHFLEET_DATA_DIR: dataDir },
      'npm start',
    );
    try {
      const api = `http://127.0.0.1:${port}`;
      await waitFor(() => existsSync(join(dataDir, 'admin-token')), 60_000, 'admin token written');
      const admin = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const tests = async () => {
        const res = await fetch(`${api}/api/v1/tests?cluster=local`, { headers: { authorization: `Bearer ${admin}` } });
        return res.ok ? ((await res.json()) as { tests: TestSummary[] }).tests : [];
      };
      await waitFor(async () => (await tests()).length === 5, 60_000, 'the five examples mirrored');
      const mirrored = await tests();
      expect(mirrored.map((t) => t.name).sort()).toEqual([
        'api-health',
        'api-port',
        'localhost-dns',
        'node-mesh',
        'synheart-api-ping',
      ]);
      expect(mirrored.find((t) => t.name === 'synheart-api-ping')?.apiVersion).toBe('synheart.infra.webex.com/v1');
      // Every example has a result; the longest period is 1 minute, so the bound leaves room.
      const started = Date.now();
      await waitFor(
        async () => (await tests()).every((t) => t.lastRunAt !== null),
        150_000,
        'a result for every example',
      );
      process.stdout.write(`npm start: results for all examples ${Date.now() - started} ms after they were mirrored\n`);
      const byName = Object.fromEntries((await tests()).map((t) => [t.name, t]));
      expect(byName['localhost-dns']?.state).toBe('passing');
      // Nothing listens on 8787 in this test, so the API checks fail: they ran and reported.
      expect(byName['api-health']?.state).toMatch(/passing|failing/);
      // A mesh of one agent skips every run: skipped, not pending forever. No example stays pending.
      expect(byName['node-mesh']?.state).toBe('skipped');
      expect(Object.values(byName).filter((t) => t.state === 'pending')).toEqual([]);

      // The README's curl example: a test declared through the API, not by a manifest.
      const put = await fetch(`${api}/api/v1/clusters/local/tests/default/my-check`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'synthfleet.dev/v1',
          kind: 'SyntheticTest',
          metadata: { name: 'my-check' },
          spec: { plugin: 'httpPing', repeat: '10s', node: '*', config: 'address: 127.0.0.1:8787/healthz' },
        }),
      });
      expect(put.status).toBe(201);
    } finally {
      expect(await proc.stop()).toBe(0);
    }

    // The next `npm start`: the file syncer's start-up snapshot removes only what its own source
    // declared, so the API-declared test stays.
    const again = startNode(
      'scripts/start.ts',
      { PORT: String(port), HEARTBEAT_PORT: String(await freePort()), SYNTHFLEET_DATA_DIR: dataDir },
      'npm start again',
    );
    try {
      const snapshot = await again.waitForLog((l) => l.msg === 'snapshot applied', 120_000);
      expect(snapshot).toMatchObject({ deleted: 0, kept: 1 });
      const admin = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/tests/local/default/my-check`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { source: string }).source).toBe('api');
    } finally {
      expect(await again.stop()).toBe(0);
    }
  }, 420_000);
});
