/**
 * Reads in the shapes synthetic-heart's REST API returns, so its scripts and UI keep working.
 * synthetic-heart runs one API per cluster; here each such read is scoped to one cluster
 * (`?cluster=`, implied by a cluster token, or the only cluster there is). `/ping` may span all.
 */
import { agents, assignments, clusters, latest, runs, tests } from '@synthfleet/db';
import { and, eq, isNull } from 'drizzle-orm';
import { badRequest, notFound } from '../errors.ts';
import { assertCanRead, visibleClusters } from './access.ts';
import type { Principal, ServiceContext } from './context.ts';
import { specOf } from './test-objects.ts';

type AgentIdParts = { pod: string | null; podNamespace: string | null; node: string };

/** synthetic-heart's agentId is podName/podNamespace; an agent without a pod name uses its node. */
export function shAgentId(a: AgentIdParts): string {
  return `${a.pod ?? a.node}/${a.podNamespace ?? 'default'}`;
}

/** Its legacy status from a pass ratio: 3 all pass, 2 above half, 1 none, 0 unknown. */
export function legacyStatus(passRatio: number): number {
  if (passRatio === 1) return 3;
  if (passRatio === 0) return 1;
  if (passRatio < 1 && passRatio > 0.5) return 2;
  return 0;
}

async function resolveCluster(ctx: ServiceContext, principal: Principal, requested?: string): Promise<string> {
  if (principal.role === 'cluster') {
    const own = principal.cluster as string;
    if (requested !== undefined && requested !== own) throw notFound(`cluster "${requested}" was not found`);
    return own;
  }
  if (requested !== undefined) return requested;
  const all = await ctx.db.select({ name: clusters.name }).from(clusters).limit(11);
  if (all.length === 1 && all[0]) return all[0].name;
  throw badRequest(
    `this synthetic-heart read is per cluster; add ?cluster=NAME (clusters: ${all
      .slice(0, 10)
      .map((c) => c.name)
      .join(', ')}${all.length > 10 ? ', …' : ''})`,
    [{ path: 'cluster', message: 'required when more than one cluster exists' }],
  );
}

/** Plugin-instance rows: one per (assigned test, agent) with its latest result. */
async function pluginRows(ctx: ServiceContext, scope: string | null) {
  return ctx.db
    .select({
      cluster: tests.cluster,
      name: tests.name,
      namespace: tests.namespace,
      displayName: tests.displayName,
      pod: agents.pod,
      podNamespace: agents.podNamespace,
      node: agents.node,
      passRatio: latest.passRatio,
    })
    .from(assignments)
    .innerJoin(tests, eq(tests.id, assignments.testId))
    .innerJoin(agents, eq(agents.id, assignments.agentId))
    .leftJoin(latest, and(eq(latest.testId, assignments.testId), eq(latest.agentId, assignments.agentId)))
    .where(and(isNull(tests.deletedAt), scope === null ? undefined : eq(tests.cluster, scope)));
}

export async function shPing(ctx: ServiceContext, principal: Principal, requested?: string) {
  const scope = visibleClusters(principal, requested);
  const rows = await pluginRows(ctx, scope);
  type Failed = {
    name: string;
    namespace: string;
    testId: string;
    displayName: string;
    status: number;
    cluster: string;
  };
  const failedTests: Record<string, Failed> = {};
  let overall = 3;
  for (const r of rows) {
    if (r.passRatio === null || r.passRatio >= 1) continue;
    const status = legacyStatus(r.passRatio);
    const key = scope === null ? `${r.cluster}/${r.name}` : r.name;
    failedTests[key] ??= {
      name: r.name,
      namespace: r.namespace,
      testId: `${r.name}/${r.namespace}`,
      displayName: r.displayName ?? '',
      status,
      cluster: r.cluster,
    };
    overall = Math.min(overall, status === 0 ? 2 : status);
  }
  const failed = Object.values(failedTests);
  const names = failed.slice(0, 3).map((f) => f.displayName || f.name);
  let details: string;
  if (failed.length === 0) details = 'No failed tests';
  else if (failed.length === 1) details = `1 failed test: ${names[0]}`;
  else if (failed.length > 3)
    details = `${failed.length} failed tests: ${names.join(', ')} and ${failed.length - 3} more`;
  else details = `${failed.length} failed tests: ${names.join(', ')}`;
  return {
    message: overall === 3 ? 'Healthy' : 'UnHealthy',
    lastUpdated: new Date(ctx.clock.now()).toISOString(),
    details,
    status: overall,
    failedTests,
  };
}

export async function shAgents(ctx: ServiceContext, principal: Principal, requested?: string) {
  const cluster = await resolveCluster(ctx, principal, requested);
  const rows = await ctx.db.select().from(agents).where(eq(agents.cluster, cluster));
  const placed = await ctx.db
    .select({ agentId: assignments.agentId, name: tests.name, namespace: tests.namespace })
    .from(assignments)
    .innerJoin(tests, eq(tests.id, assignments.testId))
    .where(eq(assignments.cluster, cluster));
  const out: Record<string, unknown> = {};
  for (const a of rows) {
    out[shAgentId(a)] = {
      syntests: placed.filter((p) => p.agentId === a.id).map((p) => `${p.name}/${p.namespace}`),
      statusTime: new Date(a.lastPollAt ?? a.registeredAt).toISOString(),
      agentConfig: {
        labels: {},
        runTimeInfo: {
          nodeName: a.node,
          podName: a.pod ?? a.node,
          podLabels: {},
          agentNamespace: a.podNamespace ?? 'default',
        },
        capabilities: JSON.parse(a.capabilities) as string[],
        version: a.version,
        state: a.state,
      },
    };
  }
  return out;
}

export async function shTestConfigSummary(ctx: ServiceContext, principal: Principal, requested?: string) {
  const cluster = await resolveCluster(ctx, principal, requested);
  const rows = await ctx.db
    .select()
    .from(tests)
    .where(and(eq(tests.cluster, cluster), isNull(tests.deletedAt)));
  const out: Record<string, unknown> = {};
  for (const t of rows) {
    const spec = specOf(t.spec);
    const configId = `${t.name}/${t.namespace}`;
    out[configId] = {
      name: t.name,
      namespace: t.namespace,
      configId,
      version: String(t.generation ?? t.revision),
      displayName: spec.displayName ?? '',
      description: spec.description ?? '',
      plugin: spec.plugin,
      repeat: spec.repeat ?? spec.schedule ?? '',
    };
  }
  return out;
}

export async function shTestConfig(
  ctx: ServiceContext,
  principal: Principal,
  name: string,
  namespace: string,
  requested?: string,
) {
  const cluster = await resolveCluster(ctx, principal, requested);
  const t = await ctx.db.query.tests.findFirst({
    where: and(
      eq(tests.cluster, cluster),
      eq(tests.namespace, namespace),
      eq(tests.name, name),
      isNull(tests.deletedAt),
    ),
  });
  if (!t) throw notFound(`test config "${name}/${namespace}" was not found`);
  const spec = specOf(t.spec);
  const holder = t.pinnedAgentId
    ? await ctx.db.query.agents.findFirst({ where: eq(agents.id, t.pinnedAgentId) })
    : undefined;
  return {
    testConfig: { name: t.name, namespace: t.namespace, version: String(t.generation ?? t.revision), ...spec },
    configStatus: {
      deployed: t.assignedAgents > 0,
      message: t.assignedAgents > 0 ? '' : 'no live agent matches the node selector',
      agent: holder ? shAgentId(holder) : t.assignedAgents > 0 ? spec.node : '',
      timestamp: new Date(t.updatedAt).toISOString(),
    },
    rawConfig: t.raw,
  };
}

export async function shTestRunStatus(ctx: ServiceContext, principal: Principal, requested?: string) {
  const cluster = await resolveCluster(ctx, principal, requested);
  const rows = await pluginRows(ctx, cluster);
  const out: Record<string, string> = {};
  for (const r of rows) {
    if (r.passRatio === null) continue;
    out[`${r.name}/${r.namespace}/${shAgentId(r)}`] = r.passRatio.toFixed(5);
  }
  return out;
}

const nano = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');

/** A run in synthetic-heart's TestRun shape, by plugin id `test/ns/pod/podNs`. */
export async function shTestRun(
  ctx: ServiceContext,
  principal: Principal,
  pluginId: string,
  which: 'latest' | 'lastFailed',
  requested?: string,
) {
  const parts = pluginId.split('/');
  if (parts.length !== 4 || parts.some((p) => p === '')) {
    throw badRequest(`plugin id "${pluginId}" must be testName/testNamespace/podName/podNamespace`, [
      { path: 'id', message: 'expected four parts' },
    ]);
  }
  const [name, namespace, pod, podNs] = parts as [string, string, string, string];
  const cluster = await resolveCluster(ctx, principal, requested);
  assertCanRead(principal, cluster);
  const t = await ctx.db.query.tests.findFirst({
    where: and(eq(tests.cluster, cluster), eq(tests.namespace, namespace), eq(tests.name, name)),
  });
  if (!t) throw notFound(`no testrun found for "${pluginId}"`);
  const agentRows = await ctx.db.select().from(agents).where(eq(agents.cluster, cluster));
  const agent = agentRows.find((a) => shAgentId(a) === `${pod}/${podNs}`);
  if (!agent) throw notFound(`no testrun found for "${pluginId}"`);
  const state = await ctx.db.query.latest.findFirst({
    where: and(eq(latest.testId, t.id), eq(latest.agentId, agent.id)),
  });
  const runId = which === 'latest' ? state?.runId : state?.lastFailedRunId;
  const run = runId ? await ctx.db.query.runs.findFirst({ where: eq(runs.id, runId) }) : undefined;
  if (!run) throw notFound(`no testrun found for "${pluginId}"`);
  const details = JSON.parse(run.details) as Record<string, string>;
  const trigger = run.trigger ? (JSON.parse(run.trigger) as { type: string; test?: string }) : { type: 'timer' };
  return {
    id: run.id,
    agentId: shAgentId(agent),
    startTime: nano(run.startedAt),
    endTime: nano(run.endedAt),
    testConfig: { name: t.name, namespace: t.namespace, ...specOf(t.spec) },
    trigger: { triggerType: trigger.type, triggeringTest: trigger.test ?? '', details: {} },
    testResult: { marks: run.marks, maxMarks: run.maxMarks, details },
    details,
    status: run.status,
  };
}
