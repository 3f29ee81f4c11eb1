import { z } from 'zod';
import { defineRoute } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';

/** Process-level numbers for operators and benchmarks: how many long-polls this instance holds. */
export function statsRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'get',
      path: '/stats',
      operationId: 'getStats',
      summary: 'Long-polls held by this instance',
      tag: 'meta',
      roles: ['admin'],
      responses: { 200: { description: 'Counters', schema: z.object({ heldPolls: z.number().int() }) } },
      handler: (c) => c.json({ heldPolls: ctx.hub.held() }),
    }),
  ];
}
