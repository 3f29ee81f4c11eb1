import { RemedyClaim, RemedyOutcome } from '@synthfleet/contracts';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { parseParams, parseQuery, readJson } from '../lib/validate.ts';
import type { ServiceContext } from '../services/context.ts';
import { claimRemedy, finishRemedy, listRemedies } from '../services/remedies.ts';
import { AgentParams, RemedyListQuery, TestParams } from './params.ts';

const RemedyParams = AgentParams.extend({ remedyId: z.uuid('must be a remedy run id (a UUID)') });

export function remedyRoutes(ctx: ServiceContext) {
  return new Hono<AppEnv>()
    .post('/agents/:agentId/remedies', async (c) => {
      const { agentId } = parseParams(c, AgentParams);
      const claim = await readJson(c, RemedyClaim);
      return c.json(await claimRemedy(ctx, c.var.principal, agentId, claim), 201);
    })
    .put('/agents/:agentId/remedies/:remedyId', async (c) => {
      const { agentId, remedyId } = parseParams(c, RemedyParams);
      const outcome = await readJson(c, RemedyOutcome);
      return c.json(await finishRemedy(ctx, c.var.principal, agentId, remedyId, outcome));
    })
    .get('/tests/:cluster/:namespace/:name/remedies', async (c) => {
      const { cluster, namespace, name } = parseParams(c, TestParams);
      const { limit } = parseQuery(c, RemedyListQuery);
      return c.json({ remedies: await listRemedies(ctx, c.var.principal, cluster, namespace, name, limit) });
    });
}
