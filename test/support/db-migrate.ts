import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Applies the migrations to a libSQL server at `url` the way a Workers deploy does:
 * `npm run db:migrate` (drizzle-kit against DATABASE_URL). Fails naming drizzle-kit's output.
 */
export async function migrateOverHttp(url: string, authToken: string): Promise<void> {
  try {
    await promisify(execFile)('npm', ['run', '--silent', 'db:migrate'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url, DATABASE_AUTH_TOKEN: authToken },
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`db:migrate against ${url} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}
