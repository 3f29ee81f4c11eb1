/**
 * `npm run dev:worker`: the Workers entry in local development, as an operator tries it before a
 * deploy. wrangler dev does not fire Cron Triggers by itself, so without this agents would never go
 * stale, a stopped agent's `$` test would stay on it, and dead peers would stay in meshes:
 *
 * 1. the database: DATABASE_URL (with DATABASE_AUTH_TOKEN) if set, else the libSQL server double
 *    (test/support/hrana-server.ts, the real engine behind the Hrana-over-HTTP protocol) on a file
 *    in SYNTHFLEET_DEV_DIR (default .synthfleet/worker-dev);
 * 2. `npm run db:migrate` against it;
 * 3. `wrangler dev --test-scheduled` on 127.0.0.1:PORT (default 8787) from wrangler.toml, its
 *    secrets in an env file (mode 600) in that directory, never on the command line;
 * 4. the scheduled handler fired through `/__scheduled` on the cron's period (wrangler.toml's
 *    `crons`, a minute; DEV_SWEEP_SECONDS overrides), as the Cron Trigger does once deployed.
 *
 * The admin token is SYNTHFLEET_ADMIN_TOKEN, or one made once and kept in that directory. Any
 * variable of the API's `[vars]` set in the environment (AGENT_DEADLINE_SECONDS, …) overrides
 * wrangler.toml's. Ctrl-C stops everything.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { secretFile } from './secret-file.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = resolve(root, process.env.SYNTHFLEET_DEV_DIR ?? '.synthfleet/worker-dev');
const port = process.env.PORT ?? '8787';
const url = `http://127.0.0.1:${port}`;
const children: ChildProcess[] = [];

/** Variables the Worker reads (apps/api/src/env.ts) that an operator may set for a dev run. */
const PASSED_VARS = [
  'AGENT_DEADLINE_SECONDS',
  'POLL_WAIT_MAX_SECONDS',
  'RETENTION_DAYS',
  'STALE_RESULT_SECONDS',
  'LOG_LEVEL',
  'RATE_TOKEN_WRITES_PER_SECOND',
  'RATE_AGENT_RUNS_PER_MINUTE',
  'RATE_TOKEN_RUNS_PER_MINUTE',
  'RATE_SIGNINS_PER_MINUTE',
  'RUN_MAX_BYTES',
];

function say(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ msg: `dev:worker ${msg}`, ...fields })}\n`);
}

let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 10_000).unref();
  Promise.all(
    children.map(
      (c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))),
    ),
  ).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

function fail(message: string): never {
  process.stderr.write(`dev:worker: ${message}\n`);
  stop(1);
  throw new Error(message);
}

/** The cron's period in seconds: wrangler.toml's first cron, when it is a plain every-minute one. */
function sweepSeconds(): number {
  const given = Number(process.env.DEV_SWEEP_SECONDS);
  if (given > 0) return given;
  const cron = /crons\s*=\s*\[\s*"([^"]+)"/.exec(readFileSync(join(root, 'wrangler.toml'), 'utf8'))?.[1];
  const everyMinutes = cron ? /^\*\/(\d+) \* \* \* \*$/.exec(cron)?.[1] : undefined;
  return everyMinutes ? Number(everyMinutes) * 60 : 60;
}

async function startDatabase(): Promise<{ url: string; token: string }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, token: process.env.DATABASE_AUTH_TOKEN ?? '' };
  const token = secretFile(dir, 'database-token', () => randomBytes(24).toString('base64url'));
  const child = spawn(process.execPath, [join(root, 'test/support/hrana-server-main.ts')], {
    cwd: root,
    env: { ...process.env, HRANA_PATH: join(dir, 'synthfleet.db'), HRANA_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const dbUrl = await new Promise<string>((done, reject) => {
    child.once('exit', (code) => reject(new Error(`the libSQL server double exited (${code})`)));
    child.stdout?.once('data', (b: Buffer) => done((JSON.parse(b.toString()) as { url: string }).url));
  });
  return { url: dbUrl, token };
}

async function waitForWorker(worker: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (worker.exitCode !== null) fail(`wrangler dev exited (${worker.exitCode}) before it served ${url}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`wrangler dev did not serve ${url}/healthz within 120 s`);
}

mkdirSync(dir, { recursive: true });
const db = await startDatabase();
say('database', { database: db.url.replace(/\/\/[^@/]*@/, '//***@') });
const migrated = spawnSync(process.execPath, [join(root, 'scripts/db-migrate.ts')], {
  cwd: root,
  env: { ...process.env, DATABASE_URL: db.url, DATABASE_AUTH_TOKEN: db.token },
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (migrated.status !== 0) fail('the migrations did not apply (above: why)');

const admin =
  process.env.SYNTHFLEET_ADMIN_TOKEN ??
  secretFile(dir, 'admin-token', () => `sfa_${randomBytes(32).toString('base64url')}`);
const envFile = join(dir, 'dev.env');
const vars: Record<string, string> = {
  DATABASE_URL: db.url,
  DATABASE_AUTH_TOKEN: db.token,
  SYNTHFLEET_ADMIN_TOKEN: admin,
};
for (const name of PASSED_VARS) if (process.env[name]) vars[name] = process.env[name] as string;
writeFileSync(
  envFile,
  `${Object.entries(vars)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join('\n')}\n`,
  { mode: 0o600 },
);

const args = [
  join(root, 'node_modules/wrangler/bin/wrangler.js'),
  'dev',
  '--config',
  join(root, 'wrangler.toml'),
  '--ip',
  '127.0.0.1',
  '--port',
  port,
  '--test-scheduled',
  '--env-file',
  envFile,
  '--persist-to',
  join(dir, 'wrangler-state'),
  '--show-interactive-dev-session=false',
];
if (process.env.DEV_INSPECTOR_PORT) args.push('--inspector-port', process.env.DEV_INSPECTOR_PORT);
const worker = spawn(process.execPath, args, {
  cwd: root,
  // Local dev would fetch a sample `Request.cf` from Cloudflare: traffic stays on this machine.
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
children.push(worker);
worker.on('exit', (code, signal) => {
  if (!stopping) {
    process.stderr.write(`dev:worker: wrangler dev exited (${signal ?? code})\n`);
    stop(1);
  }
});
await waitForWorker(worker);

const every = sweepSeconds();
say('ready', {
  url,
  sweepSeconds: every,
  adminTokenFile: process.env.SYNTHFLEET_ADMIN_TOKEN ? null : join(dir, 'admin-token'),
});
let sweeping = false;
const timer = setInterval(async () => {
  if (sweeping || stopping) return;
  sweeping = true;
  try {
    const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
    say('sweep', { status: res.status });
    await res.arrayBuffer();
  } catch (err) {
    say('sweep failed; trying again next period', { err: (err as Error).message });
  } finally {
    sweeping = false;
  }
}, every * 1000);
timer.unref();
