import { AgentList, AgentView, Assignment, RegisterAgentRequest, RegisterAgentResponse } from '@synthfleet/contracts';
import { defineRoute } from '../lib/route.ts';
import { getAgent, listAgents, pollAssignment, registerAgent } from '../services/agents.ts';
import type { ServiceContext } from '../services/context.ts';
import { AgentParams, ClusterParams, PollQuery } from './params.ts';

export function agentRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'post',
      path: '/agents',
      operationId: 'registerAgent',
      summary: 'Register an agent',
      tag: 'agent',
      roles: ['admin', 'cluster'],
      body: RegisterAgentRequest,
      responses: { 201: { description: 'Registered', schema: RegisterAgentResponse } },
      errors: [403, 404],
      handler: async (c, { body }) => c.json(await registerAgent(ctx, c.var.principal, body), 201),
    }),
    defineRoute({
      method: 'get',
      path: '/agents/{agentId}/assignments',
      operationId: 'pollAssignment',
      summary: 'Long-poll assignments',
      description:
        'Answers at once with the assignment when its version differs from `version` (or `version` is absent); else holds the request up to `wait` seconds and answers 304.',
      tag: 'agent',
      roles: ['admin', 'viewer', 'cluster'],
      params: AgentParams,
      query: PollQuery,
      responses: {
        200: { description: 'The current assignment', schema: Assignment },
        304: { description: 'Unchanged after `wait` seconds (x-assignment-version names the version)' },
      },
      errors: [404],
      handler: async (c, { params, query: q }) => {
        const outcome = await pollAssignment(ctx, c.var.principal, {
          agentId: params.agentId,
          known: q.version,
          waitMs: q.wait * 1000,
          signal: c.req.raw.signal,
          report: { spoolDepth: q.spool, resultsDropped: q.dropped },
        });
        if (outcome.kind === 'not-modified') {
          c.header('x-assignment-version', String(outcome.version));
          return c.body(null, 304);
        }
        c.header('x-assignment-version', String(outcome.assignment.version));
        return c.json(outcome.assignment);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/agents/{agentId}',
      operationId: 'getAgent',
      summary: 'One agent',
      tag: 'dashboard',
      roles: ['admin', 'viewer', 'cluster'],
      params: AgentParams,
      responses: { 200: { description: 'The agent', schema: AgentView } },
      errors: [404],
      handler: async (c, { params }) => c.json(await getAgent(ctx, c.var.principal, params.agentId)),
    }),
    defineRoute({
      method: 'get',
      path: '/clusters/{cluster}/agents',
      operationId: 'listClusterAgents',
      summary: "A cluster's agents",
      tag: 'dashboard',
      roles: ['admin', 'viewer', 'cluster'],
      params: ClusterParams,
      responses: { 200: { description: 'Its agents', schema: AgentList } },
      errors: [404],
      handler: async (c, { params }) => c.json({ agents: await listAgents(ctx, c.var.principal, params.cluster) }),
    }),
  ];
}
