import { RunBatch, RunBatchResponse } from '@synthfleet/contracts';
import { defineRoute } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import { ingestRuns } from '../services/runs.ts';

export function runRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'post',
      path: '/runs',
      operationId: 'sendRuns',
      summary: 'Send a batch of results (idempotent by runId)',
      tag: 'agent',
      roles: ['admin', 'cluster'],
      body: RunBatch,
      responses: {
        200: { description: 'What was stored, already there, or rejected (with why)', schema: RunBatchResponse },
      },
      errors: [403, 404],
      handler: async (c, { body }) => c.json(await ingestRuns(ctx, c.var.principal, body)),
    }),
  ];
}
