import { RemedyClaim, RemedyGrant, RemedyOutcome, RemedyRunList, RemedyRunView } from '@synthfleet/contracts';
import { z } from 'zod';
import { defineRoute } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import { claimRemedy, finishRemedy, listRemedies } from '../services/remedies.ts';
import { AgentParams, RemedyListQuery, TestParams } from './params.ts';

const RemedyParams = AgentParams.extend({ remedyId: z.uuid('must be a remedy run id (a UUID)') });

export function remedyRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'post',
      path: '/agents/{agentId}/remedies',
      operationId: 'claimRemedy',
      summary: "Claim a run of a test's remedy (granted within runsLimit and resetInterval, else 409)",
      tag: 'agent',
      roles: ['admin', 'cluster'],
      params: AgentParams,
      body: RemedyClaim,
      responses: { 201: { description: 'Granted', schema: RemedyGrant } },
      errors: [403, 404, 409],
      handler: async (c, { params, body }) =>
        c.json(await claimRemedy(ctx, c.var.principal, params.agentId, body), 201),
    }),
    defineRoute({
      method: 'put',
      path: '/agents/{agentId}/remedies/{remedyId}',
      operationId: 'finishRemedy',
      summary: 'Report how a granted remedy run ended',
      tag: 'agent',
      roles: ['admin', 'cluster'],
      params: RemedyParams,
      body: RemedyOutcome,
      responses: { 200: { description: 'The run as recorded', schema: RemedyRunView } },
      errors: [403, 404, 409],
      handler: async (c, { params, body }) =>
        c.json(await finishRemedy(ctx, c.var.principal, params.agentId, params.remedyId, body)),
    }),
    defineRoute({
      method: 'get',
      path: '/tests/{cluster}/{namespace}/{name}/remedies',
      operationId: 'listRemedies',
      summary: "A test's remedy runs, newest first",
      tag: 'dashboard',
      roles: ['admin', 'viewer', 'cluster'],
      params: TestParams,
      query: RemedyListQuery,
      responses: { 200: { description: 'Remedy runs', schema: RemedyRunList } },
      errors: [404],
      handler: async (c, { params: p, query }) =>
        c.json({ remedies: await listRemedies(ctx, c.var.principal, p, query.limit) }),
    }),
  ];
}
