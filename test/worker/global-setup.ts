/**
 * Runs in Node before the workerd tests: starts the libSQL server double on a temp file, applies
 * the migrations through it with `npm run db:migrate` (drizzle-kit against the URL, as a deploy
 * does) and hands the URL to the Worker's bindings (vitest.config.ts).
 *
 * The route contract suite, run inside workerd too, needs a fresh database per test: a small
 * manager on 127.0.0.1 answers `POST /databases` with a new double serving a copy of the migrated
 * database (`{url, authToken}`), and `DELETE /databases?url=…` stops it (the test harness calls both).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import type { TestProject } from 'vitest/node';
import { migrateOverHttp } from '../support/db-migrate.ts';
import { type HranaServer, startHranaServer } from '../support/hrana-server.ts';

export const WORKER_DATABASE_TOKEN = 'worker-test-database-token';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /** Set only in the workerd project: where the harness gets a fresh migrated database. */
    databaseManagerUrl?: string;
  }
}

export async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-worker-db-'));
  const server = await startHranaServer({ path: join(dir, 'api.db'), authToken: WORKER_DATABASE_TOKEN });
  try {
    await migrateOverHttp(server.url, WORKER_DATABASE_TOKEN);
  } catch (err) {
    await server.close();
    throw err;
  }
  project.provide('databaseUrl', server.url);

  // The migrated database, checkpointed into one file, is the template for fresh copies.
  const template = join(dir, 'template.db');
  const source = new Database(join(dir, 'api.db'));
  source.exec(`VACUUM INTO '${template}'`);
  source.close();
  const copies = new Map<string, { server: HranaServer; path: string }>();
  let made = 0;
  const manager = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://manager');
    void (async () => {
      if (req.method === 'POST' && url.pathname === '/databases') {
        const path = join(dir, `copy-${++made}.db`);
        copyFileSync(template, path);
        const copy = await startHranaServer({ path, authToken: WORKER_DATABASE_TOKEN });
        copies.set(copy.url, { server: copy, path });
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ url: copy.url, authToken: WORKER_DATABASE_TOKEN }));
      } else if (req.method === 'DELETE' && url.pathname === '/databases') {
        const key = url.searchParams.get('url') ?? '';
        const copy = copies.get(key);
        if (!copy) return void res.writeHead(404).end();
        copies.delete(key);
        await copy.server.close();
        rmSync(copy.path, { force: true });
        res.writeHead(204).end();
      } else res.writeHead(404).end();
    })().catch((err: Error) => res.writeHead(500).end(err.message));
  });
  await new Promise<void>((resolve) => manager.listen({ port: 0, host: '127.0.0.1' }, resolve));
  project.provide('databaseManagerUrl', `http://127.0.0.1:${(manager.address() as AddressInfo).port}`);

  return async () => {
    manager.closeAllConnections();
    await new Promise((resolve) => manager.close(resolve));
    for (const copy of copies.values()) await copy.server.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
