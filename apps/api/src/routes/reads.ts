import { ClusterView, FleetView, RunPage, TestDetail, TestSummary } from '@synthfleet/contracts';
import { z } from 'zod';
import { notFound } from '../errors.ts';
import { defineRoute, type Role } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import { getFleet, listClusters } from '../services/fleet.ts';
import { getTest, listRuns, listTests } from '../services/test-views.ts';
import { ClusterParams, ClusterQuery, RunListQuery, TestListQuery, TestParams } from './params.ts';

const READERS: readonly Role[] = ['admin', 'viewer', 'cluster'];

/** The dashboard's reads. */
export function readRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'get',
      path: '/fleet',
      operationId: 'getFleet',
      summary: 'Fleet overview, failing first',
      tag: 'dashboard',
      roles: READERS,
      query: ClusterQuery,
      responses: { 200: { description: 'The fleet as the caller sees it', schema: FleetView } },
      handler: async (c, { query }) => c.json(await getFleet(ctx, c.var.principal, query.cluster)),
    }),
    defineRoute({
      method: 'get',
      path: '/clusters',
      operationId: 'listClusters',
      summary: 'Clusters',
      tag: 'dashboard',
      roles: READERS,
      responses: { 200: { description: 'Visible clusters', schema: z.object({ clusters: z.array(ClusterView) }) } },
      handler: async (c) => c.json({ clusters: await listClusters(ctx, c.var.principal) }),
    }),
    defineRoute({
      method: 'get',
      path: '/clusters/{cluster}',
      operationId: 'getCluster',
      summary: 'One cluster',
      tag: 'dashboard',
      roles: READERS,
      params: ClusterParams,
      responses: { 200: { description: 'The cluster', schema: ClusterView } },
      errors: [404],
      handler: async (c, { params }) => {
        const [view] = await listClusters(ctx, c.var.principal, params.cluster);
        if (!view) throw notFound(`cluster "${params.cluster}" was not found`);
        return c.json(view);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/tests',
      operationId: 'listTests',
      summary: 'Tests, filtered',
      tag: 'dashboard',
      roles: READERS,
      query: TestListQuery,
      responses: {
        200: {
          description: 'A page of tests',
          schema: z.object({ tests: z.array(TestSummary), nextCursor: z.string().nullable() }),
        },
      },
      handler: async (c, { query }) => c.json(await listTests(ctx, c.var.principal, query)),
    }),
    defineRoute({
      method: 'get',
      path: '/tests/{cluster}/{namespace}/{name}',
      operationId: 'getTest',
      summary: 'A test with its per-agent state',
      tag: 'dashboard',
      roles: READERS,
      params: TestParams,
      responses: { 200: { description: 'The test', schema: TestDetail } },
      errors: [404],
      handler: async (c, { params: p }) => c.json(await getTest(ctx, c.var.principal, p.cluster, p.namespace, p.name)),
    }),
    defineRoute({
      method: 'get',
      path: '/tests/{cluster}/{namespace}/{name}/runs',
      operationId: 'listRuns',
      summary: 'Run history, newest first',
      tag: 'dashboard',
      roles: READERS,
      params: TestParams,
      query: RunListQuery,
      responses: { 200: { description: 'A page of runs', schema: RunPage } },
      errors: [404],
      handler: async (c, { params: p, query: q }) =>
        c.json(
          await listRuns(ctx, c.var.principal, p.cluster, p.namespace, p.name, {
            limit: q.limit,
            cursor: q.cursor,
            agentId: q.agent,
          }),
        ),
    }),
  ];
}
