/**
 * `npm start`: the whole system on the embedded default, on this machine. Starts the API (libSQL
 * file under SYNTHFLEET_DATA_DIR), then a local agent for this host with a cluster token for the
 * cluster `local`, and the syncer's file source over `infra/examples` (or SYNCER_DIR), so the
 * example tests run and report at once; stops them together on Ctrl-C. The admin and agent tokens are kept (mode 600) in the data directory so a restart reuses them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { secretFile } from './secret-file.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = resolve(root, process.env.SYNTHFLEET_DATA_DIR ?? '.synthfleet');
const port = process.env.PORT ?? '8787';
const apiUrl = `http://${process.env.HOST ?? '127.0.0.1'}:${port}`;
const cluster = process.env.SYNTHFLEET_CLUSTER ?? 'local';
const children: ChildProcess[] = [];

function start(name: string, script: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    process.stderr.write(`synthfleet: ${name} exited (${signal ?? code})\n`);
    if (!stopping) stop(1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 30_000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))))).then(() =>
    process.exit(code),
  );
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function waitForApi(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${apiUrl}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API did not answer at ${apiUrl} within 60 s`);
}

/** The local agent's cluster token: the saved one while the API still accepts it, else a new one. */
async function agentToken(admin: string): Promise<string> {
  const file = join(dataDir, 'agent-token');
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    const probe = await fetch(`${apiUrl}/api/v1/clusters/${cluster}/agents`, {
      headers: { authorization: `Bearer ${saved}` },
    });
    if (probe.status !== 401) return saved;
  }
  const res = await fetch(`${apiUrl}/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'cluster', cluster, name: 'npm start: local agent' }),
  });
  if (res.status !== 201) throw new Error(`cannot create the local agent's token: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

mkdirSync(dataDir, { recursive: true });
const admin =
  process.env.SYNTHFLEET_ADMIN_TOKEN ??
  secretFile(dataDir, 'admin-token', () => `sfa_${randomBytes(24).toString('base64url')}`);
start('api', 'apps/api/src/entry/node.ts', { SYNTHFLEET_DATA_DIR: dataDir, SYNTHFLEET_ADMIN_TOKEN: admin, PORT: port });
if (!process.env.SYNTHFLEET_ADMIN_TOKEN) {
  process.stdout.write(`synthfleet: admin token in ${join(dataDir, 'admin-token')}\n`);
}
try {
  await waitForApi();
  const token = await agentToken(admin);
  start('agent', 'apps/agent/src/main.ts', {
    SYNTHFLEET_API_URL: apiUrl,
    SYNTHFLEET_TOKEN: token,
    NODE_NAME:
      process.env.NODE_NAME ??
      (hostname()
        .toLowerCase()
        .replace(/[^a-z0-9.-]/g, '-') ||
        'local-node'),
    HEARTBEAT_HOST: '127.0.0.1',
    HEARTBEAT_PORT: process.env.HEARTBEAT_PORT ?? '8790',
    SPOOL_DIR: join(dataDir, 'agent'),
  });
  // The syncer's file source mirrors the example tests (or SYNCER_DIR) into the local cluster.
  start('syncer', 'apps/syncer/src/main.ts', {
    SYNTHFLEET_API_URL: apiUrl,
    SYNTHFLEET_TOKEN: token,
    SYNCER_DIR: resolve(root, process.env.SYNCER_DIR ?? 'infra/examples'),
    // The Kubernetes probe examples need a cluster; the local agent has none.
    SYNCER_EXCLUDE: process.env.SYNCER_DIR ? '' : 'kubernetes',
  });
} catch (err) {
  process.stderr.write(`synthfleet: ${(err as Error).message}\n`);
  stop(1);
}
