/**
 * `npm run db:migrate`: applies the committed migrations to DATABASE_URL (with DATABASE_AUTH_TOKEN)
 * with drizzle-kit, as a Workers deploy needs (a Worker has no disk for the migrator). It first
 * checks it can talk to the database and, if not, says why in one line (unauthorized, unreachable,
 * TLS, a bad URL): drizzle-kit alone only spins and exits 1.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, describeDatabaseError, redactUrl } from '@synthfleet/db';

const root = fileURLToPath(new URL('..', import.meta.url));
const url = process.env.DATABASE_URL || 'file:.synthfleet/synthfleet.db';
const authToken = process.env.DATABASE_AUTH_TOKEN || undefined;

function fail(line: string): never {
  process.stderr.write(`db:migrate: ${line}\n`);
  process.exit(1);
}

try {
  const handle = await createDatabase({ url, authToken });
  try {
    await handle.client.execute('SELECT 1');
  } finally {
    handle.close();
  }
} catch (err) {
  fail(describeDatabaseError(err, url).line);
}

const kit = spawnSync(
  process.execPath,
  [join(root, 'node_modules/drizzle-kit/bin.cjs'), 'migrate', '--config', 'packages/db/drizzle.config.ts'],
  { cwd: root, env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' },
);
if (kit.status !== 0) {
  // drizzle-kit prints a spinner and, at best, the error further down: keep its last real lines.
  const lines = `${kit.stdout}\n${kit.stderr}`
    .split('\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape codes are what is stripped
    .map((l) => l.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').trim())
    .filter((l) => l && !/^[[\]⣷⣯⣟⡿⢿⣻⣽⣾·\s]*$/.test(l) && !/Reading config file|applying migrations/i.test(l));
  fail(
    `drizzle-kit could not apply the migrations to ${redactUrl(url)}: ${lines.slice(-3).join(' / ') || `exit ${kit.status}`}`,
  );
}
process.stdout.write(`db:migrate: ${redactUrl(url)} is up to date\n`);
