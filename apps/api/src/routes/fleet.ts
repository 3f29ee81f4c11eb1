import { ClusterList, ClusterView, FleetView } from '@synthfleet/contracts';
import { notFound } from '../errors.ts';
import { defineRoute, type Role } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import { getFleet, listClusters } from '../services/fleet.ts';
import { ClusterParams, ClusterQuery } from './params.ts';

const READERS: readonly Role[] = ['admin', 'viewer', 'cluster'];

/** The fleet and its clusters, as the dashboard reads them. */
export function fleetRoutes(ctx: ServiceContext) {
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
      responses: { 200: { description: 'Visible clusters', schema: ClusterList } },
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
  ];
}
