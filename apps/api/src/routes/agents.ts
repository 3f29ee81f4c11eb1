import { RegisterAgentRequest } from '@synthfleet/contracts';
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { parseParams, parseQuery, readJson } from '../lib/validate.ts';
import { getAgent, listAgents, pollAssignment, registerAgent } from '../services/agents.ts';
import type { ServiceContext } from '../services/context.ts';
import { AgentParams, ClusterParams, PollQuery } from './params.ts';

export function agentRoutes(ctx: ServiceContext) {
  return new Hono<AppEnv>()
    .post('/agents', async (c) => {
      const body = await readJson(c, RegisterAgentRequest);
      return c.json(await registerAgent(ctx, c.var.principal, body), 201);
    })
    .get('/agents/:agentId/assignments', async (c) => {
      const { agentId } = parseParams(c, AgentParams);
      const q = parseQuery(c, PollQuery);
      const outcome = await pollAssignment(ctx, c.var.principal, agentId, q.version, q.wait * 1000, c.req.raw.signal, {
        spoolDepth: q.spool,
        resultsDropped: q.dropped,
      });
      if (outcome.kind === 'not-modified') {
        c.header('x-assignment-version', String(outcome.version));
        return c.body(null, 304);
      }
      c.header('x-assignment-version', String(outcome.assignment.version));
      return c.json(outcome.assignment);
    })
    .get('/agents/:agentId', async (c) => {
      const { agentId } = parseParams(c, AgentParams);
      return c.json(await getAgent(ctx, c.var.principal, agentId));
    })
    .get('/clusters/:cluster/agents', async (c) => {
      const { cluster } = parseParams(c, ClusterParams);
      return c.json({ agents: await listAgents(ctx, c.var.principal, cluster) });
    });
}
