import {
  formatDuration,
  parseDuration,
  type RemedyClaim,
  type RemedyGrant,
  type RemedyOutcome,
  type RemedyRunView,
  type TestKey,
  testKeyString,
} from '@synthfleet/contracts';
import { agents, type RemedyRunRow, remedyRuns, tests } from '@synthfleet/db';
import { and, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { conflict, notFound } from '../errors.ts';
import { assertCanRead, assertCanWrite } from './access.ts';
import type { Principal, ServiceContext } from './context.ts';
import { specOf } from './test-objects.ts';

function view(row: RemedyRunRow, test: { cluster: string; namespace: string; name: string }): RemedyRunView {
  return {
    id: row.id,
    cluster: test.cluster,
    namespace: test.namespace,
    name: test.name,
    revision: row.revision,
    agentId: row.agentId,
    node: row.node,
    kind: row.kind,
    triggerRunId: row.triggerRunId,
    failures: row.failures,
    attempt: row.attempt,
    status: row.status,
    message: row.message,
    details: JSON.parse(row.details) as Record<string, string>,
    startedAt: new Date(row.startedAt).toISOString(),
    deadline: new Date(row.deadlineAt).toISOString(),
    endedAt: row.endedAt === null ? null : new Date(row.endedAt).toISOString(),
  };
}

/**
 * How long past the remedy's own timeout a granted run may stay `running`: the agent claims,
 * runs, then reports with retries (up to about a minute and a half of backoff) through API
 * restarts. Past it the run is recorded as `unknown`.
 */
export const REMEDY_REPORT_GRACE_MS = 5 * 60_000;

async function agentOf(ctx: ServiceContext, principal: Principal, agentId: string) {
  const agent = await ctx.db.query.agents.findFirst({ where: eq(agents.id, agentId) });
  if (!agent) throw notFound(`agent "${agentId}" was not found`);
  assertCanWrite(principal, agent.cluster, `agent "${agentId}"`);
  return agent;
}

/**
 * An agent asks to run a test's remedy. Granted within the spec's `runsLimit` and
 * `resetInterval`, counted fleet-wide in one conditional UPDATE, so agents racing for the same
 * test can never run it more often than the limit; every grant is recorded as a remedy run.
 */
export async function claimRemedy(
  ctx: ServiceContext,
  principal: Principal,
  agentId: string,
  claim: RemedyClaim,
): Promise<RemedyGrant> {
  const agent = await agentOf(ctx, principal, agentId);
  const key = `${agent.cluster}/${claim.namespace}/${claim.name}`;
  const test = await ctx.db.query.tests.findFirst({
    where: and(
      eq(tests.cluster, agent.cluster),
      eq(tests.namespace, claim.namespace),
      eq(tests.name, claim.name),
      isNull(tests.deletedAt),
    ),
  });
  if (!test) throw notFound(`test "${key}" was not found`);
  if (test.revision !== claim.revision)
    throw conflict(
      `the claim is for revision ${claim.revision} of test "${key}", which is now at revision ${test.revision}`,
    );
  // Stored as parsed on the way in, defaults applied.
  const remedy = specOf(test.spec).remedy;
  if (!remedy) throw conflict(`test "${key}" has no remedy`);
  const now = ctx.clock.now();
  const limit = remedy.runsLimit ?? 0;
  const reset = remedy.resetInterval ? parseDuration(remedy.resetInterval) : 0;
  const resetDue = sql`(${reset} > 0 AND ${now} - coalesce(${tests.remedyLastAt}, 0) >= ${reset})`;
  const granted = await ctx.db
    .update(tests)
    .set({
      remedyCount: sql`CASE WHEN ${limit} > 0 AND ${tests.remedyCount} >= ${limit} AND ${resetDue} THEN 1 ELSE ${tests.remedyCount} + 1 END`,
      remedyLastAt: now,
    })
    .where(
      and(
        eq(tests.id, test.id),
        eq(tests.revision, claim.revision),
        sql`(${limit} = 0 OR ${tests.remedyCount} < ${limit} OR ${resetDue})`,
      ),
    )
    .returning({ count: tests.remedyCount });
  const row = granted[0];
  if (!row) {
    const again = reset
      ? `the count starts again ${formatDuration(reset)} after the last remedy run (${new Date((test.remedyLastAt ?? now) + reset).toISOString()})`
      : 'without a resetInterval it starts again only when the test changes';
    throw conflict(`test "${key}" reached its remedy runsLimit (${limit}); ${again}`);
  }
  const id = crypto.randomUUID();
  const kind = remedy.webhook ? 'webhook' : 'job';
  const timeout = parseDuration(remedy.webhook?.timeout ?? remedy.job?.timeout ?? '5m');
  await ctx.db.insert(remedyRuns).values({
    id,
    testId: test.id,
    cluster: agent.cluster,
    revision: test.revision,
    agentId: agent.id,
    node: agent.node,
    kind,
    triggerRunId: claim.runId,
    failures: claim.failures,
    attempt: row.count,
    status: 'running',
    message: null,
    details: '{}',
    startedAt: now,
    deadlineAt: now + timeout + REMEDY_REPORT_GRACE_MS,
    endedAt: null,
  });
  ctx.logger.info({ test: key, agent: agent.id, remedy: id, kind, attempt: row.count }, 'remedy granted');
  return { remedyId: id, kind, attempt: row.count, runsLimit: remedy.runsLimit ?? null };
}

/**
 * The agent that ran a remedy reports how it went; reporting the same outcome again is a no-op. A
 * report that arrives after the run was recorded as `unknown` still replaces it: it is what
 * happened.
 */
export async function finishRemedy(
  ctx: ServiceContext,
  principal: Principal,
  agentId: string,
  remedyId: string,
  outcome: RemedyOutcome,
): Promise<RemedyRunView> {
  const agent = await agentOf(ctx, principal, agentId);
  const row = await ctx.db.query.remedyRuns.findFirst({
    where: and(eq(remedyRuns.id, remedyId), eq(remedyRuns.agentId, agent.id)),
  });
  if (!row) throw notFound(`remedy run "${remedyId}" of agent "${agentId}" was not found`);
  const test = await ctx.db.query.tests.findFirst({ where: eq(tests.id, row.testId) });
  if (!test) throw notFound(`the test of remedy run "${remedyId}" was not found`);
  if (row.status !== 'running' && row.status !== 'unknown') {
    if (row.status === outcome.status && row.message === outcome.message) return view(row, test);
    throw conflict(`remedy run "${remedyId}" already ended as ${row.status}`);
  }
  const [done] = await ctx.db
    .update(remedyRuns)
    .set({
      status: outcome.status,
      message: outcome.message,
      details: JSON.stringify(outcome.details ?? {}),
      endedAt: ctx.clock.now(),
    })
    .where(eq(remedyRuns.id, remedyId))
    .returning();
  return view(done as RemedyRunRow, test);
}

/** A test's latest remedy runs, newest first (for a test row already loaded and authorised). */
export async function remediesOf(
  ctx: ServiceContext,
  test: { id: number; cluster: string; namespace: string; name: string },
  limit: number,
): Promise<RemedyRunView[]> {
  const rows = await ctx.db
    .select()
    .from(remedyRuns)
    .where(eq(remedyRuns.testId, test.id))
    .orderBy(desc(remedyRuns.startedAt), desc(remedyRuns.id))
    .limit(limit);
  return rows.map((r) => view(r, test));
}

/** A test's remedy runs, newest first. */
export async function listRemedies(
  ctx: ServiceContext,
  principal: Principal,
  key: TestKey,
  limit: number,
): Promise<RemedyRunView[]> {
  const { cluster, namespace, name } = key;
  const what = `test "${testKeyString(key)}"`;
  assertCanRead(principal, cluster, what);
  const test = await ctx.db.query.tests.findFirst({
    where: and(eq(tests.cluster, cluster), eq(tests.namespace, namespace), eq(tests.name, name)),
  });
  if (!test) throw notFound(`${what} was not found`);
  return remediesOf(ctx, test, limit);
}

/**
 * Records as `unknown` every remedy run still `running` past its deadline: its agent never said
 * how it went (it died, or lost the API for longer than its retries). Part of the sweep.
 */
export async function expireRemedies(ctx: ServiceContext, now: number): Promise<number> {
  // One statement, at most 1,000 a sweep (the rest go on the next one).
  const overdue = ctx.db
    .select({ id: remedyRuns.id })
    .from(remedyRuns)
    .where(and(eq(remedyRuns.status, 'running'), lt(remedyRuns.deadlineAt, now)))
    .limit(1000);
  const expired = await ctx.db
    .update(remedyRuns)
    .set({
      status: 'unknown',
      message: sql`'node ' || ${remedyRuns.node} || ' reported no outcome by the deadline (' || strftime('%Y-%m-%dT%H:%M:%SZ', ${remedyRuns.deadlineAt} / 1000, 'unixepoch') || '): the remedy may or may not have run; the agent may have stopped'`,
      endedAt: now,
    })
    .where(inArray(remedyRuns.id, overdue))
    .returning({ id: remedyRuns.id, node: remedyRuns.node, cluster: remedyRuns.cluster });
  if (expired.length > 0) ctx.logger.warn({ remedies: expired }, 'remedy runs without an outcome past their deadline');
  return expired.length;
}
