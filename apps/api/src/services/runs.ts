import { FAILING_STATUSES, type RunBatch, type RunBatchResponse, type RunResult } from '@synthfleet/contracts';
import { agents, clusters, latest, runs, tests } from '@synthfleet/db';
import { eq, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { notFound } from '../errors.ts';
import { chunk, runBatch } from '../lib/batch.ts';
import { assertCanWrite } from './access.ts';
import { availabilityWrites } from './availability.ts';
import type { Principal, ServiceContext } from './context.ts';
import { chargeRuns } from './quotas.ts';
import { rollupQuery } from './rollup.ts';

const FAILED_SQL = sql.raw(`excluded.status IN ('fail', 'error', 'timeout')`);

function passRatioOf(run: RunResult): number {
  if (run.maxMarks === 0) return run.status === 'pass' ? 1 : 0;
  return run.marks / run.maxMarks;
}

function failureMessage(run: RunResult): string | null {
  if (!FAILING_STATUSES.has(run.status)) return null;
  const text = run.details?._error ?? run.details?._log ?? `${run.status}: ${run.marks}/${run.maxMarks} marks`;
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

/**
 * Stores a batch of results, idempotent by run id: a run already stored is counted as a duplicate
 * and changes nothing. Runs for tests the API does not know are rejected one by one, so a spool
 * that outlived a deleted test still drains.
 */
export async function ingestRuns(
  ctx: ServiceContext,
  principal: Principal,
  batch: RunBatch,
): Promise<RunBatchResponse> {
  const agent = await ctx.db.query.agents.findFirst({ where: eq(agents.id, batch.agentId) });
  if (!agent) throw notFound(`agent "${batch.agentId}" was not found`);
  assertCanWrite(principal, agent.cluster, `agent "${batch.agentId}"`);
  chargeRuns(ctx, principal, agent.id, batch.runs.length);
  const cluster = agent.cluster;
  const now = ctx.clock.now();

  const testRows = await ctx.db
    .select({
      id: tests.id,
      namespace: tests.namespace,
      name: tests.name,
      maintenanceFrom: tests.maintenanceFrom,
      maintenanceUntil: tests.maintenanceUntil,
    })
    .from(tests)
    .where(eq(tests.cluster, cluster));
  const testIds = new Map(testRows.map((t) => [`${t.namespace}/${t.name}`, t]));
  const rejected: RunBatchResponse['rejected'] = [];
  const known: { run: RunResult; testId: number; startedAt: number; endedAt: number; maintenance: boolean }[] = [];
  const inBatch = new Set<string>();
  let duplicates = 0;
  for (const run of batch.runs) {
    const bytes = JSON.stringify(run).length;
    if (bytes > ctx.config.maxRunBytes) {
      rejected.push({
        runId: run.runId,
        reason: `run is ${bytes} bytes, over the limit of ${ctx.config.maxRunBytes} (RUN_MAX_BYTES)`,
      });
      continue;
    }
    const test = testIds.get(`${run.namespace}/${run.name}`);
    if (test === undefined) {
      rejected.push({ runId: run.runId, reason: `test "${cluster}/${run.namespace}/${run.name}" is not known` });
      continue;
    }
    if (inBatch.has(run.runId)) {
      duplicates++;
      continue;
    }
    inBatch.add(run.runId);
    const startedAt = Date.parse(run.startTime);
    // Inside the test's maintenance window (services/maintenance.ts keeps it on the row).
    const maintenance =
      test.maintenanceFrom !== null &&
      test.maintenanceUntil !== null &&
      test.maintenanceFrom <= startedAt &&
      startedAt < test.maintenanceUntil;
    known.push({ run, testId: test.id, startedAt, endedAt: Date.parse(run.endTime), maintenance });
  }

  const inserted = new Set<string>();
  for (const part of chunk(known, 500)) {
    const rows = await ctx.db
      .insert(runs)
      .values(
        part.map(({ run, testId, startedAt, endedAt, maintenance }) => ({
          id: run.runId,
          testId,
          agentId: agent.id,
          cluster,
          revision: run.revision ?? null,
          status: run.status,
          marks: run.marks,
          maxMarks: run.maxMarks,
          passRatio: passRatioOf(run),
          startedAt,
          endedAt,
          durationMs: endedAt - startedAt,
          details: JSON.stringify(run.details ?? {}),
          gauges: JSON.stringify(run.gauges ?? []),
          trigger: run.trigger ? JSON.stringify(run.trigger) : null,
          maintenance,
          receivedAt: now,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: runs.id });
    for (const r of rows) inserted.add(r.id);
  }
  duplicates += known.length - inserted.size;

  const fresh = known.filter((k) => inserted.has(k.run.runId)).sort((a, b) => a.startedAt - b.startedAt);
  if (fresh.length > 0) {
    const queries: BatchItem<'sqlite'>[] = [];
    // One multi-row upsert per chunk: SQLite applies the rows in order, so several runs of the same
    // (test, agent) in one batch still count consecutive failures correctly.
    for (const part of chunk(fresh, 400)) {
      queries.push(
        ctx.db
          .insert(latest)
          .values(
            part.map(({ run, testId, startedAt, endedAt }) => {
              const failed = FAILING_STATUSES.has(run.status);
              return {
                testId,
                agentId: agent.id,
                cluster,
                runId: run.runId,
                status: run.status,
                marks: run.marks,
                maxMarks: run.maxMarks,
                passRatio: passRatioOf(run),
                startedAt,
                endedAt,
                durationMs: endedAt - startedAt,
                message: failureMessage(run),
                consecutiveFailures: failed ? 1 : 0,
                lastFailedRunId: failed ? run.runId : null,
                failingSince: failed ? startedAt : null,
              };
            }),
          )
          .onConflictDoUpdate({
            target: [latest.testId, latest.agentId],
            // Spooled runs may arrive late: an older run never replaces a newer latest state.
            setWhere: sql`excluded.started_at >= ${latest.startedAt}`,
            set: {
              runId: sql`excluded.run_id`,
              status: sql`excluded.status`,
              marks: sql`excluded.marks`,
              maxMarks: sql`excluded.max_marks`,
              passRatio: sql`excluded.pass_ratio`,
              startedAt: sql`excluded.started_at`,
              endedAt: sql`excluded.ended_at`,
              durationMs: sql`excluded.duration_ms`,
              message: sql`CASE WHEN ${FAILED_SQL} THEN excluded.message ELSE ${latest.message} END`,
              consecutiveFailures: sql`CASE WHEN ${FAILED_SQL} THEN ${latest.consecutiveFailures} + 1 ELSE 0 END`,
              lastFailedRunId: sql`CASE WHEN ${FAILED_SQL} THEN excluded.run_id ELSE ${latest.lastFailedRunId} END`,
              failingSince: sql`CASE WHEN ${FAILED_SQL} THEN coalesce(${latest.failingSince}, excluded.started_at) ELSE NULL END`,
            },
          }),
      );
    }
    queries.push(
      ...availabilityWrites(
        ctx,
        fresh.map((f) => ({
          testId: f.testId,
          agentId: agent.id,
          status: f.run.status,
          startedAt: f.startedAt,
          maintenance: f.maintenance,
        })),
      ),
    );
    const touched = [...new Set(fresh.map((f) => f.testId))];
    for (const part of chunk(touched, 500)) queries.push(rollupQuery(ctx.db, part, now));
    const newest = Math.max(...fresh.map((f) => f.endedAt));
    queries.push(
      ctx.db
        .update(clusters)
        .set({ lastResultAt: sql`max(coalesce(${clusters.lastResultAt}, 0), ${newest})` })
        .where(eq(clusters.name, cluster)),
    );
    await runBatch(ctx.db, queries);
  }
  if (rejected.length > 0) ctx.logger.warn({ cluster, agentId: agent.id, rejected: rejected.length }, 'runs rejected');
  ctx.counters.runBatches++;
  ctx.counters.runsAccepted += inserted.size;
  ctx.counters.runsDuplicate += duplicates;
  ctx.counters.runsRejected += rejected.length;
  return { accepted: inserted.size, duplicates, rejected };
}
