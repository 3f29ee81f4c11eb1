import {
  AvailabilityReport,
  ClusterName,
  MaintenanceList,
  MaintenanceRequest,
  MaintenanceView,
  RunNowResponse,
} from '@synthfleet/contracts';
import { z } from 'zod';
import { defineRoute } from '../lib/route.ts';
import { availabilityReport } from '../services/availability.ts';
import type { ServiceContext } from '../services/context.ts';
import { createWindow, deleteWindow, listWindows } from '../services/maintenance.ts';
import { requestRun } from '../services/run-now.ts';
import { TestParams } from './params.ts';

const WindowParams = z.object({ id: z.coerce.number().int().positive() });
const AvailabilityQuery = z.object({
  cluster: ClusterName.optional(),
  node: z.string().min(1).max(253).optional(),
  fleetTest: z.string().min(3).max(320).optional().describe('namespace/name of a fleet test'),
});

/** What operators do around their tests: maintenance windows, Run now, availability figures. */
export function operationRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'post',
      path: '/maintenance',
      operationId: 'createMaintenance',
      summary: 'Open a maintenance window (one-off or recurring) over the tests a selector picks',
      tag: 'operations',
      roles: ['admin', 'cluster'],
      body: MaintenanceRequest,
      responses: { 201: { description: 'The window', schema: MaintenanceView } },
      errors: [403, 404],
      handler: async (c, { body }) => c.json(await createWindow(ctx, c.var.principal, body), 201),
    }),
    defineRoute({
      method: 'get',
      path: '/maintenance',
      operationId: 'listMaintenance',
      summary: 'Active and upcoming maintenance windows, active first',
      tag: 'operations',
      roles: ['admin', 'viewer', 'cluster'],
      responses: { 200: { description: 'Windows', schema: MaintenanceList } },
      handler: async (c) => c.json(await listWindows(ctx, c.var.principal)),
    }),
    defineRoute({
      method: 'delete',
      path: '/maintenance/{id}',
      operationId: 'deleteMaintenance',
      summary: 'Close and remove a maintenance window',
      tag: 'operations',
      roles: ['admin', 'cluster'],
      params: WindowParams,
      responses: { 204: { description: 'Removed' } },
      errors: [403, 404],
      handler: async (c, { params }) => {
        await deleteWindow(ctx, c.var.principal, params.id);
        return c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tests/{cluster}/{namespace}/{name}/run',
      operationId: 'runNow',
      summary: 'Run now: every assigned agent runs the test once, woken through its long-poll',
      tag: 'operations',
      roles: ['admin', 'cluster'],
      params: TestParams,
      responses: { 202: { description: 'The agents asked', schema: RunNowResponse } },
      errors: [403, 404, 429],
      handler: async (c, { params }) => c.json(await requestRun(ctx, c.var.principal, params), 202),
    }),
    defineRoute({
      method: 'get',
      path: '/availability',
      operationId: 'getAvailability',
      summary: 'Availability of a cluster, a node (cluster and node) or a fleet test over 1h, 24h, 7d, 30d',
      tag: 'dashboard',
      roles: ['admin', 'viewer', 'cluster'],
      query: AvailabilityQuery,
      responses: { 200: { description: 'Availability windows', schema: AvailabilityReport } },
      errors: [404],
      handler: async (c, { query }) => c.json(await availabilityReport(ctx, c.var.principal, query)),
    }),
  ];
}
