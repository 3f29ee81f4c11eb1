import { agentAcceptsTest, matchesNode, parseNodeSelector, pickOne, type SelectableAgent } from '@synthfleet/contracts';
import { agents, assignments, remedyRuns, runs, tests } from '@synthfleet/db';
import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Wake } from '../hub/hub.ts';
import { chunk, runBatch } from '../lib/batch.ts';
import { assignmentFingerprint, peersFingerprint } from './assignments.ts';
import { trimAvailability } from './availability.ts';
import type { ServiceContext } from './context.ts';
import { reconcileFleetTests } from './fleet-tests.ts';
import { refreshMaintenance } from './maintenance.ts';
import { expireRemedies } from './remedies.ts';
import { rollupQuery } from './rollup.ts';

/** What placement needs of an agent. */
type PlacementAgent = {
  id: string;
  node: string;
  state: 'live' | 'stale';
  capabilities: string;
  heartbeatUrl: string | null;
  assignmentVersion: number;
  assignmentHash: string;
  pod: string | null;
  podNamespace: string | null;
  /** JSON, as stored */
  podLabels: string;
  matchTestNamespaces: string;
  matchTestLabels: string;
};
/** What placement needs of a test. */
type PlacementTest = {
  id: number;
  namespace: string;
  nodeSelector: string;
  pinnedAgentId: string | null;
  revision: number;
  runRequestId: string | null;
  plugin: string;
  /** JSON, as stored */
  labels: string;
  podLabelSelector: string;
  agentsLackingPlugin: number;
};

const placementAgentColumns = {
  id: agents.id,
  node: agents.node,
  state: agents.state,
  capabilities: agents.capabilities,
  heartbeatUrl: agents.heartbeatUrl,
  assignmentVersion: agents.assignmentVersion,
  assignmentHash: agents.assignmentHash,
  pod: agents.pod,
  podNamespace: agents.podNamespace,
  podLabels: agents.podLabels,
  matchTestNamespaces: agents.matchTestNamespaces,
  matchTestLabels: agents.matchTestLabels,
};

/** The agent as synthetic-heart's selection rules see it (its id is `podName/podNamespace`). */
export function selectableAgent(
  a: Pick<PlacementAgent, 'node' | 'pod' | 'podNamespace' | 'podLabels' | 'matchTestNamespaces' | 'matchTestLabels'>,
): SelectableAgent {
  const podName = a.pod ?? a.node;
  const podNamespace = a.podNamespace ?? 'default';
  return {
    agentId: `${podName}/${podNamespace}`,
    podName,
    podNamespace,
    podLabels: JSON.parse(a.podLabels) as Record<string, string>,
    matchTestNamespaces: JSON.parse(a.matchTestNamespaces) as string[],
    matchTestLabels: JSON.parse(a.matchTestLabels) as Record<string, string>,
  };
}

/** A cluster's live tests with what placement needs. */
function placeableTests(ctx: ServiceContext, cluster: string): Promise<PlacementTest[]> {
  return ctx.db
    .select({
      id: tests.id,
      namespace: tests.namespace,
      nodeSelector: tests.nodeSelector,
      pinnedAgentId: tests.pinnedAgentId,
      revision: tests.revision,
      runRequestId: tests.runRequestId,
      plugin: tests.plugin,
      labels: tests.labels,
      podLabelSelector: tests.podLabelSelector,
      agentsLackingPlugin: tests.agentsLackingPlugin,
    })
    .from(tests)
    .where(and(eq(tests.cluster, cluster), isNull(tests.deletedAt)));
}

function isSingle(selector: string): boolean {
  try {
    return parseNodeSelector(selector).single;
  } catch {
    return false;
  }
}

export type Placement = {
  /** agentId → tests it should run */
  byAgent: Map<string, PlacementTest[]>;
  /** `$` tests whose holder changed */
  pins: Map<number, string | null>;
  /** Per test: live agents the selectors pick that lack the plugin (none of them runs it). */
  lacking: Map<number, number>;
};

/**
 * Pure placement: which live agents run which tests. An agent is a candidate when its node matches
 * the node selector and synthetic-heart's agent rules accept the test (podLabelSelector, the
 * agent's matchTestNamespaces and matchTestLabels); of the candidates only those that offer the
 * plugin run it; with candidates but none capable the test is `unsupported` (rollup.ts).
 */
export function placeTests(
  testRows: readonly PlacementTest[],
  agentRows: readonly PlacementAgent[],
  random: () => number,
): Placement {
  const live = agentRows.filter((a) => a.state === 'live');
  const byAgent = new Map<string, PlacementTest[]>(agentRows.map((a) => [a.id, []]));
  const pins = new Map<number, string | null>();
  const lacking = new Map<number, number>();
  const caps = new Map(live.map((a) => [a.id, new Set(JSON.parse(a.capabilities) as string[])]));
  const selectable = new Map(live.map((a) => [a.id, selectableAgent(a)]));
  for (const test of testRows) {
    let selector: ReturnType<typeof parseNodeSelector>;
    try {
      selector = parseNodeSelector(test.nodeSelector);
    } catch {
      continue; // validated on the way in; a stored bad selector places nowhere rather than crashing
    }
    const wanted = {
      namespace: test.namespace,
      labels: JSON.parse(test.labels) as Record<string, string>,
      podLabelSelector: JSON.parse(test.podLabelSelector) as Record<string, string>,
    };
    const matching = live.filter(
      (a) => matchesNode(selector, a.node) && agentAcceptsTest(selectable.get(a.id) as SelectableAgent, wanted),
    );
    const capable = matching.filter((a) => caps.get(a.id)?.has(test.plugin));
    lacking.set(test.id, matching.length - capable.length);
    if (!selector.single) {
      for (const a of capable) byAgent.get(a.id)?.push(test);
      continue;
    }
    const holder = capable.find((a) => a.id === test.pinnedAgentId) ?? pickOne(capable, random);
    const holderId = holder?.id ?? null;
    if (holderId !== test.pinnedAgentId) pins.set(test.id, holderId);
    if (holder) byAgent.get(holder.id)?.push(test);
  }
  return { byAgent, pins, lacking };
}

/**
 * Recomputes where a cluster's tests run and bumps the assignment version of exactly the agents
 * whose assignment changed; wakes their long-polls. Call with the cluster's lock held.
 */
export async function reconcileLocked(ctx: ServiceContext, cluster: string): Promise<Map<string, Wake>> {
  const { db } = ctx;
  const [agentRows, testRows, current] = await Promise.all([
    db.select(placementAgentColumns).from(agents).where(eq(agents.cluster, cluster)),
    placeableTests(ctx, cluster),
    db
      .select({ testId: assignments.testId, agentId: assignments.agentId })
      .from(assignments)
      .where(eq(assignments.cluster, cluster)),
  ]);

  const { byAgent, pins, lacking } = placeTests(testRows, agentRows, ctx.random);
  const peers = agentRows
    .filter((a) => a.state === 'live' && a.heartbeatUrl)
    .map((a) => ({ agentId: a.id, heartbeatUrl: a.heartbeatUrl as string }));
  const peersKey = peersFingerprint(peers);

  const now = ctx.clock.now();
  const desired = new Set<string>();
  for (const [agentId, list] of byAgent) for (const t of list) desired.add(`${t.id}\u0000${agentId}`);
  const existing = new Set(current.map((r) => `${r.testId}\u0000${r.agentId}`));
  const toDelete = current.filter((r) => !desired.has(`${r.testId}\u0000${r.agentId}`));
  const toInsert: { testId: number; agentId: string; cluster: string; assignedAt: number }[] = [];
  for (const key of desired) {
    if (existing.has(key)) continue;
    const [testId, agentId] = key.split('\u0000') as [string, string];
    toInsert.push({ testId: Number(testId), agentId, cluster, assignedAt: now });
  }

  const queries: BatchItem<'sqlite'>[] = [];
  const deletesByTest = new Map<number, string[]>();
  for (const r of toDelete) {
    const list = deletesByTest.get(r.testId) ?? [];
    list.push(r.agentId);
    deletesByTest.set(r.testId, list);
  }
  for (const [testId, ids] of deletesByTest) {
    for (const part of chunk(ids, 500)) {
      queries.push(
        db.delete(assignments).where(and(eq(assignments.testId, testId), inArray(assignments.agentId, part))),
      );
    }
  }
  for (const part of chunk(toInsert, 500)) queries.push(db.insert(assignments).values(part).onConflictDoNothing());
  for (const [testId, agentId] of pins) {
    queries.push(db.update(tests).set({ pinnedAgentId: agentId }).where(eq(tests.id, testId)));
  }
  const lackingChanged: number[] = [];
  for (const t of testRows) {
    const n = lacking.get(t.id) ?? 0;
    if (n === t.agentsLackingPlugin) continue;
    lackingChanged.push(t.id);
    queries.push(db.update(tests).set({ agentsLackingPlugin: n }).where(eq(tests.id, t.id)));
  }

  const wakes = new Map<string, Wake>();
  const byHash = new Map<string, string[]>();
  for (const a of agentRows) {
    const list = byAgent.get(a.id) ?? [];
    const mesh = list.some((t) => t.plugin === 'heartbeat');
    const hash = assignmentFingerprint(list, mesh ? peersKey : '');
    if (hash === a.assignmentHash) continue;
    wakes.set(a.id, { version: a.assignmentVersion + 1, hash });
    const ids = byHash.get(hash) ?? [];
    ids.push(a.id);
    byHash.set(hash, ids);
  }
  for (const [hash, ids] of byHash) {
    for (const part of chunk(ids, 500)) {
      queries.push(
        db
          .update(agents)
          .set({ assignmentVersion: sql`${agents.assignmentVersion} + 1`, assignmentHash: hash })
          .where(inArray(agents.id, part)),
      );
    }
  }
  const touched = new Set<number>([
    ...toDelete.map((r) => r.testId),
    ...toInsert.map((r) => r.testId),
    ...lackingChanged,
  ]);
  if (touched.size > 0) {
    for (const part of chunk([...touched], 500)) queries.push(rollupQuery(db, part, now));
  }
  await runBatch(db, queries);
  if (wakes.size > 0) await ctx.hub.wake(cluster, wakes);
  return wakes;
}

/**
 * Places one agent that registered or came back, without reading the whole cluster: it takes
 * every matching `*`/glob test and any matching `$` test that has no holder. A new mesh peer
 * changes every mesh agent's peer list, so that case falls back to the full reconcile.
 */
export async function placeAgentLocked(ctx: ServiceContext, cluster: string, agentId: string): Promise<void> {
  const { db } = ctx;
  const [agent, testRows, current] = await Promise.all([
    db.query.agents.findFirst({ where: eq(agents.id, agentId) }),
    placeableTests(ctx, cluster),
    db.select({ testId: assignments.testId }).from(assignments).where(eq(assignments.agentId, agentId)),
  ]);
  if (!agent) return;
  if (agent.heartbeatUrl && testRows.some((t) => t.plugin === 'heartbeat')) {
    await reconcileLocked(ctx, cluster);
    return;
  }
  // `$` tests held by another agent stay where they are; the rest are placed against this agent alone.
  const open = testRows.filter(
    (t) => !isSingle(t.nodeSelector) || t.pinnedAgentId === null || t.pinnedAgentId === agentId,
  );
  const { byAgent, pins, lacking } = placeTests(open, [agent], ctx.random);
  const mine = byAgent.get(agentId) ?? [];
  const now = ctx.clock.now();
  const want = new Set(mine.map((t) => t.id));
  const have = new Set(current.map((r) => r.testId));
  const queries: BatchItem<'sqlite'>[] = [];
  const removed = [...have].filter((id) => !want.has(id));
  const added = [...want].filter((id) => !have.has(id));
  if (removed.length > 0) {
    queries.push(
      db.delete(assignments).where(and(eq(assignments.agentId, agentId), inArray(assignments.testId, removed))),
    );
  }
  if (added.length > 0) {
    queries.push(
      db
        .insert(assignments)
        .values(added.map((testId) => ({ testId, agentId, cluster, assignedAt: now })))
        .onConflictDoNothing(),
    );
  }
  for (const [testId, holder] of pins) {
    queries.push(db.update(tests).set({ pinnedAgentId: holder }).where(eq(tests.id, testId)));
  }
  // This agent alone cannot count the cluster's agents that lack a plugin: it only raises the
  // count from 0, so a test nobody can run shows `unsupported`; the next full placement counts.
  const lackingHere = open.filter((t) => (lacking.get(t.id) ?? 0) > 0 && t.agentsLackingPlugin === 0).map((t) => t.id);
  if (lackingHere.length > 0) {
    queries.push(db.update(tests).set({ agentsLackingPlugin: 1 }).where(inArray(tests.id, lackingHere)));
  }
  const hash = assignmentFingerprint(mine, '');
  const wakes = new Map<string, Wake>();
  if (hash !== agent.assignmentHash) {
    queries.push(
      db
        .update(agents)
        .set({ assignmentVersion: sql`${agents.assignmentVersion} + 1`, assignmentHash: hash })
        .where(eq(agents.id, agentId)),
    );
    wakes.set(agentId, { version: agent.assignmentVersion + 1, hash });
  }
  const touched = [...removed, ...added, ...lackingHere];
  if (touched.length > 0) queries.push(rollupQuery(db, touched, now));
  await runBatch(db, queries);
  if (wakes.size > 0) await ctx.hub.wake(cluster, wakes);
}

export function reconcileCluster(ctx: ServiceContext, cluster: string): Promise<Map<string, Wake>> {
  return ctx.exclusive(cluster, () => reconcileLocked(ctx, cluster));
}

export type SweepResult = {
  staleAgents: number;
  clustersReconciled: number;
  runsDeleted: number;
  remediesUnknown: number;
};

/**
 * The periodic sweep: mark agents stale past the deadline (moving their `$` tests), record remedy
 * runs without an outcome past theirs as `unknown`, apply retention.
 */
/** Runs deleted a statement, and how long one sweep may spend deleting (the rest waits for the next). */
const RETENTION_CHUNK = 2000;
const RETENTION_BUDGET_MS = 2000;

export async function sweep(ctx: ServiceContext): Promise<SweepResult> {
  const now = ctx.clock.now();
  const cutoff = now - ctx.config.agentDeadlineMs;
  const stale = await ctx.db
    .update(agents)
    .set({ state: 'stale' })
    .where(
      and(
        eq(agents.state, 'live'),
        or(lt(agents.lastPollAt, cutoff), and(isNull(agents.lastPollAt), lt(agents.registeredAt, cutoff))),
      ),
    )
    .returning({ id: agents.id, cluster: agents.cluster });
  const clusters = new Set(stale.map((a) => a.cluster));
  for (const cluster of clusters) {
    await reconcileCluster(ctx, cluster);
    ctx.logger.info(
      { cluster, stale: stale.filter((a) => a.cluster === cluster).map((a) => a.id) },
      'agents went stale',
    );
  }
  // New clusters (and changed labels) pick up the fleet tests that select them.
  await reconcileFleetTests(ctx);
  const remediesUnknown = await expireRemedies(ctx, now);
  let runsDeleted = 0;
  const retentionCutoff = now - ctx.config.retentionMs;
  // Delete in bounded chunks, yielding between them, within a time budget: a backlog (a long
  // downtime, a shorter retention) is worked off over several sweeps, and the API answers
  // meanwhile. Each chunk's rows are spread over every test's index pages (bench/fleet.ts: about
  // 5,000 rows/s at 10M runs), so a chunk is kept small.
  const started = performance.now();
  for (let i = 0; i < 1000 && performance.now() - started < RETENTION_BUDGET_MS; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 0));
    const doomed = await ctx.db
      .select({ id: runs.id })
      .from(runs)
      .where(lt(runs.receivedAt, retentionCutoff))
      .limit(RETENTION_CHUNK);
    if (doomed.length === 0) break;
    await ctx.db.delete(runs).where(
      inArray(
        runs.id,
        doomed.map((r) => r.id),
      ),
    );
    runsDeleted += doomed.length;
  }
  // Remedy runs are few (bounded by each test's runsLimit): one statement does.
  await ctx.db.delete(remedyRuns).where(lt(remedyRuns.startedAt, retentionCutoff));
  // Windows that opened or closed since the last sweep move each test on to its next span.
  await refreshMaintenance(ctx);
  await trimAvailability(ctx, now);
  return { staleAgents: stale.length, clustersReconciled: clusters.size, runsDeleted, remediesUnknown };
}
