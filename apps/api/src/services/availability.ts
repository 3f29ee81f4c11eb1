import {
  AVAILABILITY_WINDOWS,
  type Availability,
  type AvailabilityReport,
  availabilityOf,
  BUCKETS,
  BURN_WINDOWS,
  type Counted,
  parseWindow,
  type SloStatus,
  sloStatus,
  windowBuckets,
} from '@synthfleet/contracts';
import { agents, availability, fleetTests, tests } from '@synthfleet/db';
import { and, eq, gte, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { badRequest, notFound } from '../errors.ts';
import { assertCanRead, visibleClusters } from './access.ts';
import type { Principal, ServiceContext } from './context.ts';

/*
 * Availability from aggregates kept as results arrive (schema: availability.ts): an ingest adds
 * each counted run to its test's and its agent's bucket of every size (runs.ts, in the batch's
 * own transaction), and a window sums the buckets it covers. No figure ever scans the runs.
 */

/** Drops buckets past their size's keep time (the sweep). */
export async function trimAvailability(ctx: ServiceContext, now: number): Promise<void> {
  for (const b of BUCKETS) {
    await ctx.db.delete(availability).where(and(eq(availability.res, b.res), lt(availability.bucket, now - b.keepMs)));
  }
}

/** Whose runs a figure counts: one test (or one of its agents), an agent, a cluster, several tests. */
export type AvailabilityScope =
  | { testId: number; agentId?: string }
  | { agentIds: readonly string[] }
  | { cluster: string }
  | { testIds: readonly number[] };

function scopeWhere(scope: AvailabilityScope): SQL {
  if ('cluster' in scope)
    return and(
      eq(availability.agentId, ''),
      sql`${availability.testId} IN (SELECT ${tests.id} FROM ${tests} WHERE ${tests.cluster} = ${scope.cluster} AND ${isNull(tests.deletedAt)})`,
    ) as SQL;
  if ('testIds' in scope) {
    if (scope.testIds.length === 0) return sql`0`;
    return and(eq(availability.agentId, ''), inArray(availability.testId, [...scope.testIds])) as SQL;
  }
  if ('testId' in scope)
    return and(eq(availability.testId, scope.testId), eq(availability.agentId, scope.agentId ?? '')) as SQL;
  if (scope.agentIds.length === 0) return sql`0`;
  return inArray(availability.agentId, [...scope.agentIds]);
}

/** The windows grouped by the bucket size each is summed from, with the columns that sum them. */
function windowQueries(windows: Readonly<Record<string, number>>, now: number) {
  const byRes = new Map<number, { name: string; from: number }[]>();
  for (const [name, ms] of Object.entries(windows)) {
    const { res, from } = windowBuckets(ms, now);
    const list = byRes.get(res) ?? [];
    list.push({ name, from });
    byRes.set(res, list);
  }
  return [...byRes].map(([res, list]) => ({
    res,
    list,
    earliest: Math.min(...list.map((w) => w.from)),
    cols: Object.fromEntries(
      list.flatMap((w, i) => [
        [
          `t${i}`,
          sql<number>`sum(CASE WHEN ${availability.bucket} >= ${w.from} THEN ${availability.total} ELSE 0 END)`,
        ],
        [
          `p${i}`,
          sql<number>`sum(CASE WHEN ${availability.bucket} >= ${w.from} THEN ${availability.passed} ELSE 0 END)`,
        ],
      ]),
    ),
    read: (row: Record<string, unknown> | undefined, into: Record<string, Counted>) => {
      list.forEach((w, i) => {
        into[w.name] = { total: Number(row?.[`t${i}`] ?? 0), passed: Number(row?.[`p${i}`] ?? 0) };
      });
    },
  }));
}

/** Runs counted and passed over each window (epoch-ms lengths), one query per bucket size. */
export async function countedOver(
  ctx: ServiceContext,
  scope: AvailabilityScope,
  windows: Readonly<Record<string, number>>,
  now: number,
): Promise<Record<string, Counted>> {
  const out: Record<string, Counted> = {};
  await Promise.all(
    windowQueries(windows, now).map(async (q) => {
      const [row] = await ctx.db
        .select(q.cols)
        .from(availability)
        .where(and(scopeWhere(scope), eq(availability.res, q.res), gte(availability.bucket, q.earliest)));
      q.read(row, out);
    }),
  );
  return out;
}

/** The availability windows (1h, 24h, 7d, 30d) out of what was counted. */
const availabilityIn = (counted: Record<string, Counted>): Record<string, Availability> =>
  Object.fromEntries(Object.keys(AVAILABILITY_WINDOWS).map((w) => [w, availabilityOf(counted[w] as Counted)]));

/** Availability over 1h, 24h, 7d and 30d. */
export async function availabilityWindows(
  ctx: ServiceContext,
  scope: AvailabilityScope,
  now: number,
): Promise<Record<string, Availability>> {
  return availabilityIn(await countedOver(ctx, scope, AVAILABILITY_WINDOWS, now));
}

/** A test's availability windows and, with spec.slo, its SLO status: two or three small queries. */
export async function testAvailability(
  ctx: ServiceContext,
  testId: number,
  slo: { objective: number; window: string } | null,
  now: number,
): Promise<{ availability: Record<string, Availability>; slo: SloStatus | null }> {
  const windows: Record<string, number> = { ...AVAILABILITY_WINDOWS };
  if (slo) {
    windows.slo = parseWindow(slo.window);
    for (const [w, ms] of Object.entries(BURN_WINDOWS)) windows[`burn${w}`] = ms;
  }
  const counted = await countedOver(ctx, { testId }, windows, now);
  const availabilityByWindow = availabilityIn(counted);
  if (!slo) return { availability: availabilityByWindow, slo: null };
  const burn = Object.fromEntries(Object.keys(BURN_WINDOWS).map((w) => [w, counted[`burn${w}`] as Counted]));
  return { availability: availabilityByWindow, slo: sloStatus(slo, counted.slo as Counted, burn) };
}

/**
 * GET /availability: a cluster's (every test of it), a node's (every test its agents ran) or a
 * fleet test's (its visible shares) availability windows.
 */
export async function availabilityReport(
  ctx: ServiceContext,
  principal: Principal,
  q: { cluster?: string | undefined; node?: string | undefined; fleetTest?: string | undefined },
): Promise<AvailabilityReport> {
  const now = ctx.clock.now();
  const scope = { cluster: q.cluster ?? null, node: q.node ?? null, fleetTest: q.fleetTest ?? null };
  if (q.fleetTest !== undefined) {
    const [namespace, name] = q.fleetTest.split('/');
    if (!namespace || !name)
      throw badRequest('fleetTest must be namespace/name', [{ path: 'fleetTest', message: 'expected namespace/name' }]);
    const f = await ctx.db.query.fleetTests.findFirst({
      where: and(eq(fleetTests.namespace, namespace), eq(fleetTests.name, name), isNull(fleetTests.deletedAt)),
    });
    if (!f) throw notFound(`fleet test "${q.fleetTest}" was not found`);
    const visible = visibleClusters(principal, q.cluster);
    const shares = await ctx.db
      .select({ id: tests.id })
      .from(tests)
      .where(
        and(
          eq(tests.fleetTestId, f.id),
          isNull(tests.deletedAt),
          visible === null ? undefined : eq(tests.cluster, visible),
        ),
      );
    return { scope, windows: await availabilityWindows(ctx, { testIds: shares.map((s) => s.id) }, now) };
  }
  if (q.cluster === undefined)
    throw badRequest('name a cluster (with a node, or not) or a fleetTest', [{ path: 'cluster', message: 'required' }]);
  assertCanRead(principal, q.cluster);
  if (q.node !== undefined) {
    const ids = await ctx.db
      .select({ id: agents.id })
      .from(agents)
      .where(and(eq(agents.cluster, q.cluster), eq(agents.node, q.node)));
    if (ids.length === 0) throw notFound(`node "${q.node}" has no agent in cluster "${q.cluster}"`);
    return { scope, windows: await availabilityWindows(ctx, { agentIds: ids.map((a) => a.id) }, now) };
  }
  return { scope, windows: await availabilityWindows(ctx, { cluster: q.cluster }, now) };
}

/**
 * Every live test's runs counted and passed over each window, a few grouped queries (one per
 * bucket size) for the whole fleet: what /metrics exports.
 */
export async function countedForAll(
  ctx: ServiceContext,
  windows: Readonly<Record<string, number>>,
  now: number,
): Promise<Map<number, Record<string, Counted>>> {
  const out = new Map<number, Record<string, Counted>>();
  await Promise.all(
    windowQueries(windows, now).map(async (q) => {
      const rows = await ctx.db
        .select({ testId: availability.testId, ...q.cols })
        .from(availability)
        .where(and(eq(availability.res, q.res), gte(availability.bucket, q.earliest), eq(availability.agentId, '')))
        .groupBy(availability.testId);
      for (const row of rows) {
        const entry = out.get(row.testId) ?? {};
        q.read(row, entry);
        out.set(row.testId, entry);
      }
    }),
  );
  return out;
}
