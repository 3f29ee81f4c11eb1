import type { AgentView, TestSummary } from '@synthfleet/contracts';
import { agents, assignments, latest, tests } from '@synthfleet/db';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { notFound } from '../../errors.ts';
import { assertCanRead } from '../access.ts';
import { toAgentView } from '../agents.ts';
import type { Principal, ServiceContext } from '../context.ts';
import { toTestSummary, verdictClock } from '../test-views.ts';

export type AgentPage = {
  now: number;
  agent: AgentView & { heartbeatUrl: string | null };
  tests: {
    test: TestSummary;
    latest: { runId: string; status: string; endTime: string; durationMs: number; message: string | null } | null;
  }[];
};

export async function getAgentPage(ctx: ServiceContext, principal: Principal, agentId: string): Promise<AgentPage> {
  const row = await ctx.db.query.agents.findFirst({ where: eq(agents.id, agentId) });
  if (!row) throw notFound(`agent "${agentId}" was not found`);
  assertCanRead(principal, row.cluster, `agent "${agentId}"`);
  const rows = await ctx.db
    .select({ t: tests, l: latest })
    .from(assignments)
    .innerJoin(tests, eq(tests.id, assignments.testId))
    .leftJoin(latest, and(eq(latest.testId, tests.id), eq(latest.agentId, agentId)))
    .where(and(eq(assignments.agentId, agentId), isNull(tests.deletedAt)))
    .orderBy(asc(tests.namespace), asc(tests.name));
  return {
    now: ctx.clock.now(),
    agent: { ...toAgentView(row), heartbeatUrl: row.heartbeatUrl },
    tests: rows.map(({ t, l }) => ({
      test: toTestSummary(t, verdictClock(ctx)),
      latest: l
        ? {
            runId: l.runId,
            status: l.status,
            endTime: new Date(l.endedAt).toISOString(),
            durationMs: l.durationMs,
            message: l.message,
          }
        : null,
    })),
  };
}
