/**
 * Fleet tests: one SyntheticTest placed in every cluster its selectors pick, each cluster's share
 * an ordinary test there (its node selector applies inside the cluster, its runs are stored as
 * usual, a cluster token sees exactly that share), and one fleet verdict made from the clusters'
 * verdicts with a quorum of clusters (default: all of them must fail). Shares follow the
 * selection on every change and on every sweep, so a new matching cluster picks the test up within
 * one sweep and a cluster leaving the selection drops it.
 */
import {
  ClusterLabels,
  clusterSelected,
  FleetTestSelection,
  type FleetTestView,
  fleetVerdict,
  formatIssues,
  type QuorumRule,
  VERDICTS,
} from '@synthfleet/contracts';
import { clusters, type FleetTestRow, fleetTests, tests } from '@synthfleet/db';
import { and, asc, eq, isNotNull, isNull } from 'drizzle-orm';
import type { z } from 'zod';
import { badRequest, notFound } from '../errors.ts';
import { assertAdmin } from './access.ts';
import { ensureClusterQuery } from './clusters.ts';
import type { Principal, ServiceContext } from './context.ts';
import { type ParsedTest, parseTestObject } from './test-objects.ts';
import { type VerdictClock, verdictClock, verdictColumns, verdictOf } from './test-views.ts';
import { removeFleetShare, upsertFleetShare } from './tests.ts';

type Parsed = { selection: z.infer<typeof FleetTestSelection>; share: ParsedTest; raw: string };

/** A fleet test body: a SyntheticTest of either group with `spec.clusters` (and `spec.quorum` of clusters). */
function parseFleetTest(body: unknown, namespace: string, name: string): Parsed {
  const o = (body && typeof body === 'object' ? body : {}) as { spec?: Record<string, unknown>; metadata?: unknown };
  const spec = o.spec && typeof o.spec === 'object' ? o.spec : {};
  const sel = FleetTestSelection.safeParse({ clusters: spec.clusters, quorum: spec.quorum });
  const issues = sel.success
    ? []
    : sel.error.issues.map((i) => ({ path: ['spec', ...i.path].join('.'), message: i.message }));
  // Each cluster's share: the same object without the fleet's fields (its own quorum is of agents: the default).
  const { clusters: _c, quorum: _q, ...shareSpec } = spec;
  const share = parseTestObject({ ...o, spec: shareSpec });
  if ('issues' in share) issues.push(...share.issues);
  if (issues.length > 0 || !sel.success || 'issues' in share)
    throw badRequest(`invalid fleet test: ${formatIssues(issues)}`, issues);
  const meta = share.object.metadata;
  if (meta.name !== name || meta.namespace !== namespace) {
    throw badRequest(`metadata must name ${namespace}/${name}, as the path does`, [
      { path: 'metadata', message: `must be ${namespace}/${name}` },
    ]);
  }
  return { selection: sel.data, share, raw: JSON.stringify(body) };
}

const quorumOf = (row: Pick<FleetTestRow, 'quorumCount' | 'quorumShare'>): QuorumRule => ({
  count: row.quorumCount,
  share: row.quorumShare,
});

export async function putFleetTest(
  ctx: ServiceContext,
  principal: Principal,
  namespace: string,
  name: string,
  body: unknown,
): Promise<{ view: FleetTestView; created: boolean }> {
  assertAdmin(principal);
  const p = parseFleetTest(body, namespace, name);
  const now = ctx.clock.now();
  const q = p.selection.quorum;
  const values = {
    raw: p.raw,
    clusters: JSON.stringify(p.selection.clusters),
    quorumCount: typeof q === 'number' ? q : null,
    quorumShare: typeof q === 'string' ? Number.parseFloat(q) : null,
    updatedAt: now,
    deletedAt: null,
  };
  const existing = await ctx.db.query.fleetTests.findFirst({
    where: and(eq(fleetTests.namespace, namespace), eq(fleetTests.name, name)),
  });
  if (existing) {
    const same = existing.deletedAt === null && existing.raw === p.raw;
    if (!same) {
      await ctx.db
        .update(fleetTests)
        .set({ ...values, revision: existing.revision + 1, ...(existing.deletedAt !== null ? { createdAt: now } : {}) })
        .where(eq(fleetTests.id, existing.id));
    }
  } else {
    await ctx.db.insert(fleetTests).values({ namespace, name, ...values, revision: 1, createdAt: now });
  }
  await reconcileFleetTests(ctx);
  return {
    view: await getFleetTest(ctx, principal, namespace, name),
    created: !existing || existing.deletedAt !== null,
  };
}

export async function deleteFleetTest(ctx: ServiceContext, principal: Principal, namespace: string, name: string) {
  assertAdmin(principal);
  const done = await ctx.db
    .update(fleetTests)
    .set({ deletedAt: ctx.clock.now() })
    .where(and(eq(fleetTests.namespace, namespace), eq(fleetTests.name, name), isNull(fleetTests.deletedAt)))
    .returning({ id: fleetTests.id });
  if (done.length === 0) throw notFound(`fleet test "${namespace}/${name}" was not found`);
  await reconcileFleetTests(ctx);
}

/** Labels on a cluster, for fleet tests' `label=glob` selectors; the selection follows at once. */
export async function setClusterLabels(ctx: ServiceContext, principal: Principal, cluster: string, body: unknown) {
  assertAdmin(principal);
  const parsed = ClusterLabels.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw badRequest(`invalid labels: ${formatIssues(issues)}`, issues);
  }
  await ctx.db.batch([
    ensureClusterQuery(ctx, cluster),
    ctx.db
      .update(clusters)
      .set({ labels: JSON.stringify(parsed.data.labels) })
      .where(eq(clusters.name, cluster)),
  ]);
  await reconcileFleetTests(ctx);
  return { cluster, labels: parsed.data.labels };
}

/**
 * Makes every fleet test's shares follow its selection: stores a share where one is missing or
 * out of date, removes those of clusters no longer selected (and of deleted fleet tests). Only
 * what differs is written; a quiet fleet costs two reads.
 */
export async function reconcileFleetTests(ctx: ServiceContext): Promise<void> {
  const [fleet, clusterRows, shares] = await Promise.all([
    ctx.db.select().from(fleetTests).where(isNull(fleetTests.deletedAt)),
    ctx.db.select({ name: clusters.name, labels: clusters.labels }).from(clusters),
    ctx.db
      .select({ id: tests.id, cluster: tests.cluster, fleetTestId: tests.fleetTestId, specHash: tests.specHash })
      .from(tests)
      .where(and(isNotNull(tests.fleetTestId), isNull(tests.deletedAt))),
  ]);
  const labelled = clusterRows.map((c) => ({ name: c.name, labels: JSON.parse(c.labels) as Record<string, string> }));
  const shareKey = (fleetTestId: number | null, cluster: string) => `${fleetTestId}\u0000${cluster}`;
  const have = new Map(shares.map((s) => [shareKey(s.fleetTestId, s.cluster), s]));
  const wanted = new Set<string>();
  for (const f of fleet) {
    const selectors = JSON.parse(f.clusters) as string[];
    const p = parseFleetTest(JSON.parse(f.raw), f.namespace, f.name);
    for (const c of labelled) {
      if (!clusterSelected(selectors, c)) continue;
      const key = shareKey(f.id, c.name);
      wanted.add(key);
      if (have.get(key)?.specHash === p.share.specHash) continue;
      const outcome = await upsertFleetShare(ctx, c.name, p.share, f.id);
      if (outcome === 'conflict') {
        ctx.logger.warn(
          { fleetTest: `${f.namespace}/${f.name}`, cluster: c.name },
          'the cluster has its own test of that name: the fleet test is not placed there',
        );
      }
    }
  }
  for (const s of shares) {
    if (!wanted.has(shareKey(s.fleetTestId, s.cluster))) await removeFleetShare(ctx, s.cluster, s.id);
  }
}

/** The live shares of the given fleet tests (all of them when none is given), by cluster. */
function shareRows(ctx: ServiceContext, fleetTestId?: number) {
  return ctx.db
    .select({
      fleetTestId: tests.fleetTestId,
      cluster: tests.cluster,
      plugin: tests.plugin,
      displayName: tests.displayName,
      ...verdictColumns,
      failingAgents: tests.failingAgents,
      failingSince: tests.failingSince,
      lastFailureMessage: tests.lastFailureMessage,
    })
    .from(tests)
    .where(
      and(
        fleetTestId === undefined ? isNotNull(tests.fleetTestId) : eq(tests.fleetTestId, fleetTestId),
        isNull(tests.deletedAt),
      ),
    )
    .orderBy(asc(tests.cluster));
}
type ShareRow = Awaited<ReturnType<typeof shareRows>>[number];

function viewOf(f: FleetTestRow, rows: readonly ShareRow[], at: VerdictClock): FleetTestView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const selected = rows.map((r) => {
    const v = verdictOf(r, at);
    return {
      cluster: r.cluster,
      state: v.state,
      stateReason: v.reason,
      failingAgents: r.failingAgents,
      assignedAgents: r.assignedAgents,
      failingSince: iso(r.failingSince),
      lastRunAt: iso(r.lastRunAt),
      lastFailureMessage: r.lastFailureMessage,
    };
  });
  const rank = (s: (typeof selected)[number]) => VERDICTS.indexOf(s.state);
  selected.sort((a, b) => rank(a) - rank(b) || a.cluster.localeCompare(b.cluster));
  const spec = (JSON.parse(f.raw) as { spec?: { plugin?: string; displayName?: string } }).spec ?? {};
  return {
    namespace: f.namespace,
    name: f.name,
    revision: f.revision,
    plugin: rows[0]?.plugin ?? spec.plugin ?? '',
    displayName: rows[0]?.displayName ?? spec.displayName ?? null,
    clusters: JSON.parse(f.clusters) as string[],
    quorum: f.quorumCount ?? (f.quorumShare === null ? null : `${f.quorumShare}%`),
    state: fleetVerdict(
      selected.map((s) => s.state),
      quorumOf(f),
    ),
    selected,
    createdAt: new Date(f.createdAt).toISOString(),
    updatedAt: new Date(f.updatedAt).toISOString(),
  };
}

function assertFleetReader(principal: Principal): void {
  // A cluster token sees its own cluster's share (an ordinary test there), never the fleet.
  if (principal.role === 'cluster') throw notFound('not found');
}

export async function getFleetTest(ctx: ServiceContext, principal: Principal, namespace: string, name: string) {
  assertFleetReader(principal);
  const f = await ctx.db.query.fleetTests.findFirst({
    where: and(eq(fleetTests.namespace, namespace), eq(fleetTests.name, name), isNull(fleetTests.deletedAt)),
  });
  if (!f) throw notFound(`fleet test "${namespace}/${name}" was not found`);
  return viewOf(f, await shareRows(ctx, f.id), verdictClock(ctx));
}

export async function listFleetTests(ctx: ServiceContext, principal: Principal): Promise<FleetTestView[]> {
  assertFleetReader(principal);
  return fleetTestViews(ctx);
}

/** Every live fleet test with its verdicts (for readers already checked, and /metrics). */
export async function fleetTestViews(ctx: ServiceContext): Promise<FleetTestView[]> {
  const rows = await ctx.db
    .select()
    .from(fleetTests)
    .where(isNull(fleetTests.deletedAt))
    .orderBy(asc(fleetTests.namespace), asc(fleetTests.name));
  if (rows.length === 0) return [];
  // One read of every share, whatever the number of fleet tests.
  const byFleetTest = new Map<number, ShareRow[]>();
  for (const r of await shareRows(ctx)) {
    const list = byFleetTest.get(r.fleetTestId as number) ?? [];
    list.push(r);
    byFleetTest.set(r.fleetTestId as number, list);
  }
  const at = verdictClock(ctx);
  return rows.map((f) => viewOf(f, byFleetTest.get(f.id) ?? [], at));
}
