/**
 * `npm run db:migrate` against the libSQL server double (test/support/hrana-server.ts), as an
 * operator runs it before a Workers deploy: it applies the migrations, and when it cannot, says
 * why in one line instead of drizzle-kit's bare spinner and exit 1.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { type HranaServer, startHranaServer } from './support/hrana-server.ts';
import { ROOT } from './support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'synthfleet-migrate-'));
let server: HranaServer;
beforeAll(async () => {
  server = await startHranaServer({ path: join(dir, 'db.sqlite'), authToken: 'the-right-token' });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function migrate(url: string, authToken?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', 'db:migrate'],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: url, DATABASE_AUTH_TOKEN: authToken ?? '' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run db:migrate', () => {
  it('says in one line what failed: unauthorized, unreachable, TLS, a bad URL', async () => {
    const closed = await freePort();
    const cases: [string, string | undefined, RegExp][] = [
      [
        server.url,
        'a-wrong-token',
        /^db:migrate: unauthorized: http:\/\/127\.0\.0\.1:\d+ refused the credentials \(check DATABASE_AUTH_TOKEN\)/,
      ],
      [server.url, undefined, /^db:migrate: unauthorized: /],
      [
        `http://127.0.0.1:${closed}`,
        'x',
        /^db:migrate: unreachable: cannot connect to http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
      ],
      [
        server.url.replace('http:', 'https:'),
        'x',
        /^db:migrate: TLS failed talking to https:\/\/127\.0\.0\.1:\d+ \(ERR_SSL_WRONG_VERSION_NUMBER\): wrong version number$/,
      ],
      ['libsql://bad url', 'x', /^db:migrate: DATABASE_URL is not a usable libSQL URL/],
      ['postgres://db.example/x', 'x', /^db:migrate: DATABASE_URL is not a usable libSQL URL .*is not a libSQL URL/],
    ];
    for (const [url, token, expected] of cases) {
      const r = await migrate(url, token);
      expect(r.code, url).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, url).toHaveLength(1);
      expect(lines[0], url).toMatch(expected);
      expect(r.stderr).not.toContain('a-wrong-token');
    }
  }, 120_000);

  it('applies the migrations with the right token, and again is a no-op', async () => {
    const first = await migrate(server.url, 'the-right-token');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('is up to date');
    expect((await migrate(server.url, 'the-right-token')).code).toBe(0);
    const client = createClient({ url: server.url, authToken: 'the-right-token' });
    const tables = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['tests', 'runs', 'agents', 'tokens']));
    client.close();
  }, 120_000);
});
