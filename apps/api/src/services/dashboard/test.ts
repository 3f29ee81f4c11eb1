import type { MaintenanceView, RemedyRunView, RunPage, TestDetail, TestKey } from '@synthfleet/contracts';
import { agents, runs, type TestRow } from '@synthfleet/db';
import { and, eq, sql } from 'drizzle-orm';
import { notFound } from '../../errors.ts';
import type { Principal, ServiceContext } from '../context.ts';
import { windowsFor } from '../maintenance.ts';
import { remediesOf } from '../remedies.ts';
import { loadTest, runPageOf, testDetailOf, toRunView, toTestSummary, verdictClock } from '../test-views.ts';
import { type DisplayStatus, displayStatusOf, type StatusRow } from './shared.ts';

export type HistoryPoint = {
  /** Start of the bucket, epoch ms. */
  at: number;
  runs: number;
  failed: number;
  passRatio: number;
  avgMs: number;
  maxMs: number;
};

export const HISTORY_WINDOWS = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
};
export type HistoryWindow = keyof typeof HISTORY_WINDOWS;
const HISTORY_BUCKETS = 60;

/** Latency and pass ratio of a test over a window, in equal buckets, aggregated by SQLite. */
export async function getHistory(
  ctx: ServiceContext,
  testId: number,
  window: HistoryWindow,
  agentId?: string,
): Promise<{ from: number; to: number; bucketMs: number; points: HistoryPoint[] }> {
  const to = ctx.clock.now();
  const span = HISTORY_WINDOWS[window];
  const bucketMs = Math.ceil(span / HISTORY_BUCKETS);
  const from = to - bucketMs * HISTORY_BUCKETS;
  // Bound JS numbers reach SQLite as REAL: cast, or the division is fractional and every run
  // becomes a bucket of its own.
  const bucket = sql<number>`CAST((${runs.startedAt} - CAST(${from} AS INTEGER)) / CAST(${bucketMs} AS INTEGER) AS INTEGER)`;
  const rows = await ctx.db
    .select({
      bucket,
      runs: sql<number>`count(*)`,
      failed: sql<number>`sum(${runs.status} IN ('fail', 'error', 'timeout'))`,
      passRatio: sql<number>`avg(${runs.passRatio})`,
      avgMs: sql<number>`avg(${runs.durationMs})`,
      maxMs: sql<number>`max(${runs.durationMs})`,
    })
    .from(runs)
    .where(
      and(
        eq(runs.testId, testId),
        sql`${runs.startedAt} >= ${from}`,
        sql`${runs.startedAt} < ${to}`,
        agentId ? eq(runs.agentId, agentId) : undefined,
      ),
    )
    .groupBy(bucket)
    .orderBy(bucket);
  return {
    from,
    to,
    bucketMs,
    points: rows.map((r) => ({
      at: from + Number(r.bucket) * bucketMs,
      runs: Number(r.runs),
      failed: Number(r.failed),
      passRatio: Number(r.passRatio),
      avgMs: Number(r.avgMs),
      maxMs: Number(r.maxMs),
    })),
  };
}

export type TestPageData = {
  now: number;
  test: TestDetail;
  display: DisplayStatus;
  staleReason: string | null;
  history: Awaited<ReturnType<typeof getHistory>>;
  runs: RunPage;
  /** The latest remedy runs, newest first. */
  remedies: RemedyRunView[];
  /** Maintenance windows over this test, open now or coming. */
  maintenance: MaintenanceView[];
  /** Whether the signed-in token may ask for a run (admin, or this cluster's token). */
  canRun: boolean;
  /** Each reporting agent's pod labels (by agent id), for grouping the node grid. */
  podLabels: Map<string, Record<string, string>>;
};

const PAGE_REMEDIES = 10;

/** Everything the test page shows: the test, its display status, its history and a page of runs. */
export async function getTestPage(
  ctx: ServiceContext,
  principal: Principal,
  id: TestKey,
  opts: { window: HistoryWindow; agentId?: string | undefined; cursor?: string | undefined; limit: number },
): Promise<TestPageData> {
  const row = await loadTest(ctx, principal, id);
  const [test, history, runPage, remedies, maintenance, labelRows] = await Promise.all([
    testDetailOf(ctx, row),
    getHistory(ctx, row.id, opts.window, opts.agentId),
    runPageOf(ctx, row, { limit: opts.limit, cursor: opts.cursor, agentId: opts.agentId }),
    remediesOf(ctx, row, PAGE_REMEDIES),
    windowsFor(ctx, principal, {
      test: { cluster: row.cluster, namespace: row.namespace, name: row.name, labels: JSON.parse(row.labels) },
    }),
    ctx.db.select({ id: agents.id, podLabels: agents.podLabels }).from(agents).where(eq(agents.cluster, row.cluster)),
  ]);
  return {
    now: ctx.clock.now(),
    test,
    ...displayStatusOf(statusRowOf(row, test.spec), ctx.clock.now(), ctx.config.staleResultMs),
    history,
    runs: runPage,
    remedies,
    maintenance,
    podLabels: new Map(labelRows.map((a) => [a.id, JSON.parse(a.podLabels) as Record<string, string>])),
    canRun:
      !principal.readOnly &&
      (principal.role === 'admin' || (principal.role === 'cluster' && principal.cluster === row.cluster)),
  };
}

/** The fields stale detection needs, from a test already loaded whole. */
function statusRowOf(row: TestRow, spec: TestDetail['spec']): StatusRow {
  return {
    id: row.id,
    state: row.state,
    assignedAgents: row.assignedAgents,
    lastRunAt: row.lastRunAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    repeat: spec.repeat ?? null,
    schedule: spec.schedule ?? null,
    runTimeout: spec.timeouts?.run ?? null,
    maintenanceFrom: row.maintenanceFrom,
    maintenanceUntil: row.maintenanceUntil,
    maintenanceReason: row.maintenanceReason,
  };
}

/** One run of a visible test, with the node that ran it. */
export async function getRun(ctx: ServiceContext, principal: Principal, id: TestKey, runId: string) {
  const test = await loadTest(ctx, principal, id);
  const row = await ctx.db
    .select({ r: runs, node: agents.node })
    .from(runs)
    .leftJoin(agents, eq(agents.id, runs.agentId))
    .where(and(eq(runs.id, runId), eq(runs.testId, test.id)))
    .get();
  if (!row) throw notFound(`run "${runId}" of test "${id.cluster}/${id.namespace}/${id.name}" was not found`);
  return { test: toTestSummary(test, verdictClock(ctx)), run: { ...toRunView(row.r), node: row.node } };
}

/**
 * A cheap fingerprint of what the dashboard shows, for live updates: it changes when a result
 * arrives, a test changes, an agent registers or goes stale, or a remedy run starts or ends. One
 * statement of aggregates (remedy runs are few: bounded by each test's limit and retention).
 */
