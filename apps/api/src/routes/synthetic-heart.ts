import { DnsLabel, DnsSubdomain } from '@synthfleet/contracts';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { parseParams, parseQuery } from '../lib/validate.ts';
import type { ServiceContext } from '../services/context.ts';
import {
  shAgents,
  shPing,
  shTestConfig,
  shTestConfigSummary,
  shTestRun,
  shTestRunStatus,
} from '../services/synthetic-heart.ts';
import { ClusterQuery } from './params.ts';

/** synthetic-heart's REST API, same paths and shapes, `?cluster=` to scope. */
export function syntheticHeartRoutes(ctx: ServiceContext) {
  const app = new Hono<AppEnv>();
  const cluster = (c: Context<AppEnv>) => parseQuery(c, ClusterQuery).cluster;

  app.get('/ping', async (c) => c.json(await shPing(ctx, c.var.principal, cluster(c))));
  app.get('/agents', async (c) => c.json(await shAgents(ctx, c.var.principal, cluster(c))));
  app.get('/testconfigs/summary', async (c) => c.json(await shTestConfigSummary(ctx, c.var.principal, cluster(c))));
  app.get('/testconfig/:name/:namespace', async (c) => {
    const p = parseParams(c, z.object({ name: DnsSubdomain, namespace: DnsLabel }));
    return c.json(await shTestConfig(ctx, c.var.principal, p.name, p.namespace, cluster(c)));
  });
  app.get('/testruns/status', async (c) => c.json(await shTestRunStatus(ctx, c.var.principal, cluster(c))));

  const run = async (c: Context<AppEnv>, id: string, which: 'latest' | 'lastFailed', logs: boolean) => {
    const result = await shTestRun(ctx, c.var.principal, id, which, cluster(c));
    if (logs) return c.text(result.details._log ?? '');
    return c.json(result);
  };
  const fourParts = (c: Context<AppEnv>) =>
    [c.req.param('a'), c.req.param('b'), c.req.param('c'), c.req.param('d')].join('/');
  // The plugin id holds slashes: accept it URL-encoded as one segment or as four plain segments.
  for (const which of ['latest', 'lastFailed'] as const) {
    app.get(`/testrun/:a/:b/:c/:d/${which}`, (c) => run(c, fourParts(c), which, false));
    app.get(`/testrun/:a/:b/:c/:d/${which}/logs`, (c) => run(c, fourParts(c), which, true));
    app.get(`/testrun/:id/${which}`, (c) => run(c, c.req.param('id') ?? '', which, false));
    app.get(`/testrun/:id/${which}/logs`, (c) => run(c, c.req.param('id') ?? '', which, true));
  }
  return app;
}
