import {
  formatIssues,
  type SnapshotResponse,
  type TestKey,
  testKeyString,
  type UpsertTestResponse,
} from '@synthfleet/contracts';
import { type TestRow, tests } from '@synthfleet/db';
import { and, eq, isNull } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { badRequest, conflict, notFound } from '../errors.ts';
import { runBatch } from '../lib/batch.ts';
import { assertCanWrite } from './access.ts';
import { ensureClusterQuery } from './clusters.ts';
import type { Principal, ServiceContext } from './context.ts';
import { reconcileLocked } from './scheduler.ts';
import { type ParsedTest, parseTestObject, parseTestObjectOrThrow } from './test-objects.ts';

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
    updatedAt: now,
    deletedAt: null,
  };
}

type Plan = { query?: BatchItem<'sqlite'>; created: boolean; changed: boolean };

/** Decides what storing one parsed test means against its current row. */
function planUpsert(ctx: ServiceContext, cluster: string, parsed: ParsedTest, existing: TestRow | undefined): Plan {
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
    if (existing.generation === generation && existing.raw === parsed.raw) return { created: false, changed: false };
    return {
      created: false,
      changed: false,
      query: ctx.db.update(tests).set({ generation, raw: parsed.raw }).where(eq(tests.id, existing.id)),
    };
  }
  return {
    created: !alive,
    changed: true,
    query: ctx.db
      .update(tests)
      .set({
        ...rowValues(parsed, now),
        revision: existing.revision + 1,
        // A changed test starts its remedy count afresh.
        remedyCount: 0,
        remedyLastAt: null,
        ...(alive ? {} : { createdAt: now }),
      })
      .where(eq(tests.id, existing.id)),
  };
}

export async function upsertTest(
  ctx: ServiceContext,
  principal: Principal,
  key: TestKey,
  body: unknown,
): Promise<UpsertTestResponse> {
  const { cluster, namespace, name } = key;
  assertCanWrite(principal, cluster);
  const parsed = parseTestObjectOrThrow(body);
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
    const existing = await ctx.db.query.tests.findFirst({
      where: and(eq(tests.cluster, cluster), eq(tests.namespace, namespace), eq(tests.name, name)),
    });
    if (existing && existing.deletedAt === null && existing.fleetTestId !== null) {
      throw conflict(
        `test "${testKeyString(key)}" is this cluster's share of fleet test ${namespace}/${name}: change the fleet test (PUT /api/v1/fleet-tests/${namespace}/${name})`,
      );
    }
    const plan = planUpsert(ctx, cluster, parsed, existing);
    await runBatch(ctx.db, [ensureClusterQuery(ctx, cluster), ...(plan.query ? [plan.query] : [])]);
    if (plan.changed) await reconcileLocked(ctx, cluster);
    const revision = plan.changed ? (existing?.revision ?? 0) + 1 : (existing?.revision ?? 1);
    return { key: testKeyString(key), revision, changed: plan.changed, created: plan.created };
  });
}

export async function deleteTest(ctx: ServiceContext, principal: Principal, key: TestKey): Promise<void> {
  const { cluster, namespace, name } = key;
  assertCanWrite(principal, cluster);
  await ctx.exclusive(cluster, async () => {
    const done = await ctx.db
      .update(tests)
      .set({ deletedAt: ctx.clock.now(), pinnedAgentId: null, state: 'pending' })
      .where(
        and(eq(tests.cluster, cluster), eq(tests.namespace, namespace), eq(tests.name, name), isNull(tests.deletedAt)),
      )
      .returning({ id: tests.id });
    if (done.length === 0) throw notFound(`test "${testKeyString(key)}" was not found`);
    await reconcileLocked(ctx, cluster);
  });
}

/**
 * A full snapshot of a cluster's tests: upserts every item and deletes the live tests missing from
 * it. All items are validated first; one bad item rejects the snapshot and nothing changes.
 */
export async function applySnapshot(
  ctx: ServiceContext,
  principal: Principal,
  cluster: string,
  items: readonly unknown[],
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
  if (issues.length > 0) throw badRequest(`invalid snapshot: ${formatIssues(issues.slice(0, 20))}`, issues);

  return ctx.exclusive(cluster, async () => {
    const now = ctx.clock.now();
    const rows = await ctx.db.select().from(tests).where(eq(tests.cluster, cluster));
    const byKey = new Map(rows.map((r) => [`${r.namespace}/${r.name}`, r]));
    const queries: BatchItem<'sqlite'>[] = [ensureClusterQuery(ctx, cluster)];
    const result: SnapshotResponse = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
    let changed = false;
    for (const p of parsed) {
      const existing = byKey.get(`${p.object.metadata.namespace}/${p.object.metadata.name}`);
      if (existing && existing.deletedAt === null && existing.fleetTestId !== null) {
        // A fleet test's share: the fleet test owns it, not this cluster's resources.
        ctx.logger.warn(
          { cluster, test: `${existing.namespace}/${existing.name}` },
          "a cluster resource has the name of a fleet test's share; the fleet test keeps it",
        );
        result.unchanged++;
        continue;
      }
      const plan = planUpsert(ctx, cluster, p, existing);
      if (plan.query) queries.push(plan.query);
      if (plan.created) result.created++;
      else if (plan.changed) result.updated++;
      else result.unchanged++;
      changed ||= plan.changed;
    }
    for (const row of rows) {
      // A fleet test's share is not the cluster's own: its snapshot never removes it.
      if (row.deletedAt !== null || row.fleetTestId !== null || seen.has(`${row.namespace}/${row.name}`)) continue;
      queries.push(
        ctx.db.update(tests).set({ deletedAt: now, pinnedAgentId: null, state: 'pending' }).where(eq(tests.id, row.id)),
      );
      result.deleted++;
      changed = true;
    }
    await runBatch(ctx.db, queries);
    if (changed) await reconcileLocked(ctx, cluster);
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
    const plan = planUpsert(ctx, cluster, parsed, existing);
    await runBatch(ctx.db, [
      ensureClusterQuery(ctx, cluster),
      ...(plan.query ? [plan.query] : []),
      ctx.db
        .update(tests)
        .set({ fleetTestId })
        .where(and(eq(tests.cluster, cluster), eq(tests.namespace, namespace), eq(tests.name, name))),
    ]);
    if (plan.changed) await reconcileLocked(ctx, cluster);
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
