import { ClusterLabels, DnsLabel, DnsSubdomain, FleetTestList, FleetTestView } from '@synthfleet/contracts';
import { z } from 'zod';
import { defineRoute } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import {
  deleteFleetTest,
  getFleetTest,
  listFleetTests,
  putFleetTest,
  setClusterLabels,
} from '../services/fleet-tests.ts';
import { ClusterParams } from './params.ts';

const FleetTestParams = z.object({ namespace: DnsLabel, name: DnsSubdomain });

/** Tests seen from many clusters with one verdict (services/fleet-tests.ts). */
export function fleetTestRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'put',
      path: '/fleet-tests/{namespace}/{name}',
      operationId: 'putFleetTest',
      summary: 'Create or replace a fleet test',
      description:
        'A SyntheticTest of either group with `spec.clusters` (cluster-name globs and/or `label=glob` selectors; a cluster is selected when any matches) and optionally `spec.quorum` as a count or share of the selected clusters (default: all must fail). It is placed in every selected cluster, its node selector applying inside each.',
      tag: 'fleet-tests',
      roles: ['admin'],
      params: FleetTestParams,
      body: z.record(z.string(), z.unknown()),
      responses: {
        200: { description: 'Replaced', schema: FleetTestView },
        201: { description: 'Created', schema: FleetTestView },
      },
      handler: async (c, { params, body }) => {
        const r = await putFleetTest(ctx, c.var.principal, params.namespace, params.name, body);
        return c.json(r.view, r.created ? 201 : 200);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/fleet-tests/{namespace}/{name}',
      operationId: 'getFleetTest',
      summary: 'A fleet test with its verdict and every selected cluster’s',
      tag: 'fleet-tests',
      roles: ['admin', 'viewer'],
      params: FleetTestParams,
      responses: { 200: { description: 'The fleet test', schema: FleetTestView } },
      errors: [404],
      handler: async (c, { params }) => c.json(await getFleetTest(ctx, c.var.principal, params.namespace, params.name)),
    }),
    defineRoute({
      method: 'delete',
      path: '/fleet-tests/{namespace}/{name}',
      operationId: 'deleteFleetTest',
      summary: 'Delete a fleet test (and its share in every cluster)',
      tag: 'fleet-tests',
      roles: ['admin'],
      params: FleetTestParams,
      responses: { 204: { description: 'Deleted' } },
      errors: [404],
      handler: async (c, { params }) => {
        await deleteFleetTest(ctx, c.var.principal, params.namespace, params.name);
        return c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/fleet-tests',
      operationId: 'listFleetTests',
      summary: 'Fleet tests with their verdicts',
      tag: 'fleet-tests',
      roles: ['admin', 'viewer'],
      responses: { 200: { description: 'Fleet tests', schema: FleetTestList } },
      handler: async (c) => c.json({ fleetTests: await listFleetTests(ctx, c.var.principal) }),
    }),
    defineRoute({
      method: 'put',
      path: '/clusters/{cluster}/labels',
      operationId: 'setClusterLabels',
      summary: "Set a cluster's labels (fleet tests select clusters by them)",
      tag: 'fleet-tests',
      roles: ['admin'],
      params: ClusterParams,
      body: ClusterLabels,
      responses: {
        200: {
          description: 'The labels now',
          schema: z.object({ cluster: z.string(), labels: z.record(z.string(), z.string()) }),
        },
      },
      handler: async (c, { params, body }) =>
        c.json(await setClusterLabels(ctx, c.var.principal, params.cluster, body)),
    }),
  ];
}
