import {
  type AgentView,
  parseDuration,
  type RemedyRunView,
  type RunPage,
  type TestDetail,
  type TestSummary,
} from '@synthfleet/contracts';
import { agents, assignments, clusters, latest, remedyRuns, runs, type TestRow, tests } from '@synthfleet/db';
import { and, asc, eq, gt, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { badRequest, notFound } from '../errors.ts';
import { assertCanRead, visibleClusters } from './access.ts';
import { toAgentView } from './agents.ts';
import type { Principal, ServiceContext } from './context.ts';
import { listClusters, listStaleAgents } from './fleet.ts';
import { remediesOf } from './remedies.ts';
import { importanceRank, loadTest, runPageOf, testDetailOf, toRunView, toTestSummary } from './test-views.ts';

/**
 * What the dashboard shows for a test. `stale` is kube-e2etestapp's TIME_TO_REPORT_PROBLEM: a test
 * that has produced no result for longer than it should is a problem, not "passing".
 */
export type DisplayStatus = 'failing' | 'stale' | 'pending' | 'passing';
export const DISPLAY_STATUSES: readonly DisplayStatus[] = ['failing', 'stale', 'pending', 'passing'];

export type DashboardTest = TestSummary & {
  display: DisplayStatus;
  /** Why a stale test is a problem, in words. */
  staleReason: string | null;
  /** Up to NODES_SHOWN nodes whose latest result fails (failing tests only). */
  failingNodes: string[];
};

export type DashboardFilter = {
  cluster?: string | undefined;
  label?: string | undefined;
  importance?: string | undefined;
  status?: DisplayStatus | undefined;
  plugin?: string | undefined;
};

export type Overview = {
  now: number;
  clusters: (Awaited<ReturnType<typeof listClusters>>[number] & { silent: boolean })[];
  tests: DashboardTest[];
  /** Matching tests per display status, before the list was cut to `limit`. */
  counts: Record<DisplayStatus, number>;
  /** Matching tests in all; `tests` is the page from `offset`. */
  total: number;
  offset: number;
  limit: number;
  staleAgents: AgentView[];
  plugins: string[];
  /** Every visible cluster's name, for the filter. */
  allClusters: string[];
};

const NODES_SHOWN = 5;
const STALE_AGENTS_SHOWN = 100;
/** Cron schedules have no fixed period here; a day without a result is a problem whatever the cron. */
const CRON_ALLOWANCE_MS = 24 * 3_600_000;

/** What stale detection and the problem-first order need, for every matching test. */
const statusColumns = {
  id: tests.id,
  state: tests.state,
  assignedAgents: tests.assignedAgents,
  lastRunAt: tests.lastRunAt,
  createdAt: tests.createdAt,
  updatedAt: tests.updatedAt,
  // The spec stays in the database: SQLite reads the few fields stale detection needs.
  repeat: sql<string | null>`json_extract(${tests.spec}, '$.repeat')`,
  schedule: sql<string | null>`json_extract(${tests.spec}, '$.schedule')`,
  runTimeout: sql<string | null>`json_extract(${tests.spec}, '$.timeouts.run')`,
};
type StatusRow = {
  id: number;
  state: TestRow['state'];
  assignedAgents: number;
  lastRunAt: number | null;
  createdAt: number;
  updatedAt: number;
  repeat: string | null;
  schedule: string | null;
  runTimeout: string | null;
};

/** What a row of a test list shows. */
const summaryColumns = {
  id: tests.id,
  cluster: tests.cluster,
  namespace: tests.namespace,
  name: tests.name,
  apiVersion: tests.apiVersion,
  plugin: tests.plugin,
  displayName: tests.displayName,
  importance: tests.importance,
  labels: tests.labels,
  revision: tests.revision,
  state: tests.state,
  passingAgents: tests.passingAgents,
  failingAgents: tests.failingAgents,
  assignedAgents: tests.assignedAgents,
  lastRunAt: tests.lastRunAt,
  failingSince: tests.failingSince,
  lastFailureMessage: tests.lastFailureMessage,
};

function durationOr(text: string | null, fallback: number): number {
  if (!text) return fallback;
  try {
    return parseDuration(text);
  } catch {
    return fallback;
  }
}

/** How long a test may go without a result before that is a problem: two periods plus a run. */
export function resultAllowanceMs(
  spec: { repeat: string | null; schedule: string | null; runTimeout: string | null },
  thresholdMs: number,
): number {
  const schedule = spec.schedule?.trim();
  let period: number;
  if (schedule?.startsWith('@every ')) period = durationOr(schedule.slice(7), 60_000);
  else if (schedule) return Math.max(thresholdMs, CRON_ALLOWANCE_MS);
  else period = durationOr(spec.repeat, 60_000);
  return Math.max(thresholdMs, 2 * period + durationOr(spec.runTimeout, 10_000));
}

export function displayStatusOf(
  row: Omit<StatusRow, 'id'>,
  now: number,
  thresholdMs: number,
): { display: DisplayStatus; staleReason: string | null } {
  if (row.state === 'failing') return { display: 'failing', staleReason: null };
  const allowance = resultAllowanceMs(row, thresholdMs);
  if (row.lastRunAt !== null) {
    if (now - row.lastRunAt > allowance) {
      return { display: 'stale', staleReason: `no result for ${formatSpan(now - row.lastRunAt)}` };
    }
    return { display: row.state === 'passing' ? 'passing' : 'pending', staleReason: null };
  }
  // Never ran: give it the allowance from when it was declared or last changed.
  const since = Math.max(row.createdAt, row.updatedAt);
  if (now - since > allowance) {
    const why = row.assignedAgents === 0 ? 'no agent runs it' : 'no result yet';
    return { display: 'stale', staleReason: `${why} after ${formatSpan(now - since)}` };
  }
  return { display: 'pending', staleReason: null };
}

/** 95 s → "1m 35s"; 3 days → "3d 0h". */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

function labelCondition(label: string): SQL {
  const eqAt = label.indexOf('=');
  if (eqAt <= 0) throw badRequest('label must look like key=value', [{ path: 'label', message: 'expected key=value' }]);
  const key = label.slice(0, eqAt).replace(/"/g, '');
  return sql`json_extract(${tests.labels}, ${`$."${key}"`}) = ${label.slice(eqAt + 1)}`;
}

const ORDER: Record<DisplayStatus, number> = { failing: 0, stale: 1, pending: 2, passing: 3 };

/**
 * Tests matching a filter with their display status, problems first (failing by importance and
 * age, then stale, pending, passing), cut to `limit`. The SQL filters narrow; the status filter
 * applies after stale detection, which needs the clock.
 */
export async function listDashboardTests(
  ctx: ServiceContext,
  principal: Principal,
  filter: DashboardFilter,
  page: { limit: number; offset?: number },
): Promise<{ tests: DashboardTest[]; counts: Record<DisplayStatus, number>; total: number }> {
  const where: SQL[] = [isNull(tests.deletedAt)];
  const scope = visibleClusters(principal, filter.cluster);
  if (scope !== null) where.push(eq(tests.cluster, scope));
  if (filter.plugin) where.push(eq(tests.plugin, filter.plugin));
  if (filter.importance) where.push(eq(tests.importance, filter.importance));
  if (filter.label) where.push(labelCondition(filter.label));
  if (filter.status === 'failing') where.push(eq(tests.state, 'failing'));
  // Two passes: the few columns stale detection needs for every matching test (the order and
  // the counts need them all), then whole rows for just the page shown. Materialising rows is
  // what costs here (performance-notes.md), so the first pass stays narrow.
  const ranked = await ctx.db
    .select(statusColumns)
    .from(tests)
    .where(and(...where))
    .orderBy(importanceRank, asc(tests.failingSince), asc(tests.cluster), asc(tests.namespace), asc(tests.name));
  const now = ctx.clock.now();
  const counts: Record<DisplayStatus, number> = { failing: 0, stale: 0, pending: 0, passing: 0 };
  const kept: { id: number; display: DisplayStatus; staleReason: string | null }[] = [];
  for (const row of ranked) {
    const d = displayStatusOf(row, now, ctx.config.staleResultMs);
    if (filter.status && d.display !== filter.status) continue;
    counts[d.display]++;
    kept.push({ id: row.id, ...d });
  }
  // A stable sort keeps the SQL order (importance, failing since, name) within each status.
  kept.sort((a, b) => ORDER[a.display] - ORDER[b.display]);
  const offset = page.offset ?? 0;
  const shown = kept.slice(offset, offset + page.limit);
  const ids = shown.map((t) => t.id);
  const [rows, nodes] = await Promise.all([
    ids.length ? ctx.db.select(summaryColumns).from(tests).where(inArray(tests.id, ids)) : Promise.resolve([]),
    failingNodesOf(
      ctx,
      shown.filter((t) => t.display === 'failing').map((t) => t.id),
    ),
  ]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: DashboardTest[] = [];
  for (const t of shown) {
    const row = byId.get(t.id);
    if (!row) continue; // deleted between the two reads
    out.push({
      ...toTestSummary(row),
      display: t.display,
      staleReason: t.staleReason,
      failingNodes: nodes.get(t.id) ?? [],
    });
  }
  return { tests: out, counts, total: kept.length };
}

/** The first few failing nodes of each test, one query (a window per test). */
async function failingNodesOf(ctx: ServiceContext, testIds: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (testIds.length === 0) return out;
  const ranked = ctx.db
    .select({
      testId: latest.testId,
      node: agents.node,
      rank: sql<number>`row_number() OVER (PARTITION BY ${latest.testId} ORDER BY ${agents.node})`.as('rank'),
    })
    .from(latest)
    .innerJoin(agents, eq(agents.id, latest.agentId))
    .where(and(inArray(latest.testId, testIds), inArray(latest.status, ['fail', 'error', 'timeout'])))
    .as('ranked');
  const rows = await ctx.db
    .select({ testId: ranked.testId, node: ranked.node })
    .from(ranked)
    .where(sql`${ranked.rank} <= ${NODES_SHOWN}`);
  for (const r of rows) {
    const list = out.get(r.testId);
    if (list) list.push(r.node);
    else out.set(r.testId, [r.node]);
  }
  return out;
}

export async function getOverview(
  ctx: ServiceContext,
  principal: Principal,
  filter: DashboardFilter,
  page: { limit: number; offset: number } = { limit: 100, offset: 0 },
): Promise<Overview> {
  const scope = visibleClusters(principal, filter.cluster);
  const now = ctx.clock.now();
  const [clusterViews, list, stale, plugins] = await Promise.all([
    listClusters(ctx, principal),
    listDashboardTests(ctx, principal, filter, page),
    listStaleAgents(ctx, scope, STALE_AGENTS_SHOWN),
    ctx.db
      .selectDistinct({ plugin: tests.plugin })
      .from(tests)
      .where(
        and(
          isNull(tests.deletedAt),
          principal.role === 'cluster' ? eq(tests.cluster, principal.cluster ?? '') : undefined,
        ),
      )
      .orderBy(tests.plugin),
  ]);
  const threshold = ctx.config.staleResultMs;
  return {
    now,
    clusters: clusterViews
      .filter((c) => filter.cluster === undefined || c.name === filter.cluster)
      .map((c) => ({
        ...c,
        // Silent: tests declared, yet nothing heard for longer than the threshold (or ever).
        silent: c.testsTotal > 0 && (c.lastResultAt === null || now - Date.parse(c.lastResultAt) > threshold),
      })),
    ...list,
    ...page,
    staleAgents: stale,
    plugins: plugins.map((p) => p.plugin),
    allClusters: clusterViews.map((c) => c.name).sort(),
  };
}

export type ClusterPage = {
  now: number;
  cluster: Awaited<ReturnType<typeof listClusters>>[number];
  tests: DashboardTest[];
  counts: Record<DisplayStatus, number>;
  total: number;
  agents: AgentView[];
  /** The node to continue the agent list after, when there are more. */
  nextAgentsAfter: string | null;
};

export async function getClusterPage(
  ctx: ServiceContext,
  principal: Principal,
  cluster: string,
  opts: { agentsAfter?: string | undefined; limit?: number },
): Promise<ClusterPage> {
  assertCanRead(principal, cluster);
  const limit = opts.limit ?? 200;
  const [views, list, agentRows] = await Promise.all([
    listClusters(ctx, principal, cluster),
    listDashboardTests(ctx, principal, { cluster }, { limit: 200 }),
    ctx.db
      .select()
      .from(agents)
      .where(and(eq(agents.cluster, cluster), opts.agentsAfter ? gt(agents.node, opts.agentsAfter) : undefined))
      .orderBy(asc(agents.node))
      .limit(limit + 1),
  ]);
  const view = views[0];
  if (!view) throw notFound(`cluster "${cluster}" was not found`);
  const page = agentRows.slice(0, limit);
  return {
    now: ctx.clock.now(),
    cluster: view,
    ...list,
    agents: page.map(toAgentView),
    nextAgentsAfter: agentRows.length > limit ? (page.at(-1)?.node ?? null) : null,
  };
}

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
      test: toTestSummary(t),
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
  const bucket = sql<number>`(${runs.startedAt} - ${from}) / ${bucketMs}`;
  const rows = await ctx.db
    .select({
      bucket,
      runs: sql<number>`count(*)`,
      failed: sql<number>`sum(${runs.status} <> 'pass' AND ${runs.status} <> 'skipped')`,
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
};

const PAGE_REMEDIES = 10;

/** Everything the test page shows: the test, its display status, its history and a page of runs. */
export async function getTestPage(
  ctx: ServiceContext,
  principal: Principal,
  id: { cluster: string; namespace: string; name: string },
  opts: { window: HistoryWindow; agentId?: string | undefined; cursor?: string | undefined; limit: number },
): Promise<TestPageData> {
  const row = await loadTest(ctx, principal, id.cluster, id.namespace, id.name);
  const [test, history, runPage, remedies] = await Promise.all([
    testDetailOf(ctx, row),
    getHistory(ctx, row.id, opts.window, opts.agentId),
    runPageOf(ctx, row, { limit: opts.limit, cursor: opts.cursor, agentId: opts.agentId }),
    remediesOf(ctx, row, PAGE_REMEDIES),
  ]);
  return {
    now: ctx.clock.now(),
    test,
    ...displayStatusOf(statusRowOf(row, test.spec), ctx.clock.now(), ctx.config.staleResultMs),
    history,
    runs: runPage,
    remedies,
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
  };
}

/** One run of a visible test, with the node that ran it. */
export async function getRun(
  ctx: ServiceContext,
  principal: Principal,
  id: { cluster: string; namespace: string; name: string },
  runId: string,
) {
  const test = await loadTest(ctx, principal, id.cluster, id.namespace, id.name);
  const row = await ctx.db
    .select({ r: runs, node: agents.node })
    .from(runs)
    .leftJoin(agents, eq(agents.id, runs.agentId))
    .where(and(eq(runs.id, runId), eq(runs.testId, test.id)))
    .get();
  if (!row) throw notFound(`run "${runId}" of test "${id.cluster}/${id.namespace}/${id.name}" was not found`);
  return { test: toTestSummary(test), run: { ...toRunView(row.r), node: row.node } };
}

/**
 * A cheap fingerprint of what the dashboard shows, for live updates: it changes when a result
 * arrives, a test changes, an agent registers or goes stale, or a remedy run starts or ends. One
 * statement of aggregates (remedy runs are few: bounded by each test's limit and retention).
 */
export async function dashboardVersion(ctx: ServiceContext, principal: Principal): Promise<string> {
  const scope = visibleClusters(principal);
  const onCluster = (col: SQL | typeof clusters.name) => (scope === null ? sql`1` : sql`${col} = ${scope}`);
  const row = await ctx.db
    .select({
      results: sql<
        number | null
      >`(SELECT max(${clusters.lastResultAt}) FROM ${clusters} WHERE ${onCluster(clusters.name)})`,
      tests: sql<string>`(SELECT count(*) || '.' || coalesce(sum(${tests.deletedAt} IS NULL), 0) || '.' || coalesce(max(${tests.updatedAt}), 0) FROM ${tests} WHERE ${onCluster(sql`${tests.cluster}`)})`,
      agents: sql<string>`(SELECT count(*) || '.' || coalesce(sum(${agents.state} = 'stale'), 0) || '.' || coalesce(max(${agents.registeredAt}), 0) FROM ${agents} WHERE ${onCluster(sql`${agents.cluster}`)})`,
      remedies: sql<string>`(SELECT count(*) || '.' || coalesce(max(${remedyRuns.endedAt}), 0) FROM ${remedyRuns} WHERE ${onCluster(sql`${remedyRuns.cluster}`)})`,
    })
    .from(sql`(SELECT 1)`)
    .get();
  return `${row?.results ?? 0}-${row?.tests ?? ''}-${row?.agents ?? ''}-${row?.remedies ?? ''}`;
}
