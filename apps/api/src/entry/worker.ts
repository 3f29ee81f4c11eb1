/**
 * The API on Cloudflare Workers: the same Hono app, routes and schema as the Node entry, with the
 * database reached over HTTP (`@libsql/client` picks its web build under workerd) and agents'
 * long-polls held by one Durable Object per cluster. The periodic sweep (stale agents, retention)
 * runs on the Cron Trigger in wrangler.toml. Migrations are applied beforehand with
 * `npm run db:migrate` (drizzle-kit against the URL): a Worker has no disk for the migrator.
 */
import { ErrorCode } from '@synthfleet/contracts';
import { createDatabase, type DatabaseHandle } from '@synthfleet/db';
import { createApp } from '../app.ts';
import { type ApiEnv, apiConfigFromEnv, EnvError, parseEnv } from '../env.ts';
import { createDurableObjectHub, type DurableObjectNamespace } from '../hub/durable-object-hub.ts';
import { noMutex } from '../lib/keyed-mutex.ts';
import { createConsoleLogger, silentLogger } from '../lib/logger.ts';
import { sweep } from '../services/scheduler.ts';
import { bootstrapAdmin } from '../services/tokens.ts';

export { ClusterHub } from '../hub/durable-object-hub.ts';

/** The Worker's bindings: the Durable Object namespace, and the API's variables as strings. */
export type WorkerEnv = { CLUSTER_HUB: DurableObjectNamespace } & { [K in keyof ApiEnv]?: string };

type ExecutionContext = { waitUntil(promise: Promise<unknown>): void };

type Built = { app: ReturnType<typeof createApp>['app']; ctx: ReturnType<typeof createApp>['ctx']; db: DatabaseHandle };

/**
 * One app per isolate and environment, built by the first request that needs it. Requests that
 * arrive while it is being built build their own rather than await the first one's promise: on
 * Workers, code resumed by another request's promise runs as part of that request (and is
 * cancelled with it). Building opens no connection (the HTTP client is stateless), so a spare
 * build costs only the admin-token check.
 */
let built: { env: WorkerEnv; app: Built } | undefined;

async function appFor(env: WorkerEnv): Promise<Built> {
  if (built?.env === env) return built.app;
  const fresh = await buildApp(env);
  if (built?.env !== env) built = { env, app: fresh };
  return built.app;
}

async function buildApp(env: WorkerEnv): Promise<Built> {
  const vars = parseEnv(env as unknown as Record<string, string | undefined>);
  if (!vars.DATABASE_URL) {
    throw new EnvError('DATABASE_URL is required on Workers: the libSQL server URL (wrangler secret put DATABASE_URL)');
  }
  // No statement queue in the client (see DatabaseOptions.concurrency): each request's statements
  // go out from that request; the runtime bounds a request's open connections itself.
  const db = await createDatabase({
    url: vars.DATABASE_URL,
    authToken: vars.DATABASE_AUTH_TOKEN,
    concurrency: Number.POSITIVE_INFINITY,
  });
  const { app, ctx } = createApp({
    db: db.db,
    hub: createDurableObjectHub(env.CLUSTER_HUB),
    exclusive: noMutex,
    logger: vars.LOG_LEVEL === 'silent' ? silentLogger : createConsoleLogger(vars.LOG_LEVEL, { app: 'api' }),
    config: apiConfigFromEnv(vars),
    // Cloudflare names the client's address; counters are per isolate (see services/quotas.ts).
    clientAddress: (c) => c.req.header('cf-connecting-ip'),
  });
  // With SYNTHFLEET_ADMIN_TOKEN set (a secret), that token is the admin; without it nothing is
  // printed anywhere on Workers, so the first admin token must come from the secret.
  if (vars.SYNTHFLEET_ADMIN_TOKEN) await bootstrapAdmin(ctx, vars.SYNTHFLEET_ADMIN_TOKEN);
  return { app, ctx, db };
}

function startFailure(err: unknown): Response {
  const message =
    err instanceof EnvError ? err.message : `the API could not start: ${(err as Error).message ?? String(err)}`;
  console.log(JSON.stringify({ level: 'error', msg: 'start failed', err: message }));
  return Response.json({ error: { code: ErrorCode.Internal, message, requestId: 'start' } }, { status: 500 });
}

// biome-ignore lint/style/noDefaultExport: Workers find the fetch and scheduled handlers on the default export.
export default {
  async fetch(request: Request, env: WorkerEnv, exec: ExecutionContext): Promise<Response> {
    let app: Built['app'];
    try {
      app = (await appFor(env)).app;
    } catch (err) {
      return startFailure(err);
    }
    return app.fetch(request, env, exec as never);
  },

  /** The Cron Trigger: one sweep, awaited, so a failure shows as a failed invocation. */
  async scheduled(_controller: unknown, env: WorkerEnv, _exec: ExecutionContext): Promise<void> {
    const { ctx } = await appFor(env);
    const result = await sweep(ctx);
    ctx.logger.info({ ...result }, 'sweep');
  },
};
