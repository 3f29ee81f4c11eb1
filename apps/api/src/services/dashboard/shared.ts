import { formatSpan, type TestSummary, VERDICTS, type Verdict } from '@synthfleet/contracts';
import { agents, latest, rejections, type TestRow, tests } from '@synthfleet/db';
import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { badRequest } from '../../errors.ts';
import { assertCanRead, visibleClusters } from '../access.ts';
import type { Principal, ServiceContext } from '../context.ts';
import { compareScanned, scannedVerdict, scanTests } from '../test-scan.ts';
import { summaryColumns, toTestSummary, verdictOf } from '../test-views.ts';

/** What the dashboard shows for a test: its verdict (contracts' verdict.ts), as every surface does. */
export type DisplayStatus = Verdict;
export const DISPLAY_STATUSES: readonly DisplayStatus[] = VERDICTS;

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

const NODES_SHOWN = 5;

export type StatusRow = {
  id: number;
  state: TestRow['state'];
  assignedAgents: number;
  lastRunAt: number | null;
  createdAt: number;
  updatedAt: number;
  repeat: string | null;
  schedule: string | null;
  runTimeout: string | null;
  maintenanceFrom: number | null;
  maintenanceUntil: number | null;
  maintenanceReason: string | null;
};

/** A test's verdict for the dashboard, with why it is stale in words. */
export function displayStatusOf(
  row: Omit<StatusRow, 'id'>,
  now: number,
  thresholdMs: number,
): { display: DisplayStatus; staleReason: string | null } {
  const v = verdictOf(row, { now, thresholdMs });
  return { display: v.state, staleReason: v.reason };
}

export { formatSpan };

/** Silent: tests declared, yet nothing heard from the cluster for longer than the threshold (or ever). */
export function clusterSilent(
  c: { testsTotal: number; lastResultAt: string | null },
  now: number,
  thresholdMs: number,
): boolean {
  return c.testsTotal > 0 && (c.lastResultAt === null || now - Date.parse(c.lastResultAt) > thresholdMs);
}

/** Ids of the live tests (of a scope) carrying a label, `key=value`. */
async function testsLabelled(ctx: ServiceContext, scope: string | null, label: string): Promise<Set<number>> {
  const eqAt = label.indexOf('=');
  if (eqAt <= 0) throw badRequest('label must look like key=value', [{ path: 'label', message: 'expected key=value' }]);
  const key = label.slice(0, eqAt).replace(/"/g, '');
  const rows = await ctx.db
    .select({ id: tests.id })
    .from(tests)
    .where(
      and(
        isNull(tests.deletedAt),
        scope === null ? undefined : eq(tests.cluster, scope),
        sql`json_extract(${tests.labels}, ${`$."${key}"`}) = ${label.slice(eqAt + 1)}`,
      ),
    );
  return new Set(rows.map((r) => r.id));
}

const ORDER = Object.fromEntries(VERDICTS.map((v, i) => [v, i])) as Record<DisplayStatus, number>;

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
  const scope = visibleClusters(principal, filter.cluster);
  // Two passes: the shared narrow scan of every live test (the order and the counts need them
  // all: test-scan.ts), then whole rows for just the page shown. A label filter asks SQLite which.
  const [scanned, labelled] = await Promise.all([
    scanTests(ctx, scope),
    filter.label ? testsLabelled(ctx, scope, filter.label) : Promise.resolve(null),
  ]);
  const ranked = scanned
    .filter(
      (t) =>
        (!filter.plugin || t.plugin === filter.plugin) &&
        (!filter.importance || t.importance === filter.importance) &&
        (!labelled || labelled.has(t.id)),
    )
    .sort(compareScanned);
  const now = ctx.clock.now();
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<DisplayStatus, number>;
  const kept: { id: number; display: DisplayStatus; staleReason: string | null }[] = [];
  const at = { now, thresholdMs: ctx.config.staleResultMs };
  for (const row of ranked) {
    const v = scannedVerdict(row, at);
    const d = { display: v.state, staleReason: v.reason };
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
      ...toTestSummary(row, { now, thresholdMs: ctx.config.staleResultMs }),
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

/** An object a syncer holds that the API refused: a never-valid one, or an invalid edit of a live test. */
export type RejectedObject = {
  cluster: string;
  namespace: string;
  name: string;
  reason: string;
  since: number;
  /** The live test's revision that keeps running (invalid edits), null for a never-valid object. */
  keptRevision: number | null;
};

const identityOf = (r: { cluster: string; namespace: string; name: string }) => ({
  cluster: r.cluster,
  namespace: r.namespace,
  name: r.name,
});

/** Every refused object the principal may see (of one cluster, or all), newest first. */
export async function listRejected(
  ctx: ServiceContext,
  principal: Principal,
  cluster?: string,
): Promise<RejectedObject[]> {
  if (cluster !== undefined) assertCanRead(principal, cluster);
  const scope = visibleClusters(principal, cluster);
  const [never, edits] = await Promise.all([
    ctx.db
      .select()
      .from(rejections)
      .where(scope === null ? undefined : eq(rejections.cluster, scope)),
    ctx.db
      .select({
        cluster: tests.cluster,
        namespace: tests.namespace,
        name: tests.name,
        reason: tests.rejectedReason,
        since: tests.rejectedSince,
        revision: tests.revision,
      })
      .from(tests)
      .where(
        and(
          isNull(tests.deletedAt),
          isNotNull(tests.rejectedReason),
          scope === null ? undefined : eq(tests.cluster, scope),
        ),
      ),
  ]);
  return [
    ...never.map((r) => ({ ...identityOf(r), reason: r.reason, since: r.since, keptRevision: null })),
    ...edits.map((e) => ({ ...identityOf(e), reason: e.reason ?? '', since: e.since ?? 0, keptRevision: e.revision })),
  ].sort((a, b) => b.since - a.since);
}
