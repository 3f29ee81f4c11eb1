import {
  formatIssues,
  parseWindow,
  resultAllowanceMs,
  type SnapshotResponse,
  type TestKey,
  testKeyString,
  type UpsertTestResponse,
} from '@synthfleet/contracts';
import { rejections, type TestRow, tests } from '@synthfleet/db';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { badRequest, conflict, notFound } from '../errors.ts';
import { runBatch } from '../lib/batch.ts';
import { assertCanWrite } from './access.ts';
import { ensureClusterQuery } from './clusters.ts';
import type { Principal, ServiceContext } from './context.ts';
import { refreshMaintenance } from './maintenance.ts';
import { reconcileLocked } from './scheduler.ts';
import { type ParsedTest, parseTestObject } from './test-objects.ts';

function rowValues(parsed: ParsedTest, now: number) {
  const { object } = parsed;
  return {
    apiVersion: object.apiVersion,
    spec: JSON.stringify(object.spec),
    raw: parsed.raw,
    specHash: parsed.specHash,
    generation: object.metadata.generation ?? null,
    plugin: object.spec.plugin,
    nodeSelector: object.spec.node,
    displayName: object.spec.displayName ?? null,
    importance: object.spec.importance ?? null,
    // The object's labels and the spec's (which win): synthetic-heart's agents match on the former.
    labels: JSON.stringify({ ...object.metadata.labels, ...object.spec.labels }),
    podLabelSelector: JSON.stringify(object.spec.podLabelSelector ?? {}),
    quorumCount: parsed.quorumCount,
    quorumShare: parsed.quorumShare,
    sloObjective: object.spec.slo?.objective ?? null,
    sloWindowMs: object.spec.slo ? parseWindow(object.spec.slo.window) : null,
    badgePublic: object.spec.badge?.public ?? false,
    maintenanceSpec: object.spec.maintenance?.length ? JSON.stringify(object.spec.maintenance) : null,
    // Before the STALE_RESULT_SECONDS floor, which the verdict applies (it is configuration).
    allowanceMs: resultAllowanceMs(
      { repeat: object.spec.repeat, schedule: object.spec.schedule, runTimeout: object.spec.timeouts?.run },
      0,
    ),
    updatedAt: now,
    deletedAt: null,
  };
}

/** What rows stored before sources were recorded hold (and what a snapshot naming none is). */
const LEGACY_SOURCE = 'syncer';

/** A valid edit clears the mark of a refused one (and the record of a never-valid object). */
const accepted = { rejectedReason: null, rejectedSince: null };

type Plan = { query?: BatchItem<'sqlite'>; created: boolean; changed: boolean };

/** Decides what storing one parsed test means against its current row. */
function planUpsert(
  ctx: ServiceContext,
  cluster: string,
  parsed: ParsedTest,
  existing: TestRow | undefined,
  source: string,
): Plan {
  const now = ctx.clock.now();
  const { metadata } = parsed.object;
  if (!existing) {
    return {
      created: true,
      changed: true,
      query: ctx.db.insert(tests).values({
        cluster,
        namespace: metadata.namespace,
        name: metadata.name,
        ...rowValues(parsed, now),
        source,
        revision: 1,
        pinnedAgentId: null,
        createdAt: now,
        state: 'pending',
        passingAgents: 0,
        failingAgents: 0,
        assignedAgents: 0,
      }),
    };
  }
  const alive = existing.deletedAt === null;
  if (alive && existing.specHash === parsed.specHash) {
    // Same spec: keep the revision (agents are not disturbed) but record a newer generation or raw form.
    const generation = metadata.generation ?? null;
    if (
      existing.generation === generation &&
      existing.raw === parsed.raw &&
      existing.source === source &&
      existing.rejectedReason === null
    )
      return { created: false, changed: false };
    return {
      created: false,
      changed: false,
      query: ctx.db
        .update(tests)
        .set({ generation, raw: parsed.raw, source, ...accepted })
        .where(eq(tests.id, existing.id)),
    };
  }
  return {
    created: !alive,
    changed: true,
    query: ctx.db
      .update(tests)
      .set({
        ...rowValues(parsed, now),
        ...accepted,
        source,
        revision: existing.revision + 1,
        // A changed test starts its remedy count afresh.
        remedyCount: 0,
        remedyLastAt: null,
        ...(alive ? {} : { createdAt: now }),
      })
      .where(eq(tests.id, existing.id)),
  };
}

/**
 * Records that an edit was refused: a live test keeps its last valid revision, marked with the
 * reason (kept since the first refusal with that reason); an object that names no live test is
 * kept in `rejections` so the dashboard can show it. Syncer sources only: an API caller got the
 * 400, and its bad request changes nothing stored.
 */
function rejectionWrites(
  ctx: ServiceContext,
  cluster: string,
  key: { namespace: string; name: string },
  existing: TestRow | undefined,
  reason: string,
  source: string,
): BatchItem<'sqlite'>[] {
  // A caller of the API itself got the 400 and has nothing to be reminded of; a syncer's object
  // stays in its source until fixed, so its refusal is kept where people look.
  if (source === 'api') return [];
  const now = ctx.clock.now();
  if (existing && existing.deletedAt === null) {
    if (existing.rejectedReason === reason) return [];
    return [ctx.db.update(tests).set({ rejectedReason: reason, rejectedSince: now }).where(eq(tests.id, existing.id))];
  }
  return [
    ctx.db
      .insert(rejections)
      .values({ cluster, ...key, source, reason, since: now })
      .onConflictDoUpdate({
        target: [rejections.cluster, rejections.namespace, rejections.name],
        set: {
          source,
          reason,
          since: sql`CASE WHEN ${rejections.reason} = excluded.reason THEN ${rejections.since} ELSE excluded.since END`,
        },
      }),
  ];
}

const forgetRejection = (ctx: ServiceContext, cluster: string, namespace: string, name: string) =>
  ctx.db
    .delete(rejections)
    .where(and(eq(rejections.cluster, cluster), eq(rejections.namespace, namespace), eq(rejections.name, name)));

/** After a cluster's tests changed: placement (waking agents whose work changed), then maintenance spans. */
async function testsChanged(ctx: ServiceContext, cluster: string): Promise<void> {
  await reconcileLocked(ctx, cluster);
  await refreshMaintenance(ctx, cluster);
}

/** A live row that is a fleet test's share: the fleet test owns it, not the cluster's sources. */
const isFleetShare = (row: TestRow | undefined): boolean =>
  row !== undefined && row.deletedAt === null && row.fleetTestId !== null;

const identity = (cluster: string, namespace: string, name: string) =>
  and(eq(tests.cluster, cluster), eq(tests.namespace, namespace), eq(tests.name, name));

export async function upsertTest(
  ctx: ServiceContext,
  principal: Principal,
  key: TestKey,
  body: unknown,
  source = 'api',
): Promise<UpsertTestResponse> {
  const { cluster, namespace, name } = key;
  assertCanWrite(principal, cluster);
  const parsed = parseTestObject(body);
  if ('issues' in parsed) {
    const reason = formatIssues(parsed.issues);
    const kept = await ctx.exclusive(cluster, async () => {
      const existing = await ctx.db.query.tests.findFirst({ where: identity(cluster, namespace, name) });
      if (isFleetShare(existing)) return null;
      await runBatch(ctx.db, rejectionWrites(ctx, cluster, { namespace, name }, existing, reason, source));
      return existing && existing.deletedAt === null ? existing.revision : null;
    });
    const note = kept === null ? '' : ` (revision ${kept}, the last valid spec, keeps running)`;
    throw badRequest(`invalid SyntheticTest: ${reason}${note}`, parsed.issues);
  }
  const meta = parsed.object.metadata;
  if (meta.name !== name) {
    throw badRequest(`metadata.name "${meta.name}" does not match the path's name "${name}"`, [
      { path: 'metadata.name', message: `must be "${name}"` },
    ]);
  }
  if (meta.namespace !== namespace) {
    throw badRequest(`metadata.namespace "${meta.namespace}" does not match the path's namespace "${namespace}"`, [
      { path: 'metadata.namespace', message: `must be "${namespace}"` },
    ]);
  }
  return ctx.exclusive(cluster, async () => {
    const existing = await ctx.db.query.tests.findFirst({ where: identity(cluster, namespace, name) });
    if (isFleetShare(existing)) {
      throw conflict(
        `test "${testKeyString(key)}" is this cluster's share of fleet test ${namespace}/${name}: change the fleet test (PUT /api/v1/fleet-tests/${namespace}/${name})`,
      );
    }
    if (existing && existing.deletedAt === null && existing.source !== source)
      ctx.logger.info({ test: testKeyString(key), from: existing.source, to: source }, 'test changes owner');
    const plan = planUpsert(ctx, cluster, parsed, existing, source);
    await runBatch(ctx.db, [
      ensureClusterQuery(ctx, cluster),
      ...(plan.query ? [plan.query] : []),
      forgetRejection(ctx, cluster, namespace, name),
    ]);
    if (plan.changed) await testsChanged(ctx, cluster);
    const revision = plan.changed ? (existing?.revision ?? 0) + 1 : (existing?.revision ?? 1);
    return { key: testKeyString(key), revision, changed: plan.changed, created: plan.created };
  });
}

export async function deleteTest(ctx: ServiceContext, principal: Principal, key: TestKey): Promise<void> {
  const { cluster, namespace, name } = key;
  assertCanWrite(principal, cluster);
  await ctx.exclusive(cluster, async () => {
    const [done] = await ctx.db.batch([
      ctx.db
        .update(tests)
        .set({ deletedAt: ctx.clock.now(), pinnedAgentId: null, state: 'pending', ...accepted })
        .where(and(identity(cluster, namespace, name), isNull(tests.deletedAt)))
        .returning({ id: tests.id }),
      forgetRejection(ctx, cluster, namespace, name).returning({ name: rejections.name }),
    ]);
    if (done.length === 0) throw notFound(`test "${testKeyString(key)}" was not found`);
    await reconcileLocked(ctx, cluster);
  });
}

/**
 * A full snapshot of one source's tests in a cluster: upserts every item and deletes the live
 * tests this source owns that are missing from it (tests the API or another source declared stay).
 * `rejected` names the objects the source holds that are not valid: a test they edit keeps its
 * last valid revision, marked; the rest are recorded for the dashboard. All items are validated
 * first; one bad item rejects the snapshot and nothing changes.
 */
export async function applySnapshot(
  ctx: ServiceContext,
  principal: Principal,
  cluster: string,
  items: readonly unknown[],
  source = 'syncer',
  refused: readonly { namespace: string; name: string; reason: string }[] = [],
): Promise<SnapshotResponse> {
  assertCanWrite(principal, cluster);
  const parsed: ParsedTest[] = [];
  const issues = [];
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    const p = parseTestObject(item, `items.${i}`);
    if ('issues' in p) {
      issues.push(...p.issues);
      continue;
    }
    const key = `${p.object.metadata.namespace}/${p.object.metadata.name}`;
    if (seen.has(key)) issues.push({ path: `items.${i}.metadata.name`, message: `"${key}" appears twice` });
    seen.add(key);
    parsed.push(p);
  }
  const refusedKeys = new Map<string, string>();
  for (const [i, r] of refused.entries()) {
    const key = `${r.namespace}/${r.name}`;
    if (seen.has(key)) issues.push({ path: `rejected.${i}`, message: `"${key}" is also among the items` });
    refusedKeys.set(key, r.reason);
  }
  if (issues.length > 0) throw badRequest(`invalid snapshot: ${formatIssues(issues.slice(0, 20))}`, issues);

  return ctx.exclusive(cluster, async () => {
    const now = ctx.clock.now();
    const rows = await ctx.db.select().from(tests).where(eq(tests.cluster, cluster));
    const byKey = new Map(rows.map((r) => [`${r.namespace}/${r.name}`, r]));
    const queries: BatchItem<'sqlite'>[] = [ensureClusterQuery(ctx, cluster)];
    const result: SnapshotResponse = { created: 0, updated: 0, unchanged: 0, deleted: 0, kept: 0, rejected: 0 };
    let changed = false;
    for (const p of parsed) {
      const existing = byKey.get(`${p.object.metadata.namespace}/${p.object.metadata.name}`);
      if (isFleetShare(existing)) {
        // A fleet test's share: the fleet test owns it, not this cluster's resources.
        ctx.logger.warn(
          { cluster, test: `${p.object.metadata.namespace}/${p.object.metadata.name}` },
          "a cluster resource has the name of a fleet test's share; the fleet test keeps it",
        );
        result.unchanged++;
        continue;
      }
      const plan = planUpsert(ctx, cluster, p, existing, source);
      if (plan.query) queries.push(plan.query);
      if (plan.created) result.created++;
      else if (plan.changed) result.updated++;
      else result.unchanged++;
      changed ||= plan.changed;
    }
    for (const [key, reason] of refusedKeys) {
      const [namespace, name] = key.split('/') as [string, string];
      const existing = byKey.get(key);
      if (isFleetShare(existing)) continue;
      queries.push(...rejectionWrites(ctx, cluster, { namespace, name }, existing, reason, source));
      result.rejected++;
    }
    for (const row of rows) {
      const key = `${row.namespace}/${row.name}`;
      if (row.deletedAt !== null || row.fleetTestId !== null || seen.has(key) || refusedKeys.has(key)) continue;
      // Only what this source declared: the API's tests and other sources' stay. Rows from before
      // sources were recorded (`syncer`) belong to whichever syncer snapshots the cluster.
      if (row.source !== source && row.source !== LEGACY_SOURCE) {
        result.kept++;
        continue;
      }
      queries.push(
        ctx.db
          .update(tests)
          .set({ deletedAt: now, pinnedAgentId: null, state: 'pending', ...accepted })
          .where(eq(tests.id, row.id)),
      );
      result.deleted++;
      changed = true;
    }
    // Records of never-valid objects this source no longer holds (or that are valid now) go.
    const stillRefused = [...refusedKeys.keys()];
    queries.push(
      ctx.db.delete(rejections).where(
        and(
          eq(rejections.cluster, cluster),
          eq(rejections.source, source),
          stillRefused.length === 0
            ? undefined
            : sql`(${rejections.namespace} || '/' || ${rejections.name}) NOT IN (${sql.join(
                stillRefused.map((k) => sql`${k}`),
                sql`, `,
              )})`,
        ),
      ),
    );
    await runBatch(ctx.db, queries);
    if (changed) await testsChanged(ctx, cluster);
    return result;
  });
}

/**
 * Stores a fleet test's share in one cluster: an ordinary test row owned by the fleet test, placed
 * as any other. A cluster's own live test of that name keeps it: `conflict`, nothing stored.
 */
export async function upsertFleetShare(
  ctx: ServiceContext,
  cluster: string,
  parsed: ParsedTest,
  fleetTestId: number,
): Promise<'stored' | 'unchanged' | 'conflict'> {
  const { namespace, name } = parsed.object.metadata;
  return ctx.exclusive(cluster, async () => {
    const existing = await ctx.db.query.tests.findFirst({
      where: and(eq(tests.cluster, cluster), eq(tests.namespace, namespace), eq(tests.name, name)),
    });
    if (existing && existing.deletedAt === null && existing.fleetTestId !== fleetTestId) return 'conflict';
    const plan = planUpsert(ctx, cluster, parsed, existing, 'fleet');
    await runBatch(ctx.db, [
      ensureClusterQuery(ctx, cluster),
      ...(plan.query ? [plan.query] : []),
      ctx.db
        .update(tests)
        .set({ fleetTestId })
        .where(and(eq(tests.cluster, cluster), eq(tests.namespace, namespace), eq(tests.name, name))),
    ]);
    if (plan.changed) await testsChanged(ctx, cluster);
    return plan.changed ? 'stored' : 'unchanged';
  });
}

/** Removes a fleet test's share from a cluster that it no longer selects (or that it was deleted from). */
export async function removeFleetShare(ctx: ServiceContext, cluster: string, testId: number): Promise<void> {
  await ctx.exclusive(cluster, async () => {
    await ctx.db
      .update(tests)
      .set({ deletedAt: ctx.clock.now(), pinnedAgentId: null, state: 'pending', fleetTestId: null })
      .where(and(eq(tests.id, testId), isNull(tests.deletedAt)));
    await reconcileLocked(ctx, cluster);
  });
}
