import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { notFound } from '../errors.ts';
import { parseParams, parseQuery } from '../lib/validate.ts';
import type { ServiceContext } from '../services/context.ts';
import { getFleet, listClusters } from '../services/fleet.ts';
import { getTest, listRuns, listTests } from '../services/test-views.ts';
import { ClusterParams, ClusterQuery, RunListQuery, TestListQuery, TestParams } from './params.ts';

/** The dashboard's reads. */
export function readRoutes(ctx: ServiceContext) {
  return new Hono<AppEnv>()
    .get('/fleet', async (c) => {
      const q = parseQuery(c, ClusterQuery);
      return c.json(await getFleet(ctx, c.var.principal, q.cluster));
    })
    .get('/clusters', async (c) => c.json({ clusters: await listClusters(ctx, c.var.principal) }))
    .get('/clusters/:cluster', async (c) => {
      const { cluster } = parseParams(c, ClusterParams);
      const [view] = await listClusters(ctx, c.var.principal, cluster);
      if (!view) throw notFound(`cluster "${cluster}" was not found`);
      return c.json(view);
    })
    .get('/tests', async (c) => {
      const q = parseQuery(c, TestListQuery);
      return c.json(await listTests(ctx, c.var.principal, q));
    })
    .get('/tests/:cluster/:namespace/:name', async (c) => {
      const p = parseParams(c, TestParams);
      return c.json(await getTest(ctx, c.var.principal, p.cluster, p.namespace, p.name));
    })
    .get('/tests/:cluster/:namespace/:name/runs', async (c) => {
      const p = parseParams(c, TestParams);
      const q = parseQuery(c, RunListQuery);
      return c.json(
        await listRuns(ctx, c.var.principal, p.cluster, p.namespace, p.name, {
          limit: q.limit,
          cursor: q.cursor,
          agentId: q.agent,
        }),
      );
    });
}
