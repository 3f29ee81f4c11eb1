import type { Assignment, Peer } from '@synthfleet/contracts';
import { type AgentRow, agents, assignments, tests } from '@synthfleet/db';
import { and, eq, isNull } from 'drizzle-orm';
import { hashString } from '../lib/hash.ts';
import type { AssignmentBody, ServiceContext } from './context.ts';
import { specOf } from './test-objects.ts';

/*
 * What an agent runs, as the long-poll hands it out: the body (its tests at their revisions, and
 * its mesh peers), the fingerprint that names a body, and the two caches that let agents running
 * the same set share one body and one read. The scheduler computes fingerprints when it places
 * tests; a poll builds the body here.
 */

/** The caches of one API process (on Workers: one isolate). */
export type AssignmentCaches = {
  /** Assignment bodies by fingerprint, shared by every agent that runs the same set. */
  bodies: Map<string, AssignmentBody>;
  /**
   * Reads under way, by the fingerprint the reading agent expects: agents woken together by one
   * change wait for the one read instead of each making their own.
   */
  reads: Map<string, Promise<{ hash: string; body: AssignmentBody }>>;
};

export function createAssignmentCaches(): AssignmentCaches {
  return { bodies: new Map(), reads: new Map() };
}

/**
 * Fingerprint of what an agent runs: its tests at their revisions (and their newest Run now
 * request, so a request changes the body and wakes the agents), and its mesh peers if it has a
 * heartbeat test.
 */
export function assignmentFingerprint(
  items: readonly { id: number; revision: number; runRequestId?: string | null }[],
  peersKey: string,
): string {
  const parts = items
    .map((t) => (t.runRequestId ? `${t.id}:${t.revision}:${t.runRequestId}` : `${t.id}:${t.revision}`))
    .sort();
  return hashString(`${parts.join(',')}|${peersKey}`);
}

export function peersFingerprint(peers: readonly { agentId: string; heartbeatUrl: string }[]): string {
  return hashString(
    peers
      .map((p) => `${p.agentId}=${p.heartbeatUrl}`)
      .sort()
      .join(','),
  );
}

/** Assignment bodies kept, by fingerprint: the distinct sets of tests agents of a fleet run. */
const CACHE_LIMIT = 512;

/**
 * Bodies are shared by every agent with the same fingerprint, and so is a read under way: 10,000
 * agents woken by one `*` change cost one query, not one each.
 */
export async function buildAssignment(ctx: ServiceContext, agent: AgentRow): Promise<Assignment> {
  const { bodies, reads } = ctx.assignments;
  const key = agent.assignmentHash;
  const answer = (body: AssignmentBody): Assignment => ({
    agentId: agent.id,
    version: agent.assignmentVersion,
    ...body,
  });
  if (key !== '') {
    const cached = bodies.get(key);
    if (cached) return answer(cached);
    const pending = reads.get(key);
    if (pending) {
      const shared = await pending.catch(() => undefined);
      // The read found what this agent expects: the same tests at the same revisions (and peers).
      if (shared?.hash === key) return answer(shared.body);
    }
  }
  const read = readAssignment(ctx, agent);
  if (key !== '' && !reads.has(key)) {
    reads.set(key, read);
    const forget = () => {
      if (reads.get(key) === read) reads.delete(key);
    };
    read.then(forget, forget);
  }
  return answer((await read).body);
}

/** Reads an agent's assignment and caches the body under the fingerprint of what was read. */
async function readAssignment(ctx: ServiceContext, agent: AgentRow): Promise<{ hash: string; body: AssignmentBody }> {
  const cache = ctx.assignments.bodies;
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
      runRequestId: tests.runRequestId,
      runRequestedAt: tests.runRequestedAt,
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
      ...(r.runRequestId && r.runRequestedAt
        ? { runRequest: { id: r.runRequestId, requestedAt: new Date(r.runRequestedAt).toISOString() } }
        : {}),
    })),
    peers,
  };
  // Key by what was actually read, so a body newer than the agent's row never poses as an older one.
  const hash = assignmentFingerprint(rows, mesh ? peersFingerprint(peers) : '');
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(hash, body);
  return { hash, body };
}
