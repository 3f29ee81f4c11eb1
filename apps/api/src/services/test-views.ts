import type {
  LatestState,
  RollupList,
  RunPage,
  RunView,
  TestDetail,
  TestRollup,
  TestState,
  TestSummary,
} from '@synthfleet/contracts';
import {
  inMaintenance,
  resultAllowanceMs,
  type TestKey,
  testKeyString,
  testVerdict,
  type Verdict,
} from '@synthfleet/contracts';
import { agents, assignments, latest, runs, type TestRow, tests } from '@synthfleet/db';
import { and, asc, desc, eq, gt, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import { badRequest, notFound } from '../errors.ts';
import { assertCanRead, visibleClusters } from './access.ts';
import { testAvailability } from './availability.ts';
import type { Principal, ServiceContext } from './context.ts';
import { specOf } from './test-objects.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What a verdict needs besides the row: the time, and the stale threshold. */
export type VerdictClock = { now: number; thresholdMs: number };
export const verdictClock = (ctx: ServiceContext): VerdictClock => ({
  now: ctx.clock.now(),
  thresholdMs: ctx.config.staleResultMs,
});

/** The spec fields stale detection needs; list queries read them with SQLite, not the whole spec. */
type Timing = { repeat: string | null; schedule: string | null; runTimeout: string | null };
// Read only for rows stored before allowance_ms was kept: the others need no spec parsed.
const unlessKept = (path: string) =>
  sql<string | null>`CASE WHEN ${tests.allowanceMs} IS NULL THEN json_extract(${tests.spec}, ${path}) END`;
const timingColumns = {
  repeat: unlessKept('$.repeat'),
  schedule: unlessKept('$.schedule'),
  runTimeout: unlessKept('$.timeouts.run'),
};
/** The columns a verdict needs (verdictOf): select these, and the spec stays in the database. */
export const verdictColumns = {
  state: tests.state,
  lastRunAt: tests.lastRunAt,
  createdAt: tests.createdAt,
  updatedAt: tests.updatedAt,
  assignedAgents: tests.assignedAgents,
  maintenanceFrom: tests.maintenanceFrom,
  maintenanceUntil: tests.maintenanceUntil,
  maintenanceReason: tests.maintenanceReason,
  allowanceMs: tests.allowanceMs,
  ...timingColumns,
};
export type VerdictRow = Pick<
  TestRow,
  | 'state'
  | 'lastRunAt'
  | 'createdAt'
  | 'updatedAt'
  | 'assignedAgents'
  | 'maintenanceFrom'
  | 'maintenanceUntil'
  | 'maintenanceReason'
> & { allowanceMs?: number | null } & ({ spec: string } | Timing);

function timingOf(row: VerdictRow): Timing {
  if ('spec' in row) {
    const spec = specOf(row.spec);
    return { repeat: spec.repeat ?? null, schedule: spec.schedule ?? null, runTimeout: spec.timeouts?.run ?? null };
  }
  return row;
}

/** The test's verdict now (contracts' testVerdict over its stored result state). */
export function verdictOf(row: VerdictRow, at: VerdictClock): { state: Verdict; reason: string | null } {
  return testVerdict({
    result: row.state,
    lastRunAt: row.lastRunAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    assigned: row.assignedAgents,
    allowanceMs:
      row.allowanceMs !== null && row.allowanceMs !== undefined
        ? Math.max(at.thresholdMs, row.allowanceMs)
        : resultAllowanceMs(timingOf(row), at.thresholdMs),
    now: at.now,
    maintenance:
      row.maintenanceFrom !== null && row.maintenanceUntil !== null
        ? { from: row.maintenanceFrom, until: row.maintenanceUntil, reason: row.maintenanceReason }
        : null,
  });
}

/** What a row of a test list shows. */
export const summaryColumns = {
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
  passingAgents: tests.passingAgents,
  failingAgents: tests.failingAgents,
  failingSince: tests.failingSince,
  lastFailureMessage: tests.lastFailureMessage,
  source: tests.source,
  rejectedReason: tests.rejectedReason,
  rejectedSince: tests.rejectedSince,
  ...verdictColumns,
};

/** The columns a summary is made of (list queries may select just these). */
export type TestSummaryRow = VerdictRow &
  Pick<
    TestRow,
    | 'cluster'
    | 'namespace'
    | 'name'
    | 'apiVersion'
    | 'plugin'
    | 'displayName'
    | 'importance'
    | 'labels'
    | 'revision'
    | 'state'
    | 'passingAgents'
    | 'failingAgents'
    | 'assignedAgents'
    | 'lastRunAt'
    | 'failingSince'
    | 'lastFailureMessage'
    | 'source'
    | 'rejectedReason'
    | 'rejectedSince'
  >;

export function toTestSummary(row: TestSummaryRow, at: VerdictClock): TestSummary {
  const verdict = verdictOf(row, at);
  return {
    key: `${row.cluster}/${row.namespace}/${row.name}`,
    cluster: row.cluster,
    namespace: row.namespace,
    name: row.name,
    apiVersion: row.apiVersion,
    plugin: row.plugin,
    displayName: row.displayName,
    importance: row.importance,
    labels: JSON.parse(row.labels) as Record<string, string>,
    revision: row.revision,
    state: verdict.state,
    stateReason: verdict.reason,
    passingAgents: row.passingAgents,
    failingAgents: row.failingAgents,
    assignedAgents: row.assignedAgents,
    lastRunAt: iso(row.lastRunAt),
    failingSince: iso(row.failingSince),
    lastFailureMessage: row.lastFailureMessage,
    source: row.source,
    rejectedEdit:
      row.rejectedReason !== null && row.rejectedSince !== null
        ? { reason: row.rejectedReason, since: new Date(row.rejectedSince).toISOString() }
        : null,
  };
}

/** What placement says of agents that were selected but cannot run the plugin. */
export function placementNote(row: Pick<TestRow, 'plugin' | 'assignedAgents' | 'agentsLackingPlugin'>): string | null {
  const n = row.agentsLackingPlugin;
  if (n === 0) return null;
  if (row.assignedAgents === 0) return `no agent offers plugin "${row.plugin}"; the selected agents lack it`;
  return `${n} selected ${n === 1 ? 'agent lacks' : 'agents lack'} plugin "${row.plugin}"; it runs on the ${row.assignedAgents} that offer it`;
}

export type TestFilter = {
  cluster?: string | undefined;
  status?: TestState | undefined;
  label?: string | undefined;
  plugin?: string | undefined;
  importance?: string | undefined;
  limit: number;
  cursor?: string | undefined;
};

/** Importance first (critical → low), then name; the order of every failing-tests list. */
export const importanceRank = sql`CASE ${tests.importance} WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END`;

export async function listTests(
  ctx: ServiceContext,
  principal: Principal,
  filter: TestFilter,
): Promise<{ tests: TestSummary[]; nextCursor: string | null }> {
  const where: SQL[] = [isNull(tests.deletedAt)];
  const cluster = visibleClusters(principal, filter.cluster);
  if (cluster !== null) where.push(eq(tests.cluster, cluster));
  // The stored state narrows; staleness needs the clock, so the verdict filters what remains.
  if (filter.status && filter.status !== 'stale' && filter.status !== 'maintenance')
    where.push(eq(tests.state, filter.status));
  if (filter.plugin) where.push(eq(tests.plugin, filter.plugin));
  if (filter.importance) where.push(eq(tests.importance, filter.importance));
  if (filter.label) {
    const eqAt = filter.label.indexOf('=');
    if (eqAt <= 0)
      throw badRequest('label must look like key=value', [{ path: 'label', message: 'expected key=value' }]);
    const key = filter.label.slice(0, eqAt);
    const value = filter.label.slice(eqAt + 1);
    where.push(sql`json_extract(${tests.labels}, ${`$."${key.replace(/"/g, '')}"`}) = ${value}`);
  }
  if (filter.cursor) {
    const after = Number(filter.cursor);
    if (!Number.isSafeInteger(after))
      throw badRequest('cursor is not valid', [{ path: 'cursor', message: 'not a cursor' }]);
    where.push(gt(tests.id, after));
  }
  const rows = await ctx.db
    .select()
    .from(tests)
    .where(and(...where))
    .orderBy(asc(tests.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  const at = verdictClock(ctx);
  const summaries = page.map((r) => toTestSummary(r, at));
  return {
    // A page may come out shorter than the limit when the verdict filters: the cursor goes on.
    tests: filter.status ? summaries.filter((t) => t.state === filter.status) : summaries,
    nextCursor: rows.length > filter.limit && last ? String(last.id) : null,
  };
}

export async function loadTest(ctx: ServiceContext, principal: Principal, key: TestKey): Promise<TestRow> {
  const { cluster, namespace, name } = key;
  assertCanRead(principal, cluster, `test "${testKeyString(key)}"`);
  const row = await ctx.db.query.tests.findFirst({
    where: and(
      eq(tests.cluster, cluster),
      eq(tests.namespace, namespace),
      eq(tests.name, name),
      isNull(tests.deletedAt),
    ),
  });
  if (!row) throw notFound(`test "${key}" was not found`);
  return row;
}

export async function getTest(ctx: ServiceContext, principal: Principal, key: TestKey): Promise<TestDetail> {
  return testDetailOf(ctx, await loadTest(ctx, principal, key));
}

/** A loaded test's detail: its spec, every agent's latest state and where it is placed. */
export async function testDetailOf(ctx: ServiceContext, row: TestRow): Promise<TestDetail> {
  const now = ctx.clock.now();
  const spec = specOf(row.spec);
  const [states, placed, figures] = await Promise.all([
    ctx.db
      .select({ l: latest, node: agents.node, agentState: agents.state })
      .from(latest)
      .leftJoin(agents, eq(agents.id, latest.agentId))
      .where(eq(latest.testId, row.id))
      .orderBy(agents.node),
    ctx.db
      .select({ agentId: assignments.agentId, node: agents.node })
      .from(assignments)
      .innerJoin(agents, eq(agents.id, assignments.agentId))
      .where(eq(assignments.testId, row.id))
      .orderBy(agents.node),
    testAvailability(ctx, row.id, spec.slo ?? null, now),
  ]);
  const agentStates: LatestState[] = states.map(({ l, node, agentState }) => ({
    agentId: l.agentId,
    node,
    runId: l.runId,
    status: l.status,
    marks: l.marks,
    maxMarks: l.maxMarks,
    passRatio: l.passRatio,
    startTime: new Date(l.startedAt).toISOString(),
    endTime: new Date(l.endedAt).toISOString(),
    durationMs: l.durationMs,
    consecutiveFailures: l.consecutiveFailures,
    lastFailedRunId: l.lastFailedRunId,
    agentState,
  }));
  return {
    ...toTestSummary(row, verdictClock(ctx)),
    spec,
    generation: row.generation,
    agents: agentStates,
    assignedTo: placed,
    placementNote: placementNote(row),
    availability: figures.availability,
    slo: figures.slo,
    maintenance:
      row.maintenanceFrom !== null && row.maintenanceUntil !== null
        ? {
            active: inMaintenance(row.maintenanceFrom, row.maintenanceUntil, now),
            start: new Date(row.maintenanceFrom).toISOString(),
            end: new Date(row.maintenanceUntil).toISOString(),
            reason: row.maintenanceReason,
          }
        : null,
    runRequest:
      row.runRequestId !== null && row.runRequestedAt !== null
        ? { id: row.runRequestId, requestedAt: new Date(row.runRequestedAt).toISOString() }
        : null,
  };
}

/**
 * Every live test of a cluster with its roll-up and the nodes it runs on: what a syncer writes
 * back to the objects' status. Two queries however many tests the cluster has.
 */
export async function listRollups(ctx: ServiceContext, principal: Principal, cluster: string): Promise<RollupList> {
  assertCanRead(principal, cluster);
  const live = and(eq(tests.cluster, cluster), isNull(tests.deletedAt));
  const [rows, placed] = await Promise.all([
    ctx.db.select().from(tests).where(live).orderBy(asc(tests.namespace), asc(tests.name)),
    ctx.db
      .select({ testId: assignments.testId, node: agents.node })
      .from(assignments)
      .innerJoin(tests, eq(tests.id, assignments.testId))
      .innerJoin(agents, eq(agents.id, assignments.agentId))
      .where(live),
  ]);
  const nodes = new Map<number, string[]>();
  for (const p of placed) {
    const list = nodes.get(p.testId);
    if (list) list.push(p.node);
    else nodes.set(p.testId, [p.node]);
  }
  const at = verdictClock(ctx);
  const rollups: TestRollup[] = rows.map((row) => {
    const t = toTestSummary(row, at);
    return {
      namespace: t.namespace,
      name: t.name,
      revision: t.revision,
      generation: row.generation,
      state: t.state,
      stateReason: t.stateReason,
      passingAgents: t.passingAgents,
      failingAgents: t.failingAgents,
      assignedAgents: t.assignedAgents,
      lastRunAt: t.lastRunAt,
      failingSince: t.failingSince,
      lastFailureMessage: t.lastFailureMessage,
      nodes: (nodes.get(row.id) ?? []).sort(),
    };
  });
  return { cluster, generatedAt: new Date(ctx.clock.now()).toISOString(), tests: rollups };
}

function encodeCursor(startedAt: number, id: string): string {
  return btoa(`${startedAt}:${id}`).replace(/=+$/, '');
}

function decodeCursor(cursor: string): { startedAt: number; id: string } {
  try {
    const text = atob(cursor);
    const at = text.indexOf(':');
    const startedAt = Number(text.slice(0, at));
    if (at <= 0 || !Number.isSafeInteger(startedAt)) throw new Error('bad');
    return { startedAt, id: text.slice(at + 1) };
  } catch {
    throw badRequest('cursor is not valid', [{ path: 'cursor', message: 'not a cursor from a previous page' }]);
  }
}

export function toRunView(r: typeof runs.$inferSelect): RunView {
  return {
    runId: r.id,
    agentId: r.agentId,
    revision: r.revision,
    status: r.status,
    marks: r.marks,
    maxMarks: r.maxMarks,
    startTime: new Date(r.startedAt).toISOString(),
    endTime: new Date(r.endedAt).toISOString(),
    durationMs: r.durationMs,
    details: JSON.parse(r.details) as Record<string, string>,
    gauges: JSON.parse(r.gauges) as RunView['gauges'],
    trigger: r.trigger === null ? null : (JSON.parse(r.trigger) as RunView['trigger']),
    maintenance: r.maintenance,
  };
}

/** Run history, newest first, by keyset pagination on (start time, run id). */
export async function listRuns(
  ctx: ServiceContext,
  principal: Principal,
  key: TestKey,
  opts: { limit: number; cursor?: string | undefined; agentId?: string | undefined },
): Promise<RunPage> {
  return runPageOf(ctx, await loadTest(ctx, principal, key), opts);
}

/** A page of a loaded test's runs, newest first, by keyset cursor. */
export async function runPageOf(
  ctx: ServiceContext,
  row: TestRow,
  opts: { limit: number; cursor?: string | undefined; agentId?: string | undefined },
): Promise<RunPage> {
  const where: SQL[] = [eq(runs.testId, row.id)];
  if (opts.agentId) where.push(eq(runs.agentId, opts.agentId));
  if (opts.cursor) {
    const c = decodeCursor(opts.cursor);
    where.push(or(lt(runs.startedAt, c.startedAt), and(eq(runs.startedAt, c.startedAt), lt(runs.id, c.id))) as SQL);
  }
  const rows = await ctx.db
    .select()
    .from(runs)
    .where(and(...where))
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(opts.limit + 1);
  const page = rows.slice(0, opts.limit);
  const last = page.at(-1);
  return {
    runs: page.map(toRunView),
    nextCursor: rows.length > opts.limit && last ? encodeCursor(last.startedAt, last.id) : null,
  };
}
