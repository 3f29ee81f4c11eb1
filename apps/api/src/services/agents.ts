import type { AgentView, Assignment, RegisterAgentRequest, RegisterAgentResponse } from '@synthfleet/contracts';
import { type AgentRow, agents } from '@synthfleet/db';
import { and, eq } from 'drizzle-orm';
import { badRequest, notFound } from '../errors.ts';
import { assertCanRead, assertCanWrite } from './access.ts';
import { buildAssignment } from './assignments.ts';
import { ensureClusterQuery } from './clusters.ts';
import type { Principal, ServiceContext } from './context.ts';
import { placeAgentLocked } from './scheduler.ts';

/** Only touch last_poll_at when it is older than this: a poll is then not a write. */
const POLL_WRITE_INTERVAL_MS = 5_000;

export function toAgentView(row: AgentRow): AgentView {
  return {
    agentId: row.id,
    cluster: row.cluster,
    node: row.node,
    pod: row.pod,
    podNamespace: row.podNamespace,
    podLabels: JSON.parse(row.podLabels) as Record<string, string>,
    matchTestNamespaces: JSON.parse(row.matchTestNamespaces) as string[],
    matchTestLabels: JSON.parse(row.matchTestLabels) as Record<string, string>,
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
      podLabels: JSON.stringify(req.podLabels ?? {}),
      matchTestNamespaces: JSON.stringify(req.matchTestNamespaces ?? []),
      matchTestLabels: JSON.stringify(req.matchTestLabels ?? {}),
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
export type PollOptions = {
  agentId: string;
  /** The assignment version the agent holds; undefined asks for the current one at once. */
  known: number | undefined;
  /** How long to hold the poll when nothing changed (capped at the configured maximum). */
  waitMs: number;
  /** Ends the wait early (the client went away). */
  signal?: AbortSignal;
  report?: AgentReport;
};

export async function pollAssignment(
  ctx: ServiceContext,
  principal: Principal,
  poll: PollOptions,
): Promise<PollOutcome> {
  const { agentId, known, waitMs, signal, report } = poll;
  const first = await loadAgent(ctx, principal, agentId);
  ctx.counters.polls++;
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
    ctx.counters.pollWakeups++;
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
