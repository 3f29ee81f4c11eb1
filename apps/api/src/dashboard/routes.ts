import { ClusterName, ErrorCode, type ErrorEnvelope, Importance, queryInt } from '@synthfleet/contracts';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import type { PrincipalResolver } from '../auth.ts';
import { ApiError, RateLimitedError, statusFor } from '../errors.ts';
import { parseParams, parseQuery } from '../lib/validate.ts';
import { AgentParams, ClusterParams, TestParams } from '../routes/params.ts';
import { badgeSvg, testBadge } from '../services/badges.ts';
import type { Principal, ServiceContext } from '../services/context.ts';
import {
  DISPLAY_STATUSES,
  dashboardVersion,
  getAgentPage,
  getClusterPage,
  getHeatmap,
  getOverview,
  getRun,
  getTestPage,
  HISTORY_WINDOWS,
  type HistoryWindow,
} from '../services/dashboard/index.ts';
import { chargeSignIn } from '../services/quotas.ts';
import { requestRun } from '../services/run-now.ts';
import { FAVICON, SCRIPT, STYLESHEET } from './assets.ts';
import { CSS_PATH, changedRegions, errorPage, type Html, JS_PATH, PAGE_HEADERS, parseHeldRegions } from './layout.ts';
import { agentPage } from './pages/agent.ts';
import { clusterPage } from './pages/cluster.ts';
import { heatmapPage } from './pages/heatmap.ts';
import { loginPage } from './pages/login.ts';
import { overviewPage } from './pages/overview.ts';
import { runPage, testPage } from './pages/test.ts';
import { endSession, safeNext, sessionSecret, startSession } from './session.ts';

/** Tests per overview page: the problems fit on the first page of any sane fleet. */
const OVERVIEW_PAGE = 100;

// Empty form fields mean "no filter".
const blank = (v: unknown) => (v === '' ? undefined : v);
const OverviewQuery = z.object({
  cluster: z.preprocess(blank, ClusterName.optional()),
  status: z.preprocess(blank, z.enum(DISPLAY_STATUSES as [string, ...string[]]).optional()),
  importance: z.preprocess(blank, Importance.optional()),
  plugin: z.preprocess(blank, z.string().max(64).optional()),
  label: z.preprocess(
    blank,
    z
      .string()
      .max(200)
      .regex(/^[^=]+=.*$/, 'expected key=value')
      .optional(),
  ),
  offset: z.preprocess(blank, queryInt(0, 1_000_000).default(0)),
  limit: z.preprocess(blank, queryInt(1, 500).default(OVERVIEW_PAGE)),
});
const TestPageQuery = z.object({
  window: z.preprocess(
    blank,
    z.enum(Object.keys(HISTORY_WINDOWS) as [HistoryWindow, ...HistoryWindow[]]).default('6h'),
  ),
  agent: z.preprocess(blank, z.string().max(128).optional()),
  cursor: z.preprocess(blank, z.string().max(400).optional()),
  // What the Run now form did (numbers only: nothing from the URL is echoed as text).
  ran: z.preprocess(blank, queryInt(0, 1_000_000).optional()),
  wait: z.preprocess(blank, queryInt(1, 86_400).optional()),
  // The node grid: grouped by zone, nothing, or a pod label key; one group opened; the table's page.
  group: z.preprocess(
    blank,
    z
      .string()
      .max(253)
      .regex(/^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/, 'must be zone, none or a label key')
      .optional(),
  ),
  in: z.preprocess(blank, z.string().max(253).optional()),
  from: z.preprocess(blank, queryInt(0, 10_000_000).optional()),
});
const ClusterPageQuery = z.object({
  after: z.preprocess(blank, z.string().max(260).optional()),
  agents: z.preprocess(blank, z.enum(['live', 'stale']).optional()),
});
const HeatmapQuery = z.object({
  by: z.preprocess(blank, z.enum(['test', 'plugin']).default('test')),
  q: z.preprocess(blank, z.string().max(63).optional()),
  all: z.preprocess(blank, z.enum(['1']).optional()),
  offset: z.preprocess(blank, queryInt(0, 1_000_000).default(0)),
  limit: z.preprocess(blank, queryInt(1, 200).default(50)),
});
const AgentPageQuery = z.object({ latest: z.preprocess(blank, z.enum(['failing', 'passing', 'none']).optional()) });
const RunParams = TestParams.extend({ runId: z.string().min(1).max(128) });

type DashContext = Context<AppEnv>;

/**
 * The dashboard: server-rendered pages on the same services as the API, so it runs wherever the
 * API runs (Node and Workers) with nothing else to deploy. Pages need a signed-in session; a
 * cluster token sees its cluster only, exactly as through the API.
 */
export function dashboardRoutes(
  ctx: ServiceContext,
  resolve: PrincipalResolver,
  clientAddress: (c: DashContext) => string | undefined,
) {
  const app = new Hono<AppEnv>();

  const asset = (body: string, type: string) => (c: DashContext) =>
    c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable' });
  app.get(CSS_PATH, asset(STYLESHEET, 'text/css; charset=utf-8'));
  app.get(JS_PATH, asset(SCRIPT, 'text/javascript; charset=utf-8'));
  // Browsers ask for an icon on every page load; without one each load logged a 404.
  app.get('/favicon.svg', asset(FAVICON, 'image/svg+xml'));
  app.get('/favicon.ico', asset(FAVICON, 'image/svg+xml'));

  const send = async (c: DashContext, body: Html, status: 200 | 400 | 401 | 403 | 404 | 429 | 500 = 200) => {
    for (const [k, v] of Object.entries(PAGE_HEADERS)) c.header(k, v);
    // A live update names the regions it holds (and their ETags): answer with the changed ones.
    const held = c.req.header('x-synthfleet-regions');
    if (held !== undefined && status === 200) {
      const text = String(await body);
      const changed = changedRegions(text, parseHeldRegions(held));
      const body_ = /<body data-version="([^"]*)" data-now="([^"]*)">/.exec(text);
      c.header('x-synthfleet-version', body_?.[1] ?? '');
      c.header('x-synthfleet-now', body_?.[2] ?? '');
      c.header('x-synthfleet-partial', '1');
      if (changed === '') return c.body(null, 304);
      return c.html(changed, 200);
    }
    return c.html(body, status);
  };

  async function principalOf(c: DashContext): Promise<Principal | undefined> {
    const secret = sessionSecret(c);
    if (!secret) return undefined;
    try {
      const who = await resolve(secret);
      return who.role === 'metrics' ? undefined : who; // a scrape credential, not a dashboard user
    } catch {
      return undefined; // revoked or unknown: sign in again
    }
  }

  /** Runs a page handler for a signed-in user; errors become an HTML page with the right status. */
  const signedIn =
    (render: (c: DashContext, principal: Principal) => Promise<Html>) =>
    async (c: DashContext): Promise<Response> => {
      const principal = await principalOf(c);
      if (!principal) {
        if (sessionSecret(c)) endSession(c);
        const url = new URL(c.req.url);
        return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      try {
        return send(c, await render(c, principal));
      } catch (err) {
        if (err instanceof ApiError) {
          const status = statusFor(err.code);
          const shown = status === 400 || status === 404 ? status : status === 403 ? 404 : 500;
          if (shown === 500)
            ctx.logger.error({ requestId: c.var.requestId, err: err.message }, 'dashboard page failed');
          return send(c, errorPage(principal, shown, shown === 500 ? 'internal error' : err.message), shown);
        }
        ctx.logger.error(
          { requestId: c.var.requestId, path: c.req.path, err: (err as Error).stack ?? String(err) },
          'dashboard page failed',
        );
        return send(c, errorPage(principal, 500, `internal error; request id ${c.var.requestId}`), 500);
      }
    };

  // Status badges: public when the operator opted in, else a token (Bearer) or a session reads them.
  const BadgeParams = z.object({
    cluster: ClusterName,
    namespace: TestParams.shape.namespace,
    file: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\.svg$/, 'must be a test name with .svg'),
  });
  const BadgeQuery = z.object({
    show: z.preprocess(blank, z.enum(['state', 'availability']).default('state')),
    window: z.preprocess(blank, z.enum(['1h', '24h', '7d', '30d']).default('30d')),
  });
  app.get('/badges/:cluster/:namespace/:file', async (c) => {
    const svg = (body: string, status: 200 | 400 | 404) =>
      c.body(body, status, {
        'content-type': 'image/svg+xml; charset=utf-8',
        'cache-control': 'no-cache, max-age=0',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
        'x-content-type-options': 'nosniff',
      });
    try {
      const p = parseParams(c, BadgeParams);
      const q = parseQuery(c, BadgeQuery);
      const name = TestParams.shape.name.parse(p.file.slice(0, -4));
      const bearer = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1];
      let principal = await principalOf(c);
      if (!principal && bearer) {
        const who = await resolve(bearer).catch(() => undefined);
        principal = who?.role === 'metrics' ? undefined : who;
      }
      const kind =
        q.show === 'state' ? { kind: 'state' as const } : { kind: 'availability' as const, window: q.window };
      return svg(await testBadge(ctx, principal, { cluster: p.cluster, namespace: p.namespace, name }, kind), 200);
    } catch (err) {
      const status = err instanceof ApiError && statusFor(err.code) === 400 ? 400 : 404;
      if (!(err instanceof ApiError) && !(err instanceof z.ZodError)) throw err;
      return svg(badgeSvg('synthfleet', status === 400 ? 'bad badge URL' : 'not found', '#6e7781'), status);
    }
  });

  app.get('/login', (c) => send(c, loginPage(safeNext(c.req.query('next')))));
  app.post(
    '/login',
    bodyLimit({ maxSize: 16 * 1024, onError: (c) => send(c, loginPage('/', 'The form was too large.'), 400) }),
    async (c) => {
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const next = safeNext(form.next);
      const wait = chargeSignIn(ctx, clientAddress(c));
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        c.header('retry-after', String(seconds));
        return send(c, loginPage(next, `Too many sign-in attempts from your address: try again in ${seconds} s.`), 429);
      }
      const token = typeof form.token === 'string' ? form.token.trim() : '';
      if (!/^\S{8,512}$/.test(token)) return send(c, loginPage(next, 'That does not look like a token.'), 400);
      try {
        const who = await resolve(token);
        if (who.role === 'metrics')
          return send(c, loginPage(next, 'A metrics token reads /metrics only; sign in with another token.'), 403);
      } catch {
        return send(c, loginPage(next, 'That token is not valid (unknown or revoked).'), 401);
      }
      startSession(c, token);
      return c.redirect(next, 303);
    },
  );
  app.post('/logout', (c) => {
    endSession(c);
    return c.redirect('/login', 303);
  });

  app.get('/ui/version', async (c) => {
    const principal = await principalOf(c);
    c.header('cache-control', 'no-store');
    if (!principal) {
      const body: ErrorEnvelope = {
        error: { code: ErrorCode.Unauthorized, message: 'sign in again', requestId: c.var.requestId },
      };
      return c.json(body, 401);
    }
    return c.json({ version: await dashboardVersion(ctx, principal) });
  });

  app.get(
    '/',
    signedIn(async (c, principal) => {
      const { offset, limit, ...f } = parseQuery(c, OverviewQuery) as Parameters<typeof getOverview>[2] & {
        offset: number;
        limit: number;
      };
      const [o, version] = await Promise.all([
        getOverview(ctx, principal, f, { limit, offset }),
        dashboardVersion(ctx, principal),
      ]);
      return overviewPage(o, f, principal, version, ctx.config.shAnonymousCluster);
    }),
  );

  app.get(
    '/heatmap',
    signedIn(async (c, principal) => {
      const q = parseQuery(c, HeatmapQuery);
      const [map, version] = await Promise.all([
        getHeatmap(ctx, principal, { by: q.by, q: q.q, all: q.all === '1', offset: q.offset, limit: q.limit }),
        dashboardVersion(ctx, principal),
      ]);
      return heatmapPage(map, { by: q.by, q: q.q, all: q.all === '1' }, principal, version);
    }),
  );

  app.get(
    '/clusters/:cluster',
    signedIn(async (c, principal) => {
      const { cluster } = parseParams(c, ClusterParams);
      const q = parseQuery(c, ClusterPageQuery);
      const [p, version] = await Promise.all([
        getClusterPage(ctx, principal, cluster, { agentsAfter: q.after, agentState: q.agents }),
        dashboardVersion(ctx, principal),
      ]);
      return clusterPage(p, principal, version, q.agents);
    }),
  );

  app.get(
    '/tests/:cluster/:namespace/:name',
    signedIn(async (c, principal) => {
      const id = parseParams(c, TestParams);
      const q = parseQuery(c, TestPageQuery);
      const [d, version] = await Promise.all([
        getTestPage(ctx, principal, id, { window: q.window, agentId: q.agent, cursor: q.cursor, limit: 25 }),
        dashboardVersion(ctx, principal),
      ]);
      const notice =
        q.ran !== undefined
          ? `Asked ${q.ran === 1 ? '1 agent' : `${q.ran} agents`} to run it now; their results appear below as they arrive.`
          : q.wait !== undefined
            ? `It was asked to run moments ago; ask again in ${q.wait} s.`
            : undefined;
      return testPage(
        { ...d, window: q.window, agent: q.agent, cursor: q.cursor, notice, group: q.group, in: q.in, from: q.from },
        principal,
        version,
      );
    }),
  );

  // Run now, a form post (same-site only, as every state-changing request: lib/same-origin.ts).
  app.post('/tests/:cluster/:namespace/:name/run', async (c) => {
    const principal = await principalOf(c);
    const id = parseParams(c, TestParams);
    const back = `/tests/${encodeURIComponent(id.cluster)}/${encodeURIComponent(id.namespace)}/${encodeURIComponent(id.name)}`;
    if (!principal) return c.redirect(`/login?next=${encodeURIComponent(back)}`, 303);
    try {
      const r = await requestRun(ctx, principal, id);
      return c.redirect(`${back}?ran=${r.agents.length}#runs`, 303);
    } catch (err) {
      if (err instanceof RateLimitedError) return c.redirect(`${back}?wait=${err.retryAfterSeconds}`, 303);
      if (err instanceof ApiError) {
        const status = statusFor(err.code);
        const shown = status === 403 ? 403 : 404;
        return send(c, errorPage(principal, shown, err.message), shown);
      }
      throw err;
    }
  });

  app.get(
    '/tests/:cluster/:namespace/:name/runs/:runId',
    signedIn(async (c, principal) => {
      const p = parseParams(c, RunParams);
      const [{ test, run }, version] = await Promise.all([
        getRun(ctx, principal, p, p.runId),
        dashboardVersion(ctx, principal),
      ]);
      return runPage(test, run, ctx.clock.now(), principal, version);
    }),
  );

  app.get(
    '/agents/:agentId',
    signedIn(async (c, principal) => {
      const { agentId } = parseParams(c, AgentParams);
      const q = parseQuery(c, AgentPageQuery);
      const [p, version] = await Promise.all([getAgentPage(ctx, principal, agentId), dashboardVersion(ctx, principal)]);
      return agentPage(p, principal, version, q.latest);
    }),
  );

  return app;
}
