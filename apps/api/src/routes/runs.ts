import { RunBatch } from '@synthfleet/contracts';
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { readJson } from '../lib/validate.ts';
import type { ServiceContext } from '../services/context.ts';
import { ingestRuns } from '../services/runs.ts';

export function runRoutes(ctx: ServiceContext) {
  return new Hono<AppEnv>().post('/runs', async (c) => {
    const batch = await readJson(c, RunBatch);
    return c.json(await ingestRuns(ctx, c.var.principal, batch));
  });
}
