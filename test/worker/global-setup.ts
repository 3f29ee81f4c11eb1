/**
 * Runs in Node before the workerd tests: starts the libSQL server double on a temp file, applies
 * the migrations through it with `npm run db:migrate` (drizzle-kit against the URL, as a deploy
 * does) and hands the URL to the Worker's bindings (vitest.config.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { startHranaServer } from '../support/hrana-server.ts';

export const WORKER_DATABASE_TOKEN = 'worker-test-database-token';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-worker-db-'));
  const server = await startHranaServer({ path: join(dir, 'api.db'), authToken: WORKER_DATABASE_TOKEN });
  try {
    await promisify(execFile)('npm', ['run', '--silent', 'db:migrate'], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, DATABASE_URL: server.url, DATABASE_AUTH_TOKEN: WORKER_DATABASE_TOKEN },
    });
  } catch (err) {
    await server.close();
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`db:migrate against the libSQL double failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  project.provide('databaseUrl', server.url);
  return async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
