import { OpenAPIHono } from '@hono/zod-openapi';
import { ErrorCode, type ErrorEnvelope } from '@synthfleet/contracts';
import type { Database } from '@synthfleet/db';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from './app-env.ts';
import { createPrincipalResolver, requireAuth } from './auth.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import { ApiError, RateLimitedError, statusFor } from './errors.ts';
import type { AssignmentHub } from './hub/hub.ts';
import { type Clock, systemClock } from './lib/clock.ts';
import { createKeyedMutex, type KeyedMutex } from './lib/keyed-mutex.ts';
import { type Logger, silentLogger } from './lib/logger.ts';
import { RateLimiter } from './lib/rate-limit.ts';
import { mountRoutes, type Route, serveRoute } from './lib/route.ts';
import { SAFE_METHODS, sameOrigin } from './lib/same-origin.ts';
import { cleanApiPath, shAnonymous } from './lib/synthetic-heart-compat.ts';
import { createOpenApiDocument, publicRoutes } from './openapi.ts';
import { agentRoutes } from './routes/agents.ts';
import { clusterTestRoutes } from './routes/cluster-tests.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { fleetTestRoutes } from './routes/fleet-tests.ts';
import { operationRoutes } from './routes/maintenance.ts';
import { remedyRoutes } from './routes/remedies.ts';
import { runRoutes } from './routes/runs.ts';
import { statsRoutes } from './routes/stats.ts';
import { syntheticHeartRoutes } from './routes/synthetic-heart.ts';
import { testRoutes } from './routes/tests.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { createAssignmentCaches } from './services/assignments.ts';
import { type ApiConfig, defaultApiConfig, type ServiceContext } from './services/context.ts';
import { createCounters } from './services/control-metrics.ts';
import { chargeWrite } from './services/quotas.ts';

export type AppDeps = {
  db: Database;
  hub: AssignmentHub;
  clock?: Clock;
  logger?: Logger;
  config?: Partial<ApiConfig>;
  random?: () => number;
  /** Serialises work per cluster within the process (a keyed mutex by default; see noMutex). */
  exclusive?: KeyedMutex;
  /** The client's address, for per-address quotas (the entry knows: the socket, or a CDN header). */
  clientAddress?: (c: Context<AppEnv>) => string | undefined;
};

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the API from its dependencies; only the entry points touch the runtime. */
export function createApp(deps: AppDeps) {
  const ctx: ServiceContext = {
    db: deps.db,
    hub: deps.hub,
    clock: deps.clock ?? systemClock,
    logger: deps.logger ?? silentLogger,
    config: { ...defaultApiConfig, ...deps.config },
    random: deps.random ?? Math.random,
    exclusive: deps.exclusive ?? createKeyedMutex(),
    limiter: new RateLimiter(deps.clock ?? systemClock),
    assignments: createAssignmentCaches(),
    counters: createCounters(),
  };
  // gorilla/mux folds `//` in synthetic-heart's paths; its UI depends on it.
  const app = new OpenAPIHono<AppEnv>({ getPath: cleanApiPath });
  const sh = shAnonymous(ctx.config.shAnonymousCluster);

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    // No answer of ours (JSON, pages, assets, errors) is ever to be sniffed as another type.
    c.header('x-content-type-options', 'nosniff');
    await next();
  });
  app.use('*', sameOrigin());
  app.use('/api/v1/*', sh.cors);

  const tooLarge = (limit: number) =>
    bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new ApiError(ErrorCode.PayloadTooLarge, `request body is larger than ${limit} bytes`);
      },
    });

  const document = createOpenApiDocument(app);
  const open = publicRoutes(document);
  mountRoutes(app, open);

  const resolvePrincipal = createPrincipalResolver(ctx);
  const api = new OpenAPIHono<AppEnv>();
  api.use('*', requireAuth(resolvePrincipal, sh.principalFor));
  api.use('*', async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) chargeWrite(ctx, c.var.principal);
    await next();
  });
  // Result batches and snapshots may be large; every other body gets the ordinary limit.
  const batchLimit = tooLarge(ctx.config.maxBatchBodyBytes);
  const bodyLimitDefault = tooLarge(ctx.config.maxBodyBytes);
  const BATCH_PATH = /\/(runs|clusters\/[^/]+\/tests)$/;
  api.use('*', (c, next) => (BATCH_PATH.test(c.req.path) ? batchLimit : bodyLimitDefault)(c, next));
  const apiRoutes: Route[] = [
    ...tokenRoutes(ctx),
    ...clusterTestRoutes(ctx),
    ...agentRoutes(ctx),
    ...runRoutes(ctx),
    ...remedyRoutes(ctx),
    ...fleetRoutes(ctx),
    ...fleetTestRoutes(ctx),
    ...testRoutes(ctx),
    ...syntheticHeartRoutes(ctx),
    ...statsRoutes(ctx),
    ...operationRoutes(ctx),
  ];
  mountRoutes(api, apiRoutes);
  app.route('/api/v1', api);
  // Prometheus's default metrics path: the same answer as /api/v1/metrics (declared in stats.ts).
  const metricsRoute = apiRoutes.find((r) => r.operationId === 'getMetrics') as Route;
  app.get('/metrics', requireAuth(resolvePrincipal), serveRoute(metricsRoute));
  app.route('/', dashboardRoutes(ctx, resolvePrincipal, deps.clientAddress ?? (() => undefined)));

  const envelope = (c: { var: { requestId?: string } }, code: ErrorCode, message: string, details?: unknown) => {
    const body: ErrorEnvelope = { error: { code, message, requestId: c.var.requestId ?? 'unknown' } };
    if (details !== undefined) body.error.details = details;
    return body;
  };

  app.notFound((c) => c.json(envelope(c, ErrorCode.NotFound, `no route for ${c.req.method} ${c.req.path}`), 404));

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      const status = statusFor(err.code);
      if (status >= 500) ctx.logger.error({ requestId: c.var.requestId, err: err.message }, 'request failed');
      if (err instanceof RateLimitedError) c.header('retry-after', String(err.retryAfterSeconds));
      return c.json(envelope(c, err.code, err.message, err.details), status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code =
        err.status === 413
          ? ErrorCode.PayloadTooLarge
          : err.status === 401
            ? ErrorCode.Unauthorized
            : ErrorCode.BadRequest;
      return c.json(envelope(c, code, err.message || 'bad request'), statusFor(code));
    }
    // drizzle wraps a driver error as "Failed query: …": the driver's own error is the cause.
    const { cause } = err as { cause?: unknown };
    ctx.logger.error(
      {
        requestId: c.var.requestId,
        method: c.req.method,
        path: c.req.path,
        err: (err as Error).stack ?? String(err),
        ...(cause !== undefined ? { cause: String(cause) } : {}),
      },
      'unhandled error',
    );
    return c.json(envelope(c, ErrorCode.Internal, 'internal error; the request id is in the server log'), 500);
  });

  /** Every declared route with its full path, for the tests generated from the declarations. */
  const routes: Route[] = [...open, ...apiRoutes.map((r) => ({ ...r, path: `/api/v1${r.path}` }))];
  return { app, ctx, routes, document };
}
