import { type QuorumRule, type ResultCounts, resultState } from '@synthfleet/contracts';
import { assignments, latest, tests } from '@synthfleet/db';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, runResult, syntheticTest, type TestApi } from '../testing/harness.ts';
import { rollupQuery } from './rollup.ts';

let api: TestApi;
let testId = 0;
const agentIds: string[] = [];
beforeAll(async () => {
  // Quotas off: the property sends a few thousand runs on a clock that does not move.
  api = await createTestApi({ config: { agentRunsPerMinute: 0, tokenRunsPerMinute: 0, tokenWritesPerSecond: 0 } });
  const token = await api.token('cluster', 'edge-1');
  for (const n of ['a', 'b', 'c', 'd']) agentIds.push(await api.register(token, `node-${n}`));
  await api.putTest(token, 'edge-1', syntheticTest('t'));
  const row = await api.db.query.tests.findFirst({ where: eq(tests.name, 't') });
  testId = row?.id ?? 0;
});
afterAll(() => api.close());

const Status = fc.constantFrom('none', 'pass', 'fail', 'error', 'timeout', 'skipped', 'unsupported');
const Quorum = fc.oneof(
  fc.constant<QuorumRule>({ count: null, share: null }),
  fc.integer({ min: 1, max: 4 }).map<QuorumRule>((count) => ({ count, share: null })),
  fc.integer({ min: 1, max: 100 }).map<QuorumRule>((share) => ({ count: null, share })),
);

describe('the rollup in SQL', () => {
  it("gives the same state as contracts' resultState for any latest results, assignment and quorum", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ assigned: fc.boolean(), status: Status }), { minLength: 4, maxLength: 4 }),
        Quorum,
        fc.integer({ min: 0, max: 2 }),
        async (agentsSeen, quorum, lackingPlugin) => {
          const { db } = api;
          await db.delete(latest).where(eq(latest.testId, testId));
          await db.delete(assignments).where(eq(assignments.testId, testId));
          const c: ResultCounts = { assigned: 0, passing: 0, failing: 0, skipped: 0, unsupported: 0, lackingPlugin };
          for (const [i, a] of agentsSeen.entries()) {
            const agentId = agentIds[i] as string;
            if (!a.assigned) continue;
            c.assigned++;
            await db.insert(assignments).values({ testId, agentId, cluster: 'edge-1', assignedAt: 1 });
            if (a.status === 'none') continue;
            if (a.status === 'pass') c.passing++;
            else if (a.status === 'skipped') c.skipped++;
            else if (a.status === 'unsupported') c.unsupported++;
            else c.failing++;
            await db.insert(latest).values({
              testId,
              agentId,
              cluster: 'edge-1',
              runId: `r-${i}-${Math.random()}`,
              status: a.status,
              marks: a.status === 'pass' ? 1 : 0,
              maxMarks: 1,
              passRatio: a.status === 'pass' ? 1 : 0,
              startedAt: 10,
              endedAt: 20,
              durationMs: 10,
              consecutiveFailures: 0,
            });
          }
          await db
            .update(tests)
            .set({ quorumCount: quorum.count, quorumShare: quorum.share, agentsLackingPlugin: lackingPlugin })
            .where(eq(tests.id, testId));
          await rollupQuery(db, [testId], 1000);
          const row = await db.query.tests.findFirst({ where: eq(tests.id, testId) });
          expect(row?.state, JSON.stringify({ c, quorum })).toBe(resultState(c, quorum));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the roll-up kept by ingest', () => {
  const Run = fc.record({
    agent: fc.integer({ min: 0, max: 3 }),
    status: fc.constantFrom('pass', 'fail', 'error', 'timeout', 'skipped', 'unsupported'),
    // Minutes from a base: some runs arrive older than the latest one stored (a spool draining).
    at: fc.integer({ min: 0, max: 50 }),
  });

  it('matches a full recompute after any sequence of batches, assignment and quorum', async () => {
    const token = await api.token('cluster', 'edge-1');
    const columns = (r: typeof tests.$inferSelect | undefined) => ({
      passing: r?.passingAgents,
      failing: r?.failingAgents,
      skipped: r?.skippedAgents,
      unsupported: r?.unsupportedAgents,
      state: r?.state,
      lastRunAt: r?.lastRunAt,
      failingSince: r?.failingSince,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        Quorum,
        fc.array(fc.array(Run, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }),
        async (assigned, quorum, batches) => {
          const { db } = api;
          await db.delete(latest).where(eq(latest.testId, testId));
          await db.delete(assignments).where(eq(assignments.testId, testId));
          for (const [i, on] of assigned.entries())
            if (on)
              await db
                .insert(assignments)
                .values({ testId, agentId: agentIds[i] as string, cluster: 'edge-1', assignedAt: 1 });
          await db
            .update(tests)
            .set({ quorumCount: quorum.count, quorumShare: quorum.share, failingSince: null, lastRunAt: null })
            .where(eq(tests.id, testId));
          await rollupQuery(db, [testId], 1000); // what placement does after assignments change
          const base = 1_000_000_000_000 + Math.floor(Math.random() * 1e9);
          for (const batch of batches) {
            const byAgent = new Map<number, unknown[]>();
            for (const r of batch) {
              const list = byAgent.get(r.agent) ?? [];
              list.push(runResult('t', r.status, base + r.at * 60_000));
              byAgent.set(r.agent, list);
            }
            for (const [agent, runs] of byAgent) {
              const res = await api.request('POST', '/api/v1/runs', {
                token,
                body: { agentId: agentIds[agent], runs },
              });
              expect(res.status).toBe(200);
            }
            const kept = columns(await db.query.tests.findFirst({ where: eq(tests.id, testId) }));
            await rollupQuery(db, [testId], 1000);
            const full = columns(await db.query.tests.findFirst({ where: eq(tests.id, testId) }));
            expect(kept, JSON.stringify({ assigned, quorum, batch })).toEqual(full);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
