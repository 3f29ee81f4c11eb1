import type { Role, SyntheticTestInput } from '@synthfleet/contracts';
import { CreateTokenResponse, RegisterAgentResponse } from '@synthfleet/contracts';
import { createDatabase, type DatabaseHandle } from '@synthfleet/db';
import { inject } from 'vitest';
import { createApp } from '../app.ts';
import type { AssignmentHub } from '../hub/hub.ts';
import { createInProcessHub } from '../hub/in-process-hub.ts';
import { createManualClock } from '../lib/clock.ts';
import type { ApiConfig } from '../services/context.ts';
import { createToken } from '../services/tokens.ts';
import { contractProblem } from './contract.ts';

export type Reply = { status: number; body: unknown; text: string; headers: Headers };

/**
 * Where the API's database lives in a test, migrated with the real migrations:
 * - an embedded libSQL file in a temp dir (the Node entry's default);
 * - with SYNTHFLEET_TEST_DATABASE=hrana, the same engine behind the Hrana-over-HTTP double of a
 *   libSQL server, reached through @libsql/client's HTTP client as the Worker entry reaches Turso;
 * - inside workerd (the `workerd` project), a fresh copy of a database migrated by drizzle-kit,
 *   served by a double that the project's global setup starts in Node on request.
 * The route contract suite runs on all three (the projects in vitest.config.ts).
 */
async function openTestDatabase(): Promise<{ handle: DatabaseHandle; stop: () => Promise<void> }> {
  const manager = inject('databaseManagerUrl');
  if (manager) {
    const made = await fetch(`${manager}/databases`, { method: 'POST' });
    if (made.status !== 201) throw new Error(`no test database: ${made.status} ${await made.text()}`);
    const { url, authToken } = (await made.json()) as { url: string; authToken: string };
    const handle = await createDatabase({ url, authToken });
    const stop = async () => {
      handle.close();
      await (await fetch(`${manager}/databases?url=${encodeURIComponent(url)}`, { method: 'DELETE' })).arrayBuffer();
    };
    return { handle, stop };
  }
  // Node only from here: the workerd runtime never loads these modules.
  const [{ mkdtempSync, rmSync }, { tmpdir }, { join }, { migrateDatabase }] = await Promise.all([
    import('node:fs'),
    import('node:os'),
    import('node:path'),
    import('@synthfleet/db/node'),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-api-'));
  const file = join(dir, 'test.db');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (process.env.SYNTHFLEET_TEST_DATABASE !== 'hrana') {
    const handle = await createDatabase({ url: `file:${file}` });
    await migrateDatabase(handle);
    const stop = async () => {
      handle.close();
      remove();
    };
    return { handle, stop };
  }
  const { startHranaServer } = await import('@synthfleet/test-support/hrana-server.ts');
  const server = await startHranaServer({ path: file, authToken: 'test-database-token' });
  const handle = await createDatabase({ url: server.url, authToken: 'test-database-token' });
  await migrateDatabase(handle);
  return {
    handle,
    stop: async () => {
      handle.close();
      await server.close();
      remove();
    },
  };
}

/**
 * A real API over a real libSQL database with the real migrations, driven through `app.request()`.
 * The clock is manual so liveness deadlines can be crossed without waiting.
 */
export async function createTestApi(
  opts: { config?: Partial<ApiConfig>; random?: () => number; hub?: AssignmentHub } = {},
) {
  const { handle, stop } = await openTestDatabase();
  const clock = createManualClock(Date.now());
  const hub = opts.hub ?? createInProcessHub();
  const { app, ctx, routes, document } = createApp({
    db: handle.db,
    hub,
    clock,
    config: opts.config,
    random: opts.random,
  });
  const admin = (await createToken(ctx, { role: 'admin', name: 'test-admin' })).token;

  async function request(
    method: string,
    path: string,
    init: {
      token?: string | null;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...init.headers };
    const token = init.token === undefined ? admin : init.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (init.raw !== undefined) body = init.raw;
    else if (init.body !== undefined) body = JSON.stringify(init.body);
    if (body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
    const res = await app.request(path, { method, headers, body, signal: init.signal });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    // The contract: every answer is one the OpenAPI document lists, with a body its schema takes.
    const problem = contractProblem(
      routes,
      document() as never,
      method,
      path,
      res.status,
      res.headers.get('content-type') ?? '',
      parsed,
    );
    if (problem) throw new Error(`API contract broken: ${problem}`);
    return { status: res.status, body: parsed, text, headers: res.headers };
  }

  async function token(role: Role, cluster?: string): Promise<string> {
    const r = await request('POST', '/api/v1/tokens', { body: cluster ? { role, cluster } : { role } });
    if (r.status !== 201) throw new Error(`token creation failed: ${r.text}`);
    return CreateTokenResponse.parse(r.body).token;
  }

  async function register(tokenValue: string, node: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await request('POST', '/api/v1/agents', {
      token: tokenValue,
      body: { node, version: '1.0.0', capabilities: ['httpPing', 'dns', 'netDial', 'heartbeat'], ...extra },
    });
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`);
    return RegisterAgentResponse.parse(r.body).agentId;
  }

  /** PUTs a test; `source` names the syncer source declaring it (omitted: the API, `api`). */
  async function putTest(
    tokenValue: string,
    cluster: string,
    object: SyntheticTestInput,
    source?: string,
  ): Promise<Reply> {
    const ns = object.metadata.namespace ?? 'default';
    const q = source === undefined ? '' : `?source=${encodeURIComponent(source)}`;
    return request('PUT', `/api/v1/clusters/${cluster}/tests/${ns}/${object.metadata.name}${q}`, {
      token: tokenValue,
      body: object,
    });
  }

  async function poll(tokenValue: string, agentId: string, version?: number, wait = 0, signal?: AbortSignal) {
    const q = new URLSearchParams();
    if (version !== undefined) q.set('version', String(version));
    if (wait) q.set('wait', String(wait));
    return request('GET', `/api/v1/agents/${agentId}/assignments?${q}`, { token: tokenValue, signal });
  }

  /** Signs in to the dashboard with a token (the admin's by default): the session cookie. */
  async function cookie(tokenValue = admin): Promise<string> {
    const r = await app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokenValue, next: '/' }).toString(),
    });
    return (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
  }

  return {
    app,
    ctx,
    cookie,
    /** Every declared route (full paths), and the OpenAPI document generated from them. */
    routes,
    document,
    clock,
    hub,
    db: handle.db,
    admin,
    /** The database URL the API uses: `file:…`, or the libSQL server double's http://127.0.0.1 URL. */
    databaseUrl: handle.url,
    request,
    token,
    register,
    putTest,
    poll,
    async close() {
      await stop();
    },
  };
}

export type TestApi = Awaited<ReturnType<typeof createTestApi>>;

export function syntheticTest(
  name: string,
  spec: Partial<SyntheticTestInput['spec']> = {},
  namespace = 'default',
): SyntheticTestInput {
  return {
    apiVersion: 'synthfleet.dev/v1',
    kind: 'SyntheticTest',
    metadata: { name, namespace },
    spec: { plugin: 'httpPing', repeat: '30s', node: '*', config: { address: 'http://127.0.0.1:9/' }, ...spec },
  };
}

export function runResult(
  name: string,
  status: 'pass' | 'fail' | 'error' | 'timeout' | 'skipped' | 'unsupported',
  at: number,
  extra = {},
) {
  const marks = status === 'pass' ? 1 : 0;
  return {
    runId: `run-${crypto.randomUUID()}`,
    namespace: 'default',
    name,
    status,
    marks,
    maxMarks: 1,
    startTime: new Date(at).toISOString(),
    endTime: new Date(at + 120).toISOString(),
    details: { _log: `${name} ${status}`, ...(status === 'pass' ? {} : { _error: `${name} went ${status}` }) },
    ...extra,
  };
}
