import type { Database } from '@synthfleet/db';
import { sql } from 'drizzle-orm';

const FAILED = `('fail','error','timeout')`;

/**
 * Recomputes the roll-up columns of the given tests from their assigned agents' latest results,
 * in one statement. `state` is contracts' resultState (verdict.ts) over those results: failing at
 * the quorum (count or share of the assigned agents; default one), degraded below it, then
 * passing, skipped, unsupported, pending.
 */
export function rollupQuery(db: Database, testIds: readonly number[], now: number) {
  const ids = sql.join(
    testIds.map((id) => sql`${id}`),
    sql`, `,
  );
  const failingCond = sql.raw(`(agg.failing > 0 AND CASE
      WHEN tests.quorum_count IS NOT NULL THEN agg.failing >= tests.quorum_count
      WHEN tests.quorum_share IS NOT NULL THEN agg.failing * 100.0 >= tests.quorum_share * agg.assigned
      ELSE 1 END)`);
  return db.run(sql`
    UPDATE tests SET
      assigned_agents = agg.assigned,
      passing_agents = agg.passing,
      failing_agents = agg.failing,
      last_run_at = coalesce(agg.last_run, tests.last_run_at),
      -- contracts' resultState, in SQL (rollup.test.ts checks that the two agree)
      state = CASE WHEN ${failingCond} THEN 'failing'
                   WHEN agg.failing > 0 THEN 'degraded'
                   WHEN agg.passing > 0 THEN 'passing'
                   WHEN agg.skipped > 0 THEN 'skipped'
                   WHEN (agg.assigned = 0 AND tests.agents_lacking_plugin > 0) OR agg.unsupported > 0 THEN 'unsupported'
                   ELSE 'pending' END,
      failing_since = CASE WHEN ${failingCond} THEN coalesce(tests.failing_since, agg.failing_since, ${now}) ELSE NULL END,
      last_failure_message = coalesce(agg.last_message, tests.last_failure_message)
    FROM (
      SELECT t.id AS test_id,
        count(a.agent_id) AS assigned,
        coalesce(sum(l.status = 'pass'), 0) AS passing,
        coalesce(sum(l.status IN ${sql.raw(FAILED)}), 0) AS failing,
        coalesce(sum(l.status = 'unsupported'), 0) AS unsupported,
        coalesce(sum(l.status = 'skipped'), 0) AS skipped,
        max(l.ended_at) AS last_run,
        min(CASE WHEN l.status IN ${sql.raw(FAILED)} THEN l.failing_since END) AS failing_since,
        (SELECT l2.message FROM latest l2 WHERE l2.test_id = t.id AND l2.status IN ${sql.raw(FAILED)}
           ORDER BY l2.ended_at DESC LIMIT 1) AS last_message
      FROM tests t
      LEFT JOIN assignments a ON a.test_id = t.id
      LEFT JOIN latest l ON l.test_id = a.test_id AND l.agent_id = a.agent_id
      WHERE t.id IN (${ids})
      GROUP BY t.id
    ) AS agg
    WHERE tests.id = agg.test_id`);
}
