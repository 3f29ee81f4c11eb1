import { BUCKETS, inMaintenance, type RunBatch, type RunBatchResponse, type RunResult } from '@synthfleet/contracts';
import { agents, clusters, ingestMarks, runs, tests } from '@synthfleet/db';
import { eq, type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { notFound } from '../errors.ts';
import { chunk } from '../lib/batch.ts';
import { randomToken } from '../lib/random-token.ts';
import { assertCanWrite } from './access.ts';
import type { Principal, ServiceContext } from './context.ts';
import { chargeRuns } from './quotas.ts';
import { FAILED as FAILED_LIST, rollupFromBatch } from './rollup.ts';

function passRatioOf(run: RunResult): number {
  if (run.maxMarks === 0) return run.status === 'pass' ? 1 : 0;
  return run.marks / run.maxMarks;
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
    const maintenance = inMaintenance(test.maintenanceFrom, test.maintenanceUntil, startedAt);
    known.push({ run, testId: test.id, startedAt, endedAt: Date.parse(run.endTime), maintenance });
  }

  let accepted = 0;
  if (known.length > 0) {
    // One transaction, all or nothing: the runs, and what the runs this batch really inserted
    // (not the duplicates it skipped) change: the latest state per agent, the availability
    // aggregates and counters, the roll-ups and the cluster's stamp. A failure anywhere stores
    // nothing, so the agent's retry finds no duplicates and nothing is lost.
    const token = randomToken(12);
    const mark = sql`(SELECT ${ingestMarks.fromRowid} FROM ${ingestMarks} WHERE ${ingestMarks.token} = ${token})`;
    const queries: BatchItem<'sqlite'>[] = [
      ctx.db.insert(ingestMarks).values({ token, fromRowid: sql`(SELECT coalesce(max(rowid), 0) FROM runs)` }),
    ];
    for (const part of chunk(known, 500)) {
      queries.push(
        ctx.db
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
          .onConflictDoNothing(),
      );
    }
    const rollup = rollupFromBatch(ctx.db, mark, now);
    queries.push(rollup.counts, latestFromInserted(ctx, mark), rollup.state, ...availabilityFromInserted(ctx, mark));
    const newest = Math.max(...known.map((k) => k.endedAt));
    queries.push(
      ctx.db
        .update(clusters)
        .set({ lastResultAt: sql`max(coalesce(${clusters.lastResultAt}, 0), ${newest})` })
        .where(eq(clusters.name, cluster)),
    );
    const countAt = queries.length;
    queries.push(
      ctx.db.select({ n: sql<number>`count(*)` }).from(runs).where(sql`rowid > ${mark}`),
      ctx.db.delete(ingestMarks).where(eq(ingestMarks.token, token)),
    );
    const results = (await ctx.db.batch(queries as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]])) as unknown[];
    accepted = Number((results[countAt] as { n: number }[])[0]?.n ?? 0);
  }
  duplicates += known.length - accepted;
  if (rejected.length > 0) ctx.logger.warn({ cluster, agentId: agent.id, rejected: rejected.length }, 'runs rejected');
  ctx.counters.runBatches++;
  ctx.counters.runsAccepted += accepted;
  ctx.counters.runsDuplicate += duplicates;
  ctx.counters.runsRejected += rejected.length;
  return { accepted, duplicates, rejected };
}

const FAILED = sql.raw(FAILED_LIST);
const FAILED_SQL = sql.raw(`excluded.status IN ${FAILED_LIST}`);
const COUNTED = sql.raw(`('pass', 'fail', 'error', 'timeout')`);

/**
 * The latest state per (test, agent) from the runs this batch inserted, applied oldest first:
 * SQLite applies an INSERT … SELECT … ORDER BY's rows in order, so several runs of one (test,
 * agent) in a batch count consecutive failures right, and an older run (a spooled one arriving
 * late) never replaces a newer latest state.
 */
function latestFromInserted(ctx: ServiceContext, mark: SQL) {
  const message = sql`coalesce(json_extract(details, '$._error'), json_extract(details, '$._log'), status || ': ' || marks || '/' || max_marks || ' marks')`;
  return ctx.db.run(sql`
    INSERT INTO latest (test_id, agent_id, cluster, run_id, status, marks, max_marks, pass_ratio, started_at,
      ended_at, duration_ms, message, consecutive_failures, last_failed_run_id, failing_since)
    SELECT test_id, agent_id, cluster, id, status, marks, max_marks, pass_ratio, started_at, ended_at, duration_ms,
      CASE WHEN status IN ${FAILED} THEN
        CASE WHEN length(${message}) > 500 THEN substr(${message}, 1, 497) || '...' ELSE ${message} END
      END,
      CASE WHEN status IN ${FAILED} THEN 1 ELSE 0 END,
      CASE WHEN status IN ${FAILED} THEN id END,
      CASE WHEN status IN ${FAILED} THEN started_at END
    FROM runs WHERE rowid > ${mark} ORDER BY started_at, rowid
    ON CONFLICT (test_id, agent_id) DO UPDATE SET
      run_id = excluded.run_id,
      status = excluded.status,
      marks = excluded.marks,
      max_marks = excluded.max_marks,
      pass_ratio = excluded.pass_ratio,
      started_at = excluded.started_at,
      ended_at = excluded.ended_at,
      duration_ms = excluded.duration_ms,
      message = CASE WHEN ${FAILED_SQL} THEN excluded.message ELSE latest.message END,
      consecutive_failures = CASE WHEN ${FAILED_SQL} THEN latest.consecutive_failures + 1 ELSE 0 END,
      last_failed_run_id = CASE WHEN ${FAILED_SQL} THEN excluded.run_id ELSE latest.last_failed_run_id END,
      failing_since = CASE WHEN ${FAILED_SQL} THEN coalesce(latest.failing_since, excluded.started_at) ELSE NULL END
    WHERE excluded.started_at >= latest.started_at`);
}

/**
 * The runs this batch inserted, added to the availability aggregates (each bucket size, the
 * test's total and the agent's) and to the tests' run counters; runs in maintenance, skipped and
 * unsupported ones are not counted (availability.ts).
 */
function availabilityFromInserted(ctx: ServiceContext, mark: SQL) {
  const counted = sql`rowid > ${mark} AND maintenance = 0 AND status IN ${COUNTED}`;
  const sizes = sql.raw(BUCKETS.map((b) => `SELECT ${b.res} AS res, ${b.sizeMs} AS size`).join(' UNION ALL '));
  return [
    ctx.db.run(sql`
      INSERT INTO availability (test_id, agent_id, res, bucket, total, passed)
      SELECT r.test_id, CASE w.own WHEN 1 THEN r.agent_id ELSE '' END, b.res, (r.started_at / b.size) * b.size,
        count(*), sum(r.status = 'pass')
      FROM (SELECT test_id, agent_id, status, started_at FROM runs WHERE ${counted}) AS r,
        (${sizes}) AS b, (SELECT 0 AS own UNION ALL SELECT 1) AS w
      WHERE true
      GROUP BY 1, 2, 3, 4
      ON CONFLICT (test_id, agent_id, res, bucket) DO UPDATE SET
        total = availability.total + excluded.total, passed = availability.passed + excluded.passed`),
    ctx.db.run(sql`
      UPDATE tests SET runs_counted = runs_counted + d.c, runs_failed = runs_failed + d.f
      FROM (SELECT test_id, count(*) AS c, sum(status <> 'pass') AS f FROM runs WHERE ${counted} GROUP BY test_id) AS d
      WHERE tests.id = d.test_id`),
  ];
}
