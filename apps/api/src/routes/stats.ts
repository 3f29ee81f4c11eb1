import { METRICS_CONTENT_TYPE } from '@synthfleet/contracts';
import { z } from 'zod';
import { defineRoute } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import { controlPlaneMetrics } from '../services/control-metrics.ts';

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
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      summary: "The control plane's metrics (Prometheus text format), also at /metrics",
      description:
        "Every test's verdict (synthfleet_test_state, 1 for the current state), its freshness and agent counts, agents per cluster and state, and this process's ingest and long-poll counters, computed from the database at scrape time.",
      tag: 'meta',
      roles: ['admin', 'viewer', 'metrics'],
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' } },
      handler: async (c) => c.body(await controlPlaneMetrics(ctx), 200, { 'content-type': METRICS_CONTENT_TYPE }),
    }),
  ];
}
