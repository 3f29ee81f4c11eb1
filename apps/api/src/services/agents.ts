import type { AgentView, Assignment, Peer, RegisterAgentRequest, RegisterAgentResponse } from '@synthfleet/contracts';
import { type AgentRow, agents, assignments, tests } from '@synthfleet/db';
import { and, eq, isNull } from 'drizzle-orm';
import { badRequest, notFound } from '../errors.ts';
import { assertCanRead, assertCanWrite } from './access.ts';
import { ensureClusterQuery } from './clusters.ts';
import type { AssignmentBody, Principal, ServiceContext } from './context.ts';
import { assignmentFingerprint, peersFingerprint, placeAgentLocked } from './scheduler.ts';
import { specOf } from './test-objects.ts';

/** Only touch last_poll_at when it is older than this: a poll is then not a write. */
const POLL_WRITE_INTERVAL_MS = 5_000;

export function toAgentView(row: AgentRow): AgentView {
  return {
    agentId: row.id,
    cluster: row.cluster,
    node: row.node,
    pod: row.pod,
    version: row.version,
    capabilities: JSON.parse(row.capabilities) as string[],
    state: row.state,
    lastPollAt: row.lastPollAt === null ? null : new Date(row.lastPollAt).toISOString(),
    registeredAt: new Date(row.registeredAt).toISOString(),
    assignmentVersion: row.assignmentVersion,
    spoolDepth: row.spoolDepth,
    resultsDropped: row.resultsDropped,
  };
}

/** Registers an agent, or re-registers the same node (an agent restart keeps its id and its `$` tests). */
export async function registerAgent(
  ctx: ServiceContext,
  principal: Principal,
  req: RegisterAgentRequest,
): Promise<RegisterAgentResponse> {
  let cluster: string;
  if (principal.role === 'cluster') {
    cluster = principal.cluster as string;
    if (req.cluster !== undefined && req.cluster !== cluster) throw notFound(`cluster "${req.cluster}" was not found`);
  } else {
    if (req.cluster === undefined) {
      throw badRequest('cluster is required when registering with an admin token', [
        { path: 'cluster', message: 'required for admin tokens' },
      ]);
    }
    cluster = req.cluster;
  }
  assertCanWrite(principal, cluster);
  const now = ctx.clock.now();
  const agentId = await ctx.exclusive(cluster, async () => {
    const existing = await ctx.db.query.agents.findFirst({
      where: and(eq(agents.cluster, cluster), eq(agents.node, req.node)),
    });
    const fields = {
      pod: req.pod ?? null,
      podNamespace: req.podNamespace ?? null,
      version: req.version,
      capabilities: JSON.stringify([...new Set(req.capabilities)].sort()),
      heartbeatUrl: req.heartbeatUrl ?? null,
      lastPollAt: now,
      state: 'live' as const,
    };
    const id = existing?.id ?? crypto.randomUUID();
    await ctx.db.batch([
      ensureClusterQuery(ctx, cluster),
      existing
        ? ctx.db.update(agents).set(fields).where(eq(agents.id, id))
        : ctx.db.insert(agents).values({
            id,
            cluster,
            node: req.node,
            registeredAt: now,
            assignmentVersion: 0,
            assignmentHash: '',
            ...fields,
          }),
    ]);
    await placeAgentLocked(ctx, cluster, id);
    return id;
  });
  ctx.logger.info({ cluster, agentId, node: req.node, version: req.version }, 'agent registered');
  return {
    agentId,
    cluster,
    pollWaitSeconds: Math.floor(ctx.config.maxPollWaitMs / 1000),
    deadlineSeconds: Math.floor(ctx.config.agentDeadlineMs / 1000),
  };
}

async function loadAgent(ctx: ServiceContext, principal: Principal, agentId: string): Promise<AgentRow> {
  const row = await ctx.db.query.agents.findFirst({ where: eq(agents.id, agentId) });
  if (!row) throw notFound(`agent "${agentId}" was not found`);
  assertCanRead(principal, row.cluster, `agent "${agentId}"`);
  return row;
}

/**
 * Bodies are shared by every agent with the same fingerprint, and so is a read under way: 10,000
 * agents woken by one `*` change cost one query, not one each.
 */
const CACHE_LIMIT = 512;

async function buildAssignment(ctx: ServiceContext, agent: AgentRow): Promise<Assignment> {
  const key = agent.assignmentHash;
  const answer = (body: AssignmentBody): Assignment => ({
    agentId: agent.id,
    version: agent.assignmentVersion,
    ...body,
  });
  if (key !== '') {
    const cached = ctx.assignmentCache.get(key);
    if (cached) return answer(cached);
    const pending = ctx.assignmentReads.get(key);
    if (pending) {
      const shared = await pending.catch(() => undefined);
      // The read found what this agent expects: the same tests at the same revisions (and peers).
      if (shared?.hash === key) return answer(shared.body);
    }
  }
  const read = readAssignment(ctx, agent);
  if (key !== '' && !ctx.assignmentReads.has(key)) {
    ctx.assignmentReads.set(key, read);
    const forget = () => {
      if (ctx.assignmentReads.get(key) === read) ctx.assignmentReads.delete(key);
    };
    read.then(forget, forget);
  }
  return answer((await read).body);
}

/** Reads an agent's assignment and caches the body under the fingerprint of what was read. */
async function readAssignment(ctx: ServiceContext, agent: AgentRow): Promise<{ hash: string; body: AssignmentBody }> {
  const cache = ctx.assignmentCache;
  const rows = await ctx.db
    .select({
      id: tests.id,
      cluster: tests.cluster,
      namespace: tests.namespace,
      name: tests.name,
      revision: tests.revision,
      apiVersion: tests.apiVersion,
      spec: tests.spec,
      plugin: tests.plugin,
    })
    .from(assignments)
    .innerJoin(tests, eq(tests.id, assignments.testId))
    .where(and(eq(assignments.agentId, agent.id), isNull(tests.deletedAt)))
    .orderBy(tests.namespace, tests.name);
  const mesh = rows.some((r) => r.plugin === 'heartbeat');
  let peers: Peer[] = [];
  if (mesh) {
    const peerRows = await ctx.db
      .select({ agentId: agents.id, node: agents.node, heartbeatUrl: agents.heartbeatUrl })
      .from(agents)
      .where(and(eq(agents.cluster, agent.cluster), eq(agents.state, 'live')))
      .orderBy(agents.node);
    peers = peerRows
      .filter((p): p is Peer => p.heartbeatUrl !== null)
      .map((p) => ({ agentId: p.agentId, node: p.node, heartbeatUrl: p.heartbeatUrl }));
  }
  const body: AssignmentBody = {
    tests: rows.map((r) => ({
      key: `${r.cluster}/${r.namespace}/${r.name}`,
      namespace: r.namespace,
      name: r.name,
      revision: r.revision,
      apiVersion: r.apiVersion,
      spec: specOf(r.spec),
    })),
    peers,
  };
  // Key by what was actually read, so a body newer than the agent's row never poses as an older one.
  const hash = assignmentFingerprint(rows, mesh ? peersFingerprint(peers) : '');
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(hash, body);
  return { hash, body };
}

/** What an agent reports about itself on a poll. */
export type AgentReport = { spoolDepth?: number | undefined; resultsDropped?: number | undefined };

/**
 * Marks a poll: keeps the agent live; a stale agent coming back is re-placed. A poll writes only
 * when last_poll_at is old enough or what the agent reports has changed, so idle polls stay reads.
 */
async function touchAgent(ctx: ServiceContext, agent: AgentRow, report: AgentReport = {}): Promise<AgentRow> {
  const now = ctx.clock.now();
  const reported: Partial<Pick<AgentRow, 'spoolDepth' | 'resultsDropped'>> = {};
  if (report.spoolDepth !== undefined && report.spoolDepth !== agent.spoolDepth)
    reported.spoolDepth = report.spoolDepth;
  if (report.resultsDropped !== undefined && report.resultsDropped !== agent.resultsDropped)
    reported.resultsDropped = report.resultsDropped;
  if (agent.state === 'stale') {
    await ctx.exclusive(agent.cluster, async () => {
      await ctx.db
        .update(agents)
        .set({ state: 'live', lastPollAt: now, ...reported })
        .where(eq(agents.id, agent.id));
      await placeAgentLocked(ctx, agent.cluster, agent.id);
    });
    const fresh = await ctx.db.query.agents.findFirst({ where: eq(agents.id, agent.id) });
    return fresh ?? agent;
  }
  if (agent.lastPollAt === null || now - agent.lastPollAt >= POLL_WRITE_INTERVAL_MS || Object.keys(reported).length) {
    await ctx.db
      .update(agents)
      .set({ lastPollAt: now, ...reported })
      .where(eq(agents.id, agent.id));
  }
  return agent;
}

export type PollOutcome = { kind: 'assignment'; assignment: Assignment } | { kind: 'not-modified'; version: number };

/**
 * Long-poll: answers at once when the agent's assignment version differs from `known`, otherwise
 * waits until a change wakes it or `waitMs` passes (then not-modified).
 */
export async function pollAssignment(
  ctx: ServiceContext,
  principal: Principal,
  agentId: string,
  known: number | undefined,
  waitMs: number,
  signal?: AbortSignal,
  report?: AgentReport,
): Promise<PollOutcome> {
  const first = await loadAgent(ctx, principal, agentId);
  const wait = Math.max(0, Math.min(waitMs, ctx.config.maxPollWaitMs));
  // Subscribe before the authoritative read so a change landing in between still wakes us.
  const sub = known !== undefined && wait > 0 ? ctx.hub.subscribe(first.cluster, agentId, wait, known) : undefined;
  try {
    const agent = await touchAgent(ctx, first, report);
    if (known === undefined || agent.assignmentVersion !== known) {
      return { kind: 'assignment', assignment: await buildAssignment(ctx, agent) };
    }
    if (!sub) return { kind: 'not-modified', version: agent.assignmentVersion };
    const onAbort = () => sub.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    const wake = await sub.done;
    signal?.removeEventListener('abort', onAbort);
    if (!wake || signal?.aborted) return { kind: 'not-modified', version: agent.assignmentVersion };
    // The waker knows the new version and fingerprint: no read needed when the body is cached.
    const fresh =
      wake.version !== undefined && wake.hash !== undefined
        ? { ...agent, assignmentVersion: wake.version, assignmentHash: wake.hash }
        : await ctx.db.query.agents.findFirst({ where: eq(agents.id, agentId) });
    if (!fresh || fresh.assignmentVersion === known) return { kind: 'not-modified', version: known };
    return { kind: 'assignment', assignment: await buildAssignment(ctx, fresh) };
  } finally {
    sub?.cancel();
  }
}

export async function listAgents(ctx: ServiceContext, principal: Principal, cluster: string): Promise<AgentView[]> {
  assertCanRead(principal, cluster);
  const rows = await ctx.db.select().from(agents).where(eq(agents.cluster, cluster)).orderBy(agents.node);
  return rows.map(toAgentView);
}

export async function getAgent(ctx: ServiceContext, principal: Principal, agentId: string): Promise<AgentView> {
  return toAgentView(await loadAgent(ctx, principal, agentId));
}
