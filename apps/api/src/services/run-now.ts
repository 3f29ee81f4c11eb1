import { type RunNowResponse, type TestKey, testKeyString } from '@synthfleet/contracts';
import { agents, assignments, tests } from '@synthfleet/db';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { RateLimitedError } from '../errors.ts';
import { randomToken } from '../lib/random-token.ts';
import { assertCanWrite } from './access.ts';
import type { Principal, ServiceContext } from './context.ts';
import { reconcileLocked } from './scheduler.ts';
import { loadTest } from './test-views.ts';

/**
 * Run now: records a request on the test; the request id is part of every assigned agent's
 * assignment fingerprint, so placement wakes each of them through its long-poll (the hub: in
 * process on Node, the cluster's Durable Object on Workers) and each runs the test once, its
 * result tagged `trigger: {type: "manual"}`. One request per test per RUN_NOW_INTERVAL_SECONDS.
 */
export async function requestRun(ctx: ServiceContext, principal: Principal, key: TestKey): Promise<RunNowResponse> {
  assertCanWrite(principal, key.cluster, `test "${testKeyString(key)}"`);
  const row = await loadTest(ctx, principal, key);
  return ctx.exclusive(key.cluster, async () => {
    const now = ctx.clock.now();
    const id = randomToken(9);
    // The interval is checked in the write itself, so two requests at once make one run.
    const claimed = await ctx.db
      .update(tests)
      .set({ runRequestId: id, runRequestedAt: now })
      .where(
        and(
          eq(tests.id, row.id),
          isNull(tests.deletedAt),
          or(isNull(tests.runRequestedAt), lt(tests.runRequestedAt, now - ctx.config.runNowIntervalMs)),
        ),
      )
      .returning({ at: tests.runRequestedAt });
    if (claimed.length === 0) {
      const fresh = await ctx.db.query.tests.findFirst({ where: eq(tests.id, row.id) });
      const waitMs = (fresh?.runRequestedAt ?? now) + ctx.config.runNowIntervalMs - now;
      throw new RateLimitedError(
        `test "${testKeyString(key)}" was asked to run ${Math.round((now - (fresh?.runRequestedAt ?? now)) / 1000)} s ago; ask again in ${Math.max(1, Math.ceil(waitMs / 1000))} s`,
        Math.max(1000, waitMs),
      );
    }
    await reconcileLocked(ctx, key.cluster);
    const asked = await ctx.db
      .select({ agentId: assignments.agentId, node: agents.node })
      .from(assignments)
      .innerJoin(agents, eq(agents.id, assignments.agentId))
      .where(and(eq(assignments.testId, row.id), eq(agents.state, 'live')))
      .orderBy(agents.node);
    ctx.logger.info({ test: testKeyString(key), request: id, agents: asked.length }, 'run now requested');
    return { key: testKeyString(key), requestId: id, requestedAt: new Date(now).toISOString(), agents: asked };
  });
}
