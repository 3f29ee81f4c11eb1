/**
 * Reads in the shapes synthetic-heart's REST API returns (synthetic-heart-shapes.ts), so its
 * scripts and web UI keep working. synthetic-heart runs one API per cluster; here each such read
 * is scoped to one cluster (`?cluster=`, implied by a cluster token or SH_ANONYMOUS_CLUSTER, or
 * the only cluster there is). `/ping` may span all.
 */
import { type AgentRow, agents, assignments, clusters, latest, runs, type TestRow, tests } from '@synthfleet/db';
import { and, desc, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import { stringify as toYaml } from 'yaml';
import { badRequest, notFound } from '../errors.ts';
import { assertCanRead, visibleClusters } from './access.ts';
import type { Principal, ServiceContext } from './context.ts';
import type { ShPluginState, ShSynTestConfig, ShTestRun, ShTriggeringTestRun } from './synthetic-heart-shapes.ts';
import { specOf } from './test-objects.ts';
import { verdictClock, verdictColumns, verdictOf } from './test-views.ts';

type AgentIdParts = { pod: string | null; podNamespace: string | null; node: string };
type PluginStateBody = import('zod').infer<typeof ShPluginState>;

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

/** Go's RFC3339Nano: fractional seconds without trailing zeros (none at all for whole seconds). */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d*?)0*Z$/, (_, f: string) => (f ? `.${f}Z` : 'Z'));
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

/** The runtime keys synthetic-heart's agent fills in a test config it runs. */
function runtimeOf(agent: AgentRow): Record<string, string> {
  return { $nodeName: agent.node, $podName: agent.pod ?? agent.node, $agentId: shAgentId(agent) };
}

/** A test as synthetic-heart's SynTestConfig (protojson, every field present). */
export function synTestConfig(t: TestRow, runtime: Record<string, string> = {}): ShSynTestConfig {
  const spec = specOf(t.spec);
  const rawSpec = (JSON.parse(t.raw) as { spec?: { node?: unknown } }).spec;
  const config = spec.config === undefined ? '' : typeof spec.config === 'string' ? spec.config : toYaml(spec.config);
  return {
    name: t.name,
    version: String(t.generation ?? t.revision),
    labels: JSON.parse(t.labels) as Record<string, string>,
    pluginName: spec.plugin,
    displayName: spec.displayName ?? '',
    description: spec.description ?? '',
    namespace: t.namespace,
    importance: spec.importance ?? '',
    repeat: spec.repeat ?? spec.schedule ?? '',
    // As written: synthetic-heart leaves an omitted selector empty (every agent).
    nodeSelector: typeof rawSpec?.node === 'string' ? rawSpec.node : '',
    podLabelSelector: spec.podLabelSelector ?? {},
    dependsOn: spec.dependsOn ?? [],
    timeouts: { init: spec.timeouts.init, run: spec.timeouts.run, finish: spec.timeouts.finish },
    pluginRestartPolicy: spec.pluginRestartPolicy ?? '',
    logWaitTime: spec.logWaitTime ?? '',
    config,
    runtime,
  };
}

const unsupportedMessage = (plugin: string) => `no agent offers plugin "${plugin}"`;

/** Plugin-instance rows: one per (assigned test, agent) with its latest result. */
function pluginRows(ctx: ServiceContext, scope: string | null) {
  return ctx.db
    .select({
      cluster: tests.cluster,
      name: tests.name,
      namespace: tests.namespace,
      displayName: tests.displayName,
      pod: agents.pod,
      podNamespace: agents.podNamespace,
      node: agents.node,
      agentState: agents.state,
      passRatio: latest.passRatio,
      status: latest.status,
    })
    .from(assignments)
    .innerJoin(tests, eq(tests.id, assignments.testId))
    .innerJoin(agents, eq(agents.id, assignments.agentId))
    .leftJoin(latest, and(eq(latest.testId, assignments.testId), eq(latest.agentId, assignments.agentId)))
    .where(and(isNull(tests.deletedAt), scope === null ? undefined : eq(tests.cluster, scope)));
}

/** A result that says something about the target: neither skipped nor a plugin the agent lacks. */
const counts = (status: string | null) => status !== null && status !== 'skipped' && status !== 'unsupported';

/**
 * synthetic-heart's /ping over the tests' verdicts: a failing test carries its legacy status (from
 * its worst agent's pass ratio), a degraded one 2 (warning), a stale one 0 (unknown, which makes
 * the whole answer a warning as synthetic-heart does for an unknown status).
 */
export async function shPing(ctx: ServiceContext, principal: Principal, requested?: string) {
  const scope = visibleClusters(principal, requested);
  const [rows, testRows] = await Promise.all([
    pluginRows(ctx, scope),
    ctx.db
      .select({
        cluster: tests.cluster,
        name: tests.name,
        namespace: tests.namespace,
        displayName: tests.displayName,
        ...verdictColumns,
      })
      .from(tests)
      .where(and(isNull(tests.deletedAt), scope === null ? undefined : eq(tests.cluster, scope))),
  ]);
  const worst = new Map<string, number>();
  for (const r of rows) {
    if (r.passRatio === null || !counts(r.status)) continue;
    const k = `${r.cluster}/${r.namespace}/${r.name}`;
    worst.set(k, Math.min(worst.get(k) ?? 1, r.passRatio));
  }
  type Failed = {
    name: string;
    namespace: string;
    testId: string;
    displayName: string;
    status: number;
    cluster?: string;
  };
  const failedTests: Record<string, Failed> = {};
  let overall = 3;
  const at = verdictClock(ctx);
  for (const t of testRows) {
    const verdict = verdictOf(t, at).state;
    let status: number;
    if (verdict === 'failing') status = legacyStatus(worst.get(`${t.cluster}/${t.namespace}/${t.name}`) ?? 0);
    else if (verdict === 'degraded') status = 2;
    else if (verdict === 'stale') status = 0;
    else continue;
    if (status === 3) status = 2; // failing by quorum while the worst ratio read 1: a warning at least
    const key = scope === null ? `${t.cluster}/${t.name}` : t.name;
    failedTests[key] ??= {
      name: t.name,
      namespace: t.namespace,
      testId: `${t.name}/${t.namespace}`,
      displayName: t.displayName ?? '',
      status,
      ...(scope === null ? { cluster: t.cluster } : {}),
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
    message: overall === 3 ? ('Healthy' as const) : ('UnHealthy' as const),
    lastUpdated: rfc3339Nano(ctx.clock.now()),
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
  const byAgent = new Map<string, string[]>();
  for (const p of placed) {
    const list = byAgent.get(p.agentId) ?? [];
    list.push(`${p.name}/${p.namespace}`);
    byAgent.set(p.agentId, list);
  }
  const out: Record<string, unknown> = {};
  for (const a of rows) {
    const namespaces = JSON.parse(a.matchTestNamespaces) as string[];
    out[shAgentId(a)] = {
      syntests: (byAgent.get(a.id) ?? []).sort(),
      statusTime: rfc3339Nano(a.lastPollAt ?? a.registeredAt),
      agentConfig: {
        matchTestNamespaces: namespaces,
        matchTestLabels: JSON.parse(a.matchTestLabels) as Record<string, string>,
        labelFileLocation: '/etc/podinfo/labels',
        // Go durations marshal as nanoseconds: how often it hears from the API, and its deadline.
        syncFrequency: ctx.config.maxPollWaitMs * 1e6,
        gracePeriod: ctx.config.agentDeadlineMs * 1e6,
        prometheusConfig: { ServerAddress: '', Push: false, PrometheusPushUrl: '', Labels: {} },
        storeConfig: { Type: 'synthfleet', BufferSize: 0, Address: '', ExportRate: 0 },
        printPluginLogs: 'onFail',
        enabledPlugins: [],
        debugMode: false,
        discoveredPlugins: { builtin: JSON.parse(a.capabilities) as string[] },
        runTimeInfo: {
          nodeName: a.node,
          podName: a.pod ?? a.node,
          podLabels: JSON.parse(a.podLabels) as Record<string, string>,
          agentNamespace: a.podNamespace ?? 'default',
        },
        matchNamespaceSet: Object.fromEntries(namespaces.map((n) => [n, true])),
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

async function liveTest(ctx: ServiceContext, cluster: string, name: string, namespace: string) {
  return ctx.db.query.tests.findFirst({
    where: and(
      eq(tests.cluster, cluster),
      eq(tests.namespace, namespace),
      eq(tests.name, name),
      isNull(tests.deletedAt),
    ),
  });
}

export async function shTestConfig(
  ctx: ServiceContext,
  principal: Principal,
  name: string,
  namespace: string,
  requested?: string,
) {
  const cluster = await resolveCluster(ctx, principal, requested);
  const t = await liveTest(ctx, cluster, name, namespace);
  if (!t) throw notFound('no test config found');
  const holder = t.pinnedAgentId
    ? await ctx.db.query.agents.findFirst({ where: eq(agents.id, t.pinnedAgentId) })
    : undefined;
  const deployed = t.assignedAgents > 0;
  const raw = JSON.parse(t.raw) as { spec?: unknown };
  return {
    testConfig: synTestConfig(t),
    configStatus: {
      deployed,
      message: deployed
        ? ''
        : t.state === 'unsupported'
          ? unsupportedMessage(t.plugin)
          : 'no live agent matches the node selector and podLabelSelector',
      agent: holder ? shAgentId(holder) : deployed ? t.nodeSelector : '',
      timestamp: rfc3339Nano(t.updatedAt),
    },
    // synthetic-heart keeps the resource's spec as YAML.
    rawConfig: toYaml(raw.spec ?? specOf(t.spec)),
  };
}

export async function shTestRunStatus(ctx: ServiceContext, principal: Principal, requested?: string) {
  const cluster = await resolveCluster(ctx, principal, requested);
  const rows = await pluginRows(ctx, cluster);
  const out: Record<string, string> = {};
  for (const r of rows) {
    if (r.passRatio === null || !counts(r.status)) continue;
    out[`${r.name}/${r.namespace}/${shAgentId(r)}`] = r.passRatio.toFixed(5);
  }
  return out;
}

type RoutineRow = { agentState: string; status: string | null };

/** The state synthetic-heart's agent would give the plugin's routine. */
function routineOf(r: RoutineRow): 'running' | 'error' | 'notRunning' | 'unknown' {
  if (r.status === 'unsupported') return 'notRunning';
  if (r.agentState === 'stale') return 'unknown';
  if (r.status === 'error') return 'error';
  return 'running';
}

/** `plugins/status`: pluginId → routine status, for every plugin instance. */
export async function shPluginStatuses(ctx: ServiceContext, principal: Principal, requested?: string) {
  const cluster = await resolveCluster(ctx, principal, requested);
  const rows = await pluginRows(ctx, cluster);
  const out: Record<string, string> = {};
  for (const r of rows) out[`${r.name}/${r.namespace}/${shAgentId(r)}`] = routineOf(r);
  return out;
}

type PluginInstance = { test: TestRow; agent: AgentRow };

/** A plugin instance by synthetic-heart's id `testName/testNamespace/podName/podNamespace`. */
async function pluginInstance(
  ctx: ServiceContext,
  principal: Principal,
  pluginId: string,
  requested: string | undefined,
  missing: string,
): Promise<PluginInstance> {
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
  if (!t) throw notFound(missing);
  const ns: SQL | undefined =
    podNs === 'default'
      ? or(eq(agents.podNamespace, 'default'), isNull(agents.podNamespace))
      : eq(agents.podNamespace, podNs);
  const candidates = await ctx.db
    .select()
    .from(agents)
    .where(
      and(eq(agents.cluster, cluster), ns, or(eq(agents.pod, pod), and(isNull(agents.pod), eq(agents.node, pod)))),
    );
  const agent = candidates.find((a) => shAgentId(a) === `${pod}/${podNs}`);
  if (!agent) throw notFound(missing);
  return { test: t, agent };
}

/** `plugin/{id}/health` and `…/lastUnhealthy`: the plugin's routine as synthetic-heart's PluginState. */
export async function shPluginHealth(
  ctx: ServiceContext,
  principal: Principal,
  pluginId: string,
  which: 'health' | 'lastUnhealthy',
  requested?: string,
): Promise<PluginStateBody> {
  const missing = 'no plugin health found';
  const { test: t, agent } = await pluginInstance(ctx, principal, pluginId, requested, missing);
  const [placed] = await ctx.db
    .select({ assignedAt: assignments.assignedAt })
    .from(assignments)
    .where(and(eq(assignments.testId, t.id), eq(assignments.agentId, agent.id)));
  const config = synTestConfig(t, runtimeOf(agent));
  const since = placed?.assignedAt ?? agent.registeredAt;
  const base = { config, restarts: 0, restartBackOff: '0s', totalRestarts: 0, runningSince: rfc3339Nano(since) };
  if (which === 'health') {
    if (!placed) throw notFound(missing);
    const state = await ctx.db.query.latest.findFirst({
      where: and(eq(latest.testId, t.id), eq(latest.agentId, agent.id)),
    });
    const status = routineOf({ agentState: agent.state, status: state?.status ?? null });
    const statusMsg =
      status === 'unknown'
        ? `the agent has not polled since ${rfc3339Nano(agent.lastPollAt ?? agent.registeredAt)}`
        : status === 'running'
          ? ''
          : (state?.message ?? '');
    return { status, statusMsg, ...base, lastUpdated: rfc3339Nano(state?.endedAt ?? agent.lastPollAt ?? since) };
  }
  // The last time the routine was not running: the newest run the plugin could not perform.
  const [bad] = await ctx.db
    .select({ status: runs.status, details: runs.details, endedAt: runs.endedAt })
    .from(runs)
    .where(and(eq(runs.testId, t.id), eq(runs.agentId, agent.id), inArray(runs.status, ['error', 'unsupported'])))
    .orderBy(desc(runs.startedAt))
    .limit(1);
  if (!bad) throw notFound(missing);
  const details = JSON.parse(bad.details) as Record<string, string>;
  return {
    status: bad.status === 'unsupported' ? 'notRunning' : 'error',
    statusMsg: details._error ?? '',
    ...base,
    lastUpdated: rfc3339Nano(bad.endedAt),
  };
}

type GaugeRow = { name: string; help?: string; value: number; labels?: Record<string, string> };

/** A stored run as synthetic-heart's TestRun; `_prometheus` carries the plugin's gauges as its agents write them. */
function shRun(
  run: typeof runs.$inferSelect,
  t: TestRow,
  agent: AgentRow,
  triggeringTest: ShTriggeringTestRun | null,
): ShTestRun {
  const details = JSON.parse(run.details) as Record<string, string>;
  const gauges = JSON.parse(run.gauges) as GaugeRow[];
  if (gauges.length > 0 && details._prometheus === undefined) {
    details._prometheus = toYaml({
      gauges: gauges.map((g) => ({ name: g.name, help: g.help ?? '', value: g.value, labels: g.labels ?? {} })),
    });
  }
  const trigger = run.trigger ? (JSON.parse(run.trigger) as { type: string; test?: string }) : { type: 'timer' };
  return {
    id: run.id,
    agentId: shAgentId(agent),
    startTime: rfc3339Nano(run.startedAt),
    endTime: rfc3339Nano(run.endedAt),
    testConfig: synTestConfig(t, runtimeOf(agent)),
    trigger: {
      triggerType: trigger.type,
      triggeringTest,
      details: trigger.type === 'test' && trigger.test ? `triggered by test ${trigger.test}` : '',
    },
    testResult: { marks: String(run.marks), maxMarks: String(run.maxMarks), details },
    details,
  };
}

/** A run in synthetic-heart's TestRun shape, by plugin id `test/ns/pod/podNs`. */
export async function shTestRun(
  ctx: ServiceContext,
  principal: Principal,
  pluginId: string,
  which: 'latest' | 'lastFailed',
  requested?: string,
): Promise<ShTestRun> {
  const missing = 'no testrun found';
  const { test: t, agent } = await pluginInstance(ctx, principal, pluginId, requested, missing);
  const state = await ctx.db.query.latest.findFirst({
    where: and(eq(latest.testId, t.id), eq(latest.agentId, agent.id)),
  });
  const runId = which === 'latest' ? state?.runId : state?.lastFailedRunId;
  const run = runId ? await ctx.db.query.runs.findFirst({ where: eq(runs.id, runId) }) : undefined;
  if (!run) throw notFound(missing);
  // A run triggered by another test carries that test's latest run on the same agent, as synthetic-heart's does.
  let triggeringTest: ShTriggeringTestRun | null = null;
  const trigger = run.trigger ? (JSON.parse(run.trigger) as { type: string; test?: string }) : undefined;
  if (trigger?.type === 'test' && trigger.test) {
    const upstream = await liveTest(ctx, t.cluster, trigger.test, t.namespace);
    const upLatest = upstream
      ? await ctx.db.query.latest.findFirst({
          where: and(eq(latest.testId, upstream.id), eq(latest.agentId, agent.id)),
        })
      : undefined;
    const upRun = upLatest ? await ctx.db.query.runs.findFirst({ where: eq(runs.id, upLatest.runId) }) : undefined;
    // Its own trigger goes no further (null), which is what makes it a ShTriggeringTestRun.
    if (upstream && upRun) triggeringTest = shRun(upRun, upstream, agent, null) as ShTriggeringTestRun;
  }
  return shRun(run, t, agent, triggeringTest);
}
