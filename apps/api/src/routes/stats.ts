import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { assertAdmin } from '../services/access.ts';
import type { ServiceContext } from '../services/context.ts';

/** Process-level numbers for operators and benchmarks: how many long-polls this instance holds. */
export function statsRoutes(ctx: ServiceContext) {
  return new Hono<AppEnv>().get('/stats', (c) => {
    assertAdmin(c.var.principal);
    return c.json({ heldPolls: ctx.hub.held() });
  });
}
